"""Make the bundled expedition runs: go on the best-ranked runnable expeditions until enough runs are stored.

    python scripts/run_expeditions.py [--data data] [--runs 520] [--per-expedition 90] [--budget 240]

After each expedition the gaps are ranked again (the runs just made lift fog), and an expedition is only taken
if it reaches a task the stored expedition runs do not cover yet, until every task the CPU runner knows is
covered; then the best remaining one is taken. Runs are stored in DATA/runs/expeditions/ as they finish.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

from atlas_viz.atlas import load_atlas  # noqa: E402
from atlas_viz.expeditions.runner import SOURCE, TASKS, plan_sweep, run_sweep  # noqa: E402
from atlas_viz.expeditions.ranking import compute_expeditions, select  # noqa: E402
from atlas_viz.runs.store import load_observations  # noqa: E402


def stored(placed) -> tuple[int, set[str]]:
    mine = placed[placed["source"] == SOURCE]
    return len(mine), set(mine["task"].dropna())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "data"))
    ap.add_argument("--runs", type=int, default=520, help="stop once this many expedition runs are stored")
    ap.add_argument("--per-expedition", type=int, default=90)
    ap.add_argument("--budget", type=float, default=240.0, help="seconds per expedition")
    args = ap.parse_args()
    done_ids: set[str] = set()
    while True:
        atlas = load_atlas(args.data)
        _, placed, observed = load_observations(args.data, atlas.axes, atlas.terrain)
        n, tasks = stored(placed)
        print(f"{n} expedition runs stored, tasks: {', '.join(sorted(tasks)) or 'none'}", flush=True)
        if n >= args.runs and set(TASKS) <= tasks:
            return 0
        gaps, frame = compute_expeditions(atlas, placed, observed)
        by_id = {g.id: g for g in gaps}
        chosen, plan = None, []
        for rid in select(frame, runnable_only=True)["id"]:
            if rid in done_ids:
                continue
            gap = by_id[rid]
            cells = gap.cells
            missing = [t for t in TASKS if t not in tasks]
            if missing:  # aim at a task not covered yet
                task_codes = [atlas.axes["task"].code(t) for t in missing]
                cells = cells[np.isin(atlas.terrain["task"].to_numpy()[cells], task_codes)]
            plan = plan_sweep(atlas.axes, atlas.terrain, cells, rid, max_runs=args.per_expedition)
            if plan:
                chosen = gap
                break
        if chosen is None:
            print("no runnable expedition left", file=sys.stderr)
            return 1
        done_ids.add(chosen.id)
        t0 = time.perf_counter()
        report = run_sweep(args.data, atlas.axes, plan, budget=args.budget,
                           command=f"python scripts/run_expeditions.py (expedition {chosen.id})")
        print(f"  {chosen.id} ({chosen.kind}, {', '.join(chosen.observables)}): {report.done} runs in "
              f"{time.perf_counter() - t0:.0f} s, tasks {sorted({r['task'] for r in report.rows})}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
