"""The statistic of each prediction kind, with a 95% interval from a bootstrap over runs (vectorised numpy).

For an optimum or a peak the runs are resampled within each swept value (or bin): the sweep's design is kept
and only the measured metric varies, so a value that one resample happens to miss does not move the optimum.
Every function takes the runs' numbers as arrays and returns a :class:`Statistic`; ``edge`` says the estimate
sits at the edge of the swept range (an optimum or peak that may lie beyond it). The bootstrap draws the same
resamples for the same number of runs (fixed seed), so a check is reproducible.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

BOOTSTRAP = 400
"""Resamples of the runs per statistic."""
SEED = 0
LEVEL = 0.95
PEAK_BINS = 10
"""The swept quantity is cut into this many quantile bins (in log space when positive) for a peak, unless it
takes at most ``MAX_DISTINCT_AS_BINS`` distinct values (then each value is a bin)."""
MAX_DISTINCT_AS_BINS = 12
MAX_OPTIMUM_BINS = 24
MANY_GROUPS, MAX_GROUPS = 6, 4
"""An ``across`` quantity with more than MANY_GROUPS distinct values is cut into MAX_GROUPS quantile groups."""


@dataclass(frozen=True)
class Statistic:
    """What was fitted: ``value`` on all runs in scope, ``low``-``high`` its 95% bootstrap interval."""

    name: str
    value: float
    low: float
    high: float
    edge: bool = False
    intercept: float | None = None
    """power_law only: the fitted line is log y = intercept + value * log x."""

    def to_dict(self) -> dict:
        out = {"name": self.name, "value": _round(self.value), "low": _round(self.low), "high": _round(self.high)}
        if self.edge:
            out["edge"] = True
        return out


def _round(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(f"{x:.4g}")


def rankdata(a: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing their average rank (as ``scipy.stats.rankdata``, whose module takes half a
    second to import: the app checks predictions on its first run)."""
    a = np.asarray(a, dtype=float)
    if not len(a):
        return a.copy()
    order = np.argsort(a, kind="mergesort")
    ordered = a[order]
    group = np.cumsum(np.r_[True, ordered[1:] != ordered[:-1]]) - 1
    counts = np.bincount(group)
    first = np.cumsum(np.r_[0, counts[:-1]])
    ranks = np.empty(len(a))
    ranks[order] = (first + (counts + 1) / 2.0)[group]
    return ranks


@lru_cache(maxsize=16)
def _plain_resamples(n: int) -> np.ndarray:
    idx = np.random.default_rng(SEED).integers(0, n, size=(BOOTSTRAP, n))
    idx.flags.writeable = False
    return idx


def _resamples(n: int, strata: np.ndarray | None = None) -> np.ndarray:
    """Indices of the bootstrap resamples, one row each. With ``strata`` (a group code per run) runs are drawn
    within their group, so every group keeps its size: the sweep's design stays, the measured metric varies."""
    if strata is None:
        return _plain_resamples(n)
    rng = np.random.default_rng(SEED)
    order = np.argsort(strata, kind="stable")
    _, start, count = np.unique(strata[order], return_index=True, return_counts=True)
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    group = np.searchsorted(start, pos, side="right") - 1
    draw = (rng.random((BOOTSTRAP, n)) * count[group]).astype(np.int64)
    return order[start[group] + draw]


def _interval(samples: np.ndarray) -> tuple[float, float]:
    tail = (1 - LEVEL) / 2 * 100
    finite = samples[np.isfinite(samples)]
    if len(finite) < BOOTSTRAP / 2:  # most resamples degenerate: no interval to speak of
        return np.nan, np.nan
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def _slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """OLS slope of y on x along the last axis (NaN where x does not vary)."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    sxx = (xc * xc).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sxx > 0, (xc * yc).sum(axis=-1) / sxx, np.nan)


def _within(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """``values`` (..., runs) minus the mean of their group along the last axis (one group code per run)."""
    onehot = (groups[:, None] == np.unique(groups)[None, :]).astype(float)
    means = (values @ onehot) / onehot.sum(axis=0)
    return values - means @ onehot.T


def power_law(x: np.ndarray, y: np.ndarray, sources: np.ndarray | None = None) -> Statistic:
    """Slope of log y on log x (runs with positive x and y).

    With runs from several ``sources`` (a code per run), each source keeps its own intercept: the slope is fitted
    within sources (logs centred per source; resampled within each source), so two sources that measure the
    metric on different scales (language-model loss and digit-classifier loss) do not make a slope of their own."""
    lx, ly = np.log(x), np.log(y)
    several = sources is not None and len(np.unique(sources)) > 1
    if several:
        idx = _resamples(len(x), sources)
        fx, fy = _within(lx, sources), _within(ly, sources)
        slope = float(_slopes(fx, fy))
        low, high = _interval(_slopes(_within(lx[idx], sources), _within(ly[idx], sources)))
    else:
        idx = _resamples(len(x))
        slope = float(_slopes(lx, ly))
        low, high = _interval(_slopes(lx[idx], ly[idx]))
    name = "exponent (slope of log metric on log against" + (", within each run source)" if several else ")")
    return Statistic(name, slope, low, high, intercept=float(ly.mean() - slope * lx.mean()))


def _pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ac = a - a.mean(axis=-1, keepdims=True)
    bc = b - b.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ac * bc).sum(axis=-1) / np.sqrt((ac * ac).sum(axis=-1) * (bc * bc).sum(axis=-1))


def _resample_ranks(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Average ranks of ``values[idx]`` within each row of ``idx``, by counting (no sort per resample)."""
    _, code = np.unique(values, return_inverse=True)
    nu = int(code.max()) + 1
    rows = np.arange(len(idx))[:, None]
    counts = np.bincount((rows * nu + code[idx]).ravel(), minlength=len(idx) * nu).reshape(len(idx), nu)
    average = np.cumsum(counts, axis=1) - (counts - 1) / 2  # ties share the mean of their ranks
    return np.take_along_axis(average, code[idx], axis=1)


def spearman(x: np.ndarray, y: np.ndarray) -> Statistic:
    """Spearman's rank correlation of y with x (ties get their average rank)."""
    rho = float(_pearson(rankdata(x), rankdata(y)))
    idx = _resamples(len(x))
    low, high = _interval(_pearson(_resample_ranks(x, idx), _resample_ranks(y, idx)))
    return Statistic("Spearman rank correlation", rho, low, high)


def _binned_means(bins: np.ndarray, y: np.ndarray, nbins: int, idx: np.ndarray) -> np.ndarray:
    """Mean of y per bin for each resample (rows of ``idx``); NaN for an empty bin."""
    rows = np.arange(len(idx))[:, None]
    flat = (rows * nbins + bins[idx]).ravel()
    sums = np.bincount(flat, weights=y[idx].ravel(), minlength=len(idx) * nbins).reshape(len(idx), nbins)
    counts = np.bincount(flat, minlength=len(idx) * nbins).reshape(len(idx), nbins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)


def peak_bins(x: np.ndarray, nbins: int = PEAK_BINS) -> tuple[np.ndarray, np.ndarray]:
    """(bin of each run, centre of each bin): distinct values, or ``nbins`` quantile bins with geometric-mean
    centres."""
    distinct = np.unique(x)
    if len(distinct) <= MAX_DISTINCT_AS_BINS:
        return np.searchsorted(distinct, x), distinct
    positive = bool((x > 0).all())
    t = np.log(x) if positive else x
    edges = np.unique(np.quantile(t, np.linspace(0, 1, nbins + 1)))
    bins = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, len(edges) - 2)
    centres = np.array([t[bins == k].mean() if (bins == k).any() else np.nan for k in range(len(edges) - 1)])
    return bins, np.exp(centres) if positive else centres


def peak(x: np.ndarray, y: np.ndarray, minimum: bool = False) -> Statistic:
    """Where the mean of y over bins of x is largest (smallest with ``minimum``); ``edge`` when that is the
    first or last bin."""
    y = -y if minimum else y
    bins, centres = peak_bins(x)
    nb = len(centres)
    point = _binned_means(bins, y, nb, np.arange(len(x))[None, :])[0]
    best = int(np.nanargmax(point))
    means = _binned_means(bins, y, nb, _resamples(len(x), bins))
    means = np.where(np.isnan(means), -np.inf, means)
    low, high = _interval(centres[np.argmax(means, axis=1)])
    return Statistic(f"location of the {'minimum' if minimum else 'peak'} of the mean metric", float(centres[best]),
                     low, high,
                     edge=best in (0, nb - 1))


def optimum_ratio(over: np.ndarray, groups: np.ndarray, y: np.ndarray, min_values: int = 3) -> Statistic | None:
    """Ratio max/min, across groups, of the ``over`` value minimising the group's mean y (positive ``over``).

    ``over`` with many distinct values is binned as for a peak; a numeric ``groups`` with more than
    ``MANY_GROUPS`` distinct values is cut into ``MAX_GROUPS`` quantile groups. Groups sweeping fewer than
    ``min_values`` values (bins) of ``over`` are left out; None when fewer than two groups remain. ``edge`` when
    a group's optimum is its smallest or largest swept value.
    """
    g, v, values = optimum_bins(over, groups)
    swept = {k: np.unique(v[g == k]) for k in np.unique(g)}
    kept = [k for k, s in swept.items() if len(s) >= min_values]
    if len(kept) < 2:
        return None
    keep = np.isin(g, kept)
    v, y, g = v[keep], y[keep], np.searchsorted(kept, g[keep])
    ng, nv = len(kept), len(values)
    cell = g * nv + v

    def optima(idx: np.ndarray) -> np.ndarray:
        means = _binned_means(cell, y, ng * nv, idx).reshape(len(idx), ng, nv)
        empty = np.isnan(means).all(axis=2)
        best = np.argmin(np.where(np.isnan(means), np.inf, means), axis=2)
        return np.where(empty, np.nan, values[best])

    point = optima(np.arange(len(y))[None, :])[0]
    edge = any(point[i] in (values[swept[k]].min(), values[swept[k]].max()) for i, k in enumerate(kept))
    boot = optima(_resamples(len(y), cell))
    with np.errstate(invalid="ignore"):
        ratios = np.nanmax(boot, axis=1) / np.nanmin(boot, axis=1)
    low, high = _interval(ratios)
    return Statistic("spread of the optimum across groups (max / min)", float(point.max() / point.min()),
                     low, high, edge=edge)


def optimum_bins(over: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group code, bin of ``over``, bin centres) as :func:`optimum_ratio` uses them. Bins are finer with more
    runs (about 8 per group and bin), so a bin spans less than a claim's factor."""
    g = group_codes(groups)
    v, values = peak_bins(over, int(np.clip(len(over) // (8 * (g.max() + 1)), PEAK_BINS, MAX_OPTIMUM_BINS)))
    return g, v, values


def group_codes(labels: np.ndarray) -> np.ndarray:
    """Group codes: one per distinct label, or quantile groups of a numeric label with many distinct values."""
    codes = np.unique(labels, return_inverse=True)[1]
    if codes.max() + 1 <= MANY_GROUPS or not np.issubdtype(np.asarray(labels).dtype, np.number):
        return codes
    edges = np.unique(np.quantile(labels, np.linspace(0, 1, MAX_GROUPS + 1)))
    return np.clip(np.searchsorted(edges, labels, side="right") - 1, 0, len(edges) - 2)


def violation_share(y: np.ndarray, at_most: float | None, at_least: float | None) -> Statistic:
    """Share of runs whose metric breaks the bound."""
    bad = np.zeros(len(y), dtype=bool)
    if at_most is not None:
        bad |= y > at_most
    if at_least is not None:
        bad |= y < at_least
    boot = bad[_resamples(len(y))].mean(axis=1)
    low, high = _interval(boot)
    return Statistic("share of runs breaking the bound", float(bad.mean()), low, high)
