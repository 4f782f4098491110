"""The map in use: time to first map in a browser, filter changes, imports, and a terrain build.

    python benchmarks/bench_map.py [--reps 5] [--skip-build] [--skip-browser]

Prints, for one run of this script on this machine (the bundled data: a snapshot of data/ copied to a temp
directory at the start, so that the figures do not move if data/ changes while the benchmark runs):

1. the time from launching ``streamlit run`` to the map drawn in headless Chromium (the map's
   ``.js-plotly-plot`` present, its traces, image and WebGL canvas in the DOM), for the atlas and for a
   minimal Streamlit app drawing one Scattergl of as many points as the atlas map sends; measured side by
   side, alternating, after one warm-up launch of each; medians and their ratio (target: at most 1.5x);
2. the server time of filter changes, with Streamlit's AppTest (app.py run once to warm the caches, then
   each kind of change repeated): median and max per kind (target: under 300 ms);
3. whether the app imports umap in normal use (one AppTest run in a fresh process; target: not imported);
4. a full terrain build from scratch: ``python -m atlas_viz build --force`` on a copy of data/axes.yaml
   (target: under 2 minutes).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
DATA = ROOT / "data"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 900}
MAP_SELECTOR = ".st-key-map .js-plotly-plot"  # both apps draw their map with st.plotly_chart(..., key="map")

MINIMAL_APP = textwrap.dedent("""
    import sys

    import numpy as np
    import plotly.graph_objects as go
    import streamlit as st

    st.set_page_config(layout="wide")  # as the atlas
    n = int(sys.argv[sys.argv.index("--points") + 1])
    rng = np.random.default_rng(0)
    fig = go.Figure(go.Scattergl(x=rng.normal(size=n), y=rng.normal(size=n), mode="markers"))
    fig.update_layout(height=760)
    st.plotly_chart(fig, key="map", width="stretch")
""")

# The map is drawn when plotly has laid it out and every trace is in the DOM: an SVG group per scatter
# trace, the WebGL canvas for scattergl traces and the layout images. Returns the points sent, else null.
MAP_DRAWN_JS = """
(selector) => {
  const gd = document.querySelector(selector);
  if (!gd || !gd.data || !gd._fullLayout || !gd._fullData || gd._fullData.length !== gd.data.length) return null;
  const visible = gd._fullData.filter(t => t.visible === true);
  const svg = visible.filter(t => t.type === 'scatter').length;
  const gl = visible.filter(t => t.type === 'scattergl').length;
  if (gd.querySelectorAll('.scatterlayer .trace').length < svg) return null;
  if (gl && !gd.querySelector('canvas.gl-canvas-context')) return null;
  if (gd.querySelectorAll('svg image').length < (gd.layout.images || []).length) return null;
  const len = x => !x ? 0 : (x.length !== undefined ? x.length : (x._inputArray ? x._inputArray.length : 0));
  return {points: gd.data.reduce((n, t) => n + len(t.x), 0), traces: gd.data.length, gl_traces: gl};
}
"""

UMAP_CHILD = textwrap.dedent("""
    import json, sys
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(sys.argv[1], default_timeout=120)
    at.run()
    heavy = ["umap", "pynndescent", "numba", "sklearn"]
    print(json.dumps({"exceptions": [e.message for e in at.exception],
                      "imported": {m: m in sys.modules for m in heavy}}))
""")


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def verdict(value: float, target: float) -> str:
    """'' when ``value`` is under ``target``, else by how much it misses."""
    return "" if value <= target else f"  MISSED: {value / target:.1f}x the target"


def machine() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"machine: nproc {os.cpu_count()} (usable {len(os.sched_getaffinity(0))}), "
            f"Python {platform.python_version()}, {platform.platform()}, load average {load}")


def snapshot_data(tmp: Path) -> Path:
    """A copy of the bundled data directory, taken once; parts 1-3 all read it."""
    data = tmp / "data"
    shutil.copytree(DATA, data)
    results = len(list((data / "results").glob("*.yaml")))
    runs = len(list((data / "runs").glob("*/runs.parquet")))
    print(f"data: snapshot of {DATA} -> {data} ({results} result files, {runs} run sources)")
    return data


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(script: Path, script_args: list[str], cwd: Path):
    """``streamlit run script -- script_args`` on a free port; yields the URL once it is healthy."""
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--", *script_args]
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.perf_counter() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {proc.returncode}: {' '.join(cmd)}")
            try:
                urllib.request.urlopen(url + "_stcore/health", timeout=1)
                break
            except OSError:
                if time.perf_counter() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def time_to_map(browser, script: Path, script_args: list[str], cwd: Path) -> dict:
    """Seconds from launching ``streamlit run`` to the map drawn, in a fresh browser context."""
    t0 = time.perf_counter()
    with streamlit_server(script, script_args, cwd) as url:
        healthy = time.perf_counter() - t0
        context = browser.new_context(viewport=VIEWPORT)
        try:
            page = context.new_page()
            page.goto(url)
            handle = page.wait_for_function(MAP_DRAWN_JS, arg=MAP_SELECTOR, polling="raf", timeout=180_000)
            total = time.perf_counter() - t0
            drawn = handle.json_value()
        finally:
            context.close()
    return {"total": total, "healthy": healthy, **drawn}


def launches(browser, reps: int, atlas: tuple, minimal: tuple) -> dict[str, list[dict]]:
    """One warm-up launch of each app, then ``reps`` launches of each, alternating."""
    warm_atlas = time_to_map(browser, *atlas)
    points = warm_atlas["points"]
    minimal = (minimal[0], ["--points", str(points)], minimal[2])
    warm_min = time_to_map(browser, *minimal)
    print(f"  the atlas map sends {points:,} points in {warm_atlas['traces']} traces "
          f"({warm_atlas['gl_traces']} WebGL); the minimal app draws {warm_min['points']:,} points in one Scattergl")
    print(f"  warm-up launch (not counted): atlas {warm_atlas['total']:.2f} s, minimal {warm_min['total']:.2f} s")
    runs: dict[str, list[dict]] = {"atlas": [], "minimal": []}
    for i in range(reps):
        runs["atlas"].append(time_to_map(browser, *atlas))
        runs["minimal"].append(time_to_map(browser, *minimal))
        print(f"  launch {i + 1}/{reps}: atlas {runs['atlas'][-1]['total']:.2f} s, "
              f"minimal {runs['minimal'][-1]['total']:.2f} s")
    return runs


def bench_browser(reps: int, tmp: Path, data: Path) -> None:
    from playwright.sync_api import sync_playwright

    minimal = tmp / "minimal_app.py"
    minimal.write_text(MINIMAL_APP)
    print(f"\n[1. launch to map drawn] streamlit run -> headless Chromium {VIEWPORT['width']}x{VIEWPORT['height']}, "
          f"fresh browser context each time, {reps} launches of each app, alternating")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print(f"  chromium {browser.version}")
        try:
            runs = launches(browser, reps, (APP, ["--data", str(data)], ROOT), (minimal, [], tmp))
        except Exception as err:  # a launch that never drew its map: report it and go on with the rest
            print(f"  failed: {type(err).__name__}: {str(err).splitlines()[0]}")
            return
        finally:
            browser.close()
    med = {}
    for name, rs in runs.items():
        totals = [r["total"] for r in rs]
        med[name] = median(totals)
        print(f"  {name:<8} launch to map drawn: median {med[name]:.2f} s, min {min(totals):.2f} s, "
              f"max {max(totals):.2f} s (n={len(totals)}); of which server up (health check answers): "
              f"median {median([r['healthy'] for r in rs]):.2f} s")
    ratio = med["atlas"] / med["minimal"]
    print(f"  ratio atlas / minimal (medians): {ratio:.2f}x (target <= 1.5x){verdict(ratio, 1.5)}")


def filter_changes() -> list[tuple[str, object]]:
    """(kind of change, function applying it to an AppTest) in the order they are timed."""
    return [
        ("rerun, nothing changed", lambda at: at),
        ("search 'grokking'", lambda at: at.text_input(key="f_q").input("grokking")),
        ("search cleared", lambda at: at.text_input(key="f_q").input("")),
        ("kind of map: theorem", lambda at: at.multiselect(key="f_types").set_value(["theorem"])),
        ("kind of map: cleared", lambda at: at.multiselect(key="f_types").set_value([])),
        ("layer regions on", lambda at: at.checkbox(key="layer_regions").check()),
        ("layer regions off", lambda at: at.checkbox(key="layer_regions").uncheck()),
    ]


def bench_filter(reps: int, data: Path) -> None:
    from streamlit.testing.v1 import AppTest

    os.environ["ATLAS_DATA"] = str(data)
    at = AppTest.from_file(str(APP), default_timeout=120)
    t0 = time.perf_counter()
    at.run()
    first = time.perf_counter() - t0
    if at.exception:
        print("\n[2. filter change] the app failed: " + "; ".join(e.message for e in at.exception))
        return
    print(f"\n[2. filter change, server side] AppTest of app.py (map view): first run {first:.2f} s (warms the "
          f"caches); then each change below, {reps} times in turn, the whole script rerun timed")
    times: dict[str, list[float]] = {name: [] for name, _ in filter_changes()}
    for _ in range(reps):
        for name, change in filter_changes():
            change(at)
            t0 = time.perf_counter()
            at.run()
            times[name].append(time.perf_counter() - t0)
            if at.exception:
                print(f"  {name}: the app failed: " + "; ".join(e.message for e in at.exception))
                return
    for name, ts in times.items():
        ms = [t * 1000 for t in ts]
        flag = verdict(median(ms), 300) or ("  (max over the target)" if max(ms) > 300 else "")
        print(f"  {name:<24} median {median(ms):6.0f} ms   max {max(ms):6.0f} ms   (n={len(ms)}){flag}")
    print("  target: under 300 ms")


def bench_umap(data: Path) -> None:
    child = subprocess.run([sys.executable, "-c", UMAP_CHILD, str(APP)], capture_output=True, text=True, cwd=ROOT,
                           env={**os.environ, "ATLAS_DATA": str(data)}, timeout=600)
    if child.returncode:
        print("\n[3. umap import] the child failed:\n" + child.stderr[-2000:])
        return
    res = json.loads(child.stdout.strip().splitlines()[-1])
    umap = res["imported"]["umap"]
    others = ", ".join(f"{m} {'yes' if v else 'no'}" for m, v in res["imported"].items() if m != "umap")
    print(f"\n[3. umap import] one AppTest run of app.py in a fresh process (1 run): umap in sys.modules: "
          f"{'yes' if umap else 'no'} (target: no){'  MISSED' if umap else ''}; also imported: {others}"
          + (f"; app exceptions: {res['exceptions']}" if res["exceptions"] else ""))


def bench_build(tmp: Path) -> None:
    data = tmp / "build_data"
    data.mkdir()
    shutil.copy(DATA / "axes.yaml", data / "axes.yaml")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "atlas_viz", "build", "--force", "--data", str(data)],
                          capture_output=True, text=True, cwd=ROOT, timeout=1800)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        print("\n[4. terrain build] failed:\n" + proc.stderr[-2000:])
        return
    print(f"\n[4. terrain build from scratch] python -m atlas_viz build --force on a copy of data/axes.yaml "
          f"(1 run): {seconds:.1f} s wall, process start and imports included (target < 120 s)"
          f"{verdict(seconds, 120)}")
    print(f"  it reports: {proc.stdout.strip()}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5, help="launches of each app, repetitions of each filter change")
    ap.add_argument("--skip-build", action="store_true", help="skip the terrain build (4)")
    ap.add_argument("--skip-browser", action="store_true", help="skip the browser launches (1)")
    args = ap.parse_args()
    print(machine())
    tmp = Path(tempfile.mkdtemp(prefix="bench_map_"))
    try:
        data = snapshot_data(tmp)
        if not args.skip_browser:
            bench_browser(args.reps, tmp, data)
        bench_filter(args.reps, data)
        bench_umap(data)
        if not args.skip_build:
            bench_build(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nload average at the end: {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
