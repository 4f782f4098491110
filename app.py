"""Atlas of deep learning: the Streamlit app. Widgets, caching and layout only.

Run with `streamlit run app.py` (data: --data DIR after `--`, or $ATLAS_DATA, else data/).
"""
from __future__ import annotations

import importlib
import sys
import time

import streamlit as st

# A Material icon, not an emoji: an emoji page icon makes Streamlit compile its emoji regex (~0.12 s per process).
st.set_page_config(page_title="Atlas of deep learning", page_icon=":material/map:", layout="wide")
# Static CSS (no user text): a tighter page top, so the coverage bar, the map and its legend fit above the fold.
st.html("""<style>
.block-container, [data-testid="stMainBlockContainer"] {padding-top: 3.4rem; padding-bottom: 1rem;}
.block-container h3 {padding-top: 0.2rem; padding-bottom: 0.2rem;}
</style>""")
# The first run of a session shows the map's frame before pandas and the atlas are imported (~0.5 s): the browser
# meanwhile loads the charting library, which it would otherwise start fetching only when the real map arrives.
FRAME = st.empty()
if not st.session_state.get("_drawn"):
    from atlas_viz.figures.skeleton import skeleton_figure

    FRAME.plotly_chart(skeleton_figure(), key="map_skeleton", config={"staticPlot": True})

import numpy as np
import pandas as pd

from atlas_viz.atlas import Atlas, load_atlas, with_results
from atlas_viz.coverage.levels import cell_level, coverage_table, fog_observables, fog_results
from atlas_viz.expeditions.ranking import compute_expeditions
from atlas_viz.expeditions.store import ranking
from atlas_viz.checks.scope import RunTable
from atlas_viz.checks.kept import kept_checks
from atlas_viz.checks.verdicts import Check, check_results, verdict_column
from atlas_viz.figures.maps import with_result_hover, with_run_hover
from atlas_viz.catalogue.filters import apply_filters
from atlas_viz.catalogue.search import SearchIndex, search_hits
from atlas_viz.io.fingerprint import (catalogue_fingerprint, combined_fingerprint, runs_fingerprint,
                                      terrain_fingerprint)
from atlas_viz.core.text import md_escape
from atlas_viz.core.names import MAP_TYPES
from atlas_viz.io.paths import data_dir
from atlas_viz.core.problems import DataError
from atlas_viz.figures.raster import Painter, Raster
from atlas_viz.runs.store import RunSet, load_observations, metric_columns
from atlas_viz.runs.summary import RunSummary, kept_summary, summarise
from atlas_viz.terrain.layout import build_layout, continent_labels
from views.context import ViewContext
from views.map_view import map_view
from views.sidebar import sidebar
from views.state import current_filters, init_state, sync_query

VIEW_MODULES = {"phase": "phase_view", "catalogue": "catalogue_view", "runs": "runs_view",
                "contribute": "contribute_view", "expeditions": "expeditions_view"}
"""The views other than the map, imported when first shown (the first map does not wait for their modules)."""


def view_function(view: str):
    """The function drawing ``view`` (one of VIEW_MODULES), from its module ``views.<name>``."""
    name = VIEW_MODULES[view]
    return getattr(importlib.import_module(f"views.{name}"), name)


def _data_arg() -> str | None:
    args = sys.argv[1:]
    return args[args.index("--data") + 1] if "--data" in args and args.index("--data") + 1 < len(args) else None


DATA = data_dir(_data_arg())


@st.cache_resource(show_spinner="Loading the atlas…", max_entries=2)
def get_atlas(path: str, fingerprint: str) -> Atlas:
    atlas = load_atlas(path)
    if not atlas.stale and len(atlas.results):
        atlas = with_results(atlas, with_result_hover(atlas.results))
    return atlas


@st.cache_resource(show_spinner="Reading and placing runs…", max_entries=2)
def get_runs(path: str, run_key: str, _atlas: Atlas) -> tuple[RunSet, pd.DataFrame, pd.DataFrame]:
    """All runs, placed on their cells, and the (cell, observable) pairs they observe (read when a view shows
    runs or a kept summary or check is missing)."""
    runset, placed, observed = load_observations(path, _atlas.axes, _atlas.terrain)
    return runset, with_run_hover(placed), observed


@st.cache_resource(max_entries=2)
def get_run_summary(path: str, run_key: str, _atlas: Atlas) -> RunSummary:
    """What coverage and the expeditions need of the runs: kept on disk, so a new process reads no run."""
    def compute() -> RunSummary:
        runset, placed, observed = get_runs(path, run_key, _atlas)
        return summarise(placed, observed, runset.problems, metric_columns(placed, runset.sources))
    return kept_summary(path, run_key, compute)


@st.cache_resource(show_spinner="Reading the runs as the checks see them…", max_entries=2)
def get_run_table(path: str, run_key: str, _atlas: Atlas) -> RunTable:
    runset = get_runs(path, run_key, _atlas)[0]
    return RunTable(runset.runs, runset.sources, _atlas.axes)


@st.cache_resource(show_spinner="Checking predictions against the runs…", max_entries=2)
def get_checks(path: str, fingerprint: str, run_key: str, _atlas: Atlas) -> dict[str, Check]:
    """Every prediction checked on the stored runs (kept on disk by the data's fingerprint: computed once per
    data version on a machine, ~0.3 s on the bundled data)."""
    checks = kept_checks(path, fingerprint, _atlas.results,
                         lambda: check_results(_atlas.results, get_run_table(path, run_key, _atlas)))
    return {c.id: c for c in checks}


@st.cache_resource(show_spinner="Indexing the catalogue for search…", max_entries=2)
def get_search_index(path: str, fingerprint: str, _atlas: Atlas) -> SearchIndex:
    """The search index of the catalogue (fitted once per data version, ~0.5 s)."""
    return SearchIndex().fit(_atlas.results)


@st.cache_resource(max_entries=2)
def get_painter(path: str, fingerprint: str, _atlas: Atlas) -> Painter:
    return Painter(_atlas.terrain)


@st.cache_resource(max_entries=2)
def get_shape_store(path: str, fingerprint: str) -> dict:
    """Region outlines computed so far for this data version (filled on demand by the views)."""
    return {}


@st.cache_data(max_entries=32, show_spinner=False)
def get_raster(path: str, fingerprint: str, ids: tuple[str, ...], fog_obs: tuple[str, ...],
               _painter: Painter, _level: np.ndarray, dim: bool = False) -> Raster:
    """The fog image for one set of shown results and observables, washed out under a selected region when
    ``dim`` (painting costs ~40 ms; a lookup does not)."""
    return _painter.paint(_level, dim=dim)


@st.cache_data(max_entries=64, show_spinner=False)
def get_coverage(path: str, fingerprint: str, ids: tuple[str, ...], _atlas: Atlas, _observed: pd.DataFrame):
    rows = np.flatnonzero(_atlas.results["id"].isin(ids).to_numpy())
    return coverage_table(_atlas.results, _atlas.masks, _atlas.axes.observable_names, len(_atlas.terrain), _observed,
                          rows=rows)


@st.cache_resource(show_spinner="Finding and ranking the gaps (once per change of the data)…", max_entries=2)
def get_expeditions(path: str, fingerprint: str, run_key: str, _atlas: Atlas, _checks: dict, _observed: pd.DataFrame):
    """The ranked gaps (kept on disk by the data's fingerprint: computed once per data version on a machine)."""
    table = coverage_table(_atlas.results, _atlas.masks, _atlas.axes.observable_names, len(_atlas.terrain), _observed)
    gaps, frame = ranking(path, fingerprint, lambda: compute_expeditions(
        _atlas, get_runs(path, run_key, _atlas)[1], _observed, table=table, checks=list(_checks.values())))
    return gaps, frame, table


def rebuild(path: str, fingerprint: str) -> None:
    """The axes changed: lay the terrain out again, with a progress bar."""
    st.warning("The axes changed since the map was drawn (or no map was built yet): the terrain is being "
               "rebuilt with UMAP. This takes about a minute, once.")
    bar = st.progress(0.0, text="starting")
    atlas = load_atlas(path)
    layout, seconds = build_layout(atlas.data_dir, atlas.axes, progress=lambda f, t: bar.progress(f, text=t))
    bar.progress(1.0, text=f"terrain rebuilt in {seconds:.0f} s")
    get_atlas.clear()
    time.sleep(0.5)
    st.rerun()


def draw_map(ctx: ViewContext, observed: pd.DataFrame) -> None:
    """The map view: the fog of the counted results and observables, continent labels, the images under it."""
    atlas, shown, flt, fingerprint = ctx.atlas, ctx.shown, ctx.filters, ctx.fingerprint
    res = atlas.results
    counted = fog_results(shown, bool(flt.active()), bool(st.session_state.get("layer_broad")))
    table = get_coverage(str(DATA), fingerprint, tuple(counted["id"]), atlas, observed)
    fog_obs = fog_observables(shown, flt.observables, bool(flt.active()), atlas.axes.observable_names)
    level = cell_level(table, fog_obs)
    cont_counts = np.bincount(atlas.terrain["continent"].to_numpy()[res["cell"].to_numpy().astype(int)],
                              minlength=len(atlas.layout.continent_keys_)) if len(res) else None
    labels = continent_labels(atlas.axes, atlas.layout, cont_counts)
    raster = get_raster(str(DATA), fingerprint, tuple(counted["id"]), fog_obs, ctx.painter, level)
    dimmed = (get_raster(str(DATA), fingerprint, tuple(counted["id"]), fog_obs, ctx.painter, level, dim=True)
              if st.session_state.get("result") else None)
    map_view(ctx, level, labels, fog_obs, raster, dimmed, n_broad=len(shown) - len(counted))


def main(frame) -> None:
    """One run of the page; ``frame`` holds the map's empty frame until the view draws."""
    # Each cache is keyed by the files it reads, so a write invalidates only what depends on it: a new result
    # re-reads the catalogue but keeps the placed runs; an import re-places runs but keeps the atlas.
    terrain_fp, catalogue_fp, runs_fp = terrain_fingerprint(DATA), catalogue_fingerprint(DATA), runs_fingerprint(DATA)
    fingerprint = combined_fingerprint(catalogue_fp, runs_fp)  # = data_fingerprint, the CLI's ranking key
    try:
        atlas = get_atlas(str(DATA), catalogue_fp)
    except DataError as err:
        frame.empty()
        st.error(f"The coordinate system {DATA / 'axes.yaml'} cannot be used; fix these problems:")
        st.code("\n".join(str(p) for p in err.problems), language=None)
        st.stop()
    if atlas.stale:
        frame.empty()
        rebuild(str(DATA), fingerprint)
        st.stop()
    res = atlas.results
    years = (int(res["year"].min()), int(res["year"].max())) if len(res) else (2000, 2026)
    init_state(atlas.axes, years)
    counts = res["map_type"].value_counts().to_dict() if len(res) else {}
    # The sidebar's place is reserved now and filled after the view: its widgets' values are already in the
    # session state, and the map reaches the browser before the thirty-odd filter widgets do.
    side = st.sidebar.container()
    flt = current_filters(atlas.axes, years)
    index = get_search_index(str(DATA), catalogue_fp, atlas) if flt.text.strip() else None
    run_key = f"{terrain_fp}-{runs_fp}"  # placing runs reads the terrain and the run files, not the catalogue
    summary = get_run_summary(str(DATA), run_key, atlas)
    checks = get_checks(str(DATA), fingerprint, run_key, atlas)
    res = res.assign(verdict=verdict_column(res, list(checks.values())))  # measured trueness, for filters and map
    shown = apply_filters(res, flt, index)
    st.session_state["search_hits"] = search_hits(shown, st.session_state.get("result")) if index is not None else []
    sync_query(flt)

    st.markdown("### Atlas of deep learning")
    st.caption("What is known, and not yet known, about how deep networks learn: theorems, calculations, empirical "
               "laws, heuristics and conjectures, each drawn over the region of the terrain where it holds. "
               "Filter in the sidebar; click a marker to read a result.")
    for note in st.session_state.get("_link_notes", []):
        st.info(md_escape(note))  # notes quote URL values: never let them form links
    if atlas.problems:
        with st.expander(f"⚠️ {len(atlas.problems)} problem(s) in the data: those entries are left out, "
                         "the rest is shown", expanded=False):
            st.code("\n".join(str(p) for p in atlas.problems), language=None)
    if res.empty:
        st.info(f"The catalogue in {DATA / 'results'} is empty. Add a YAML file of results "
                "(see data/results/README.md) or use 'Add a result', then reload.")
    by_type = " · ".join(f"{t.replace('_', ' ')} **{int((shown['map_type'] == t).sum())}**" for t in MAP_TYPES)
    st.markdown(f"**{len(shown)}** of {len(res)} results shown: {by_type}")
    if len(res) and shown.empty:
        st.warning("No result matches: " + md_escape("; ".join(flt.active())) + ". Remove a filter to see more.")
    if summary.problems:
        with st.expander(f"⚠️ {len(summary.problems)} problem(s) with stored runs", expanded=False):
            st.code("\n".join(str(p) for p in summary.problems), language=None)
    ctx = ViewContext(DATA, fingerprint, atlas, summary, lambda: get_runs(str(DATA), run_key, atlas)[:2],
                      lambda: get_run_table(str(DATA), run_key, atlas), shown, flt,
                      get_painter(str(DATA), terrain_fp, atlas), get_shape_store(str(DATA), catalogue_fp),
                      checks=checks)
    frame.empty()  # the view draws in its own place
    st.session_state["_drawn"] = True
    view = st.session_state.get("view", "map")
    if view == "map":
        draw_map(ctx, summary.observed)
    elif view == "expeditions":
        view_function("expeditions")(ctx, *get_expeditions(str(DATA), fingerprint, run_key, atlas, checks, summary.observed))
    else:
        view_function(view)(ctx)
    sidebar(atlas.axes, years, counts, side)

main(FRAME)
