"""Session state <-> URL query string, so a view can be shared as a link."""
from __future__ import annotations

import streamlit as st

from atlas_viz.catalogue.filters import Filters, filters_from_query, filters_to_query
from atlas_viz.core.names import MAP_TYPES
from atlas_viz.coverage.levels import BROAD_EXTENT
from atlas_viz.terrain.axes import Axes

VIEWS = {"map": "Map", "phase": "Phase diagram", "catalogue": "Catalogue", "expeditions": "Expeditions",
         "runs": "Runs: import", "contribute": "Add a result"}
LAYERS = {"fog": "Fog (coverage)", "regions": "Regions of validity (results per cell)", "runs": "Runs",
          "labels": "Continent and island labels", "relations": "Relations of the selected result (arrows)",
          "verdicts": "Verdicts (predictions checked on runs)",
          "broad": f"Fog counts broad results (regions over {BROAD_EXTENT:.0%} of the terrain)"}
DEFAULT_LAYERS = ("fog", "labels", "runs")
FILTER_LIST_KEYS = {"f_types": "map_types", "f_obs": "observables", "f_status": "statuses", "f_method": "methods",
                    "f_object": "objects", "f_verdict": "verdicts"}


def init_state(axes: Axes, years: tuple[int, int]) -> None:
    """On a session's first run, read the URL into widget state."""
    if st.session_state.get("_init"):
        return
    params = {k: st.query_params.get(k) for k in st.query_params.keys()}
    flt, notes = filters_from_query(params, axes)
    for key, attr in FILTER_LIST_KEYS.items():
        st.session_state[key] = list(getattr(flt, attr))
    for ax in axes.axes:
        st.session_state[f"f_ax_{ax.name}"] = list(flt.axes.get(ax.name, ()))
    st.session_state["f_q"] = flt.text
    st.session_state["f_years"] = tuple(flt.years) if flt.years else years
    view = params.get("view", "map")
    st.session_state["view"] = view if view in VIEWS else "map"
    layers = params.get("layers")
    chosen = DEFAULT_LAYERS if layers is None else tuple(v for v in layers.split(",") if v in LAYERS)
    for key in LAYERS:
        st.session_state[f"layer_{key}"] = key in chosen
    hidden = [t for t in params.get("hide", "").split(",") if t in MAP_TYPES]
    for t in MAP_TYPES:
        st.session_state[f"show_{t}"] = t not in hidden
    st.session_state["result"] = params.get("result")
    st.session_state["fog_obs"] = params.get("fog")
    st.session_state["_link_notes"] = notes
    st.session_state["_init"] = True


def current_filters(axes: Axes, years: tuple[int, int]) -> Filters:
    ss = st.session_state
    flt = Filters(**{attr: tuple(ss.get(key, ())) for key, attr in FILTER_LIST_KEYS.items()})
    flt.axes = {ax.name: tuple(ss.get(f"f_ax_{ax.name}", ())) for ax in axes.axes if ss.get(f"f_ax_{ax.name}")}
    y = tuple(ss.get("f_years", years))
    flt.years = y if y != years else None
    flt.text = ss.get("f_q", "")
    return flt


def sync_query(flt: Filters) -> None:
    """Write the current view into the URL (readable names; defaults left out)."""
    ss = st.session_state
    q = filters_to_query(flt)
    if ss.get("view", "map") != "map":
        q["view"] = ss["view"]
    layers = [k for k in LAYERS if ss.get(f"layer_{k}")]
    if set(layers) != set(DEFAULT_LAYERS):
        q["layers"] = ",".join(layers)
    hidden = [t for t in MAP_TYPES if not ss.get(f"show_{t}", True)]
    if hidden:
        q["hide"] = ",".join(hidden)
    if ss.get("result"):
        q["result"] = ss["result"]
    if ss.get("fog_obs"):
        q["fog"] = ss["fog_obs"]
    current = {k: st.query_params.get(k) for k in st.query_params.keys()}
    if current != q:
        st.query_params.from_dict(q)
