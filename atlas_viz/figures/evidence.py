"""The evidence of a check (metric against the swept quantity: runs, claim, fit) and verdict rings on the map."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from atlas_viz.checks.evidence import mean_curves, name, power_law_curves
from atlas_viz.checks.report import fit_text
from atlas_viz.checks.verdicts import INSIDE, Check, claim_text
from atlas_viz.core.names import VERDICTS
from atlas_viz.figures.maps import esc

VERDICT_STYLE = {
    "agrees": ("#1a9850", "agrees with the runs"),
    "disagrees": ("#d73027", "disagrees with the runs"),
    "inconclusive": ("#f39c12", "inconclusive"),
    "untested": ("#7f7f7f", "untested (no run measures it)"),
}
"""Verdict -> (ring colour, legend label)."""
INSIDE_COLOUR, OUTSIDE_COLOURS = "#1f4e79", ("#c0392b", "#8e44ad", "#d35400", "#16a085", "#7f8c8d")
CLAIM_FILL, FIT_COLOUR = "rgba(46, 139, 87, 0.18)", "#111111"
GROUP_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
RING_SIZE = 19


def _log_axis(values: pd.Series) -> bool:
    v = values.to_numpy(float)
    return bool(len(v)) and bool((v > 0).all()) and v.max() / v.min() > 50


def _band(fig: go.Figure, x: np.ndarray, low: np.ndarray, high: np.ndarray, label: str, fill: str) -> None:
    fig.add_trace(go.Scatter(x=x, y=high, mode="lines", line={"width": 0}, hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=x, y=low, mode="lines", line={"width": 0}, fill="tonexty", fillcolor=fill,
                             name=label, hoverinfo="skip"))


def evidence_figure(check: Check, points: pd.DataFrame, height: int = 380) -> go.Figure:
    """Runs used (inside, and outside per axis, coloured), the claim as a band, the fit with its interval.

    Each run marker carries its run id in ``customdata``.
    """
    p, fig = check.prediction, go.Figure()
    log_x = p.kind == "power_law" or (p.kind != "bound" and _log_axis(points["x"]))
    log_y = p.kind == "power_law" or (p.kind != "bound" and _log_axis(points["y"]))  # e.g. a divergent peak
    if p.kind == "power_law":
        curves = power_law_curves(p, check.inside, points)
        if not curves.empty:
            _band(fig, curves["x"], curves["claim_low"], curves["claim_high"],
                  f"claimed exponent {claim_text(p)}", CLAIM_FILL)
            _band(fig, curves["x"], curves["fit_low"], curves["fit_high"], "fit: 95% interval", "rgba(0,0,0,0.10)")
            fig.add_trace(go.Scatter(x=curves["x"], y=curves["fit"], mode="lines", name="fit (inside runs)",
                                     line={"color": FIT_COLOUR, "width": 2}))
    elif p.kind == "peak":
        fig.add_vrect(x0=p.near / p.within_factor, x1=p.near * p.within_factor, fillcolor=CLAIM_FILL, line_width=0,
                      annotation_text="claimed", annotation_position="bottom left")
        st = check.inside.statistic
        if st is not None and np.isfinite(st.value):
            fig.add_vline(x=st.value, line={"color": FIT_COLOUR, "dash": "dash"},
                          annotation_text=f"measured {st.value:.3g}", annotation_position="top right")
    elif p.kind == "bound":
        lo = p.at_least if p.at_least is not None else points["y"].min() if len(points) else 0
        hi = p.at_most if p.at_most is not None else points["y"].max() if len(points) else 1
        fig.add_hrect(y0=lo, y1=hi, fillcolor=CLAIM_FILL, line_width=0, annotation_text="allowed",
                      annotation_position="top left")
    _add_mean_curves(fig, check, points)
    for i, (where, grp) in enumerate(points.groupby("where", sort=False)):
        inside = where == INSIDE
        colour = INSIDE_COLOUR if inside else OUTSIDE_COLOURS[(i - 1) % len(OUTSIDE_COLOURS)]
        hover = "run %{text}<br>" + f"{esc(name(p.x))} " + "%{x:.4g}<br>" + f"{esc(name(p.metric))} " + "%{y:.4g}"
        fig.add_trace(go.Scatter(
            x=grp["x"], y=grp["y"], mode="markers", name=f"runs {esc(where)} ({len(grp)})", customdata=grp["id"],
            text=[esc(i) for i in grp["id"]],  # run ids come from imported tables: never markup in a hover
            hovertemplate=hover + "<extra></extra>",
            marker={"color": colour, "size": 7 if inside else 6, "opacity": 0.75,
                    "symbol": "circle" if inside else "diamond-open"}))
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend={"orientation": "h", "y": -0.22}, plot_bgcolor="white",
                      xaxis_title=esc(name(p.x)) if p.x else "run", yaxis_title=esc(name(p.metric)))
    fig.update_xaxes(type="log" if log_x else "linear", gridcolor="#eeeeee")
    fig.update_yaxes(type="log" if log_y else "linear", gridcolor="#eeeeee")
    return fig


def _add_mean_curves(fig: go.Figure, check: Check, points: pd.DataFrame) -> None:
    """Mean metric per bin of the inside runs (per group of ``across`` for an optimum), its chosen bin starred."""
    p = check.prediction
    curves = mean_curves(p, points)
    for i, (group, c) in enumerate(curves.groupby("group", sort=False)):
        colour = GROUP_COLOURS[i % len(GROUP_COLOURS)] if p.kind == "optimum_invariant" else FIT_COLOUR
        label = esc(f"{name(p.across)} {group}") if p.kind == "optimum_invariant" else "mean per bin (inside)"
        fig.add_trace(go.Scatter(x=c["x"], y=c["mean"], mode="lines", name=label, legendgroup=label,
                                 line={"color": colour, "width": 2}, hoverinfo="skip"))
        best = c[c["best"]]
        fig.add_trace(go.Scatter(x=best["x"], y=best["mean"], mode="markers", legendgroup=label, showlegend=False,
                                 marker={"symbol": "star", "size": 14, "color": colour, "line": {"width": 1}},
                                 hovertemplate=f"{label}: best {name(p.x)} " + "%{x:.3g}<extra></extra>"))


def add_verdict_rings(fig: go.Figure, results: pd.DataFrame, checks: dict[str, Check] | None = None) -> go.Figure:
    """A coloured ring around each result marker that carries a prediction (one legend entry per verdict);
    the rigor symbol inside stays visible. ``results`` needs x, y, id and verdict ('' when no prediction);
    with ``checks`` (id -> Check) the hover also says the verdict one step outside."""
    if "verdict" not in results:
        return fig
    for verdict in VERDICTS:
        sub = results[results["verdict"] == verdict]
        if sub.empty:
            continue
        colour, label = VERDICT_STYLE[verdict]
        hover = [ring_hover(i, verdict, (checks or {}).get(i)) for i in sub["id"]]
        fig.add_trace(go.Scatter(
            x=sub["x"], y=sub["y"], mode="markers", name=f"verdict: {label} · {len(sub)}", customdata=sub["id"],
            text=hover, hovertemplate="%{text}<extra></extra>",
            marker={"symbol": "circle-open", "size": RING_SIZE, "color": colour, "line": {"width": 3, "color": colour}}))
    return fig


def ring_hover(rid: str, verdict: str, check: Check | None) -> str:
    """'id<br>inside: agrees (n=24)<br>one step outside: disagrees (n=12)' (ids are validated [a-z0-9_])."""
    if check is None:
        return f"{esc(rid)}<br>inside: {verdict}"
    parts = [esc(rid), f"inside: {fit_text(check.inside)}"]
    if check.outside.runs:
        parts.append(f"one step outside: {fit_text(check.outside)}")
    return "<br>".join(parts)
