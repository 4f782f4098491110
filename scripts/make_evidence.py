"""Make the bundled evidence runs: sweeps of the experiment kinds that the catalogue's predictions read.

    python scripts/make_evidence.py [--data data] [--workers 2] [--scheduler ADDRESS] [--only KIND ...]
                                    [--budget 3600] [--dry-run] [--no-compact]

Each sweep below is sized so the whole script takes about 10-15 minutes on 2 cores with ``--workers 2``. The
configs are chosen so each sweep's runs land inside the regions of the results it can test (task,
architecture, width, depth, optimizer, parameterization of those results); the swept ranges are the kinds'
own (``kinds.<name>.RANGES``), not picked to make any verdict come out one way. Runs are stored in
DATA/runs/expeditions/ as they finish (a re-run replaces runs with the same kind, config and seed); the
existing sklearn expedition runs of that source are kept and gain ``config.samples``, ``config.steps``,
``config.weight_decay`` and ``config.parameterization`` where they lack them. At the end the source's parts
are folded into one table.
"""
from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from atlas_viz.expeditions.experiments import SOURCE, Task, grid, run_experiments
from atlas_viz.expeditions.kinds import KINDS
from atlas_viz.terrain.axes import load_axes

ROOT = Path(__file__).resolve().parent.parent
R = {name: kind.ranges for name, kind in KINDS.items()}


def sweeps() -> list[tuple[str, list[Task]]]:
    """(what it is for, tasks) for every bundled sweep; the long lr-transfer sweep last, so a shorter budget
    still covers every kind."""
    lr, widths = R["lr_transfer"]["lr"][1][1:], R["lr_transfer"]["width_units"][1]   # 1.25e-4 .. 3.2e-2
    return [
        ("grokking: modular addition p=31, 1 and 2 hidden layers of 256, AdamW (power2022, omnigrok, kumar2023)",
         grid("grokking", seeds=(0, 1), depth=[1], weight_decay=R["grokking"]["weight_decay"][1])
         + grid("grokking", seeds=(0, 1, 2), depth=[2], weight_decay=R["grokking"]["weight_decay"][1])),
        ("grokking: modular addition p=31, one-layer transformer d_model 64, AdamW (power2022, nanda2023); weight "
         + "decay from 0.3 (below it the MLPs never generalise within 4,000 steps)",
         grid("grokking", seeds=(0, 1, 2), arch=["transformer"], width=[64], depth=[1],
              weight_decay=R["grokking"]["weight_decay"][1][2:])),
        ("lazy training: 2-hidden-layer NTK MLP on digits, one-hot MSE (lee2019, geiger2019); five widths >= 1024 so "
         + "the 'wide' band alone has enough runs",
         grid("lazy_training", seeds=(0, 1, 2), task=["image_classification"], depth=[2],
              width=[2048, 1792, 1536, 1280, 1024, 256, 64, 16])),
        ("lazy training: 3-hidden-layer NTK MLP on a teacher (huang2019, roberts2022, hanin2020)",
         grid("lazy_training", seeds=(0, 1, 2), task=["teacher_student"], depth=[3],
              width=[1024, 512, 256, 128, 64])),
        ("lazy training: 2-layer NTK net on a teacher (chizat2019, du2018, dyer2019)",
         grid("lazy_training", seeds=(0, 1, 2), task=["teacher_student"], depth=[1],
              width=[4096, 3072, 2048, 1536, 1024, 512, 256, 128, 64, 32, 16])),
        ("edge of stability: digits, tanh MLP with 2 hidden layers, full-batch GD (cohen2021, damian2022, lewkowycz2020)",
         grid("edge_of_stability", seeds=(0, 1), width=[32, 64, 128], steps=[3000],
              lr=R["edge_of_stability"]["lr"][1])),
        ("double descent: random ReLU features on digits, 256 features (belkin2019)",
         grid("double_descent", seeds=(0, 1, 2), task=["image_classification"], features=[256],
              samples_per_param=R["double_descent"]["samples_per_param"][1])),
        ("double descent: 1024 random ReLU features on Gaussian data (mei2019, hastie2022, hu2020)",
         grid("double_descent", seeds=(0, 1), task=["teacher_student", "linear_gaussian"], features=[1024],
              samples_per_param=R["double_descent"]["samples_per_param"][1])),
        ("lr transfer: digits, 3-hidden-layer ReLU MLP, Adam, SP and muP (yang2022, tensor programs IVb, haas2025)",
         grid("lr_transfer", seeds=(0, 1), width=widths[::-1], parameterization=["standard", "mup"], lr=lr)),
    ]


def priority(task: Task) -> int:
    """When a run comes (lower first), so that a run stopped early (or on a busy machine) has already given
    every kind the runs its predictions need: first seeds of the short sweeps, then the second seeds that
    bring the wide / deep bands to eight runs, then lr transfer below 1024 units, then the rest."""
    cfg = task.full_config()
    if task.kind == "lr_transfer":
        return 2 if task.seed == 0 and cfg["width"] < 1024 else 4 if task.seed == 0 else 5
    if task.seed == 0:
        return 0
    needed = (task.kind == "lazy_training" and task.seed == 1 or task.kind == "grokking" and cfg["depth"] == 2
              or task.kind == "grokking" and cfg["arch"] == "transformer"
              or task.kind == "double_descent" and cfg["task"] == "image_classification" and task.seed == 1)
    return 1 if needed else 3


def stored_ids(data: Path) -> set[str]:
    """Run ids already stored in the expeditions source (a re-run of the script resumes where it stopped)."""
    from atlas_viz.runs.store import read_source_table, source_exists

    return set(read_source_table(data, SOURCE)["run_id"].astype(str)) if source_exists(data, SOURCE) else set()


def backfill_legacy(data: Path) -> int:
    """Give the older sklearn expedition runs the canonical columns the kinds write (same run ids: replaced)."""
    from atlas_viz.expeditions.runner import code_version, source_meta
    from atlas_viz.runs.store import read_source_table, save_runs, source_exists

    if not source_exists(data, SOURCE):
        return 0
    table = read_source_table(data, SOURCE)
    old = table[table.get("config.kind", pd.Series(index=table.index, dtype=object)).isna()]
    if not len(old) or "config.samples" in old and old["config.samples"].notna().all():
        return 0
    old = old.assign(**{"config.samples": old["config.n_train"], "config.weight_decay": 0.0,
                        "config.parameterization": "standard",
                        "config.steps": old["config.epochs"] * np.where(old["config.optimizer"] == "gd", 1,
                                                                        np.ceil(old["config.n_train"] / 32)),
                        "observables": "generalization,training_dynamics"})
    save_runs(data, SOURCE, old.reset_index(drop=True), source_meta("scripts/make_evidence.py (backfill)",
                                                                     code_version()), append=True)
    return len(old)


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def backfill_added_later(data: Path) -> int:
    """Runs stored before a kind gained a knob (``ADDED_LATER``) get that knob's default as ``config.<key>``."""
    from atlas_viz.expeditions.runner import code_version, source_meta
    from atlas_viz.runs.store import read_source_table, save_runs, source_exists

    if not source_exists(data, SOURCE):
        return 0
    table, fixed = read_source_table(data, SOURCE), []
    for name, kind in KINDS.items():
        for key, value in (kind.added_later or {}).items():
            col = f"config.{key}"
            rows = table[(table["config.kind"] == name)
                         & (table[col].isna() if col in table else True)]
            if len(rows):
                fixed.append(rows.assign(**{col: value}))
    if not fixed:
        return 0
    rows = pd.concat(fixed, ignore_index=True)
    save_runs(data, SOURCE, rows, source_meta("scripts/make_evidence.py (backfill)", code_version()), append=True)
    return len(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scheduler", default=None, help="address of a Dask scheduler (instead of --workers)")
    ap.add_argument("--only", nargs="*", choices=list(KINDS), help="only these kinds")
    ap.add_argument("--budget", type=float, default=3600.0, help="seconds at most (default 3600)")
    ap.add_argument("--dry-run", action="store_true", help="list the sweeps and their sizes, run nothing")
    ap.add_argument("--no-compact", action="store_true", help="leave the appended parts as they are")
    ap.add_argument("--again", action="store_true", help="re-run experiments already stored (default: skip them)")
    args = ap.parse_args()
    tasks: list[Task] = []
    for what, part in sweeps():
        if args.only and part[0].kind not in args.only:
            continue
        print(f"{len(part):4d} runs  {what}", flush=True)
        tasks += part
    tasks.sort(key=priority)
    print(f"{len(tasks):4d} runs in all", flush=True)
    if args.dry_run:
        return 0
    if not args.again:
        stored = stored_ids(args.data)
        tasks = [t for t in tasks if t.run_id not in stored]
        print(f"{len(tasks):4d} runs not stored yet", flush=True)
    axes = load_axes(args.data / "axes.yaml")
    print(f"legacy runs given canonical columns: {backfill_legacy(args.data)}; runs given knobs added later: "
          f"{backfill_added_later(args.data)}", flush=True)
    t0 = time.perf_counter()
    signal.signal(signal.SIGTERM, _interrupt)   # `kill` stops like Ctrl-C: finished runs kept, workers shut down

    def progress(done: int, total: int, text: str) -> None:
        print(f"[{time.perf_counter() - t0:6.0f} s] {done}/{total} {text}", flush=True)

    try:
        report = run_experiments(args.data, axes, tasks, budget=args.budget, workers=args.workers,
                                 scheduler=args.scheduler, progress=progress,
                                 command="python scripts/make_evidence.py" + (f" --only {' '.join(args.only)}"
                                                                              if args.only else ""))
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{report.done} of {report.planned} runs in {report.seconds:.0f} s ({report.stopped}, {report.executor})")
    if not args.no_compact:
        from atlas_viz.runs.store import compact_runs

        compact_runs(args.data, SOURCE)
    return 0 if report.stopped == "finished" else 1


if __name__ == "__main__":
    raise SystemExit(main())
