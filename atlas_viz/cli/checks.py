"""python -m atlas_viz check [ID ...]: each result's prediction against the runs, inside and outside its region."""
from __future__ import annotations

import argparse
import sys
import time

FORMATS = ("md", "json", "csv")


def register(add) -> None:
    """Register the subcommand with cli.main's ``add`` helper."""
    p = add("check", cmd_check, "Check results' predictions against the stored runs: a verdict (agrees, disagrees, "
                                "inconclusive, untested) inside each region and one step outside it.")
    p.add_argument("ids", nargs="*", metavar="ID", help="result ids to check (default: every result with a prediction)")
    p.add_argument("--format", choices=FORMATS, default="md", help="md (default), json or csv")


def metric_warnings(data, atlas) -> list:
    """Located warnings for predictions whose metric no stored run source records (read from the runs' tables)."""
    from atlas_viz.checks.report import metric_warnings as warnings_for
    from atlas_viz.runs.store import load_runs

    runset = load_runs(data, atlas.axes)
    return warnings_for(atlas.catalog.results, runset.sources, list(runset.runs.columns))


def cmd_check(args: argparse.Namespace) -> int:
    from atlas_viz.atlas import load_atlas
    from atlas_viz.checks import report
    from atlas_viz.checks.scope import RunTable
    from atlas_viz.checks.verdicts import check_results
    from atlas_viz.runs.store import load_runs

    atlas = load_atlas(args.data)
    results = atlas.catalog.results
    known = set(results["id"])
    unknown = [i for i in args.ids if i not in known]
    if unknown:
        print(f"error: no result with id {unknown[0]!r} in {args.data} (list them with `python -m atlas_viz search` "
              "or see data/results/)", file=sys.stderr)
        return 1
    with_prediction = {r["id"] for _, r in results.iterrows() if r.get("prediction") is not None}
    bare = [i for i in args.ids if i not in with_prediction]
    if bare:
        print(f"error: result {bare[0]!r} has no prediction block to check ({len(with_prediction)} results have one)",
              file=sys.stderr)
        return 1
    runset = load_runs(args.data, atlas.axes)
    for p in runset.problems + report.metric_warnings(results, runset.sources, list(runset.runs.columns)):
        print(f"warning: {p}", file=sys.stderr)
    start = time.perf_counter()
    checks = check_results(results, RunTable(runset.runs, runset.sources, atlas.axes), args.ids or None)
    seconds = time.perf_counter() - start
    text = {"json": report.to_json, "csv": report.to_csv, "md": report.to_markdown}[args.format](checks)
    sys.stdout.write(text)
    if args.format == "md":
        print("\n" + report.summary(checks, len(runset.runs), seconds))
    return 0
