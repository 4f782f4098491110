"""Sidebar: view switch, filters and layers."""
from __future__ import annotations

import streamlit as st

from atlas_viz.terrain.axes import Axes
from atlas_viz.figures.maps import MAP_TYPE_STYLE
from atlas_viz.core.names import MAP_TYPES, METHODS, OBJECTS, STATUSES, VERDICTS
from atlas_viz.core.text import pretty  # also imported from here by the other views
from atlas_viz.catalogue.search import SEARCH_HIGHLIGHT

from .state import LAYERS, VIEWS


def sidebar(axes: Axes, years: tuple[int, int], counts: dict[str, int], sb=None) -> None:
    """The view switch, filters and layers, drawn into ``sb`` (default: the sidebar)."""
    sb = st.sidebar if sb is None else sb
    sb.radio("View", list(VIEWS), format_func=VIEWS.get, key="view", horizontal=False)
    sb.text_input("Search claims, authors, titles, short names", key="f_q", max_chars=200,
                  placeholder="e.g. EoS, µP, lazy training, grokking, Jacot",
                  help="Ranked by relevance over claims, titles, authors, notes and short names. Abbreviations "
                       "(EoS, PL, µP or muP, NTK, NNGP, DD) and synonyms (rich regime = feature learning) are "
                       "understood; small typos are forgiven. The best hits are ringed on the map.")
    if str(st.session_state.get("f_q", "")).strip():
        hits = min(len(st.session_state.get("search_hits", [])), SEARCH_HIGHLIGHT)
        sb.caption(f"Results ranked by relevance; the {hits} best are ringed on the map and the catalogue lists "
                   "them first." if hits else "No result matches this search and the other filters: try other words.")
    sb.multiselect("Kind of map", MAP_TYPES, key="f_types", format_func=pretty,
                   help="Theorem (proved) → calculation → empirical law → heuristic → conjecture, in falling rigor.")
    sb.multiselect("Observable", axes.observable_names, key="f_obs", format_func=pretty,
                   help="What a result speaks about. Also chooses which coverage the fog shows.")
    with sb.expander("Terrain axes", expanded=any(st.session_state.get(f"f_ax_{a.name}") for a in axes.axes)):
        st.caption("Keep results whose region of validity includes any chosen value.")
        for ax in axes.axes:
            st.multiselect(pretty(ax.name), ax.value_names, key=f"f_ax_{ax.name}", format_func=pretty,
                           help=ax.description)
    with sb.expander("Year, status, method, object, verdict"):
        if years[0] < years[1]:
            st.slider("Year", years[0], years[1], key="f_years")
        st.multiselect("Status (trueness)", STATUSES, key="f_status")
        st.multiselect("Method", METHODS, key="f_method")
        st.multiselect("Object", OBJECTS, key="f_object")
        st.multiselect("Verdict (measured on runs)", VERDICTS, key="f_verdict",
                       help="What the stored runs say of a result's prediction, inside its region: agrees, "
                            "disagrees, inconclusive, or untested (no run measures it). Results without a "
                            "prediction are left out while a verdict is chosen.")
    if st.session_state.get("view") == "map":
        sb.markdown("**Layers**")
        for key, label in LAYERS.items():
            sb.checkbox(label, key=f"layer_{key}")
        sb.caption("Results by rigor")
        for t in MAP_TYPES:
            colour, _, label = MAP_TYPE_STYLE[t]
            sb.checkbox(f"{label} · {counts.get(t, 0)}", key=f"show_{t}")
