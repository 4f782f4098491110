"""Experiment runs: the on-disk store, loading, and placement on the terrain.

A *run source* is one folder ``DATA/runs/<slug>/`` holding

* ``runs.parquet``: one row per run: ``run_id`` (text, unique in the source),
  one column per axis holding a value name or null (unknown), metric columns
  (floats, named in ``source.yaml``), and raw configuration columns named
  ``config.<name>``;
* ``source.yaml``: ``name``, ``url``, ``license``, ``metrics`` (list),
  ``observables`` (what the runs observe; default generalization and
  training_dynamics), ``imported`` (ISO time), ``rows``, ``provenance``
  (free map: command, code version, ...), and the ``mapping`` used.

Both files are written atomically, the table first; a source appears only when
its ``source.yaml`` exists, so a killed import never shows half a table.
Runs whose table leaves an axis out are placed at that axis's ``default``
value from ``axes.yaml`` and list the axis in ``imputed``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import yaml

from atlas_viz.terrain.axes import Axes, cell_codes, product_index
from atlas_viz.core.problems import Problem
from atlas_viz.coverage.regions import stable_jitter
from atlas_viz.io.yamlio import atomic_write, atomic_write_text, read_yaml

RUNS_DIR = "runs"
TABLE_FILE = "runs.parquet"
SOURCE_FILE = "source.yaml"
DICTIONARY_PROBE = 10_000
"""Rows looked at to decide whether a numeric column is dictionary encoded in Parquet."""
CONFIG_PREFIX = "config."
DEFAULT_OBSERVABLES = ("generalization", "training_dynamics")
SLUG_RE = re.compile(r"[^a-z0-9_]+")


def slugify(name: str) -> str:
    """A safe folder name: lowercase letters, digits and _, never a path."""
    slug = SLUG_RE.sub("_", str(name).lower()).strip("_")[:60]
    return slug or "runs"


@dataclass
class RunSet:
    """All runs of a data directory: one frame, per-source metadata and the problems met."""

    runs: pd.DataFrame
    sources: dict[str, dict] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def metrics(self) -> list[str]:
        seen: dict[str, None] = {}
        for meta in self.sources.values():
            for m in meta.get("metrics", []):
                seen[m] = None
        return list(seen)


def source_dir(data_dir: Path | str, slug: str) -> Path:
    return Path(data_dir) / RUNS_DIR / slugify(slug)


def save_runs(data_dir: Path | str, slug: str, table: pd.DataFrame, meta: dict, append: bool = False) -> Path:
    """Store a run source atomically (table first, then its ``source.yaml``).

    ``table`` must have ``run_id``; with ``append`` the rows are added to an
    existing source (rows whose ``run_id`` already exists are replaced).
    """
    folder = source_dir(data_dir, slug)
    folder.mkdir(parents=True, exist_ok=True)
    if not pd.api.types.is_string_dtype(table["run_id"]):
        table = table.assign(run_id=table["run_id"].astype(str))
    if append and (folder / TABLE_FILE).exists():
        old = pd.read_parquet(folder / TABLE_FILE)
        old = old[~old["run_id"].isin(set(table["run_id"]))]
        table = pd.concat([old, table], ignore_index=True)
    atomic_write(folder / TABLE_FILE, lambda fh: write_parquet(table, fh))
    meta = {**meta, "rows": int(len(table))}
    atomic_write_text(folder / SOURCE_FILE, yaml.safe_dump(meta, sort_keys=False, allow_unicode=True))
    return folder


def write_parquet(table: pd.DataFrame, where: BinaryIO | Path) -> None:
    """Write a frame as Parquet, fast: dictionary encoding only where it pays, no statistics.

    Text, categories and numbers with few distinct values (judged on the first rows) are dictionary
    encoded; a dictionary over a million distinct floats, and per-page statistics, would cost half
    the write time for nothing.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    head = table.head(DICTIONARY_PROBE)
    dictionary = [f.name for f in arrow.schema
                  if not (pa.types.is_floating(f.type) or pa.types.is_integer(f.type))
                  or head[f.name].nunique() <= DICTIONARY_PROBE // 100]
    pq.write_table(arrow, where, use_dictionary=dictionary or False, write_statistics=False)


def load_runs(data_dir: Path | str, axes: Axes) -> RunSet:
    """Read every run source; a broken source is reported and skipped."""
    frames, sources, problems = [], {}, []
    root = Path(data_dir) / RUNS_DIR
    for meta_path in sorted(root.glob(f"*/{SOURCE_FILE}")):
        slug = meta_path.parent.name
        meta, meta_problems = read_yaml(meta_path)
        where = f"{RUNS_DIR}/{slug}/{SOURCE_FILE}"
        if meta_problems or not isinstance(meta, dict):
            problems += [Problem(where, "", "", p.message) for p in meta_problems] or \
                        [Problem(where, "", "", "must be a map with name, license and metrics")]
            continue
        try:
            table = pd.read_parquet(meta_path.parent / TABLE_FILE)
        except Exception as err:  # a corrupt or missing table must not sink the other sources
            problems.append(Problem(f"{RUNS_DIR}/{slug}/{TABLE_FILE}", "", "", f"cannot be read: {err}"))
            continue
        table = table.copy()
        table.insert(0, "source", slug)
        table.insert(0, "id", slug + ":" + table["run_id"].astype(str))
        frames.append(table)
        sources[slug] = meta
    if not frames:
        return RunSet(empty_runs(axes), sources, problems)
    runs = pd.concat(frames, ignore_index=True)
    for ax in axes.names:
        if ax not in runs:
            runs[ax] = None
    return RunSet(runs, sources, problems)


def empty_runs(axes: Axes) -> pd.DataFrame:
    cols = ["id", "source", "run_id", *axes.names]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})


def cell_lookup(axes: Axes) -> np.ndarray:
    """Array from a flat index of value codes (over the full product of axes) to cell id, -1 if impossible."""
    return product_index(axes, cell_codes(axes)).ravel()


def run_codes(runs: pd.DataFrame, axes: Axes) -> tuple[np.ndarray, pd.Series]:
    """Value codes of each run (unknown axes take the axis default) and the imputed axes per run."""
    codes = np.empty((len(runs), len(axes.axes)), dtype=np.int64)
    imputed = pd.Series([""] * len(runs), index=runs.index, dtype=object)
    for j, ax in enumerate(axes.axes):
        col = runs[ax.name] if ax.name in runs else pd.Series([None] * len(runs), index=runs.index)
        cat = pd.Categorical(col, categories=list(ax.value_names))
        c = cat.codes.astype(np.int64)
        missing = c < 0
        if missing.any():
            c[missing] = ax.code(ax.default) if ax.default else -1
            imputed[missing] = imputed[missing] + (ax.name + ",")
        codes[:, j] = c
    return codes, imputed.str.rstrip(",")


def place_runs(runs: pd.DataFrame, axes: Axes, terrain: pd.DataFrame, lookup: np.ndarray | None = None,
               jitter: float = 0.03) -> tuple[pd.DataFrame, list[Problem]]:
    """Add ``cell``, ``x``, ``y`` and ``imputed`` to runs (a new frame); unplaceable runs are reported and dropped."""
    if not len(runs):
        out = runs.copy()
        for c, dt in (("cell", np.int64), ("x", float), ("y", float), ("imputed", object)):
            out[c] = pd.Series(dtype=dt)
        return out, []
    lookup = cell_lookup(axes) if lookup is None else lookup
    codes, imputed = run_codes(runs, axes)
    sizes = [len(a.values) for a in axes.axes]
    ok = (codes >= 0).all(axis=1)
    cell = np.full(len(runs), -1, dtype=np.int64)
    cell[ok] = lookup[np.ravel_multi_index(codes[ok].T, sizes)]
    out = runs.copy()
    out["cell"] = cell
    out["imputed"] = imputed.to_numpy()
    problems = []
    bad = cell < 0
    if bad.any():
        for rid in out.loc[bad, "id"].head(20):
            problems.append(Problem(RUNS_DIR, str(rid), "", "cannot be placed: an axis with no default is unknown, "
                                                             "or the combination is impossible in axes.yaml"))
        if bad.sum() > 20:
            problems.append(Problem(RUNS_DIR, "", "", f"... and {int(bad.sum()) - 20} more runs that cannot be placed"))
        out = out[~bad].copy()
    xy = terrain[["x", "y"]].to_numpy()[out["cell"].to_numpy()]
    out["x"] = xy[:, 0] + stable_jitter(out["id"], jitter, "run")[:, 0] if len(out) < 200_000 else xy[:, 0]
    out["y"] = xy[:, 1] + stable_jitter(out["id"], jitter, "run")[:, 1] if len(out) < 200_000 else xy[:, 1]
    return out, problems


def run_cells(placed: pd.DataFrame, sources: dict[str, dict]) -> pd.DataFrame:
    """(cell, observable) pairs observed by runs, for coverage."""
    if not len(placed):
        return pd.DataFrame({"cell": pd.Series(dtype=np.int64), "observable": pd.Series(dtype=object)})
    parts = []
    for slug, grp in placed.groupby("source"):
        cells = np.unique(grp["cell"].to_numpy())
        for obs in sources.get(slug, {}).get("observables") or DEFAULT_OBSERVABLES:
            parts.append(pd.DataFrame({"cell": cells, "observable": obs}))
    return pd.concat(parts, ignore_index=True).drop_duplicates() if parts else run_cells(placed.iloc[:0], {})


def load_observations(data_dir: Path | str, axes: Axes, terrain: pd.DataFrame) -> tuple[RunSet, pd.DataFrame, pd.DataFrame]:
    """Every stored run, placed on its cell, and the (cell, observable) pairs the runs observe.

    Returns (run set with load and placement problems, placed runs, observed pairs).
    """
    runset = load_runs(data_dir, axes)
    placed, problems = place_runs(runset.runs, axes, terrain)
    runset.problems += problems
    return runset, placed, run_cells(placed, runset.sources)


AGGREGATE_ABOVE = 5_000
"""Above this many visible runs the map draws one marker per cell instead of one per run."""


def aggregate_runs(placed: pd.DataFrame, metric: str | None = None) -> pd.DataFrame:
    """One row per occupied cell: x, y (cell centre), count and the mean of ``metric``."""
    if not len(placed):
        return pd.DataFrame(columns=["cell", "x", "y", "count", "mean"])
    grp = placed.groupby("cell", sort=True)
    out = grp.agg(x=("x", "mean"), y=("y", "mean"), count=("id", "size")).reset_index()
    if metric and metric in placed:
        out["mean"] = grp[metric].mean().to_numpy()
    return out


def metric_columns(runs: pd.DataFrame, sources: dict[str, dict]) -> list[str]:
    """Metric columns present in the runs frame, in source order."""
    out: dict[str, None] = {}
    for meta in sources.values():
        for m in meta.get("metrics", []):
            if m in runs:
                out[m] = None
    return list(out)


def config_columns(runs: pd.DataFrame) -> list[str]:
    return [c for c in runs.columns if c.startswith(CONFIG_PREFIX)]
