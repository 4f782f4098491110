"""Runs at scale: one million synthetic runs, imported, loaded, placed, filtered, aggregated and drawn.

    python benchmarks/bench_runs.py [--rows 1000000] [--keep DIR]

Prints, for one run of this script on this machine:

* the time pandas takes just to read the CSV (``pd.read_csv``) and the time ``import-runs`` takes on the
  same file (read, check, place, store as Parquet), side by side, best of two each, and their ratio
  (target: at most 2x); and the floor under any import that stores the table: reading it and writing the
  frame as read to Parquet, with no check at all;
* the server-side work of a filter change with every run in the data directory: load_runs + place_runs
  + filter + aggregate + building the map figure's JSON (target: under 1 s), and the JSON's size
  (target: under 5 MB);
* the app process itself: the Streamlit script (app.py, map view) run headless with AppTest in a child
  process, first load and a filter change, with its peak resident memory (target: under 2 GB).
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent

from atlas_viz.atlas import load_atlas  # noqa: E402
from atlas_viz.cli.main import main as cli_main  # noqa: E402
from atlas_viz.coverage.levels import cell_level, coverage_table  # noqa: E402
from atlas_viz.figures.maps import map_figure  # noqa: E402
from atlas_viz.catalogue.filters import Filters, filter_runs  # noqa: E402
from atlas_viz.figures.raster import Painter  # noqa: E402
from atlas_viz.runs.store import load_runs, metric_columns, place_runs, run_cells, write_parquet  # noqa: E402
from atlas_viz.runs.summary import aggregate_cells, summarise  # noqa: E402
from atlas_viz.io.yamlio import atomic_write  # noqa: E402

MAPPING = """\
source: {name: synthetic million, url: "https://example.org", license: CC0-1.0}
id: run_id
axes:
  task: {column: task, values: {lm: language_modeling, img: image_classification, tab: tabular}}
  architecture: {column: arch, values: {gpt: transformer, resnet: resnet, mlp: mlp}}
  width: {column: width}
  depth: {column: depth}
  optimizer: {column: optimizer, values: {adam: adaptive, adamw: adaptive, sgd: sgd}}
  learning_rate: {column: lr}
  data_regime: {column: n_train, per: n_params}
metrics: [val_loss, test_acc]
"""


def synthetic(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    opt = rng.choice(np.array(["adam", "adamw", "sgd"]), n)
    lr = np.where(opt == "sgd", 0.1, 1e-3) * 10 ** rng.uniform(-1.5, 1.5, n)
    width = 2 ** rng.integers(4, 13, n)
    depth = rng.integers(1, 49, n)
    params = width.astype(float) ** 2 * depth * 12
    return pd.DataFrame({
        "run_id": np.char.add("run", np.arange(n).astype(str)),
        "task": rng.choice(np.array(["lm", "img", "tab"]), n),
        "arch": rng.choice(np.array(["gpt", "resnet", "mlp"]), n),
        "width": width, "depth": depth, "optimizer": opt, "lr": lr.round(8),
        "n_train": (params * 10 ** rng.uniform(-2, 2, n)).round(),
        "n_params": params,
        "val_loss": rng.normal(2.5, 0.4, n).round(5), "test_acc": rng.uniform(0, 1, n).round(5),
        "seed": rng.integers(0, 5, n),
    })


def timed(fn, repeat: int = 2) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


APP_CHILD = textwrap.dedent("""
    import json, resource, sys, time
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(sys.argv[1], default_timeout=600)
    t0 = time.perf_counter(); at.run(); first = time.perf_counter() - t0
    assert not at.exception, [e.message for e in at.exception]
    spec = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if json.loads(c.proto.spec)["layout"].get("images")]
    size = len(at.get("plotly_chart")[1].proto.spec) if len(at.get("plotly_chart")) > 1 else 0
    at.multiselect(key="f_ax_optimizer").set_value(["adaptive"])
    t0 = time.perf_counter(); at.run(); change = time.perf_counter() - t0
    assert not at.exception, [e.message for e in at.exception]
    sizes = [len(c.proto.spec) for c in at.get("plotly_chart")]
    print(json.dumps({"first_load_s": first, "filter_change_s": change, "chart_json_bytes": max(sizes),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--keep", default=None, help="build the data directory here and keep it")
    args = ap.parse_args()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_runs_"))
    data = tmp / "data"
    if data.exists():
        shutil.rmtree(data)
    shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns("runs"))
    print(f"data directory: {data} (bundled axes, catalogue and terrain; no bundled runs)")

    t0 = time.perf_counter()
    frame = synthetic(args.rows)
    csv = tmp / "million.csv"
    frame.to_csv(csv, index=False)
    (tmp / "million.mapping.yaml").write_text(MAPPING)
    del frame
    print(f"generated {args.rows:,} synthetic runs -> {csv.name}, {csv.stat().st_size / 1e6:.0f} MB "
          f"({time.perf_counter() - t0:.1f} s)")

    # 1. import-runs against pandas' own read, side by side (alternating, best of two).
    argv = ["import-runs", str(csv), "--mapping", str(tmp / "million.mapping.yaml"), "--data", str(data),
            "--name", "million", "--max-problems", "5"]
    reads, imports, floors = [], [], []
    for _ in range(2):
        reads.append(timed(lambda: pd.read_csv(csv), 1)[0])
        t0 = time.perf_counter()
        rc = cli_main(argv)
        imports.append(time.perf_counter() - t0)
        assert rc == 0
        floors.append(timed(lambda: atomic_write(tmp / "floor.parquet",
                                                 lambda fh: write_parquet(pd.read_csv(csv), fh)), 1)[0])
    read_s, import_s, floor_s = min(reads), min(imports), min(floors)
    print(f"\n[import] pandas read_csv: {read_s:.2f} s   import-runs: {import_s:.2f} s   "
          f"ratio {import_s / read_s:.2f}x (target <= 2x)")
    print(f"  floor: read_csv, then store that frame as the import does (Parquet, atomic, fsync), no check at all: "
          f"{floor_s:.2f} s = {floor_s / read_s:.2f}x the read")

    # 2. server-side work of a filter change, every step included.
    atlas = load_atlas(data)
    painter = Painter(atlas.terrain)
    flt = Filters()
    flt.axes = {"optimizer": ("adaptive",)}
    steps: dict[str, float] = {}

    def pipeline():
        t = time.perf_counter()
        runset = load_runs(data, atlas.axes)
        steps["load_runs"] = time.perf_counter() - t
        t = time.perf_counter()
        placed, _ = place_runs(runset.runs, atlas.axes, atlas.terrain)
        steps["place_runs"] = time.perf_counter() - t
        t = time.perf_counter()
        observed = run_cells(placed, runset.sources)
        summary = summarise(placed, observed, runset.problems, metric_columns(placed, runset.sources))
        steps["summarise"] = time.perf_counter() - t  # once per data version: kept on disk by the app
        t = time.perf_counter()
        layer = aggregate_cells(summary, atlas.axes, atlas.terrain, flt.axes, "val_loss")
        steps["filter+aggregate"] = time.perf_counter() - t  # what a filter change pays
        return runset, placed, observed, layer

    total, (runset, placed, observed, layer) = timed(pipeline, 2)
    visible = filter_runs(placed, flt)
    table = coverage_table(atlas.results, atlas.masks, atlas.axes.observable_names, len(atlas.terrain), observed)
    raster = painter.paint(cell_level(table, None))
    t = time.perf_counter()
    fig = map_figure(raster, atlas.results, runs=layer, run_color="val_loss")
    text = fig.to_json()
    steps["figure JSON"] = time.perf_counter() - t
    runs_trace = [tr for tr in json.loads(text)["data"] if str(tr.get("name", "")).startswith("runs")]
    print(f"\n[filter change, server side] {len(placed):,} runs stored, {len(visible):,} visible after the "
          f"filter optimizer=adaptive, drawn as {len(layer):,} cell markers")
    for k, v in steps.items():
        print(f"  {k:<12} {v:6.3f} s")
    server_s = sum(steps.values())
    print(f"  total        {server_s:6.3f} s (target < 1 s)")
    print(f"  figure JSON  {len(text) / 1e6:.2f} MB in all, of which the runs trace "
          f"{len(json.dumps(runs_trace)) / 1e6:.2f} MB (target < 5 MB)")
    del runset, placed, visible, layer, fig, text

    # 3. the app process: app.py driven headless in a child process.
    child = subprocess.run([sys.executable, "-c", APP_CHILD, str(ROOT / "app.py")], capture_output=True,
                           text=True, cwd=ROOT, env={**__import__("os").environ, "ATLAS_DATA": str(data)},
                           timeout=1200)
    if child.returncode:
        print("\n[app process] failed:\n" + child.stderr[-3000:])
    else:
        res = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"\n[app process] first load {res['first_load_s']:.1f} s (loads, places and caches the runs), "
              f"filter change {res['filter_change_s']:.2f} s (whole script rerun), largest chart "
              f"{res['chart_json_bytes'] / 1e6:.2f} MB, peak memory {res['peak_rss_mb']:,.0f} MB (target < 2048 MB)")
    print(f"\nthis benchmark process peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
