"""Plotly figures drawn from the frames computed elsewhere; nothing is computed here."""
from __future__ import annotations

import html
import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from atlas_viz.core.names import COVERAGE_LABELS, COVERAGE_LEVELS, MAP_TYPES
from atlas_viz.figures.raster import LEVEL_RGB, Raster

MAP_TYPE_STYLE = {
    # map type: (colour, marker symbol, legend label)
    "theorem": ("#1f3b8f", "diamond", "theorem (proved)"),
    "calculation": ("#7b3fa0", "square", "calculation (non-rigorous derivation)"),
    "empirical_law": ("#d9730d", "circle", "empirical law (measured regularity)"),
    "heuristic": ("#1a8a8a", "triangle-up", "heuristic (rule of thumb)"),
    "conjecture": ("#c0392b", "star", "conjecture (open claim)"),
}
SEA = "#e9f1f7"
RELATION_STYLE = {"extends": "solid", "tests": "dash", "contradicts": "dot", "inspired_by": "dashdot"}


def esc(text: object, width: int | None = None) -> str:
    """User text made safe for plotly labels: HTML-escaped, optionally wrapped with <br>."""
    s = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    if width:
        return "<br>".join(html.escape(line, quote=False) for line in textwrap.wrap(s, width)) or ""
    return html.escape(s, quote=False)  # plotly shows &quot; literally; < > & are what must not form tags


def result_hover(row: pd.Series) -> str:
    cite = f"{row['authors']} ({row['year']})"
    return (f"<b>{esc(row['map_type']).replace('_', ' ')}</b> · {esc(row['id'])}<br>{esc(row['claim'], 70)}"
            f"<br><i>{esc(cite, 70)}</i><br>{esc(row['title'], 70)}")


def map_figure(raster: Raster, results: pd.DataFrame, *, labels: pd.DataFrame | None = None,
               regions: list[tuple[str, str, list[np.ndarray]]] | None = None,
               relations: pd.DataFrame | None = None, runs: pd.DataFrame | None = None,
               run_color: str | None = None, selected: str | None = None, height: int = 760,
               visible_types: tuple[str, ...] = MAP_TYPES, uirevision: str = "atlas") -> go.Figure:
    """The atlas map.

    ``results`` has columns id, map_type, x, y, claim, authors, year, title.
    ``regions``: (result id, map type, list of closed polygons) to outline.
    ``relations``: x0, y0, x1, y1, type. ``runs``: x, y, id, hover and optionally
    ``run_color`` (a metric column), or aggregated columns x, y, count.
    Every result and run keeps its id in ``customdata``.
    """
    fig = go.Figure()
    fig.add_layout_image(source=raster.uri, xref="x", yref="y", x=raster.x0, y=raster.y1, sizex=raster.width,
                         sizey=raster.height, sizing="stretch", layer="below", opacity=1.0)
    # An invisible trace spanning the image so axes and autoscale know its extent.
    fig.add_trace(go.Scatter(x=[raster.x0, raster.x0 + raster.width], y=[raster.y1 - raster.height, raster.y1],
                             mode="markers", marker={"opacity": 0}, hoverinfo="skip", showlegend=False,
                             name="extent"))
    _add_regions(fig, regions or [], selected)
    if relations is not None and len(relations):
        for kind, grp in relations.groupby("type"):
            xs, ys = [], []
            for r in grp.itertuples():
                xs += [r.x0, r.x1, None]
                ys += [r.y0, r.y1, None]
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", name=f"relation: {kind}",
                                     line={"color": "#444", "width": 1, "dash": RELATION_STYLE.get(kind, "solid")},
                                     opacity=0.55))
    if runs is not None and len(runs):
        _add_runs(fig, runs, run_color)
    for mtype in MAP_TYPES:
        if mtype not in visible_types:
            continue
        sub = results[results["map_type"] == mtype]
        colour, symbol, label = MAP_TYPE_STYLE[mtype]
        fig.add_trace(go.Scatter(
            x=sub["x"], y=sub["y"], mode="markers", name=label,
            marker={"color": colour, "symbol": symbol, "size": 11, "line": {"color": "white", "width": 1.2}},
            customdata=sub["id"].to_numpy(),
            hovertext=sub[HOVER] if HOVER in sub else [result_hover(r) for _, r in sub.iterrows()],
            hoverinfo="text", legendgroup=mtype))
    if selected is not None and selected in set(results["id"]):
        row = results[results["id"] == selected].iloc[0]
        fig.add_trace(go.Scatter(x=[row["x"]], y=[row["y"]], mode="markers", name="selected result",
                                 marker={"size": 22, "color": "rgba(0,0,0,0)", "line": {"color": "#d62828", "width": 3}},
                                 hoverinfo="skip", customdata=[selected]))
    # All labels in one call: add_annotation one by one re-validates every earlier label (quadratic).
    annotations = [dict(x=lab.x, y=lab.y, text=esc(lab.text).replace("\n", "<br>"), showarrow=False,
                        hovertext=esc(lab.hover), font={"size": lab.size, "color": lab.color, "family": "Georgia, serif"},
                        bgcolor="rgba(255,255,255,0.55)" if lab.size < 14 else None)
                   for lab in (labels.itertuples() if labels is not None else [])]
    fig.update_layout(
        annotations=annotations,
        height=height, margin={"l": 0, "r": 0, "t": 0, "b": 0}, plot_bgcolor=SEA, paper_bgcolor="white",
        dragmode="pan", hovermode="closest", uirevision=uirevision, clickmode="event+select",
        legend={"orientation": "h", "yanchor": "top", "y": -0.01, "x": 0, "font": {"size": 12},
                "itemclick": "toggle", "bgcolor": "rgba(255,255,255,0.8)"},
        xaxis={"visible": False, "scaleanchor": "y", "scaleratio": 1},
        yaxis={"visible": False},
    )
    return fig


def _add_regions(fig: go.Figure, regions: list[tuple[str, str, list[np.ndarray]]], selected: str | None) -> None:
    """Region outlines: one trace per map type (polygons separated by gaps), the selected region on top."""
    groups: dict[tuple[str, bool], list[np.ndarray]] = {}
    gap = np.full((1, 2), np.nan)  # NaN ends a polygon (sent as null): one trace holds many shapes
    for rid, mtype, polys in regions:
        groups.setdefault((mtype, rid == selected), []).extend(part for p in polys for part in (p, gap))
    for (mtype, strong), parts in sorted(groups.items(), key=lambda kv: kv[0][1]):
        colour = MAP_TYPE_STYLE[mtype][0]
        xy = np.concatenate(parts) if parts else np.zeros((0, 2))
        fig.add_trace(go.Scatter(
            x=xy[:, 0], y=xy[:, 1], mode="lines", fill="toself", fillcolor=_rgba(colour, 0.22 if strong else 0.06),
            line={"color": colour, "width": 2.5 if strong else 0.8}, hoverinfo="skip",
            name=f"region of {selected}" if strong else f"regions: {MAP_TYPE_STYLE[mtype][2]}",
            legendgroup="regions", showlegend=False))


def _add_runs(fig: go.Figure, runs: pd.DataFrame, color: str | None) -> None:
    colorbar = {"title": {"text": esc(color)}, "x": 1.0, "len": 0.45, "y": 0.75, "thickness": 12}
    if "count" in runs:  # aggregated: one marker per cell, size by number of runs
        size = 5 + 9 * np.log10(runs["count"].to_numpy()) / max(np.log10(max(runs["count"].max(), 10)), 1)
        marker = {"size": size, "color": "rgba(40,40,40,0.55)", "line": {"width": 0}}
        if color and "mean" in runs and runs["mean"].notna().any():
            marker.update(color=runs["mean"], colorscale="Viridis", showscale=True, colorbar=colorbar)
        hover = [f"{n:,} runs in this cell" + (f"<br>mean {esc(color)}: {m:.4g}" if color and m == m else "")
                 for n, m in zip(runs["count"], runs["mean"] if "mean" in runs else [np.nan] * len(runs))]
        fig.add_trace(go.Scattergl(
            x=runs["x"], y=runs["y"], mode="markers", name="runs (aggregated per cell)", marker=marker,
            customdata=runs["cell"].to_numpy(), hovertext=hover, hoverinfo="text"))
        return
    marker = {"size": 5, "color": "rgba(40,40,40,0.6)", "line": {"width": 0}}
    if color and color in runs and runs[color].notna().any():
        marker.update(color=runs[color], colorscale="Viridis", showscale=True, colorbar=colorbar)
    fig.add_trace(go.Scattergl(x=runs["x"], y=runs["y"], mode="markers", name="runs", marker=marker,
                               customdata=runs["id"].to_numpy(),
                               hovertext=runs[HOVER] if HOVER in runs else run_hover(runs), hoverinfo="text"))


HOVER = "hover"
"""Optional column of results or placed runs holding their hover text, made once by ``with_*_hover``."""


def with_result_hover(results: pd.DataFrame) -> pd.DataFrame:
    """Results with their hover text precomputed (a new frame)."""
    return results.assign(**{HOVER: [result_hover(r) for _, r in results.iterrows()]})


def with_run_hover(runs: pd.DataFrame, up_to: int = 50_000) -> pd.DataFrame:
    """Runs with their hover text precomputed (a new frame), when there are few enough to draw one by one."""
    return runs.assign(**{HOVER: run_hover(runs)}) if 0 < len(runs) <= up_to else runs


def run_hover(runs: pd.DataFrame, limit: int = 14) -> list[str]:
    """Hover text of each run: id, its axis values, metrics and raw config (escaped), at most ``limit`` lines.

    Each column's distinct values are formatted once (factorize), so a few thousand runs take milliseconds.
    """
    skip = {"id", "x", "y", "cell", "source", "run_id", HOVER}
    cols = [c for c in runs.columns if c not in skip][:limit + 8]
    pieces = []
    for name in cols:
        codes, uniques = pd.factorize(runs[name], use_na_sentinel=True)
        label = f"{esc(name)}: "
        shown = [("" if v == "" else label + (f"{v:.4g}" if isinstance(v, (float, np.floating)) else esc(v)))
                 for v in uniques]
        pieces.append(np.array(shown + [""], dtype=object)[np.where(codes >= 0, codes, len(shown))])
    heads = [f"<b>run {esc(i)}</b>" for i in runs["id"]]
    rows = zip(*pieces) if pieces else ([] for _ in heads)
    return ["<br>".join([head, *[p for p in row if p][:limit]]) for head, row in zip(heads, rows)]


def runs_metric_figure(runs: pd.DataFrame, metric: str, x: str, log_x: bool = False) -> go.Figure:
    """A chosen metric against a chosen axis or raw config column, one marker per run."""
    fig = go.Figure(go.Scatter(x=runs[x], y=runs[metric], mode="markers", customdata=runs["id"].to_numpy(),
                               hovertext=[esc(i) for i in runs["id"]], hoverinfo="text+x+y",
                               marker={"size": 7, "color": "#1f3b8f", "opacity": 0.6}))
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis={"title": esc(x), "type": "log" if log_x else None}, yaxis={"title": esc(metric)})
    return fig


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def coverage_legend() -> list[tuple[str, str]]:
    """(CSS colour, label) of each coverage level, for the legend."""
    return [(f"rgb({r},{g},{b})", COVERAGE_LABELS[lv]) for lv, (r, g, b) in zip(COVERAGE_LEVELS, LEVEL_RGB)]


def phase_figure(grid: pd.DataFrame, x_axis: str, y_axis: str, x_values: tuple[str, ...],
                 y_values: tuple[str, ...]) -> go.Figure:
    """Phase diagram: a grid over two axes coloured by the best rigor of the results there.

    ``grid`` has columns x, y (value names), rigor (0 for none), n_results, best, ids.
    """
    z = np.zeros((len(y_values), len(x_values)))
    text = [["" for _ in x_values] for _ in y_values]
    hover = [["" for _ in x_values] for _ in y_values]
    for r in grid.itertuples():
        i, j = y_values.index(r.y), x_values.index(r.x)
        z[i, j] = r.rigor
        text[i][j] = f"{r.n_results}" if r.n_results else "gap"
        head = f"{esc(r.x)} × {esc(r.y)}: "
        hover[i][j] = head + (f"{r.n_results} results, best: {esc(r.best)}<br>" + esc(", ".join(r.ids[:12]), 60)
                              + (" ..." if len(r.ids) > 12 else "") if r.n_results else "no result: a gap")
    scale = [[0.0, "#c7cad1"], [0.1999, "#c7cad1"], [0.2, MAP_TYPE_STYLE["conjecture"][0]],
             [0.3999, MAP_TYPE_STYLE["conjecture"][0]], [0.4, MAP_TYPE_STYLE["heuristic"][0]],
             [0.5999, MAP_TYPE_STYLE["heuristic"][0]], [0.6, MAP_TYPE_STYLE["empirical_law"][0]],
             [0.7999, MAP_TYPE_STYLE["empirical_law"][0]], [0.8, MAP_TYPE_STYLE["calculation"][0]],
             [0.9599, MAP_TYPE_STYLE["calculation"][0]], [0.96, MAP_TYPE_STYLE["theorem"][0]],
             [1.0, MAP_TYPE_STYLE["theorem"][0]]]
    fig = go.Figure(go.Heatmap(
        z=z.tolist(), x=[v.replace("_", " ") for v in x_values], y=[v.replace("_", " ") for v in y_values], zmin=0, zmax=5,
        colorscale=scale, text=text, texttemplate="%{text}", textfont={"size": 13, "color": "white"},
        hovertext=hover, hoverinfo="text", xgap=3, ygap=3,
        colorbar={"title": {"text": "best rigor"}, "tickvals": [0.5, 1.5, 2.5, 3.5, 4.5],
                  "ticktext": ["gap (none)", "conjecture", "heuristic", "empirical law", "calculation/theorem"]}))
    fig.update_layout(height=120 + 70 * len(y_values), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis={"title": x_axis.replace("_", " "), "side": "top"},
                      yaxis={"title": y_axis.replace("_", " "), "autorange": "reversed"},
                      plot_bgcolor="white")
    return fig


def skeleton_figure(height: int = 420) -> go.Figure:
    """An empty sea with a loading note: the map's frame while the first load of a session runs."""
    fig = go.Figure()
    fig.update_layout(height=height, margin={"l": 0, "r": 0, "t": 0, "b": 0}, plot_bgcolor=SEA,
                      xaxis={"visible": False}, yaxis={"visible": False},
                      annotations=[dict(text="Drawing the map…", showarrow=False, x=0.5, y=0.5, xref="paper",
                                        yref="paper", font={"size": 16, "color": "#5b6b7a"})])
    return fig


def shares_figure(shares: pd.DataFrame) -> go.Figure:
    """One thin stacked bar: the share of terrain at each coverage level, labelled (it doubles as the legend)."""
    fig = go.Figure()
    short = {"terra_incognita": "fog: terra incognita", "observed": "observed", "mapped": "mapped",
             "charted": "charted"}
    for (colour, label), row in zip(coverage_legend(), shares.itertuples()):
        pct = row.share * 100
        fig.add_trace(go.Bar(x=[max(pct, 0.0)], y=["terrain"], orientation="h", name=label, marker={"color": colour},
                             text=[f"{short[row.level]} {pct:.1f}%" if pct >= 7 else ""], textposition="inside",
                             insidetextanchor="middle", textfont={"color": "#1d2b3a", "size": 12},
                             hovertemplate=f"{label}: %{{x:.1f}}% ({row.cells:,} cells)<extra></extra>"))
    fig.update_layout(barmode="stack", height=46, margin={"l": 0, "r": 0, "t": 0, "b": 0}, showlegend=False,
                      xaxis={"range": [0, 100], "visible": False}, yaxis={"visible": False}, bargap=0.05,
                      plot_bgcolor="white")
    return fig
