"""Adding and editing results from the app or the command line: build, check, save.

A contributed result is saved as its own file ``DATA/results/contributed_<id>.yaml``
in the catalogue's format (a one-item list with a comment header), so it can be
reviewed in a pull request like any other file. Saving

* validates with the loader itself (:func:`atlas_viz.catalog.parse_result`), so
  the form shows the loader's messages, then checks the id against every result
  file and relation targets against the known ids;
* holds an exclusive lock (``DATA/results/.contributions.lock``) from that check
  to the write, so two people saving at once both keep their entries and one id
  is never claimed twice;
* writes atomically (temporary file, then rename): a killed process leaves the
  old file or the new one, never a part;
* never overwrites: an existing id is refused, unless ``replace=True`` and the
  id belongs to a result added this way earlier (an edit).

Ids are restricted to ``[a-z0-9_]`` (:func:`slugify_id`), so a file name built
from one cannot leave the results folder.
"""
from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from atlas_viz.terrain.axes import Axes
from atlas_viz.catalogue.loader import ID_RE, parse_result, result_files
from atlas_viz.catalogue.predictions import build_prediction, prediction_form
from atlas_viz.core.names import ANY, CITATION_FIELDS, RESULT_FIELDS
from atlas_viz.core.problems import Problem
from atlas_viz.io.yamlio import atomic_write_text, read_yaml

PREFIX = "contributed_"
LOCK_NAME = ".contributions.lock"
LOCK_TIMEOUT = 15.0
"""Seconds to wait for another writer before giving up with a message."""
_STOP_WORDS = {"a", "an", "the", "on", "of", "in", "for", "and", "to", "with", "from", "towards", "toward", "via",
               "is", "are", "how", "why", "what", "when", "do", "does", "can", "at", "by", "beyond", "under"}


@dataclass
class SaveOutcome:
    """What a save did: the file written (None when refused) and the problems that refused it."""

    path: Path | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.path is not None and not self.problems


def slugify_id(text: object) -> str:
    """A valid result id from any text: ASCII lowercase letters, digits and ``_``; '' if nothing is left."""
    s = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode("ascii").lower()
    s = re.sub(r"[^a-z0-9]+", "_", s).strip("_")[:80].rstrip("_")
    return s if ID_RE.fullmatch(s) else ""


def suggest_id(authors: list[str] | str | None, year: object, title: str | None) -> str:
    """``lastname<year>_<keyword>`` from a citation, like ``jacot2018_neural``; '' when nothing usable."""
    if isinstance(authors, str):
        authors = split_authors(authors)
    last = ""
    if authors:
        first = authors[0].strip()
        last = first.split(",")[0] if "," in first else (first.split() or [""])[-1]
    word = next((w for w in re.findall(r"[A-Za-z0-9]+", title or "") if w.lower() not in _STOP_WORDS), "")
    year_s = str(year) if isinstance(year, int) and not isinstance(year, bool) else ""
    return slugify_id(f"{last}{year_s}_{word}")


def split_authors(text: str) -> list[str]:
    """Authors typed one per line (or separated by ';'); a single line with commas is split on commas."""
    text = str(text or "")
    parts = re.split(r"[\n;]+", text)
    if len(parts) == 1 and text.count(",") >= 1 and " and " not in text:
        parts = text.split(",")
    return [" ".join(p.split()) for p in parts if p.strip()]


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def build_entry(form: dict, axes: Axes) -> dict:
    """A catalogue entry (a plain dict in the file's field order) from form fields.

    ``form`` keys: id, claim, map_type, region (axis -> list of values; empty or
    missing means any), observables (list), authors (list or text), year, title,
    arxiv, doi, url, venue, status, precision, method, object, relations (list
    of (type, target) pairs or {type, target} maps), notes, aliases (list, or text separated by commas),
    prediction (the form fields of :data:`predictions.FORM_KEYS`; no kind means no prediction). Empty optional
    fields are left out; the id is slugified. Nothing is validated here.
    """
    entry: dict = {}
    rid = slugify_id(form.get("id")) or _text(form.get("id"))
    entry["id"] = rid or None
    entry["claim"] = " ".join(_text(form.get("claim")).split()) or None
    entry["map_type"] = _text(form.get("map_type")) or None
    region_in = form.get("region") or {}
    region: dict = {}
    for ax in axes.axes:
        chosen = region_in.get(ax.name) if isinstance(region_in, dict) else None
        if isinstance(chosen, str):
            chosen = [chosen]
        chosen = [v for v in (chosen or []) if v != ANY]
        if not chosen or set(chosen) >= set(ax.value_names):
            region[ax.name] = ANY
        else:
            known = [v for v in ax.value_names if v in chosen]
            region[ax.name] = known + [v for v in chosen if v not in ax.value_names]  # unknown kept: validation names them
    entry["region"] = region
    obs = form.get("observables") or []
    entry["observables"] = [obs] if isinstance(obs, str) else list(obs)
    authors = form.get("authors")
    authors = split_authors(authors) if isinstance(authors, str) else [_text(a) for a in authors or [] if _text(a)]
    citation: dict = {"authors": authors, "year": _year(form.get("year")), "title": " ".join(_text(form.get("title")).split())}
    arxiv = re.sub(r"^(?:arxiv:\s*|https?://arxiv\.org/(?:abs|pdf)/)", "", _text(form.get("arxiv")), flags=re.IGNORECASE)
    arxiv = re.sub(r"\.pdf$", "", arxiv)
    doi = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", _text(form.get("doi")), flags=re.IGNORECASE)
    for key, value in (("arxiv", arxiv), ("doi", doi), ("url", _text(form.get("url"))),
                       ("venue", " ".join(_text(form.get("venue")).split()))):
        if value:
            citation[key] = value
    entry["citation"] = {k: citation[k] for k in CITATION_FIELDS if k in citation}
    for key in ("status", "precision", "method", "object"):
        if _text(form.get(key)):
            entry[key] = _text(form.get(key))
    relations = []
    for rel in form.get("relations") or []:
        kind, target = (rel.get("type"), rel.get("target")) if isinstance(rel, dict) else rel
        if _text(kind) and _text(target):
            relations.append({"type": _text(kind), "target": _text(target)})
    if relations:
        entry["relations"] = relations
    notes = _text(form.get("notes"))
    if notes:
        entry["notes"] = notes
    aliases = form.get("aliases")
    aliases = aliases.split(",") if isinstance(aliases, str) else aliases or []
    aliases = list(dict.fromkeys(" ".join(_text(a).split()) for a in aliases if _text(a)))
    if aliases:
        entry["aliases"] = aliases
    prediction = build_prediction(form.get("prediction"))
    if prediction:
        entry["prediction"] = prediction
    return {k: entry[k] for k in RESULT_FIELDS if k in entry}


def _year(value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value if value not in ("", None) else None


def entry_to_form(entry: dict) -> dict:
    """The form fields of a stored entry (the inverse of :func:`build_entry`, for editing)."""
    cit = entry.get("citation") if isinstance(entry.get("citation"), dict) else {}
    authors = cit.get("authors")
    region = entry.get("region") if isinstance(entry.get("region"), dict) else {}
    obs = entry.get("observables") or []
    return {
        "id": _text(entry.get("id")), "claim": _text(entry.get("claim")), "map_type": entry.get("map_type"),
        "region": {ax: ([] if vals == ANY else [vals] if isinstance(vals, str) else list(vals or []))
                   for ax, vals in region.items()},
        "observables": [obs] if isinstance(obs, str) else list(obs),
        "authors": [authors] if isinstance(authors, str) else [str(a) for a in authors or []],
        "year": cit.get("year"), "title": _text(cit.get("title")),
        **{k: _text(cit.get(k)) for k in ("arxiv", "doi", "url", "venue")},
        **{k: entry.get(k) for k in ("status", "precision", "method", "object")},
        "relations": [(r.get("type"), r.get("target")) for r in entry.get("relations") or [] if isinstance(r, dict)],
        "notes": _text(entry.get("notes")),
        "aliases": ", ".join(_text(a) for a in _listed(entry.get("aliases"))),
        "prediction": prediction_form(entry.get("prediction")),
    }


def _listed(value: object) -> list:
    return [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else []


class _Dumper(yaml.SafeDumper):
    """Block style for maps, flow style ``[a, b]`` for short lists of plain values (as the catalogue is written)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)  # indent list items under their key


class _FlowMap(dict):
    """A map written on one line, like ``{type: tests, target: other_id}``."""


def _represent_list(dumper: yaml.SafeDumper, data: list):
    flow = all(isinstance(x, (str, int, float)) and not isinstance(x, bool) for x in data) and \
        sum(len(str(x)) for x in data) < 70
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_str(dumper: yaml.SafeDumper, data: str):
    style = ">" if len(data) > 90 and "\n" not in data else ("|" if "\n" in data else None)
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(_FlowMap, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", dict(data),
                                                                     flow_style=True))
_Dumper.add_representer(str, _represent_str)


def entry_yaml(entry: dict, how: str = "the atlas app") -> str:
    """The text of ``contributed_<id>.yaml``: a comment header and a one-item list, as the catalogue is written."""
    if isinstance(entry.get("relations"), list):
        entry = {**entry, "relations": [_FlowMap(r) if isinstance(r, dict) else r for r in entry["relations"]]}
    body = yaml.dump([entry], Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2,
                     default_flow_style=False)
    today = _dt.date.today().isoformat()
    header = (f"# Added through {how} on {today}.\n"
              "# Before merging, check the citation (authors, year, title and the arXiv id or DOI) against the paper.\n\n")
    return header + body


def contributed_path(data_dir: Path | str, rid: str) -> Path:
    """``DATA/results/contributed_<id>.yaml``; refuses an id that is not a slug (no path can escape)."""
    if not isinstance(rid, str) or not ID_RE.fullmatch(rid) or slugify_id(rid) != rid:
        raise ValueError(f"not a valid result id: {rid!r}")
    results = (Path(data_dir) / "results").resolve()
    path = (results / f"{PREFIX}{rid}.yaml").resolve()
    if path.parent != results:  # cannot happen for a slug; checked anyway
        raise ValueError(f"id {rid!r} would write outside {results}")
    return path


def existing_ids(data_dir: Path | str) -> dict[str, str]:
    """Every id written in any results file (valid entry or not) -> the file that holds it first."""
    seen: dict[str, str] = {}
    for path in result_files(Path(data_dir)):
        data, problems = read_yaml(path)
        if problems:
            continue
        items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                seen.setdefault(item["id"], path.name)
    return seen


def contributed_entries(data_dir: Path | str) -> dict[str, dict]:
    """Results added through the app or ``add-result`` earlier: id -> the raw entry, from ``contributed_*.yaml``."""
    out: dict[str, dict] = {}
    for path in sorted((Path(data_dir) / "results").glob(f"{PREFIX}*.yaml")):
        data, problems = read_yaml(path)
        if problems or not isinstance(data, list) or len(data) != 1 or not isinstance(data[0], dict):
            continue
        rid = data[0].get("id")
        if isinstance(rid, str) and path.name == f"{PREFIX}{rid}.yaml":
            out[rid] = data[0]
    return out


def check_entry(entry: object, axes: Axes, ids: dict[str, str], replace: bool = False,
                file: str | None = None) -> tuple[dict | None, list[Problem]]:
    """Validate one entry as the loader does, then its id and relation targets against ``ids`` (id -> file).

    Returns (row or None, problems); a save goes ahead only with no problem at all.
    """
    rid = entry.get("id") if isinstance(entry, dict) else None
    file = file or (f"{PREFIX}{rid}.yaml" if isinstance(rid, str) and ID_RE.fullmatch(rid) else f"{PREFIX}<id>.yaml")
    row, problems = parse_result(entry, file, 0, axes)
    if not isinstance(entry, dict):
        return None, problems
    name = rid if isinstance(rid, str) and rid else "#1"
    if isinstance(rid, str) and rid in ids:
        own = ids[rid] == f"{PREFIX}{rid}.yaml"
        if not replace:
            hint = (" To change that result, edit it instead of adding it again." if own else
                    " An existing result is never overwritten: choose another id.")
            problems.append(Problem(file, name, "id", f"duplicate id: already used in {ids[rid]}; ids must be unique."
                                                      + hint))
        elif not own:
            problems.append(Problem(file, name, "id", f"only results added through the app can be edited here; "
                                                      f"{rid!r} is defined in {ids[rid]}"))
    elif replace:
        problems.append(Problem(file, name, "id", f"there is no result {rid!r} added through the app to edit"))
    for j, rel in enumerate(entry.get("relations") or [] if isinstance(entry.get("relations"), list) else []):
        target = rel.get("target") if isinstance(rel, dict) else None
        if isinstance(target, str) and target and target != rid and target not in ids:
            problems.append(Problem(file, name, f"relations[{j}].target", f"relates to unknown id {target!r}"))
    return (row if not problems else None), problems


def save_entry(data_dir: Path | str, entry: dict, axes: Axes, replace: bool = False, how: str = "the atlas app",
               timeout: float = LOCK_TIMEOUT) -> SaveOutcome:
    """Check and write one entry to ``contributed_<id>.yaml`` under the catalogue lock (see the module doc)."""
    return save_entries(data_dir, [entry], axes, replace=replace, how=how, timeout=timeout)


def save_entries(data_dir: Path | str, entries: list, axes: Axes, replace: bool = False,
                 how: str = "the atlas app", timeout: float = LOCK_TIMEOUT) -> SaveOutcome:
    """Check every entry, then write each to its own file; nothing is written if any entry has a problem."""
    from filelock import FileLock, Timeout

    results = Path(data_dir) / "results"
    results.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(results / LOCK_NAME))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        return SaveOutcome(None, [Problem(LOCK_NAME, "", "", f"another save has held the catalogue for more than "
                                                             f"{timeout:.0f} s; nothing was written, try again")])
    try:
        _remove_stale_temp_files(results)
        ids = existing_ids(data_dir)
        problems: list[Problem] = []
        batch: dict[str, str] = {}
        for entry in entries:
            rid = entry.get("id") if isinstance(entry, dict) else None
            known = {**ids, **batch}
            _, found = check_entry(entry, axes, known, replace=replace)
            problems += found
            if isinstance(rid, str) and not found:
                batch[rid] = f"{PREFIX}{rid}.yaml"
        if problems:
            return SaveOutcome(None, problems)
        path = None
        for entry in entries:
            path = contributed_path(data_dir, entry["id"])
            atomic_write_text(path, entry_yaml(entry, how))
        return SaveOutcome(path, [])
    finally:
        lock.release()


def _remove_stale_temp_files(results: Path) -> None:
    """Temporary files of a contributed save killed mid-write (only writers holding the lock make them)."""
    for tmp in results.glob(f".{PREFIX}*.tmp"):
        try:
            tmp.unlink()
        except OSError:
            pass
