"""Load and validate the catalogue of results; every problem names file, entry and field."""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from atlas_viz.terrain.axes import Axes
from atlas_viz.catalogue.consistency import catalogue_problems, status_problems
from atlas_viz.catalogue.predictions import parse_prediction
from atlas_viz.core.names import (ANY, CITATION_FIELDS, MAX_ALIAS_CHARS, MAX_ALIASES, METHODS, MAP_TYPES, OBJECTS,
                                  PRECISIONS, RELATION_TYPES, REQUIRED_RESULT_FIELDS, RESULT_COLUMNS, RESULT_FIELDS,
                                  RIGOR, STATUSES)
from atlas_viz.core.problems import Problem, expected_one_of, show_value
from atlas_viz.io.yamlio import parse_yaml_text, read_checked_yaml

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_]{1,79}$")
ARXIV_NEW_RE = re.compile(r"^\d{4}\.\d{4,5}(v\d+)?$")
ARXIV_OLD_RE = re.compile(r"^[a-z][a-z\-]*(\.[A-Z]{2})?/\d{7}(v\d+)?$")
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
URL_RE = re.compile(r"^https?://[^\s<>\"']+$")
MAX_CLAIM_CHARS = 600
FIRST_YEAR = 1900


def last_year() -> int:
    """The latest year a citation may carry: next year (a paper dated ahead of its appearance)."""
    return _dt.date.today().year + 1


@dataclass
class Catalog:
    """The loaded catalogue: a frame of valid results and the problems found."""

    results: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def empty_results() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in RESULT_COLUMNS})


def result_files(data_dir: Path) -> list[Path]:
    return sorted((Path(data_dir) / "results").glob("*.yaml"))


def load_catalog(data_dir: Path | str, axes: Axes) -> Catalog:
    """Read every ``results/*.yaml`` under ``data_dir``; bad entries are reported and skipped."""
    rows: list[dict] = []
    problems: list[Problem] = []
    files = result_files(Path(data_dir))
    for path in files:  # a file's parse is cached only when it validated without a problem
        new_rows, file_problems = read_checked_yaml(path, lambda data, name=path.name: parse_results(data, name, axes))
        rows += new_rows or []
        problems += file_problems
    rows, link_problems = check_links(rows)
    problems += link_problems
    problems += catalogue_problems(rows)
    return Catalog(results_frame(rows), problems, [p.name for p in files])


def results_frame(rows: list[dict]) -> pd.DataFrame:
    """The results frame. Text columns stay object-typed so a missing value is None, not NaN
    (pandas 3 would infer a string dtype that turns None into a truthy NaN)."""
    if not rows:
        return empty_results()
    frame = pd.DataFrame(rows, columns=list(RESULT_COLUMNS), dtype=object)
    return frame.astype({"rigor": int, "year": int})


def parse_results_text(text: str, file: str, axes: Axes) -> tuple[list[dict], list[Problem]]:
    """Parse YAML text of one or more results (a list, or a single map)."""
    data, problems = parse_yaml_text(text, file)
    if problems:
        return [], problems
    if isinstance(data, dict):
        data = [data]
    return parse_results(data, file, axes)


def parse_results(data: object, file: str, axes: Axes) -> tuple[list[dict], list[Problem]]:
    """Validate the parsed top level of a results file; return (valid rows, problems)."""
    if data is None:
        return [], []  # an empty file holds no results; nothing is wrong with it
    if not isinstance(data, list):
        return [], [Problem(file, "", "", f"the top level must be a list of results (lines starting with '- '); "
                                          f"got a {type(data).__name__}")]
    rows, problems = [], []
    for i, entry in enumerate(data):
        row, entry_problems = parse_result(entry, file, i, axes)
        problems += entry_problems
        if row is not None:
            rows.append(row)
    return rows, problems


def parse_result(entry: object, file: str, index: int, axes: Axes) -> tuple[dict | None, list[Problem]]:
    """Validate one result. Returns (row or None when unusable, problems)."""
    problems: list[Problem] = []
    if not isinstance(entry, dict):
        return None, [Problem(file, f"#{index + 1}", "", f"each result must be a map of fields; got {show_value(entry)}")]
    rid = entry.get("id")
    name = rid if isinstance(rid, str) and rid else f"#{index + 1}"
    fatal = False

    def bad(fld: str, msg: str, is_fatal: bool = True) -> None:
        nonlocal fatal
        problems.append(Problem(file, name, fld, msg))
        fatal = fatal or is_fatal

    _check_fields(entry, rid, bad)
    claim, mt = entry.get("claim"), entry.get("map_type")
    region = _parse_region(entry.get("region"), axes, bad) if entry.get("region") is not None else None
    obs = _parse_observables(entry.get("observables"), axes, bad)
    citation = _parse_citation(entry.get("citation"), bad) if entry.get("citation") is not None else None
    relations = _parse_relations(entry.get("relations"), rid, bad)
    notes = entry.get("notes")
    if notes is not None and not isinstance(notes, str):
        bad("notes", f"must be text; got {show_value(notes)}")
    aliases = _parse_aliases(entry.get("aliases"), bad)
    prediction = None
    if entry.get("prediction") is not None:  # a bad block is reported; the result still loads without it
        prediction = parse_prediction(entry["prediction"], region, axes, lambda f, m: bad(f, m, is_fatal=False))
    if fatal:
        return None, problems
    row = {
        "id": rid, "claim": " ".join(claim.split()), "map_type": mt, "rigor": RIGOR[mt],
        "observables": tuple(dict.fromkeys(obs)), "region": region, **citation,
        "status": entry.get("status"), "precision": entry.get("precision"), "method": entry.get("method"),
        "object": entry.get("object"), "relations": tuple(relations), "notes": notes or "", "aliases": aliases,
        "prediction": prediction, "file": file,
    }
    return row, problems + status_problems(row)


def _check_fields(entry: dict, rid: object, bad) -> None:
    """Known field names, required fields present, and the id, claim, map type and vocabulary fields."""
    for key in entry:
        if key not in RESULT_FIELDS:
            bad(str(key), expected_one_of("field", key, RESULT_FIELDS))
    for key in REQUIRED_RESULT_FIELDS:
        if key not in entry or entry[key] is None:
            bad(key, f"is missing; every result needs {', '.join(REQUIRED_RESULT_FIELDS)}")
    if "id" in entry and entry["id"] is not None and not (isinstance(rid, str) and ID_RE.fullmatch(rid)):
        bad("id", f"must be 2-80 lowercase letters, digits or _ starting with a letter or digit "
                  f"(like kaplan2020_scaling_laws); got {show_value(rid)}")
    claim = entry.get("claim")
    if "claim" in entry and claim is not None:
        if not isinstance(claim, str) or not claim.strip():
            bad("claim", f"must be a non-empty sentence; got {show_value(claim)}")
        elif len(claim) > MAX_CLAIM_CHARS:
            bad("claim", f"is {len(claim)} characters; keep it to one sentence of at most {MAX_CLAIM_CHARS}")
    mt = entry.get("map_type")
    if mt is not None and mt not in MAP_TYPES:
        bad("map_type", expected_one_of("map_type", mt, MAP_TYPES))
    optional = {"status": STATUSES, "precision": PRECISIONS, "method": METHODS, "object": OBJECTS}
    for key, allowed in optional.items():
        val = entry.get(key)
        if val is not None and val not in allowed:
            bad(key, expected_one_of(key, val, allowed))


def _parse_observables(raw: object, axes: Axes, bad) -> list | None:
    """The observables a result speaks about (one or a list), each one of the axes file's."""
    if raw is None:
        return None
    obs = raw if isinstance(raw, list) else [raw]
    if not obs:
        bad("observables", "must list at least one observable")
    for o in obs:
        if o not in axes.observable_names:
            bad("observables", expected_one_of("each observable", o, axes.observable_names))
    return obs


def _parse_relations(raw: object, rid: object, bad) -> list[tuple[str, str]]:
    """(type, target) pairs; a bad relation is reported and dropped, the result still loads."""
    relations: list[tuple[str, str]] = []
    rel_raw = raw or []
    if not isinstance(rel_raw, list):
        bad("relations", "must be a list of {type, target}")
        rel_raw = []
    for j, rel in enumerate(rel_raw):
        fld = f"relations[{j}]"
        if not isinstance(rel, dict) or set(rel) - {"type", "target", "note"}:
            bad(fld, f"must be a map {{type, target}}; got {show_value(rel)}", is_fatal=False)
            continue
        if rel.get("type") not in RELATION_TYPES:
            bad(f"{fld}.type", expected_one_of("type", rel.get("type"), RELATION_TYPES), is_fatal=False)
            continue
        target = rel.get("target")
        if not isinstance(target, str) or not target:
            bad(f"{fld}.target", f"must be the id of another result; got {show_value(target)}", is_fatal=False)
            continue
        if target == rid:
            bad(f"{fld}.target", "a result cannot relate to itself", is_fatal=False)
            continue
        relations.append((rel["type"], target))
    return relations


def _parse_aliases(raw: object, bad) -> tuple[str, ...]:
    """Short names a result is known by (one or a list); an unusable alias is reported and dropped."""
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list):
        bad("aliases", f"must be a list of short names like [EoS, edge of stability]; got {show_value(raw)}",
            is_fatal=False)
        return ()
    if len(items) > MAX_ALIASES:
        bad("aliases", f"lists {len(items)} names; keep the {MAX_ALIASES} most used", is_fatal=False)
    out: list[str] = []
    for j, alias in enumerate(items[:MAX_ALIASES]):
        if not isinstance(alias, str) or not alias.strip() or len(alias.strip()) > MAX_ALIAS_CHARS:
            bad(f"aliases[{j}]", f"must be a short name of 1 to {MAX_ALIAS_CHARS} characters (an abbreviation "
                                 f"or everyday name, not a sentence); got {show_value(alias)}", is_fatal=False)
        elif " ".join(alias.split()) not in out:
            out.append(" ".join(alias.split()))
    return tuple(out)


def _parse_region(raw: object, axes: Axes, bad) -> dict[str, tuple[str, ...]] | None:
    if raw == ANY:
        raw = {}
    if not isinstance(raw, dict):
        bad("region", f"must be a map of axis -> list of values (or 'any'); got {show_value(raw)}")
        return None
    region: dict[str, tuple[str, ...]] = {}
    for ax, vals in raw.items():
        if ax not in axes.names:
            bad(f"region.{ax}", expected_one_of("each region axis", ax, axes.names))
            continue
        allowed = axes[ax].value_names
        if vals == ANY:
            continue
        if isinstance(vals, str):
            vals = [vals]
        if not isinstance(vals, list):
            bad(f"region.{ax}", f"must be a list of values or 'any'; got {show_value(vals)}")
            continue
        if not vals:
            bad(f"region.{ax}", f"is an empty list, so the result would hold nowhere; list values of {ax} or write 'any'")
            continue
        unknown = [v for v in vals if v not in allowed]
        for v in unknown:
            bad(f"region.{ax}", expected_one_of(f"a value of {ax}", v, allowed))
        if not unknown:
            chosen = set(vals)
            region[ax] = tuple(v for v in allowed if v in chosen)
    return {a.name: region.get(a.name, a.value_names) for a in axes.axes}


def _parse_citation(raw: object, bad) -> dict:
    out = {k: None for k in CITATION_FIELDS} | {"author_list": None}  # the names one by one, for BibTeX
    if not isinstance(raw, dict):
        bad("citation", f"must be a map with authors, year, title and arxiv/doi/url; got {show_value(raw)}")
        return out
    for key in raw:
        if key not in CITATION_FIELDS:
            bad(f"citation.{key}", expected_one_of("citation field", key, CITATION_FIELDS))
    authors = raw.get("authors")
    if isinstance(authors, str):
        authors = [authors]
    if not isinstance(authors, list) or not authors or not all(isinstance(a, str) and a.strip() for a in authors):
        bad("citation.authors", f"must be a non-empty list of names; got {show_value(authors)}")
    else:
        out["authors"] = ", ".join(a.strip() for a in authors)
        out["author_list"] = tuple(" ".join(a.split()) for a in authors)
    year = raw.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not FIRST_YEAR <= year <= last_year():
        bad("citation.year", f"must be a whole year from {FIRST_YEAR} to {last_year()}; got {show_value(year)}")
    else:
        out["year"] = year
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        bad("citation.title", f"must be the paper's title; got {show_value(title)}")
    else:
        out["title"] = " ".join(title.split())
    if not any(raw.get(k) for k in ("arxiv", "doi", "url")):
        bad("citation", "needs at least one of arxiv, doi or url so readers can find the paper")
    arxiv = raw.get("arxiv")
    if arxiv is not None:
        if isinstance(arxiv, float):
            bad("citation.arxiv", f"must be quoted text like \"2001.08361\"; YAML read the unquoted id as "
                                  f"the number {arxiv!r}, which loses trailing zeros")
        elif not isinstance(arxiv, str) or not (ARXIV_NEW_RE.fullmatch(arxiv) or ARXIV_OLD_RE.fullmatch(arxiv)):
            bad("citation.arxiv", f"must be an arXiv id like 2001.08361 or hep-th/9901001; got {show_value(arxiv)}")
        else:
            out["arxiv"] = arxiv
    for key, pattern, expected in (("doi", DOI_RE, "be a DOI like 10.1038/nature14539 (without https://doi.org/)"),
                                   ("url", URL_RE, "start with http:// or https://")):
        value = raw.get(key)
        if value is None:
            continue
        if isinstance(value, str) and pattern.fullmatch(value):
            out[key] = value
        else:
            bad(f"citation.{key}", f"must {expected}; got {show_value(value)}")
    venue = raw.get("venue")
    if venue is not None:
        out["venue"] = str(venue)
    return out


def check_links(rows: list[dict]) -> tuple[list[dict], list[Problem]]:
    """Drop duplicate ids (the first stays) and relations to unknown ids, reporting both."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    kept = []
    for row in rows:
        if row["id"] in seen:
            problems.append(Problem(row["file"], row["id"], "id",
                                    f"duplicate id: already used in {seen[row['id']]}; ids must be unique"))
            continue
        seen[row["id"]] = row["file"]
        kept.append(row)
    for row in kept:
        good = []
        for j, (kind, target) in enumerate(row["relations"]):
            if target in seen:
                good.append((kind, target))
            else:
                problems.append(Problem(row["file"], row["id"], f"relations[{j}].target",
                                        f"relates to unknown id {target!r}"))
        row["relations"] = tuple(good)
    return kept, problems


def citation_link(row: dict | pd.Series) -> str | None:
    """The safest outward link for a result: arXiv, then DOI, then an http(s) URL."""
    if row.get("arxiv"):
        return f"https://arxiv.org/abs/{row['arxiv']}"
    if row.get("doi"):
        return f"https://doi.org/{row['doi']}"
    url = row.get("url")
    return url if isinstance(url, str) and URL_RE.fullmatch(url) else None


def citation_text(row: dict | pd.Series) -> str:
    """'Authors (year). Title. arXiv:id' as plain text."""
    ref = f"{row.get('authors')} ({row.get('year')}). {row.get('title')}."
    if row.get("venue"):
        ref += f" {row['venue']}."
    if row.get("arxiv"):
        ref += f" arXiv:{row['arxiv']}"
    elif row.get("doi"):
        ref += f" doi:{row['doi']}"
    return ref
