"""Plotly figures drawn from the frames computed elsewhere; nothing is computed here."""
from __future__ import annotations

import html
import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from atlas_viz.core.names import COVERAGE_LABELS, COVERAGE_LEVELS, MAP_TYPES
from atlas_viz.core.text import pretty
from atlas_viz.coverage.levels import share_label
from atlas_viz.figures.raster import HEAT_RGB, LEVEL_RGB, Raster
from atlas_viz.figures.skeleton import SEA
from atlas_viz.terrain.labels import BIG_FONT_PX

MAP_TYPE_STYLE = {
    # map type: (colour, marker symbol, legend label)
    "theorem": ("#1f3b8f", "diamond", "theorem (proved)"),
    "calculation": ("#7b3fa0", "square", "calculation (non-rigorous derivation)"),
    "empirical_law": ("#d9730d", "circle", "empirical law (measured regularity)"),
    "heuristic": ("#1a8a8a", "triangle-up", "heuristic (rule of thumb)"),
    "conjecture": ("#c0392b", "star", "conjecture (open claim)"),
}


def esc(text: object, width: int | None = None) -> str:
    """User text made safe for plotly labels: HTML-escaped, optionally wrapped with <br>."""
    s = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    if width:
        return "<br>".join(html.escape(line, quote=False) for line in wrap_words(s, width))
    return html.escape(s, quote=False)  # plotly shows &quot; literally; < > & are what must not form tags


def wrap_words(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` characters, filled greedily and broken at spaces (a longer word
    starts a line and is cut): ``textwrap.wrap`` for hover labels at a fraction of its cost (it runs for every
    result when a process starts)."""
    lines, line = [], ""
    for word in text.split():
        while len(word) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        if line and len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            if line:
                lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def _cut(text: object, limit: int) -> str:
    s = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"


def result_hover(row: pd.Series | dict) -> str:
    """A result's hover label: kind, id, the claim (cut to ``HOVER_CLAIM`` characters), who and when, and the
    title; the detail panel has the rest (a shorter label is fewer bytes sent on every filter change)."""
    cite = f"{_cut(row['authors'], 60)} ({row['year']})"
    return (f"<b>{esc(pretty(row['map_type']))}</b> · {esc(row['id'])}<br>{esc(_cut(row['claim'], HOVER_CLAIM), 70)}"
            f"<br><i>{esc(cite)}</i><br>{esc(_cut(row['title'], 90))}")


HOVER_CLAIM = 140
FONT = "'Source Sans Pro', 'Source Sans 3', 'Helvetica Neue', Arial, sans-serif"
"""The UI's font (Streamlit's), for every label drawn on a figure."""
HIT_COLOUR = "#f2b705"
REGION_COLOUR = "#e4572e"  # the selected result's region: vivid over the washed-out terrain
RELATION_COLOUR = {"extends": "#1f3b8f", "tests": "#2a7f62", "contradicts": "#c0392b", "inspired_by": "#6b5b95"}
ARROW_TEXT_UP_TO = 6  # more arrows than this: their type by colour (legend) only, no text on the map
COLORBAR = {"x": 0.995, "xanchor": "right", "y": 0.01, "yanchor": "bottom", "len": 0.42, "thickness": 12,
            "bgcolor": "rgba(255,255,255,0.85)"}
"""Where a colour bar goes: in the sea at the bottom right (the legend takes the bottom left)."""


def map_figure(raster: Raster, results: pd.DataFrame, *, labels: pd.DataFrame | None = None,
               regions: list[tuple[str, str, list[np.ndarray]]] | None = None,
               relations: pd.DataFrame | None = None, runs: pd.DataFrame | None = None,
               run_color: str | None = None, selected: str | None = None, height: int = 760,
               visible_types: tuple[str, ...] = MAP_TYPES, uirevision: str = "atlas",
               highlight_ids: Sequence[str] = (), zoom: tuple[float, float, float, float] | None = None,
               heat: tuple[int, ...] | None = None, region_name: str | None = None) -> go.Figure:
    """The atlas map.

    ``results`` has columns id, map_type, x, y and a hover column (or claim, authors, year, title).
    ``regions``: (result id, map type, closed polygons) drawn filled; the selected one strongest.
    ``relations``: x0, y0, x1, y1, type, drawn as labelled arrows (pass only the selected result's).
    ``runs``: x, y, id, hover and optionally ``run_color`` (a metric column), or aggregated x, y, count.
    ``highlight_ids``: results ringed on top (search hits), the others dimmed; ``zoom``: axis ranges.
    ``heat``: the raster shows how many results claim each cell, in classes starting at these counts
    (``raster.heat_edges``); a colour bar explains them. ``region_name``: the legend's name of the selected
    region (default 'region of <selected>').
    Every result and run keeps its id in ``customdata``.
    """
    fig = go.Figure()
    fig.add_layout_image(source=raster.uri, xref="x", yref="y", x=raster.x0, y=raster.y1, sizex=raster.width,
                         sizey=raster.height, sizing="stretch", layer="below", opacity=1.0, name="terrain")
    # An invisible trace spanning the image so axes and autoscale know its extent.
    fig.add_trace(go.Scatter(x=[raster.x0, raster.x0 + raster.width], y=[raster.y1 - raster.height, raster.y1],
                             mode="markers", marker={"opacity": 0}, hoverinfo="skip", showlegend=False,
                             name="extent"))
    if heat:
        _add_heat_key(fig, heat)
    _add_regions(fig, regions or [], selected, region_name)
    if runs is not None and len(runs):
        _add_runs(fig, runs, run_color)
    hits = set(highlight_ids)
    _add_results(fig, results, visible_types, dimmed=bool(hits) or selected is not None)
    if hits:
        sub = results.set_index("id", drop=False).reindex([h for h in highlight_ids if h in set(results["id"])])
        fig.add_trace(go.Scatter(x=sub["x"], y=sub["y"], mode="markers", name="search hits",
                                 marker={"size": 19, "color": "rgba(0,0,0,0)", "line": {"color": HIT_COLOUR, "width": 3}},
                                 hoverinfo="skip", customdata=sub["id"].to_numpy()))
    if selected is not None and selected in set(results["id"]):
        row = results[results["id"] == selected].iloc[0]
        fig.add_trace(go.Scatter(x=[row["x"]], y=[row["y"]], mode="markers", name="selected result",
                                 marker={"size": 22, "color": "rgba(0,0,0,0)", "line": {"color": "#d62828", "width": 3}},
                                 hoverinfo="skip", customdata=[selected]))
    annotations = _label_annotations(labels) + _relation_annotations(relations, selected)
    for kind in (sorted(set(relations["type"])) if relations is not None and len(relations) else []):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=f"→ {pretty(kind)}", hoverinfo="skip",
                                 line={"color": RELATION_COLOUR.get(kind, "#263445"), "width": 2}))
    fig.update_layout(
        annotations=annotations, font={"family": FONT},
        height=height, margin={"l": 0, "r": 0, "t": 0, "b": 0}, plot_bgcolor=SEA, paper_bgcolor="white",
        dragmode="pan", hovermode="closest", clickmode="event+select",
        uirevision=uirevision if zoom is None else f"{uirevision}|{','.join(f'{v:.3f}' for v in zoom)}",
        legend={"orientation": "v", "yanchor": "bottom", "y": 0.005, "xanchor": "left", "x": 0.005,
                "font": {"size": 12, "family": FONT}, "itemclick": "toggle", "bgcolor": "rgba(255,255,255,0.85)",
                "bordercolor": "#c9d3dd", "borderwidth": 1},
        xaxis={"visible": False, "scaleanchor": "y", "scaleratio": 1,
               **({"range": [zoom[0], zoom[1]]} if zoom else {})},
        yaxis={"visible": False, **({"range": [zoom[2], zoom[3]]} if zoom else {})},
    )
    return fig


def _add_results(fig: go.Figure, results: pd.DataFrame, visible_types: tuple[str, ...], dimmed: bool) -> None:
    """One trace per map type: ids in customdata, the hover text shown by a hovertemplate."""
    for mtype in MAP_TYPES:
        if mtype not in visible_types:
            continue
        sub = results[results["map_type"] == mtype]
        colour, symbol, _ = MAP_TYPE_STYLE[mtype]
        hover = sub[HOVER].to_numpy() if HOVER in sub else np.array([result_hover(r) for _, r in sub.iterrows()])
        fig.add_trace(go.Scatter(
            x=sub["x"].round(4), y=sub["y"].round(4), mode="markers", name=pretty(mtype),
            marker={"color": colour, "symbol": symbol, "size": 11, "line": {"color": "white", "width": 1.2},
                    "opacity": 0.45 if dimmed else 1.0},
            customdata=sub["id"].to_numpy(), text=hover, hovertemplate="%{text}<extra></extra>", legendgroup=mtype))


def _label_annotations(labels: pd.DataFrame | None) -> list[dict]:
    """Continent labels (large, capitals, with a hover naming the task) and island labels (small, no hover: an
    annotation with a hover catches the mouse, and island labels sit next to result markers), in the UI's font.

    All labels go in one layout update: add_annotation one by one re-validates every earlier label (quadratic).
    """
    out = []
    for lab in (labels.itertuples() if labels is not None else []):
        big = lab.size >= BIG_FONT_PX
        text = (f"<b>{esc(lab.text)}</b>" if big else esc(lab.text)).replace("\n", "<br>")
        # the family comes from the layout's font (sent once, not once per label); 3 decimals place a label to a
        # thousandth of a unit on a map tens of units wide
        out.append({"x": round(float(lab.x), 3), "y": round(float(lab.y), 3), "text": text, "showarrow": False,
                    **({"hovertext": esc(lab.hover)} if big else {}),
                    "font": {"size": int(lab.size), "color": "#1d2b3a" if big else "#46566a"},
                    "bgcolor": None if big else "rgba(255,255,255,0.6)", "borderpad": 1})
    return out


def _relation_annotations(relations: pd.DataFrame | None, selected: str | None) -> list[dict]:
    """Each relation as an arrow from the relating result to the related one, its type written near the end
    away from ``selected`` (where the arrows of one result spread apart)."""
    out = []
    rows = list(relations.itertuples()) if relations is not None and len(relations) else []
    for r in rows:
        t = 0.25 if getattr(r, "source", None) != selected else 0.75
        colour = RELATION_COLOUR.get(str(r.type), "#263445")
        out.append({"x": r.x1, "y": r.y1, "ax": r.x0, "ay": r.y0, "xref": "x", "yref": "y", "axref": "x",
                    "ayref": "y", "text": "", "showarrow": True, "arrowhead": 3, "arrowsize": 1.3, "arrowwidth": 1.8,
                    "arrowcolor": colour, "standoff": 7, "startstandoff": 6})
        if len(rows) > ARROW_TEXT_UP_TO:
            continue
        out.append({"x": r.x0 + t * (r.x1 - r.x0), "y": r.y0 + t * (r.y1 - r.y0), "text": esc(pretty(str(r.type))),
                    "showarrow": False, "font": {"size": 11, "color": colour, "family": FONT},
                    "bgcolor": "rgba(255,255,255,0.85)", "borderpad": 2})
    return out


def _add_heat_key(fig: go.Figure, edges: tuple[int, ...]) -> None:
    """A colour bar for the heat of results per cell (an invisible trace carries it)."""
    n = len(edges) + 1
    scale = [[(k + e) / n, f"rgb({r},{g},{b})"] for k, (r, g, b) in enumerate(HEAT_RGB[:n]) for e in (0, 1)]
    ticks = ["none"] + [f"{lo}" if hi - lo == 1 else f"{lo}-{hi - 1}" for lo, hi in itertools.pairwise(edges)]
    ticks.append(f"{edges[-1]}+")
    fig.add_trace(go.Scatter(
        x=[None], y=[None], mode="markers", name="results claiming a cell", showlegend=False, hoverinfo="skip",
        marker={"color": [0], "cmin": 0, "cmax": n, "colorscale": scale, "showscale": True,
                "colorbar": {"title": {"text": "results claiming<br>a cell", "font": {"size": 11}},
                             "tickvals": [k + 0.5 for k in range(n)], "ticktext": ticks, **COLORBAR}}))


def _add_regions(fig: go.Figure, regions: list[tuple[str, str, list[np.ndarray]]], selected: str | None,
                 name: str | None = None) -> None:
    """Regions drawn filled: one trace per map type (polygons separated by gaps), the selected region on top."""
    groups: dict[tuple[str, bool], list[np.ndarray]] = {}
    gap = np.full((1, 2), np.nan)  # NaN ends a polygon (sent as null): one trace holds many shapes
    for rid, mtype, polys in regions:
        groups.setdefault((mtype, rid == selected), []).extend(part for p in polys for part in (p, gap))
    for (mtype, strong), parts in sorted(groups.items(), key=lambda kv: kv[0][1]):
        colour = REGION_COLOUR if strong else MAP_TYPE_STYLE[mtype][0]
        xy = np.concatenate(parts) if parts else np.zeros((0, 2))
        fig.add_trace(go.Scatter(
            x=xy[:, 0], y=xy[:, 1], mode="lines", fill="toself", fillcolor=_rgba(colour, 0.45 if strong else 0.08),
            line={"color": colour, "width": 2.5 if strong else 0.8}, hoverinfo="skip", hoveron="points",
            name=(name or f"region of {selected}") if strong else f"regions: {MAP_TYPE_STYLE[mtype][2]}",
            legendgroup="regions", showlegend=strong))


SVG_MAX_POINTS = 5_000
"""Up to this many run markers are drawn as SVG; more as WebGL. A WebGL trace costs the browser ~0.3 s to set
up in software-rendered Chromium (~0.1 s with a GPU) and a new context on each redraw; SVG draws the few hundred
cell markers of a typical view in a few milliseconds."""


def _points(n: int, **kwargs) -> go.Scatter | go.Scattergl:
    """A markers trace of ``n`` points: SVG while that is cheaper, WebGL above SVG_MAX_POINTS."""
    return (go.Scatter if n <= SVG_MAX_POINTS else go.Scattergl)(mode="markers", **kwargs)


def _add_runs(fig: go.Figure, runs: pd.DataFrame, color: str | None) -> None:
    """Runs as small grey markers (coloured by a metric when chosen); hover from customdata."""
    colorbar = {"title": {"text": esc(color), "font": {"size": 11}}, **COLORBAR}
    if "count" in runs:  # aggregated: one marker per cell, size by number of runs
        # float32 arrays: plotly sends numpy arrays as base64, so each number costs 4 bytes, not a decimal string
        count = runs["count"].to_numpy()
        size = (5 + 9 * np.log10(count) / max(np.log10(max(count.max(), 10)), 1)).astype(np.float32)
        marker = {"size": size, "color": "rgba(40,40,40,0.55)", "line": {"width": 0}}
        mean = runs["mean"].to_numpy(dtype=np.float32) if "mean" in runs else np.full(len(runs), np.nan, np.float32)
        if color and np.isfinite(mean).any():
            marker.update(color=mean, colorscale="Viridis", showscale=True, colorbar=colorbar)
        tail = f"<br>mean {esc(color)}: %{{customdata[1]:.4g}}" if color else ""
        fig.add_trace(_points(
            len(runs), x=runs["x"].to_numpy(np.float32), y=runs["y"].to_numpy(np.float32),
            name="runs (one marker per cell)", marker=marker,
            customdata=np.column_stack([count.astype(np.float32), mean]),
            hovertemplate="%{customdata[0]:,} runs in this cell" + tail + "<extra></extra>"))
        return
    marker = {"size": 5, "color": "rgba(40,40,40,0.6)", "line": {"width": 0}}
    if color and color in runs and runs[color].notna().any():
        marker.update(color=runs[color], colorscale="Viridis", showscale=True, colorbar=colorbar)
    hover = runs[HOVER].to_numpy() if HOVER in runs else np.array(run_hover(runs), dtype=object)
    fig.add_trace(_points(len(runs), x=runs["x"], y=runs["y"], name="runs", marker=marker,
                          customdata=runs["id"].to_numpy(), text=hover, hovertemplate="%{text}<extra></extra>"))


HOVER = "hover"
"""Optional column of results or placed runs holding their hover text, made once by ``with_*_hover``."""


def with_result_hover(results: pd.DataFrame) -> pd.DataFrame:
    """Results with their hover text precomputed (a new frame)."""
    return results.assign(**{HOVER: [result_hover(r) for r in results.to_dict("records")]})


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


def shares_figure(shares: pd.DataFrame) -> go.Figure:
    """One thin stacked bar: the share of terrain at each coverage level, with a key of the four levels and
    their shares beside it (every level named, however thin its part of the bar)."""
    fig = go.Figure()
    short = {"terra_incognita": "fog", "observed": "observed (runs)", "mapped": "mapped", "charted": "charted"}
    key = []
    for (colour, label), row in zip(coverage_legend(), shares.itertuples()):
        text = f"{short[row.level]} {share_label(row.share)}"
        key.append(f'<span style="color:{colour}">■</span> {text}')
        fig.add_trace(go.Bar(x=[max(row.share * 100, 0.0)], y=["terrain"], orientation="h", name=label,
                             marker={"color": colour}, text=[text if row.share >= 0.12 else ""],
                             textposition="inside", insidetextanchor="middle",
                             textfont={"color": "#1d2b3a", "size": 12, "family": FONT},
                             hovertemplate=f"{label}: {share_label(row.share)} ({row.cells:,} cells)<extra></extra>"))
    fig.update_layout(barmode="stack", height=30, margin={"l": 0, "r": 430, "t": 0, "b": 0}, bargap=0.05,
                      xaxis={"range": [0, 100], "visible": False, "fixedrange": True}, showlegend=False,
                      yaxis={"visible": False, "fixedrange": True}, plot_bgcolor="white",
                      annotations=[{"text": "&nbsp;&nbsp;".join(key), "xref": "paper", "yref": "paper", "x": 1.0,
                                    "xanchor": "left", "y": 0.5, "yanchor": "middle", "showarrow": False,
                                    "xshift": 10, "font": {"size": 12, "family": FONT, "color": "#1d2b3a"}}])
    return fig
