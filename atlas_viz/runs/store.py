"""Experiment runs: the on-disk store, loading, and placement on the terrain.

A *run source* is one folder ``DATA/runs/<slug>/`` holding

* ``runs.parquet``: the base table, one row per run: ``run_id`` (text, unique in the source), one column
  per axis holding a value name or null (unknown), metric columns (floats, named in ``source.yaml``), and
  raw configuration columns named ``config.<name>``;
* ``parts/<time>-<random>.parquet``: rows appended since the base was written, same columns (any subset);
  a later part replaces the rows of earlier ones (and of the base) with the same ``run_id``;
* ``source.yaml``: ``name``, ``url``, ``license``, ``metrics`` (list), ``observables`` (default
  generalization and training_dynamics), ``imported`` (ISO time), ``rows``, ``provenance`` (free map),
  the ``mapping`` used, and ``parts``: the part files that belong to the source, in order.

Every writer (an import, an append, an expedition, a compaction) holds the source's lock
(:class:`atlas_viz.io.atomic.FolderLock`); readers never wait. ``source.yaml`` is the commit record: it is
written last, atomically, so a part or a base table appears in the source only once it is complete, and a
killed writer leaves files that the next writer removes. An append writes only its own rows (a new part)
and counts the runs it adds in an index of the source's ids (:mod:`atlas_viz.runs.idindex`), so its cost
does not grow with the rows stored and ``rows`` stays exact; beyond
:data:`MAX_PARTS` parts they are folded together (:func:`compact_runs`).
Runs whose table leaves an axis out are placed at that axis's ``default`` value from ``axes.yaml`` and list
the axis in ``imputed``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from atlas_viz.terrain.axes import Axes
from atlas_viz.core.problems import Problem
from atlas_viz.coverage.regions import stable_jitter
from atlas_viz.io.paths import PARTS_DIR, RUNS_DIR, SOURCE_FILE, TABLE_FILE
from atlas_viz.runs.disk import (MAX_PARTS, compact_runs, read_source, read_source_table, save_runs, slugify,
                                 source_dir, source_exists, write_parquet)
from atlas_viz.runs.impute import impute_codes

__all__ = ["RUNS_DIR", "TABLE_FILE", "SOURCE_FILE", "PARTS_DIR", "MAX_PARTS", "compact_runs", "read_source",
           "read_source_table", "save_runs", "slugify", "source_dir", "source_exists", "write_parquet"]
"""Re-exported from :mod:`atlas_viz.io.paths` and :mod:`atlas_viz.runs.disk`, where they live."""
CONFIG_PREFIX = "config."
DEFAULT_OBSERVABLES = ("generalization", "training_dynamics")


@dataclass
class RunSet:
    """All runs of a data directory: one frame, per-source metadata and the problems met."""

    runs: pd.DataFrame
    sources: dict[str, dict] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def load_runs(data_dir: Path | str, axes: Axes) -> RunSet:
    """Read every run source (base table and its parts); a broken source is reported and skipped."""
    frames, sources, problems = [], {}, []
    root = Path(data_dir) / RUNS_DIR
    for meta_path in sorted(root.glob(f"*/{SOURCE_FILE}")):
        slug = meta_path.parent.name
        meta, table, source_problems = read_source(meta_path.parent)
        problems += source_problems
        if table is None:
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
    """Array from a flat index of value codes (over the full product of axes) to cell id, -1 if impossible:
    the axes' one grid index (``Axes.grid``), flattened."""
    return axes.grid.ravel()


def run_codes(runs: pd.DataFrame, axes: Axes, lookup: np.ndarray | None = None) -> tuple[np.ndarray, pd.Series]:
    """Value codes of each run and the imputed axes per run: an unknown axis takes its default, or the
    possible value nearest to it when the default makes an impossible cell (:func:`impute_codes`)."""
    codes = np.empty((len(runs), len(axes.axes)), dtype=np.int64)
    imputed = pd.Series([""] * len(runs), index=runs.index, dtype=object)
    for j, ax in enumerate(axes.axes):
        col = runs[ax.name] if ax.name in runs else pd.Series([None] * len(runs), index=runs.index)
        cat = pd.Categorical(col, categories=list(ax.value_names))
        c = cat.codes.astype(np.int64)
        missing = c < 0
        if missing.any():
            imputed[missing] = imputed[missing] + (ax.name + ",")
        codes[:, j] = c
    if (codes < 0).any():
        codes, _ = impute_codes(axes, codes, cell_lookup(axes) if lookup is None else lookup)
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
    codes, imputed = run_codes(runs, axes, lookup)
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


RUN_OBSERVABLES = "observables"
"""Optional run column: the observables this run observes, comma-separated (the source's list otherwise)."""


def run_cells(placed: pd.DataFrame, sources: dict[str, dict]) -> pd.DataFrame:
    """(cell, observable) pairs observed by runs, for coverage: each run counts for its own ``observables``
    column where it has one (an expedition's lr sweep observes transfer, its sharpness runs the landscape), else
    for its source's ``observables``."""
    if not len(placed):
        return pd.DataFrame({"cell": pd.Series(dtype=np.int64), "observable": pd.Series(dtype=object)})
    parts = []
    for slug, grp in placed.groupby("source"):
        own = grp[RUN_OBSERVABLES] if RUN_OBSERVABLES in grp else pd.Series(None, index=grp.index, dtype=object)
        has_own = own.notna().to_numpy() & (own.astype(str).str.strip() != "").to_numpy()
        cells = np.unique(grp["cell"].to_numpy()[~has_own])
        for obs in (sources.get(slug, {}).get("observables") or DEFAULT_OBSERVABLES) if len(cells) else ():
            parts.append(pd.DataFrame({"cell": cells, "observable": obs}))
        if has_own.any():
            pairs = pd.DataFrame({"cell": grp["cell"].to_numpy()[has_own], "observable": own[has_own].astype(str)})
            pairs = pairs.drop_duplicates()
            pairs["observable"] = pairs["observable"].str.split(",")
            pairs = pairs.explode("observable")
            pairs["observable"] = pairs["observable"].str.strip()
            parts.append(pairs[pairs["observable"] != ""])
    return pd.concat(parts, ignore_index=True).drop_duplicates() if parts else run_cells(placed.iloc[:0], {})


def load_observations(data_dir: Path | str, axes: Axes, terrain: pd.DataFrame) -> tuple[RunSet, pd.DataFrame, pd.DataFrame]:
    """Every stored run, placed on its cell, and the (cell, observable) pairs the runs observe.

    Returns (run set with load and placement problems, placed runs, observed pairs).
    """
    runset = load_runs(data_dir, axes)
    placed, problems = place_runs(runset.runs, axes, terrain)
    runset.problems += problems
    return runset, placed, run_cells(placed, runset.sources)


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
