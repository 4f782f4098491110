"""Check a result's prediction on the runs inside its region and one step outside it; verdicts are computed.

The decision rule (also in README.md, "Testable maps"):

* **untested**: no run in scope has both the metric and the quantity the prediction reads.
* **inconclusive**: fewer than ``MIN_RUNS`` such runs; fewer than ``MIN_DISTINCT`` distinct values of the swept
  quantity (all kinds but ``bound``); an optimum or peak at the edge of the swept range; no interval (the
  resamples are degenerate); or an interval that neither lies inside the claim nor misses it entirely.
* **agrees**: the whole 95% interval lies inside the claim: within the exponent range (power_law), on the
  claimed side of 0 (monotone), at most ``within_factor`` (optimum_invariant), within a factor ``within_factor``
  of ``near`` (peak), at most ``BOUND_TOLERANCE`` of runs breaking the bound (bound).
* **disagrees**: the whole interval lies outside the claim.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from atlas_viz.catalogue.predictions import Prediction
from atlas_viz.checks import stats
from atlas_viz.checks.scope import RunTable, scope_masks
from atlas_viz.checks.stats import Statistic
from atlas_viz.core.names import QUANTITY_AXES
from atlas_viz.terrain.axes import Axes

MIN_RUNS = 8
"""Fewer runs than this in scope: inconclusive."""
MIN_DISTINCT = 3
"""Fewer distinct values of the swept quantity: inconclusive (two points always fit a line)."""
BOUND_TOLERANCE = 0.05
"""A bound agrees while at most this share of runs breaks it (noise, the odd diverged run)."""
INSIDE, OUTSIDE = "inside", "outside"


@dataclass(frozen=True)
class Fit:
    """The verdict on one set of runs, with the statistic behind it and the reason in words."""

    verdict: str
    runs: int = 0
    sources: tuple[str, ...] = ()
    statistic: Statistic | None = None
    reason: str = ""

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "runs": self.runs, "sources": list(self.sources),
                "statistic": self.statistic.to_dict() if self.statistic else None, "reason": self.reason}


@dataclass(frozen=True)
class Check:
    """A result's prediction checked inside its region, one step outside it, and outside per axis."""

    id: str
    prediction: Prediction
    inside: Fit
    outside: Fit
    by_axis: dict[str, Fit] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return self.inside.verdict

    def to_dict(self) -> dict:
        p = self.prediction
        return {"id": self.id, "kind": p.kind, "metric": p.metric, "against": p.x, **self.inside.to_dict(),
                INSIDE: self.inside.to_dict(),
                OUTSIDE: {**self.outside.to_dict(), "by_axis": {a: f.to_dict() for a, f in self.by_axis.items()}}}


def _claim_interval(p: Prediction) -> tuple[float, float]:
    """The values of the statistic the prediction allows, as [low, high]."""
    if p.kind == "power_law":
        return p.exponent
    if p.kind == "monotone":
        return (0.0, np.inf) if p.direction == "increasing" else (-np.inf, 0.0)
    if p.kind == "optimum_invariant":
        return 1.0, p.within_factor
    if p.kind == "peak":
        return p.near / p.within_factor, p.near * p.within_factor
    return 0.0, BOUND_TOLERANCE


def claim_text(p: Prediction) -> str:
    """The claimed range of the statistic in words (for reasons and the app)."""
    lo, hi = _claim_interval(p)
    if p.kind == "monotone":
        return "above 0" if p.direction == "increasing" else "below 0"
    if p.kind in ("optimum_invariant", "bound"):
        return f"at most {hi:g}"
    return f"[{lo:.3g}, {hi:.3g}]"


def decide(p: Prediction, st: Statistic) -> tuple[str, str]:
    """(verdict, reason) from a statistic's interval and the prediction's claim."""
    interval = f"95% interval [{st.low:.3g}, {st.high:.3g}]"
    if not (np.isfinite(st.low) and np.isfinite(st.high)):
        return "inconclusive", "the bootstrap resamples are degenerate: no interval"
    if st.edge:
        what = "optimum" if p.kind == "optimum_invariant" else "peak"
        return "inconclusive", f"the {what} lies at the edge of the swept range; it may lie beyond it"
    lo, hi = _claim_interval(p)
    claim = claim_text(p)
    strict = p.kind == "monotone"  # a correlation must clear 0, not touch it
    inside = (st.low > lo if strict else st.low >= lo) and (st.high < hi if strict else st.high <= hi)
    if inside:
        return "agrees", f"{interval} lies within the claimed {claim}"
    if st.high < lo or st.low > hi or (strict and (st.high <= lo or st.low >= hi)):
        return "disagrees", f"{interval} lies outside the claimed {claim}"
    return "inconclusive", f"{interval} straddles the claimed {claim}"


def _statistic(p: Prediction, table: RunTable, rows: np.ndarray) -> tuple[Statistic | None, str]:
    """The kind's statistic on the given runs, or (None, why it cannot be computed)."""
    y = table.column(p.metric).to_numpy()[rows]
    if p.kind == "bound":
        return stats.violation_share(y, p.at_most, p.at_least), ""
    x = table.column(p.x).to_numpy()[rows]
    if p.kind == "power_law":
        sources = table.runs["source"].to_numpy()[rows] if "source" in table.runs else None
        return stats.power_law(x, y, sources), ""
    if p.kind == "monotone":
        return stats.spearman(x, y), ""
    if p.kind == "peak":
        return stats.peak(x, y, minimum=p.extremum == "minimum"), ""
    groups = table.labels(p.across).to_numpy()[rows]
    st = stats.optimum_ratio(x, groups, y, MIN_DISTINCT)
    if st is None:
        return None, f"fewer than two groups of {p.across} sweep {MIN_DISTINCT} or more values of {p.over}"
    return st, ""


def _no_replicates(p: Prediction, table: RunTable, rows: np.ndarray) -> bool:
    """Whether every bin of the swept value that the statistic reads (per group of ``across`` for an optimum)
    holds a single run, so resampling within bins cannot vary anything."""
    x = table.column(p.x).to_numpy()[rows]
    if p.kind == "optimum_invariant":
        g, v, _ = stats.optimum_bins(x, table.labels(p.across).to_numpy()[rows])
        keys = pd.DataFrame({"g": g, "v": v})
    else:
        keys = pd.DataFrame({"v": stats.peak_bins(x)[0]})
    return not keys.duplicated().any()


def usable_rows(p: Prediction, table: RunTable, mask: np.ndarray) -> np.ndarray:
    """Indices of runs in ``mask`` that have the metric and the swept quantity (positive where logs are taken)."""
    ok = mask & np.isfinite(table.column(p.metric).to_numpy())
    if p.x is not None:
        x = table.column(p.x).to_numpy()
        ok &= np.isfinite(x)
        if p.kind in ("power_law", "optimum_invariant"):
            ok &= x > 0
    if p.kind == "optimum_invariant":
        ok &= table.labels(p.across).notna().to_numpy()
    if p.kind == "power_law":
        ok &= table.column(p.metric).to_numpy() > 0
    return np.flatnonzero(ok)


def fit(p: Prediction, table: RunTable, mask: np.ndarray) -> Fit:
    """The verdict of ``p`` on the runs selected by ``mask``."""
    rows = usable_rows(p, table, mask)
    if not len(rows):
        return Fit("untested", reason=f"no run here has {p.metric}" + (f" and {p.x}" if p.x else ""))
    sources = tuple(sorted(pd.unique(table.runs["source"].to_numpy()[rows]))) if "source" in table.runs else ()
    base = {"runs": len(rows), "sources": sources}
    if len(rows) < MIN_RUNS:
        return Fit("inconclusive", **base, reason=f"{len(rows)} runs; at least {MIN_RUNS} are needed")
    if p.x is not None and p.kind != "bound":
        distinct = len(np.unique(table.column(p.x).to_numpy()[rows]))
        if distinct < MIN_DISTINCT:
            return Fit("inconclusive", **base, reason=f"{p.x} takes {distinct} distinct value(s); at least "
                                                      f"{MIN_DISTINCT} are needed")
    st, why = _statistic(p, table, rows)
    if st is None:
        return Fit("inconclusive", **base, reason=why)
    if p.kind in ("peak", "optimum_invariant") and st.low == st.high and _no_replicates(p, table, rows):
        return Fit("inconclusive", **base, statistic=st,
                   reason=f"one run per value of {p.x}: resampling cannot measure the noise of the "
                          f"{'optimum' if p.kind == 'optimum_invariant' else 'peak'}; run several seeds per value")
    verdict, reason = decide(p, st)
    return Fit(verdict, **base, statistic=st, reason=reason)


def check_scope(p: Prediction, region: dict[str, tuple[str, ...]], axes: Axes) -> dict[str, tuple[str, ...]]:
    """The cells a prediction is checked in: the region narrowed by ``where``. For an optimum or a peak, the axis
    that bins the swept quantity is not cut (unless ``where`` names it): the sweep must bracket the optimum."""
    scope = p.scope(region)
    swept = QUANTITY_AXES.get(p.x or "")
    if p.kind in ("optimum_invariant", "peak") and swept and swept not in p.where:
        scope = {**scope, swept: axes[swept].value_names}
    return scope


def check_result(row: dict | pd.Series, table: RunTable) -> Check | None:
    """Check one result (a row of the results frame); None when it carries no prediction."""
    p = row.get("prediction")
    if not isinstance(p, Prediction):
        return None
    inside, by_axis = scope_masks(table, check_scope(p, row["region"], table.axes))
    outside = np.zeros(len(inside), dtype=bool)
    for mask in by_axis.values():
        outside |= mask
    per_axis = {ax: fit(p, table, mask) for ax, mask in by_axis.items()}
    return Check(row["id"], p, fit(p, table, inside), fit(p, table, outside),
                 {ax: f for ax, f in per_axis.items() if f.runs})


def check_results(results: pd.DataFrame, table: RunTable, ids: list[str] | None = None) -> list[Check]:
    """Checks of every result with a prediction (or of ``ids`` only, in that order)."""
    rows = results[results["prediction"].map(lambda p: isinstance(p, Prediction))].to_dict("records")
    if ids is not None:
        by_id = {r["id"]: r for r in rows}
        rows = [by_id[i] for i in ids if i in by_id]
    return [c for c in (check_result(r, table) for r in rows) if c is not None]


def verdict_column(results: pd.DataFrame, checks: list[Check]) -> pd.Series:
    """The inside verdict per result ('' for a result without a prediction), aligned with ``results``."""
    by_id = {c.id: c.verdict for c in checks}
    return results["id"].map(lambda i: by_id.get(i, "")).astype(object)
