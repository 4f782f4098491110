"""Catalogue at scale and YAML alias bombs: time and peak memory of `validate`.

    python benchmarks/bench_catalogue.py [--entries 10000] [--alias-levels 9] [--keep DIR]

Writes, in a temporary data directory (the bundled axes.yaml and terrain cache copied in):

* ``results/big.yaml``: ``--entries`` distinct, valid results (one flow-style line of about 190 bytes each,
  ~1.9 MB for 10,000) with regions, citations and relations between them;
* ``results/bomb.yaml`` (a second directory): the classic "billion laughs" of nested aliases, each level
  a list of ten aliases of the level above (``--alias-levels`` levels: 10**levels leaves in ~600 bytes).

Each case runs ``python -m atlas_viz validate`` in a child process (so the peak resident memory is the
command's own) with a fresh parse cache, and prints its wall time, peak memory and exit code. The child is
limited to 3 GB of address space and 120 s so a runaway case cannot take the machine down.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT_BYTES = 3 * 1024**3
LIMIT_SECONDS = 120

ENTRY = ("- {{id: r{i:05d}, claim: Claim {i}, map_type: {map_type}, region: {{width: [{width}]}}, "
         "observables: [generalization], citation: {{authors: [A Lee], year: {year}, title: P{i}, "
         'arxiv: "2001.{i:05d}"}}{relations}}}\n')
MAP_TYPES = ("theorem", "calculation", "empirical_law", "heuristic", "conjecture")
WIDTHS = ("narrow", "moderate", "wide")


def big_catalogue(n: int) -> str:
    """``n`` valid results; every fourth one relates to its predecessor."""
    out = []
    for i in range(n):
        rel = f", relations: [{{type: extends, target: r{i - 1:05d}}}]" if i % 4 == 1 else ""
        out.append(ENTRY.format(i=i, map_type=MAP_TYPES[i % 5], width=WIDTHS[i % 3],
                                year=2000 + i % 25, relations=rel))
    return "".join(out)


def alias_bomb(levels: int) -> str:
    """Nested aliases: level j is a list of ten aliases of level j-1 (10**levels leaves when expanded)."""
    lines = ['a0: &a0 ["lol"]']
    for j in range(1, levels + 1):
        lines.append(f"a{j}: &a{j} [" + ", ".join([f"*a{j - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


def run_validate(data: Path, cache: Path) -> tuple[float, float, int, str]:
    """Wall seconds, peak resident MB, exit code and last line of ``validate`` on ``data``."""
    env = {**os.environ, "ATLAS_CACHE": str(cache)}
    t0 = time.perf_counter()
    code = ("import resource, sys; from atlas_viz.cli.main import main; rc = main(['validate', '--data', "
            f"{str(data)!r}]); print('peak_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
            "file=sys.stderr); sys.exit(rc)")
    try:
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                              timeout=LIMIT_SECONDS, preexec_fn=_limit, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return LIMIT_SECONDS, float("nan"), -1, f"killed after {LIMIT_SECONDS} s"
    seconds = time.perf_counter() - t0
    peak = next((int(line.split()[1]) / 1024 for line in proc.stderr.splitlines() if line.startswith("peak_kb")),
                float("nan"))
    tail = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip() and "peak_kb" not in line]
    return seconds, peak, proc.returncode, (tail[-1] if tail else "")[:160]


def make_data(root: Path, name: str, text: str) -> Path:
    data = root / name
    (data / "results").mkdir(parents=True)
    (data / "runs").mkdir()
    shutil.copy(ROOT / "data" / "axes.yaml", data / "axes.yaml")
    if (ROOT / "data" / "cache").is_dir():
        shutil.copytree(ROOT / "data" / "cache", data / "cache")
    (data / "results" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--alias-levels", type=int, default=9)
    parser.add_argument("--keep", default=None, help="keep the generated data directories here")
    args = parser.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="atlas-bench-catalogue-"))
    cases = {"big": big_catalogue(args.entries), "bomb": alias_bomb(args.alias_levels)}
    for name, text in cases.items():
        data = make_data(root, name, text)
        cache = root / f"cache-{name}"
        seconds, peak, rc, last = run_validate(data, cache)
        cached = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) if cache.exists() else 0
        print(f"{name}: {len(text.encode()):,} bytes; validate {seconds:.1f} s, peak {peak:,.0f} MB, exit {rc}, "
              f"parse cache {cached:,} bytes; {last}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
