"""The map: coverage figures, the plotly map with selection, legend, and the detail panel."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from atlas_viz.core.names import MAP_TYPES
from atlas_viz.core.text import md_escape
from atlas_viz.coverage.levels import coverage_note, coverage_shares
from atlas_viz.coverage.regions import claims_per_cell, relation_segments, zoom_box
from atlas_viz.figures.evidence import add_verdict_rings
from atlas_viz.figures.maps import map_figure, shares_figure
from atlas_viz.figures.raster import Raster, heat_edges
from atlas_viz.runs.summary import aggregate_cells

from .context import ViewContext
from .detail import show_detail

RUNS_ONE_BY_ONE = 50  # more visible runs: one marker per cell (a per-run hover is ~350 bytes sent per run)
MAP_HEIGHT = 560  # the coverage bar, the map and its legend fit above the fold at 1400 x 900

HOW_TO_READ = """
**How to read this map.** Every point of the terrain is one *cell*: a combination of task, architecture,
width, depth, optimizer, learning rate, parameterization and data regime. Cells that differ little sit close
together. Each *continent* (large capitals) is a task; its *islands* (small labels) are architectures; inside
an island the remaining axes arrange the cells the same way everywhere.

* **Land colour is coverage**: a cell takes the best level any counted observable reaches there (the line
  under the bar says what is counted; choose observables in the sidebar to narrow it). Without a search or
  filter, results whose region is broad (over 5% of the terrain) are drawn but not counted, or a few broad
  theorems would chart every cell; a layer counts them. Grey fog is *terra
  incognita* (nothing known), sand is *observed* (runs only), light green is *mapped* (an empirical law or
  heuristic claims it), dark green is *charted* (a theorem or calculation covers it). Dots are single cells.
* **Markers are results**, each on a cell of its own region near the region's centre, never on top of
  another; colour and shape give the kind of map, from ◆ theorems to ★ conjectures. Hover for the claim,
  click to open it: its region is drawn filled over the dimmed terrain, with arrows to related results
  (layer *Relations*).
* **Regions of validity** (a layer) colour each cell by how many of the shown results claim it.
* Scroll to zoom, drag to pan; use the box or lasso tool (top right of the map) to list what is inside.
"""


def map_view(ctx: ViewContext, level, labels: pd.DataFrame | None, fog_obs: tuple[str, ...], fog: Raster,
             dimmed: Raster | None = None, n_broad: int = 0) -> None:
    """``fog``: the terrain painted by coverage ``level`` for the observables ``fog_obs`` (cached by app.py);
    ``dimmed``: the same washed out, laid under a selected result's region; ``n_broad``: shown results the
    fog leaves out (``levels.fog_results``)."""
    ss = st.session_state
    atlas, shown = ctx.atlas, ctx.shown
    shares = coverage_shares(level)
    st.plotly_chart(shares_figure(shares), width="stretch", config={"displayModeBar": False}, key="shares")
    st.caption(md_escape(coverage_note(fog_obs, atlas.axes.observable_names, shown, len(atlas.results), n_broad)))

    visible = tuple(t for t in MAP_TYPES if ss.get(f"show_{t}", True))
    drawn = shown[shown["map_type"].isin(visible)]
    selected = ss.get("result") if ss.get("result") in set(shown["id"]) else None
    regions, rel = [], None
    if selected is not None:
        mtype = shown.loc[shown["id"] == selected, "map_type"].iloc[0]
        regions.append((selected, mtype, ctx.shapes(selected)))
        if ss.get("layer_relations"):
            rel = relation_segments(drawn)
            rel = rel[(rel["source"] == selected) | (rel["target"] == selected)]
    runs_layer, run_color, n_runs = None, None, 0
    if ss.get("layer_runs") and ctx.summary.runs:
        run_color = st.sidebar.selectbox("Colour runs by", ["(none)", *ctx.summary.metrics], key="run_metric")
        run_color = None if run_color == "(none)" else run_color
        # counted per cell from the kept summary: the runs themselves are read only to draw a few one by one
        cells = aggregate_cells(ctx.summary, atlas.axes, atlas.terrain, ctx.filters.axes, run_color)
        n_runs = int(cells["count"].sum())
        runs_layer = cells if n_runs > RUNS_ONE_BY_ONE else ctx.runs if n_runs else None
    raster, heat = _terrain(ctx, drawn, selected, fog, dimmed)
    hits = [h for h in ss.get("search_hits", []) if h in set(drawn["id"])]
    fig = map_figure(raster, shown, labels=labels if ss.get("layer_labels") else None, regions=regions,
                     relations=rel, runs=runs_layer, run_color=run_color, selected=selected, visible_types=visible,
                     height=MAP_HEIGHT, highlight_ids=hits, zoom=zoom_box(shown, hits) if hits else None, heat=heat)
    if ss.get("layer_verdicts"):
        add_verdict_rings(fig, shown[shown["map_type"].isin(visible)], ctx.checks)
    side = bool(ss.get("result")) or st.session_state.get("_picked_many", False)
    left, right = st.columns([2.4, 1]) if side else (st.container(), None)
    with left:
        if shown.empty:
            st.warning("No result passes the filters, so no marker is drawn. "
                       "Widen the filters in the sidebar (or clear the search).")
        event = st.plotly_chart(fig, key="map", on_select="rerun", selection_mode=("points", "box", "lasso"),
                                width="stretch", config={"scrollZoom": True, "displaylogo": False,
                                                         "toImageButtonOptions": {"filename": "atlas_map"}})
        picked = _picked_ids(event, set(shown["id"]))
        if (len(picked) > 1) != st.session_state.get("_picked_many", False):
            st.session_state["_picked_many"] = len(picked) > 1
            st.rerun()
        per_cell = (f" {n_runs:,} runs are drawn as one marker per cell (size: number of runs)."
                    if n_runs > RUNS_ONE_BY_ONE else "")
        st.caption("Click a marker to read the result, its citation and its region of validity; use the box or "
                   "lasso tool (top right of the map) to list several." + per_cell)
        with st.expander("How to read this map", expanded=False):
            st.markdown(HOW_TO_READ)
    if len(picked) == 1 and picked[0] != selected:
        ss["result"] = picked[0]
        st.rerun()
    if right is None:
        return
    with right:
        _side_panel(ctx, picked)


def _terrain(ctx: ViewContext, drawn: pd.DataFrame, selected: str | None, fog: Raster,
             dimmed: Raster | None) -> tuple[Raster, tuple[int, ...] | None]:
    """The image under the markers: the heat of results per cell (layer 'regions', with its classes), else the
    fog (washed out under a selected region), else plain land."""
    ss = st.session_state
    if ss.get("layer_regions"):
        claims = claims_per_cell(ctx.atlas.results, ctx.atlas.masks, drawn["id"])
        heat = heat_edges(claims)
        return ctx.painter.paint_heat(claims, heat), heat
    if ss.get("layer_fog", True):
        return (dimmed if selected is not None and dimmed is not None else fog), None
    return ctx.painter.paint(None, dim=selected is not None), None


def _side_panel(ctx: ViewContext, picked: list[str]) -> None:
    """Right of the map: the results picked with the box or lasso, and the open result's detail."""
    ss, shown = st.session_state, ctx.shown
    if len(picked) > 1:
        st.markdown(f"**{len(picked)} results selected**")
        sel = shown[shown["id"].isin(picked)][["id", "map_type", "year", "claim"]]
        st.dataframe(sel, hide_index=True, width="stretch", height=260)
        choice = st.selectbox("Open one", [""] + list(sel["id"]), key="open_selected")
        if choice:
            ss["result"] = choice
            st.rerun()
    if ss.get("result"):
        head = st.columns([3, 1])
        head[0].markdown("#### Result")
        if head[1].button("Close", key="close_detail"):
            ss["result"] = None
            st.rerun()
        show_detail(ctx, ss["result"])


def _picked_ids(event, allowed: set[str]) -> list[str]:
    """Result ids in a plotly selection event (customdata of result markers only)."""
    try:
        points = event.selection.points
    except AttributeError:
        return []
    out = []
    for p in points:
        cd = p.get("customdata")
        cd = cd[0] if isinstance(cd, list) and cd else cd
        if isinstance(cd, str) and cd in allowed and cd not in out:
            out.append(cd)
    return out
