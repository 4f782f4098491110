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
    p.add_argument("--workers", type=int, default=1, help="local processes to run the sweep on (default 1; joblib)")
    p.add_argument("--scheduler", default=None,
                   help="address of a Dask distributed scheduler (tcp://host:8786) to send the sweep to")
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
    from atlas_viz.expeditions.gaps import PREDICTION_GAPS
    from atlas_viz.expeditions.ranking import compute_expeditions
    from atlas_viz.expeditions.store import ranking
    from atlas_viz.expeditions.sweeps import check_sweep_args
    from atlas_viz.io.fingerprint import data_fingerprint

    try:
        check_sweep_args(args.budget, args.max_runs, args.workers, args.scheduler)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    atlas, placed, observed, checks = _load(args.data)
    gaps, _ = ranking(args.data, data_fingerprint(args.data),
                      lambda: compute_expeditions(atlas, placed, observed, checks=checks))
    gap = next((g for g in gaps if g.id == args.id), None)
    if gap is None:
        print(f"error: no expedition {args.id!r} in {args.data} (ids change when results or runs change; list the "
              "current ones with `python -m atlas_viz expeditions`)", file=sys.stderr)
        return 1
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    command = f"python -m atlas_viz expedition run {gap.id} --budget {args.budget:g}"
    progress = lambda done, total, text: args.progress(done / max(total, 1), text[:60])  # noqa: E731
    try:
        if gap.kind in PREDICTION_GAPS:
            return _run_prediction(args, atlas, gap, checks, cancel, progress, command)
        return _run_cells(args, atlas, gap, cancel, progress, command)
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_prediction(args, atlas, gap, checks, cancel, progress, command) -> int:
    """An expedition on a prediction: the sweep its prediction needs, then the verdict before and after."""
    from atlas_viz.expeditions.loop import run_prediction_expedition

    print(f"expedition {gap.id}: testing the prediction of {gap.result} on {gap.metric}, budget "
          f"{args.budget:.0f} s (Ctrl-C stops; finished runs are kept)", file=sys.stderr)
    try:
        out = run_prediction_expedition(args.data, atlas, gap, checks, args.budget, args.max_runs, args.workers,
                                        args.scheduler, progress, cancel, command)
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    r = out.report
    print(file=sys.stderr)
    print(f"{r.done} of {r.planned} runs of {out.kind} finished in {r.seconds:.1f} s ({r.stopped}); "
          + (f"stored in {r.folder}" if r.folder else "nothing stored"))
    print(f"{gap.result}: {out.change}")
    return 0


def _run_cells(args, atlas, gap, cancel, progress, command) -> int:
    """A gap no prediction speaks to: the general runner's sweep over its realisable cells."""
    from atlas_viz.expeditions.runner import plan_sweep, run_sweep

    plan = plan_sweep(atlas.axes, atlas.terrain, gap.cells, gap.id, max_runs=args.max_runs)
    if not plan:
        print(f"expedition {gap.id} is out of reach of the CPU runner (no cell of it can be trained here)",
              file=sys.stderr)
        return 1
    print(f"expedition {gap.id}: {len(plan)} runs planned, budget {args.budget:.0f} s (Ctrl-C stops after the "
          "current run; finished runs are kept)", file=sys.stderr)
    try:
        report = run_sweep(args.data, atlas.axes, plan, budget=args.budget, cancel=cancel,
                           progress=lambda done, total, text: progress(done, total, text), command=command,
                           workers=args.workers, scheduler=args.scheduler)
    except ValueError as err:  # e.g. an unreachable scheduler: found before any run
        print(f"error: {err}", file=sys.stderr)
        return 1
    if report.done < report.planned:
        print(file=sys.stderr)
    print(f"{report.done} of {report.planned} runs finished in {report.seconds:.1f} s ({report.stopped}); "
          + (f"stored in {report.folder}" if report.folder else "nothing stored"))
    return 0
