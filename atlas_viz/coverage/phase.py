"""Phase diagrams from runs: a metric binned over two axes or raw config columns, and the squares a result claims.

An axis gives one square per value (in the axes' order); a numeric config column with few distinct values one
square per value, else bins (log-spaced when its values are positive and span more than ``LOG_SPAN``).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from atlas_viz.core.text import short_number

LOG_SPAN = 20.0
"""A positive column whose largest value is this many times its smallest is binned on a log scale."""


@dataclass(frozen=True)
class Binning:
    """How one column of runs is cut into squares: a code per run (-1: no value) and a label per square."""

    column: str
    codes: np.ndarray
    labels: tuple[str, ...]
    log: bool = False


def bin_column(values: pd.Series, order: tuple[str, ...] | None = None, bins: int = 8) -> Binning:
    """Squares of one column: ``order`` (an axis's values) for categories, else distinct numbers or bins."""
    name = str(values.name)
    if order is not None or not pd.api.types.is_numeric_dtype(values):
        cats = tuple(order) if order is not None else tuple(sorted(values.dropna().astype(str).unique()))
        lookup = {c: i for i, c in enumerate(cats)}
        codes = np.array([lookup.get(str(v), -1) if pd.notna(v) else -1 for v in values], dtype=np.int64)
        return Binning(name, codes, cats)
    x = values.to_numpy(dtype=float)
    ok = np.isfinite(x)
    distinct = np.unique(x[ok])
    if len(distinct) == 0:
        return Binning(name, np.full(len(x), -1, dtype=np.int64), ())
    if len(distinct) <= bins:
        codes = np.where(ok, np.searchsorted(distinct, np.where(ok, x, distinct[0])), -1)
        return Binning(name, codes.astype(np.int64), tuple(short_number(v) for v in distinct))
    lo, hi = distinct[0], distinct[-1]
    log = lo > 0 and hi / lo > LOG_SPAN
    edges = np.geomspace(lo, hi, bins + 1) if log else np.linspace(lo, hi, bins + 1)
    codes = np.where(ok, np.clip(np.searchsorted(edges, np.where(ok, x, lo), side="right") - 1, 0, bins - 1), -1)
    labels = tuple(f"{short_number(a)}–{short_number(b)}" for a, b in itertools.pairwise(edges))
    return Binning(name, codes.astype(np.int64), labels, log)


def phase_frame(runs: pd.DataFrame, metric: str, x: Binning, y: Binning) -> pd.DataFrame:
    """One row per square holding runs with a finite ``metric``: its codes, labels, median, quartiles, count.

    ``x`` and ``y`` bin the rows of ``runs`` (from ``bin_column``). Squares without runs are absent.
    """
    cols = ["ix", "iy", "x", "y", "median", "q25", "q75", "count"]
    if metric not in runs or not len(runs):
        return pd.DataFrame(columns=cols)
    m = pd.to_numeric(runs[metric], errors="coerce").to_numpy(dtype=float)
    keep = np.isfinite(m) & (x.codes >= 0) & (y.codes >= 0)
    if not keep.any():
        return pd.DataFrame(columns=cols)
    frame = pd.DataFrame({"ix": x.codes[keep], "iy": y.codes[keep], "v": m[keep]})
    grp = frame.groupby(["ix", "iy"], sort=True)["v"]
    out = grp.agg(median="median", q25=lambda s: s.quantile(0.25), q75=lambda s: s.quantile(0.75),
                  count="size").reset_index()
    out.insert(2, "x", [x.labels[i] for i in out["ix"]])
    out.insert(3, "y", [y.labels[i] for i in out["iy"]])
    return out[cols]


def claimed_squares(runs: pd.DataFrame, mask: np.ndarray, x: Binning, y: Binning) -> np.ndarray:
    """(n_y, n_x) booleans: the squares most of whose runs sit in cells of a result's region (``mask`` over
    the terrain's cells; ``runs`` has a ``cell`` column). Squares without runs are never claimed."""
    grid = np.zeros((len(y.labels), len(x.labels)))
    inside = np.zeros_like(grid)
    ok = (x.codes >= 0) & (y.codes >= 0) & (runs["cell"].to_numpy() >= 0)
    cells = runs["cell"].to_numpy()[ok]
    np.add.at(grid, (y.codes[ok], x.codes[ok]), 1)
    np.add.at(inside, (y.codes[ok], x.codes[ok]), mask[cells].astype(float))
    return (grid > 0) & (inside > grid / 2)


def unrestricted(results: pd.DataFrame, axes_values: dict[str, tuple[str, ...]]) -> np.ndarray:
    """Which results hold for every value of the given axes (name -> all its values): 'holds everywhere' here."""
    if not len(results):
        return np.zeros(0, dtype=bool)
    return np.array([all(set(r.get(a, vals)) >= set(vals) for a, vals in axes_values.items())
                     for r in results["region"]], dtype=bool)
