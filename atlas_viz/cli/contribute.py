"""``python -m atlas_viz add-result FILE.yaml [--data DIR] [--replace]``: add results from a YAML file."""
from __future__ import annotations

import argparse
from pathlib import Path

from atlas_viz.core.problems import Problem


def cmd_add_result(args: argparse.Namespace) -> int:
    """Validate every result in FILE like the loader, then save each as ``results/contributed_<id>.yaml``.

    Nothing is written when any result has a problem; exit 1 listing them all.
    """
    from atlas_viz.terrain.axes import load_axes
    from atlas_viz.catalogue.contribute import contributed_path, save_entries, slugify_id
    from atlas_viz.io.yamlio import read_yaml

    source = Path(args.file)
    data, problems = read_yaml(source)
    if not problems and data is None:
        problems = [Problem(source.name, "", "", "is empty: it should hold one result, or a list of results")]
    entries = data if isinstance(data, list) else [data] if isinstance(data, dict) else None
    if not problems and entries is None:
        problems = [Problem(source.name, "", "", f"must hold one result (a map) or a list of results; "
                                                 f"got a {type(data).__name__}")]
    if problems:
        return _report(problems)
    axes = load_axes(Path(args.data) / "axes.yaml")
    outcome = save_entries(args.data, entries, axes, replace=args.replace, how="python -m atlas_viz add-result")
    if not outcome.ok:
        extra = []
        for e in entries:
            rid = e.get("id") if isinstance(e, dict) else None
            if isinstance(rid, str) and rid and slugify_id(rid) and slugify_id(rid) != rid:
                extra.append(f"hint: the id {rid!r} could be written {slugify_id(rid)!r}")
        return _report([_in_file(p, source.name) for p in outcome.problems], extra)
    for e in entries:
        print(f"{'replaced' if args.replace else 'added'} {e['id']} -> {contributed_path(args.data, e['id'])}")
    print("run `python -m atlas_viz validate` to check the whole catalogue; review the new file(s) before a commit")
    return 0


def _in_file(p: Problem, source: str) -> Problem:
    """Problems name the file the user gave, with the file it would have become."""
    where = source if p.file.startswith("contributed_") else p.file
    return Problem(where, p.entry, p.field, p.message)


def _report(problems: list[Problem], extra: list[str] | None = None) -> int:
    print(f"nothing was written: {len(problems)} problem(s):")
    for p in problems:
        print(f"  - {p}")
    for line in extra or []:
        print(line)
    return 1


def register(add) -> None:
    """Add the ``add-result`` subcommand through cli.main()'s ``add(name, func, help)``."""
    p = add("add-result", cmd_add_result,
            "Add results from a YAML file (one result or a list) to DATA/results/, checked like the catalogue.")
    p.add_argument("file", help="YAML file with one result or a list of results, in the catalogue's format")
    p.add_argument("--replace", action="store_true",
                   help="replace results with these ids that were added earlier with add-result or the app")
