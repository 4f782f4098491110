"""``python -m atlas_viz search QUERY [--top N] [--data DIR] [--format json|md]``: ranked search.

Exit status follows grep: 0 when something matched, 1 when nothing did (or the query is empty). The JSON
output is then an empty list on stdout and the reason on stderr, so a script can read both.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from atlas_viz.core.text import md_escape

EXCERPT_CHARS = 140
MD_HEADER = "| rank | id | score | claim |\n| ---: | --- | ---: | --- |"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The first ``limit`` characters of ``text``, cut at a word, with an ellipsis when cut."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def cmd_search(args: argparse.Namespace) -> int:
    """Rank the catalogue's results against the query and print them (JSON list or a Markdown table)."""
    from atlas_viz.catalogue.loader import load_catalog
    from atlas_viz.catalogue.search import SearchIndex
    from atlas_viz.terrain.axes import load_axes

    query = " ".join(args.query).strip()
    if not query:
        return _nothing(args, "the query is empty: give some words, e.g. `search edge of stability`")
    catalog = load_catalog(args.data, load_axes(Path(args.data) / "axes.yaml"))
    if catalog.problems:
        print(f"note: {len(catalog.problems)} problem(s) in the catalogue; those entries are not searched "
              "(`python -m atlas_viz validate` lists them)", file=sys.stderr)
    hits = SearchIndex().fit(catalog.results).search(query, top=args.top)
    if hits.empty:
        return _nothing(args, f"no result matches {query!r} in {len(catalog.results)} results")
    if args.format == "json":
        print(json.dumps([{"id": i, "score": float(s)} for i, s in zip(hits["id"], hits["score"])], indent=1))
        return 0
    claims = dict(zip(catalog.results["id"], catalog.results["claim"]))
    print(f"{len(hits)} result(s) for {md_escape(query)}\n\n{MD_HEADER}")
    for rank, (rid, score) in enumerate(zip(hits["id"], hits["score"]), start=1):
        print(f"| {rank} | `{rid}` | {score:.3f} | {md_escape(excerpt(claims[rid]))} |")
    return 0


def _nothing(args: argparse.Namespace, why: str) -> int:
    if args.format == "json":
        print("[]")
    print(why, file=sys.stderr)
    return 1


def register(add) -> None:
    """Add the ``search`` subcommand through main's ``add(name, func, help)``."""
    p = add("search", cmd_search, "Rank the catalogue's results by relevance to a query (abbreviations, synonyms "
                                  "and typos understood). Exit 0 when something matched, 1 when nothing did.")
    p.add_argument("query", nargs="*", help="words to look for, e.g. EoS, 'PL condition', µP, grokking")
    p.add_argument("--top", type=_positive, default=20, help="at most this many results (default 20)")
    p.add_argument("--format", choices=("json", "md"), default="md",
                   help="json: a list of {id, score}; md: a Markdown table with claim excerpts (default)")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1; got {text}")
    return value
