"""Consistency rules between a result's trueness, its kind of map and the rest of the catalogue.

Each rule returns located problems (file, result id, field) and never drops a result:

* ``proven`` is for theorems only (a calculation proven later gets its own theorem entry that cites
  the proof and ``extends`` the calculation);
* a conjecture is open, so it is neither ``replicated`` nor ``proven``;
* ``contested`` and ``refuted`` name who contests the result: a ``contradicts`` relation from or to it,
  or a note that cites a paper (author and year, or an arXiv id) or another result's id;
* one paper (same arXiv id or DOI) has at most one entry per map type and region;
* a result extends, tests or is inspired by earlier work only (the target's year is not later).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from atlas_viz.core.problems import Problem

OPEN_STATUSES = ("replicated", "proven")
"""Statuses a conjecture cannot carry: it is open by definition."""
DISPUTED_STATUSES = ("contested", "refuted")
"""Statuses that must say who disputes the result."""

_NAME = r"(?!(?:NeurIPS|NIPS|ICLR|ICML|COLT|AISTATS|CVPR|ICCV|ECCV|ALT|UAI|JMLR|PNAS|TMLR)\b)[A-Z][a-z\u00c0-\u017f'\-]+"
_YEAR = r"(?:19|20)\d\d\b"
_CITED_IN_NOTE = re.compile(
    rf"{_NAME}(?: et al\.?| and {_NAME}| & {_NAME}),? \(?{_YEAR}"  # "Smith et al., 2021", "Smith and Lee (2020)"
    rf"|{_NAME} \({_YEAR}"                                         # "Smith (2021)"
    r"|\b\d{4}\.\d{4,5}\b"                                        # an arXiv id
)
"""A paper cited in free text: authors with a year (a venue with a year is not a paper), or an arXiv id."""


def status_problems(row: dict) -> list[Problem]:
    """Problems of one parsed result whose status contradicts its kind of map."""
    status, kind = row.get("status"), row.get("map_type")
    where = (row.get("file", ""), row.get("id", ""), "status")
    if status == "proven" and kind != "theorem":
        return [Problem(*where, f"'proven' is for theorems only; this result is {_article(kind)} {kind}. Use 'replicated' if "
                                f"others confirmed it, or add a theorem entry that cites the proof and relates "
                                f"to this one by 'extends'")]
    if kind == "conjecture" and status in OPEN_STATUSES:
        return [Problem(*where, f"a conjecture is open, so it cannot be '{status}'; leave status out, or record "
                                f"the result that settled it as its own entry (a theorem, or an empirical_law) "
                                f"that 'tests' this one")]
    return []


def catalogue_problems(rows: list[dict]) -> list[Problem]:
    """Rules that need the whole catalogue: who contests a disputed result, one entry per paper and kind."""
    return _unnamed_disputes(rows) + _same_paper_twice(rows) + _relations_back_in_time(rows)


BUILDS_ON = ("extends", "tests", "inspired_by")
"""Relations that build on their target, which must therefore have appeared first (or the same year)."""


def _relations_back_in_time(rows: list[dict]) -> list[Problem]:
    """A result cannot extend, test or be inspired by a paper that appeared in a later year."""
    year = {r["id"]: r.get("year") for r in rows}
    out = []
    for r in rows:
        for j, (kind, target) in enumerate(r.get("relations") or ()):
            later = year.get(target)
            if kind in BUILDS_ON and isinstance(later, int) and isinstance(r.get("year"), int) and later > r["year"]:
                out.append(Problem(r.get("file", ""), r["id"], f"relations[{j}].target",
                                   f"'{kind}' {target}, which appeared in {later}, after this result ({r['year']}); "
                                   f"a result can only build on earlier work: use 'contradicts', or reverse the "
                                   f"relation on {target}"))
    return out


def _unnamed_disputes(rows: list[dict]) -> list[Problem]:
    ids = {r["id"] for r in rows}
    contradicted = {target for r in rows for kind, target in r["relations"] if kind == "contradicts"}
    problems = []
    for row in rows:
        if row.get("status") not in DISPUTED_STATUSES:
            continue
        if row["id"] in contradicted or any(kind == "contradicts" for kind, _ in row["relations"]):
            continue
        if _note_names_a_source(row.get("notes") or "", ids - {row["id"]}):
            continue
        problems.append(Problem(row["file"], row["id"], "status",
                                f"'{row['status']}' must say who contests it: add a relation "
                                f"{{type: contradicts, target: <id>}} to the result that disputes it, or cite "
                                f"the contesting paper in notes (author and year, or its arXiv id)"))
    return problems


def _note_names_a_source(notes: str, ids: Iterable[str]) -> bool:
    if _CITED_IN_NOTE.search(notes):
        return True
    words = set(re.findall(r"[a-z0-9_]+", notes))
    return any(i in words for i in ids)


def paper_key(row: dict) -> str | None:
    """The paper a result cites: its arXiv id (without version), else its DOI (lower case), else None."""
    if row.get("arxiv"):
        return "arxiv:" + re.sub(r"v\d+$", "", row["arxiv"])
    if row.get("doi"):
        return "doi:" + row["doi"].lower()
    return None


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _same_paper_twice(rows: list[dict]) -> list[Problem]:
    seen: dict[tuple, str] = {}
    problems = []
    for row in rows:
        paper = paper_key(row)
        if paper is None:
            continue
        region = tuple(sorted((axis, tuple(values)) for axis, values in (row.get("region") or {}).items()))
        key = (paper, row["map_type"], region)
        if key in seen:
            problems.append(Problem(row["file"], row["id"], "citation",
                                    f"{seen[key]} already records {_article(row['map_type'])} {row['map_type']} of the same paper "
                                    f"({paper}) over the same region; merge the two claims into one entry, "
                                    f"or narrow the region each one holds in"))
            continue
        seen[key] = row["id"]
    return problems
