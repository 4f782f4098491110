"""What the evidence plot of a check shows, computed: the runs used, the claim and the fit as curves, in words.

The figure (``figures/evidence.py``) only draws these frames.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from atlas_viz.catalogue.predictions import Prediction
from atlas_viz.checks.scope import RunTable, scope_masks
from atlas_viz.checks.stats import optimum_bins, peak_bins
from atlas_viz.checks.verdicts import INSIDE, OUTSIDE, Check, Fit, check_scope, usable_rows
from atlas_viz.core.text import pretty
from atlas_viz.terrain.axes import describe_cells

CURVE_POINTS = 60


def name(quantity: str | None) -> str:
    """A quantity, axis or column for readers: 'config.n_params' -> 'n params', 'width_units' -> 'width units'."""
    return pretty((quantity or "").removeprefix("config."))


def prediction_text(p: Prediction) -> str:
    """The prediction in plain words (computed from the validated block; no user text but names and numbers)."""
    m, x = name(p.metric), name(p.x)
    if p.kind == "power_law":
        lo, hi = p.exponent
        exp = f"{lo:g}" if lo == hi else f"between {lo:g} and {hi:g}"
        return f"{m} scales as a power of {x}, with exponent {exp} (log-log slope)."
    if p.kind == "monotone":
        return f"{m} {'rises' if p.direction == 'increasing' else 'falls'} as {x} grows."
    if p.kind == "optimum_invariant":
        return (f"the {x} that minimises {m} stays within a factor {p.within_factor:g} across "
                f"{name(p.across)}.")
    if p.kind == "peak":
        what = "is lowest" if p.extremum == "minimum" else "peaks"
        return f"{m} {what} where {x} is within a factor {p.within_factor:g} of {p.near:g}."
    parts = [f"at most {p.at_most:g}" if p.at_most is not None else "",
             f"at least {p.at_least:g}" if p.at_least is not None else ""]
    return f"{m} stays {' and '.join(s for s in parts if s)} on every run."


def scope_text(p: Prediction, axes) -> str:
    """'Tested where width: wide' when ``where`` narrows the region, else ''."""
    return f"Tested where {describe_cells(axes, p.where)}." if p.where else ""


def measured_text(check: Check | None) -> str:
    """'agrees on 240 runs', 'untested (no run has sharpness)' or 'no prediction'."""
    if check is None:
        return "no prediction to check"
    f = check.inside
    return f"{f.verdict} on {f.runs:,} runs" if f.runs else f.verdict


def evidence_points(row: dict | pd.Series, table: RunTable) -> pd.DataFrame:
    """The runs a check used: id, source, x, y, where ('inside' or 'outside: <axis>') and group (optimum kinds)."""
    p: Prediction = row["prediction"]
    inside, by_axis = scope_masks(table, check_scope(p, row["region"], table.axes))
    parts = [(INSIDE, inside)] + [(f"{OUTSIDE}: {pretty(ax)}", mask) for ax, mask in by_axis.items()]
    frames = []
    for label, mask in parts:
        rows = usable_rows(p, table, mask)
        if not len(rows):
            continue
        x = table.column(p.x).to_numpy()[rows] if p.x else np.arange(len(rows), dtype=float)
        frame = pd.DataFrame({"id": table.runs["id"].to_numpy()[rows] if "id" in table.runs else rows,
                              "x": x, "y": table.column(p.metric).to_numpy()[rows], "where": label})
        if p.kind == "optimum_invariant":
            frame["group"] = table.labels(p.across).to_numpy()[rows]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["id", "x", "y", "where"])


def power_law_curves(p: Prediction, fit: Fit, points: pd.DataFrame) -> pd.DataFrame:
    """x, and y of the claimed band (claim_low, claim_high) and of the fit (fit, fit_low, fit_high), pivoting at
    the inside runs' centre in log-log space (where an OLS line passes)."""
    pts = points[(points["where"] == INSIDE) & (points["x"] > 0) & (points["y"] > 0)]
    if pts.empty or fit.statistic is None:
        return pd.DataFrame()
    lx, ly = np.log(pts["x"].to_numpy(float)), np.log(pts["y"].to_numpy(float))
    cx, cy = lx.mean(), ly.mean()
    t = np.linspace(lx.min(), lx.max(), CURVE_POINTS)
    st = fit.statistic

    def line(k: float) -> np.ndarray:
        return np.exp(cy + k * (t - cx))

    return pd.DataFrame({"x": np.exp(t), "claim_low": line(p.exponent[0]), "claim_high": line(p.exponent[1]),
                         "fit": line(st.value), "fit_low": line(st.low), "fit_high": line(st.high)})


def verdict_table(check: Check) -> pd.DataFrame:
    """One row per set of runs (inside, one step outside, outside along each axis): where, verdict with its
    number of runs, and the statistic with its 95% interval (narrow enough for the detail panel)."""
    rows = [("inside its region", check.inside), ("one step outside", check.outside)]
    rows += [(f"outside along {pretty(ax)}", f) for ax, f in check.by_axis.items()]
    out = []
    for where, f in rows:
        st = f.statistic
        out.append({"runs": where, "verdict": f"{f.verdict} (n={f.runs:,})" if f.runs else f.verdict,
                    "measured [95% interval]": f"{st.value:.3g} [{st.low:.3g}, {st.high:.3g}]" if st else ""})
    return pd.DataFrame(out)


def reason_text(check: Check) -> str:
    """Why the inside verdict is what it is, e.g. 'Inside: 95% interval [...] lies within the claimed [...]'.
    Long names get a break opportunity after each underscore so they wrap in a narrow panel."""
    text = f"Inside: {check.inside.reason}."
    if check.outside.runs:
        text += f" One step outside: {check.outside.reason}."
    return text.replace("_", "_\u200b")


def mean_curves(p: Prediction, points: pd.DataFrame) -> pd.DataFrame:
    """The inside runs' mean metric per bin of the swept quantity, as the statistic bins it: one curve per group
    of ``across`` (optimum_invariant) or one curve (peak, monotone). Columns group, x (bin centre), mean, best
    (the bin the statistic picks: lowest mean for an optimum or a minimum, highest for a peak; none for monotone)."""
    pts = points[points["where"] == INSIDE]
    if p.kind not in ("optimum_invariant", "peak", "monotone") or pts.empty:
        return pd.DataFrame(columns=["group", "x", "mean", "best"])
    x, y = pts["x"].to_numpy(float), pts["y"].to_numpy(float)
    if p.kind == "optimum_invariant":
        labels = pts["group"].to_numpy()
        g, bins, centres = optimum_bins(x, labels)
        names = {k: _group_name(labels[g == k]) for k in np.unique(g)}
    else:
        bins, centres = peak_bins(x)
        g, names = np.zeros(len(x), dtype=int), {0: ""}
    frame = pd.DataFrame({"g": g, "bin": bins, "y": y}).groupby(["g", "bin"], as_index=False)["y"].mean()
    frame["x"] = centres[frame["bin"].to_numpy()]
    frame["group"] = frame["g"].map(names)
    lowest = p.kind == "optimum_invariant" or p.extremum == "minimum"
    pick = frame.groupby("g")["y"].transform("min" if lowest else "max")
    best = (frame["y"] == pick) & (p.kind != "monotone")
    return pd.DataFrame({"group": frame["group"], "x": frame["x"], "mean": frame["y"], "best": best})


def _group_name(labels: np.ndarray) -> str:
    """'64' or '64-256' for a numeric group, the value's human name for an axis value."""
    if np.issubdtype(np.asarray(labels).dtype, np.number):
        lo, hi = float(np.min(labels)), float(np.max(labels))
        return f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"
    return pretty(labels[0])
