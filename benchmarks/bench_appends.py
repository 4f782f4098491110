"""Concurrent appends into one run source, and what an append costs as the source grows.

    python benchmarks/bench_appends.py [--rows 300000] [--writers 3] [--keep DIR]

Prints, for one run of this script on this machine:

* ``--writers`` processes each running ``python -m atlas_viz import-runs TABLE --append`` of ``--rows``
  distinct synthetic runs into the same source at the same moment: how many runs were reported imported,
  how many are stored afterwards (every reported run must be), and the wall time;
* the time of one 1,000-row append into a source holding 0, ``--rows`` and ``writers * --rows`` runs
  (an append writes only its own part: it should not grow with the rows stored), and of ``compact-runs``.
"""
from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_runs", ROOT / "benchmarks" / "bench_runs.py")
bench_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_runs)

from atlas_viz.runs.store import compact_runs, read_source_table, save_runs  # noqa: E402

SLUG = "synthetic_million"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--keep", default=None)
    args = parser.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="atlas-bench-appends-"))
    data = root / "data"
    (data / "results").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "data" / "axes.yaml", data / "axes.yaml")
    (root / "m.yaml").write_text(bench_runs.MAPPING)
    tables = []
    for w in range(args.writers):
        t = bench_runs.synthetic(args.rows, seed=w)
        t["run_id"] = f"w{w}-" + t["run_id"]
        tables.append(root / f"t{w}.csv")
        t.to_csv(tables[-1], index=False)
    cmd = [sys.executable, "-m", "atlas_viz", "import-runs", "--mapping", str(root / "m.yaml"), "--data", str(data),
           "--append"]
    t0 = time.perf_counter()
    procs = [subprocess.Popen([*cmd, str(t)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
             for t in tables]
    outs = [p.communicate() for p in procs]
    seconds = time.perf_counter() - t0
    reported = sum(int(o.split("imported ")[1].split(" of")[0].replace(",", "")) for o, _ in outs if "imported " in o)
    stored = len(read_source_table(data, SLUG))
    print(f"{args.writers} concurrent appends of {args.rows:,} rows: {reported:,} reported imported, {stored:,} "
          f"stored ({'none lost' if stored == reported else f'{reported - stored:,} LOST'}), {seconds:.1f} s; "
          f"exit codes {[p.returncode for p in procs]}")
    small = bench_runs.synthetic(1000, seed=99).rename(columns={"task": "config.task"})
    meta = {"name": "bench", "license": "CC0-1.0", "metrics": ["val_loss"]}
    for label, slug, preload in (("empty source", "fresh", 0), ("source of --rows runs", "one", 1),
                                 ("the concurrent source", SLUG, None)):
        if preload:
            save_runs(data, slug, bench_runs.synthetic(args.rows, seed=7), meta)
        times = []
        for k in range(3):
            batch = small.assign(run_id=f"{slug}-{k}-" + small["run_id"])
            t0 = time.perf_counter()
            save_runs(data, slug, batch, meta, append=True)
            times.append(time.perf_counter() - t0)
        print(f"append of 1,000 rows into {label} ({len(read_source_table(data, slug)):,} runs after): "
              f"best {min(times) * 1000:.0f} ms")
    t0 = time.perf_counter()
    rows = compact_runs(data, SLUG)
    print(f"compact-runs {SLUG}: {rows:,} runs in {time.perf_counter() - t0:.1f} s")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
