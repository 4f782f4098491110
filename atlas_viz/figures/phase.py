"""Phase diagrams: what runs measured over two axes or config columns, and which results claim each square."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from atlas_viz.core.names import MAP_TYPES, RIGOR
from atlas_viz.core.text import pretty
from atlas_viz.coverage.phase import Binning
from atlas_viz.figures.land import mask_outlines
from atlas_viz.figures.maps import FONT, MAP_TYPE_STYLE, esc

GAP_COLOUR = "#d5d8de"
BOUNDARY_COLOURS = ("#e4572e", "#17becf", "#f2b705", "#ff6fb5", "#ffffff")
"""One colour per drawn region, each readable over the Viridis squares."""


def runs_phase_figure(frame: pd.DataFrame, metric: str, x: Binning, y: Binning,
                      regions: list[tuple[str, str, np.ndarray]] = (), height: int = 520) -> go.Figure:
    """Heatmap of the median ``metric`` per square (count and quartiles in the hover), with the boundary of the
    squares each result in ``regions`` claims: (id, map type, (n_y, n_x) booleans from ``claimed_squares``)."""
    z = np.full((len(y.labels), len(x.labels)), np.nan)
    count = np.zeros_like(z)
    q = np.full(z.shape + (2,), np.nan)
    for r in frame.itertuples():
        z[r.iy, r.ix], count[r.iy, r.ix], q[r.iy, r.ix] = r.median, r.count, (r.q25, r.q75)
    custom = np.dstack([count, q[..., 0], q[..., 1]])
    fig = go.Figure(go.Heatmap(
        z=np.where(np.isfinite(z), z, None).tolist(), x=list(range(len(x.labels))), y=list(range(len(y.labels))), customdata=custom, colorscale="Viridis",
        xgap=2, ygap=2, name=f"median {metric}", hoverongaps=False,
        colorbar={"title": {"text": f"median<br>{esc(metric)}", "font": {"size": 12}}, "thickness": 14},
        text=np.where(count > 0, count.astype(int).astype(str), "").tolist(), texttemplate="%{text}",
        textfont={"size": 10},  # no colour: plotly picks black or white against each square
        hovertemplate=(f"{esc(pretty(x.column))}: %{{x}}<br>{esc(pretty(y.column))}: %{{y}}<br>median {esc(metric)}: "
                       "%{z:.4g}<br>quartiles %{customdata[1]:.4g} – %{customdata[2]:.4g}<br>"
                       "%{customdata[0]} runs<extra></extra>")))
    for k, (rid, mtype, squares) in enumerate(regions):
        loops = mask_outlines(squares)
        if not loops:
            continue
        xy = np.concatenate([np.vstack([p - 0.5 + 0.04 * (k % 4), np.full((1, 2), np.nan)]) for p in loops])
        fig.add_trace(go.Scatter(x=xy[:, 0], y=xy[:, 1], mode="lines", name=f"region of {esc(rid)}",
                                 line={"color": BOUNDARY_COLOURS[k % len(BOUNDARY_COLOURS)], "width": 3,
                                       "dash": ("solid", "dash", "dot")[k // len(BOUNDARY_COLOURS) % 3]},
                                 hoverinfo="skip", legendgroup=mtype))
    fig.update_layout(
        height=height + 22 * len(regions), margin={"l": 10, "r": 10, "t": 10, "b": 10}, plot_bgcolor="white",
        font={"family": FONT}, legend={"orientation": "h", "y": -0.3, "x": 0, "yanchor": "top"},
        xaxis={"title": _axis_title(x), "tickvals": list(range(len(x.labels))), "ticktext": [esc(v) for v in x.labels],
               "showgrid": False, "zeroline": False},
        yaxis={"title": _axis_title(y), "tickvals": list(range(len(y.labels))), "ticktext": [esc(v) for v in y.labels],
               "showgrid": False, "zeroline": False})
    return fig


def _axis_title(b: Binning) -> str:
    name = esc(pretty(b.column.removeprefix("config.")))
    return name + (" (log bins)" if b.log else "")


def rigor_figure(grid: pd.DataFrame, x_axis: str, y_axis: str, x_values: tuple[str, ...],
                 y_values: tuple[str, ...]) -> go.Figure:
    """Each pair of values of two axes coloured by the most rigorous kind of map among the results claiming it.

    ``grid`` has columns x, y (value names), rigor (0 for none), n_results, best, ids. Every kind of map has a
    band of the same width in the colour bar, labelled with its name.
    """
    z = np.zeros((len(y_values), len(x_values)))
    text = [["" for _ in x_values] for _ in y_values]
    hover = [["" for _ in x_values] for _ in y_values]
    for r in grid.itertuples():
        i, j = y_values.index(r.y), x_values.index(r.x)
        z[i, j] = r.rigor
        text[i][j] = f"{r.n_results}" if r.n_results else "gap"
        head = f"{esc(pretty(r.x))} × {esc(pretty(r.y))}: "
        hover[i][j] = head + (f"{r.n_results} results, best: {esc(pretty(r.best))}<br>" + esc(", ".join(r.ids[:12]), 60)
                              + (" ..." if len(r.ids) > 12 else "") if r.n_results else "no result: a gap")
    kinds = sorted(MAP_TYPES, key=RIGOR.get)  # rigor 1 (conjecture) .. 5 (theorem)
    colours = [GAP_COLOUR] + [MAP_TYPE_STYLE[k][0] for k in kinds]
    n = len(colours)
    scale = [[(i + e) / n, c] for i, c in enumerate(colours) for e in (0, 1)]
    fig = go.Figure(go.Heatmap(
        z=z.tolist(), x=[pretty(v) for v in x_values], y=[pretty(v) for v in y_values], zmin=-0.5, zmax=n - 0.5,
        colorscale=scale, text=text, texttemplate="%{text}", textfont={"size": 13, "color": "white"},
        hovertext=hover, hoverinfo="text", xgap=3, ygap=3,
        colorbar={"title": {"text": "most rigorous<br>result here"}, "tickvals": list(range(n)),
                  "ticktext": ["gap (none)"] + [pretty(k) for k in kinds], "thickness": 14}))
    fig.update_layout(height=120 + 70 * len(y_values), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis={"title": pretty(x_axis), "side": "top"}, font={"family": FONT},
                      yaxis={"title": pretty(y_axis), "autorange": "reversed"}, plot_bgcolor="white")
    return fig
