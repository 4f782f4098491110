"""Convert the language-model runs of the PyPI package scan-bench into an atlas run source.

    pip install --no-deps scan-bench
    python scripts/convert_scan_bench.py [--data DIR]

scan-bench (MIT, AutoML Freiburg-Hannover) records 1,194 decoder-only transformer language models
trained on SlimPajama with AdamW, each evaluated at several checkpoints, in
``scan_bench/llm/configs_intermediate_summary.csv``. This script reads that CSV as a file (the package
is never imported: it needs torch), keeps one row per run at its final checkpoint (the largest
``step_index``), and imports the rows with the atlas's own importer and the mapping below into
``DATA/runs/scan_bench_llm/`` together with the package's license.

Derived columns:

* ``n_params``: the parameter count scan-bench recorded (embeddings included, tied). Where it is
  missing it is computed from d_model and layers with scan-bench's own formula: per block
  4 d^2 (attention) + 3 d h (GLU MLP, h = 8/3 d rounded up to a multiple of 256) + 2 d (RMSNorms),
  plus d * vocab (tied embeddings) + d (final norm).
* ``tokens_seen``: ``tokens_so_far`` at the final checkpoint; where it is missing (7 runs),
  ``step_fraction * n_tokens`` (the planned token budget times the fraction of it that was trained).
* ``tokens_per_param`` = tokens_seen / n_params, which the data_regime axis bins (samples per parameter).
* ``n_params_nonembedding`` = n_params - d_model * vocab_size: the count without the (tied) token embedding,
  which is the N of Kaplan et al. (2020); the embedding is 20-50% of these models' parameters.

The source.yaml also declares which column carries each canonical quantity (``quantities:``), so predictions
written against ``params``, ``tokens``, ``compute``, ``lr``... read these runs.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent

from atlas_viz.core.names import QUANTITIES_KEY  # noqa: E402
from atlas_viz.terrain.axes import load_axes  # noqa: E402
from atlas_viz.runs.mapping import parse_mapping  # noqa: E402
from atlas_viz.io.paths import data_dir  # noqa: E402
from atlas_viz.runs.importer import import_table, source_meta  # noqa: E402
from atlas_viz.runs.store import save_runs, source_dir  # noqa: E402
from atlas_viz.io.yamlio import atomic_write_text  # noqa: E402

SLUG = "scan_bench_llm"
MAPPING = {
    "source": {
        "name": "scan-bench: 1,194 decoder-only transformer language models",
        "url": "https://pypi.org/project/scan-bench/",
        "license": "MIT (Copyright (c) 2026 AutoML-Freiburg-Hannover); see LICENSE in this folder",
        "notes": "Final checkpoint of each run; GLU transformers with RMSNorm and tied embeddings, seq_len 2048, "
                 "GPT-NeoX tokenizer (vocab 50277), trained with AdamW and a warmup-stable-decay schedule.",
    },
    "id": "config_id",
    "axes": {
        "task": {"value": "language_modeling"},
        "architecture": {"value": "transformer"},
        "width": {"column": "d_model"},
        "depth": {"column": "n_layers"},
        "optimizer": {"column": "optim", "values": {"adamw": "adaptive", "adam": "adaptive"}},
        "learning_rate": {"column": "lr"},
        "parameterization": {"value": "standard"},
        "data_regime": {"column": "tokens_per_param"},
    },
    "metrics": ["valid_loss", "test_loss"],
    "config": ["d_model", "n_layers", "n_heads", "n_params", "tokens_seen", "tokens_per_param", "lr",
               "weight_decay", "beta1", "beta2", "warmup_steps", "cooldown_steps", "global_batch_size",
               "n_tokens", "step_fraction", "flops_so_far", "seed", "n_params_nonembedding"],
    "observables": ["generalization", "scaling"],
}
MULTIPLE_OF = 256
QUANTITIES = {"params": "config.n_params", "samples": "config.tokens_seen", "tokens": "config.tokens_seen",
              "compute": "config.flops_so_far", "width_units": "config.d_model", "depth_layers": "config.n_layers",
              "lr": "config.lr", "samples_per_param": "config.tokens_per_param",
              "weight_decay": "config.weight_decay", "batch_size": "config.global_batch_size"}
"""Canonical quantity -> run column, written to source.yaml so one prediction reads every source."""


def scan_bench_dir() -> tuple[Path, importlib.metadata.Distribution]:
    """The installed package's llm/ folder, found through its metadata (nothing is imported)."""
    try:
        dist = importlib.metadata.distribution("scan-bench")
    except importlib.metadata.PackageNotFoundError:
        sys.exit("scan-bench is not installed: pip install --no-deps scan-bench")
    return Path(dist.locate_file("scan_bench/llm")), dist


def estimated_params(d_model: np.ndarray, n_layers: np.ndarray, vocab: np.ndarray) -> np.ndarray:
    """scan-bench's tot_params for GLU blocks (expand 8/3) with tied embeddings."""
    d = d_model.astype(np.int64)
    hidden = (d * 8) // 3
    hidden = MULTIPLE_OF * ((hidden + MULTIPLE_OF - 1) // MULTIPLE_OF)
    block = 4 * d * d + 3 * d * hidden + 2 * d
    return (n_layers.astype(np.int64) * block + d * vocab.astype(np.int64) + d).astype(float)


def final_runs(llm: Path) -> pd.DataFrame:
    raw = pd.read_csv(llm / "configs_intermediate_summary.csv", low_memory=False)
    last = raw.sort_values(["config_id", "step_index"]).groupby("config_id", sort=True).tail(1).copy()
    est = estimated_params(last["d_model"].to_numpy(), last["n_layers"].to_numpy(), last["vocab_size"].to_numpy())
    last["n_params"] = last["n_params"].fillna(pd.Series(est, index=last.index))
    last["tokens_seen"] = last["tokens_so_far"].fillna(last["step_fraction"] * last["n_tokens"])
    last["tokens_per_param"] = last["tokens_seen"] / last["n_params"]
    last["n_params_nonembedding"] = last["n_params"] - last["d_model"] * last["vocab_size"]
    last["global_batch_size"] = last["micro_batch_size"] * last["grad_accumulation_steps"]
    last["config_id"] = last["config_id"].astype(str)
    return last.reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="data directory (default: $ATLAS_DATA or the bundled data/)")
    args = ap.parse_args(argv)
    data = data_dir(args.data)
    llm, dist = scan_bench_dir()
    axes = load_axes(data / "axes.yaml")
    runs = final_runs(llm)
    mapping, problems = parse_mapping(MAPPING, "convert_scan_bench.py", axes, list(runs.columns))
    if mapping is None:
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    result = import_table(runs, mapping, axes, "configs_intermediate_summary.csv")
    for p in result.problems:
        print(f"  - {p}")
    meta = source_meta(mapping, result, "scan_bench/llm/configs_intermediate_summary.csv",
                       {"package": f"scan-bench {dist.version}", "command": "python scripts/convert_scan_bench.py",
                        "selection": "one row per config_id: the checkpoint with the largest step_index"})
    meta[QUANTITIES_KEY] = dict(QUANTITIES)
    folder = save_runs(data, SLUG, result.table, meta, append=False)
    license_text = Path(dist.locate_file("scan_bench-" + dist.version + ".dist-info/licenses/LICENSE")).read_text()
    atomic_write_text(folder / "LICENSE", license_text)
    atomic_write_text(folder / "NOTICE", NOTICE.format(version=dist.version, rows=len(result.table)))
    t = result.table
    print(f"{len(t):,} runs of scan-bench {dist.version} -> {source_dir(data, SLUG)}")
    for ax in ("width", "depth", "learning_rate", "data_regime"):
        print(f"  {ax}: " + ", ".join(f"{k} {v}" for k, v in t[ax].value_counts().items()))
    return 0


NOTICE = """The runs in this folder are derived from scan-bench {version} (https://pypi.org/project/scan-bench/),
file scan_bench/llm/configs_intermediate_summary.csv, by scripts/convert_scan_bench.py of this repository:
{rows} runs, one row per run at its final checkpoint, with derived columns n_params, tokens_seen and
tokens_per_param and n_params_nonembedding (see the script's docstring). scan-bench is distributed under the MIT License, reproduced
in LICENSE in this folder; the same terms apply to this derived table.
"""

if __name__ == "__main__":
    sys.exit(main())
