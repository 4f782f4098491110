"""The map: coverage figures, the plotly map with selection, legend, and the detail panel."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from atlas_viz.coverage.levels import coverage_shares
from atlas_viz.figures.evidence import add_verdict_rings
from atlas_viz.figures.maps import map_figure, shares_figure
from atlas_viz.core.names import MAP_TYPES
from atlas_viz.figures.raster import Raster
from atlas_viz.coverage.regions import relation_segments
from atlas_viz.runs.store import AGGREGATE_ABOVE, aggregate_runs, metric_columns

from .context import ViewContext

from .detail import show_detail

HOW_TO_READ = """
**How to read this map.** Every point of the terrain is one *cell*: a combination of task, architecture,
width, depth, optimizer, learning rate, parameterization and data regime. Cells that differ little sit close
together. Large labels name groups of *continents* by task; small labels name each continent's architecture;
inside a continent the remaining axes arrange the cells the same way everywhere.

* **Land colour is coverage** for the observables chosen in the sidebar (all, if none):
  grey fog is *terra incognita* (nothing known), sand is *observed* (runs only), light green is *mapped*
  (an empirical law or heuristic claims it), dark green is *charted* (a theorem or calculation covers it).
* **Markers are results**, placed at the centre of their region of validity; colour and shape give the kind
  of map, from ◆ theorems to ★ conjectures. Hover for the claim, click to open it.
* **Regions of validity** (a layer) outline where each result holds; a region spread over several continents
  is drawn as several shapes.
* Scroll to zoom, drag to pan; use the box or lasso tool (top right of the map) to list what is inside.
"""


def map_view(ctx: ViewContext, level, labels: pd.DataFrame | None, fog_obs: list[str] | None, fog: Raster) -> None:
    """``fog``: the terrain painted by coverage ``level`` (cached by app.py)."""
    ss = st.session_state
    atlas, shown = ctx.atlas, ctx.shown
    shares = coverage_shares(level)
    st.caption("Coverage of the terrain for " + (", ".join(o.replace("_", " ") for o in fog_obs) if fog_obs else
               "all observables (a cell counts at the level most of them reach)")
               + " by the filtered results and runs. Land colours: grey fog = terra incognita, sand = observed "
               "(runs only), light green = mapped (empirical law or heuristic), dark green = charted (theorem or "
               "calculation).")
    st.plotly_chart(shares_figure(shares), width="stretch", config={"displayModeBar": False}, key="shares")

    visible = tuple(t for t in MAP_TYPES if ss.get(f"show_{t}", True))
    selected = ss.get("result")
    regions = []
    if ss.get("layer_regions"):
        for r in shown[shown["map_type"].isin(visible)].itertuples():
            regions.append((r.id, r.map_type, ctx.shapes(r.id)))
    elif selected in set(shown["id"]):
        mtype = shown.loc[shown["id"] == selected, "map_type"].iloc[0]
        regions.append((selected, mtype, ctx.shapes(selected)))
    rel = relation_segments(shown[shown["map_type"].isin(visible)]) if ss.get("layer_relations") else None
    runs_layer, run_color = None, None
    if ss.get("layer_runs") and len(ctx.runs):
        metrics = metric_columns(ctx.runs, ctx.runset.sources)
        run_color = st.sidebar.selectbox("Colour runs by", ["(none)"] + metrics, key="run_metric")
        run_color = None if run_color == "(none)" else run_color
        runs_layer = (aggregate_runs(ctx.runs, run_color) if len(ctx.runs) > AGGREGATE_ABOVE else ctx.runs)
    raster = fog if ss.get("layer_fog", True) else ctx.painter.paint(None)
    fig = map_figure(raster, shown, labels=labels if ss.get("layer_labels") else None, regions=regions,
                     relations=rel, runs=runs_layer, run_color=run_color, selected=selected, visible_types=visible)
    if ss.get("layer_verdicts"):
        add_verdict_rings(fig, shown[shown["map_type"].isin(visible)])
    side = bool(ss.get("result")) or st.session_state.get("_picked_many", False)
    left, right = st.columns([2.4, 1]) if side else (st.container(), None)
    with left:
        if shown.empty:
            st.warning("No result passes the filters, so no marker is drawn. "
                       "Widen the filters in the sidebar (or clear the search).")
        if runs_layer is not None and len(ctx.runs) > AGGREGATE_ABOVE:
            st.caption(f"{len(ctx.runs):,} runs are drawn as one marker per cell (size: number of runs).")
        event = st.plotly_chart(fig, key="map", on_select="rerun", selection_mode=("points", "box", "lasso"),
                                width="stretch", config={"scrollZoom": True, "displaylogo": False,
                                                         "toImageButtonOptions": {"filename": "atlas_map"}})
        picked = _picked_ids(event, set(shown["id"]))
        if (len(picked) > 1) != st.session_state.get("_picked_many", False):
            st.session_state["_picked_many"] = len(picked) > 1
            st.rerun()
        st.caption("Click a marker to read the result, its citation and its region of validity; use the box or "
                   "lasso tool (top right of the map) to list several.")
        with st.expander("How to read this map", expanded=False):
            st.markdown(HOW_TO_READ)
    if len(picked) == 1 and picked[0] != selected:
        ss["result"] = picked[0]
        st.rerun()
    if right is None:
        return
    with right:
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
