"""python -m atlas_viz expeditions ... and python -m atlas_viz expedition run ID ..."""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from atlas_viz.expeditions.gaps import KINDS

FORMATS = ("md", "csv", "json")


def register(add, progress) -> None:
    """Register both subcommands with cli.main's ``add`` helper; ``progress(fraction, text)`` draws a bar."""
    p = add("expeditions", cmd_expeditions,
            "List the atlas's gaps as ranked expeditions, each with its score parts and why it is a gap.")
    p.add_argument("--top", type=int, default=20, help="how many to list (default 20; 0 for all)")
    p.add_argument("--observable", action="append", default=[], help="only gaps about this observable (repeatable)")
    p.add_argument("--kind", action="append", default=[], choices=KINDS, help="only this kind of gap (repeatable)")
    p.add_argument("--runnable", action="store_true", help="only expeditions the CPU runner can go on")
    p.add_argument("--format", choices=FORMATS, default="md", help="md (default), csv or json")
    p = add("expedition", cmd_expedition_run,
            "Run an expedition for real: train a sweep of small networks over the gap's cells on the CPU and store "
            "each run as it finishes (DATA/runs/expeditions/).")
    p.add_argument("action", choices=["run"], help="what to do (run)")
    p.add_argument("id", help="the expedition id, as listed by `python -m atlas_viz expeditions`")
    p.add_argument("--budget", type=float, default=120.0, help="seconds to spend at most (default 120)")
    p.add_argument("--max-runs", type=int, default=60, help="runs to plan at most (default 60)")
    p.set_defaults(progress=progress)


def _load(data: Path):
    from atlas_viz.atlas import load_atlas
    from atlas_viz.runs.store import load_observations

    atlas = load_atlas(data)
    if atlas.stale:
        raise SystemExit(f"error: the terrain of {data} is not built for its axes; run `python -m atlas_viz build "
                         f"--data {data}` first")
    runset, placed, observed = load_observations(data, atlas.axes, atlas.terrain)
    return atlas, placed, observed, checks_of(atlas, runset)


def checks_of(atlas, runset) -> list:
    """Every prediction of the catalogue checked on the stored runs (what expeditions are ranked by)."""
    from atlas_viz.checks.scope import RunTable
    from atlas_viz.checks.verdicts import check_results

    return check_results(atlas.results, RunTable(runset.runs, runset.sources, atlas.axes))


def cmd_expeditions(args: argparse.Namespace) -> int:
    from atlas_viz.expeditions.ranking import compute_expeditions, select, to_csv, to_json, to_markdown
    from atlas_viz.expeditions.store import ranking
    from atlas_viz.io.fingerprint import data_fingerprint

    atlas, placed, observed, checks = _load(args.data)
    unknown = [o for o in args.observable if o not in atlas.axes.observable_names]
    if unknown:
        print(f"error: unknown observable {unknown[0]!r}; must be one of {', '.join(atlas.axes.observable_names)}",
              file=sys.stderr)
        return 1
    observables, kinds = tuple(args.observable) or None, tuple(args.kind) or KINDS
    gaps, frame = ranking(args.data, data_fingerprint(args.data),
                          lambda: compute_expeditions(atlas, placed, observed, observables, kinds, checks=checks),
                          extra=f"{observables}|{kinds}")
    frame = select(frame, runnable_only=args.runnable, top=args.top or None)
    if args.format == "json":
        sys.stdout.write(to_json(frame, gaps, atlas.axes))
    elif args.format == "csv":
        sys.stdout.write(to_csv(frame))
    else:
        sys.stdout.write(to_markdown(frame))
    return 0


def cmd_expedition_run(args: argparse.Namespace) -> int:
    from atlas_viz.expeditions.runner import plan_sweep, run_sweep
    from atlas_viz.expeditions.ranking import compute_expeditions
    from atlas_viz.expeditions.store import ranking
    from atlas_viz.io.fingerprint import data_fingerprint

    atlas, placed, observed, checks = _load(args.data)
    gaps, _ = ranking(args.data, data_fingerprint(args.data),
                      lambda: compute_expeditions(atlas, placed, observed, checks=checks))
    gap = next((g for g in gaps if g.id == args.id), None)
    if gap is None:
        print(f"error: no expedition {args.id!r} in {args.data} (ids change when results or runs change; list the "
              "current ones with `python -m atlas_viz expeditions`)", file=sys.stderr)
        return 1
    plan = plan_sweep(atlas.axes, atlas.terrain, gap.cells, gap.id, max_runs=args.max_runs)
    if not plan:
        print(f"expedition {gap.id} is out of reach of the CPU runner (no cell of it can be trained here)",
              file=sys.stderr)
        return 1
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    print(f"expedition {gap.id}: {len(plan)} runs planned, budget {args.budget:.0f} s (Ctrl-C stops after the "
          "current run; finished runs are kept)", file=sys.stderr)
    try:
        report = run_sweep(args.data, atlas.axes, plan, budget=args.budget, cancel=cancel,
                           progress=lambda done, total, text: args.progress(done / total, text[:60]),
                           command=f"python -m atlas_viz expedition run {gap.id} --budget {args.budget:g}")
    finally:
        signal.signal(signal.SIGINT, previous)
    if report.done < report.planned:
        print(file=sys.stderr)
    print(f"{report.done} of {report.planned} runs finished in {report.seconds:.1f} s ({report.stopped}); "
          f"stored in {report.folder}")
    return 0
