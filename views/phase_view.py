"""Phase diagram: what runs measured over two axes or config columns, or which results claim each pair."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from atlas_viz.core.text import md_escape, pretty
from atlas_viz.coverage.levels import phase_grid
from atlas_viz.coverage.phase import bin_column, claimed_squares, phase_frame, unrestricted
from atlas_viz.figures.phase import rigor_figure, runs_phase_figure
from atlas_viz.runs.store import config_columns, metric_columns

from .context import ViewContext

MODES = {"runs": "What the runs measured", "results": "Which results claim each square"}
PREFERRED = (("test_loss", "config.d_model", "config.lr"), ("test_loss", "width", "learning_rate"))


def phase_view(ctx: ViewContext) -> None:
    mode = st.radio("Show", list(MODES), format_func=MODES.get, horizontal=True, key="phase_mode")
    if mode == "runs":
        _runs_phase(ctx)
    else:
        _results_phase(ctx)


def _choices(runs: pd.DataFrame, axes: list[str]) -> list[str]:
    """Axes and numeric config columns with at least two distinct values among ``runs``."""
    numeric = [c for c in config_columns(runs) if pd.api.types.is_numeric_dtype(runs[c]) and runs[c].nunique() > 1]
    return [a for a in axes if runs[a].nunique() > 1] + numeric


def _runs_phase(ctx: ViewContext) -> None:
    runs, axes = ctx.runs, ctx.atlas.axes
    metrics = metric_columns(runs, ctx.runset.sources) if len(runs) else []
    if not metrics:
        st.info("No stored run has a metric yet (or the filters leave none): import runs in 'Runs: import'.")
        return
    sources = sorted(runs["source"].unique(), key=lambda s: -int((runs["source"] == s).sum()))
    c0, c1, c2, c3 = st.columns([1.1, 1, 1, 1])
    source = c0.selectbox("Runs from", sources, key="phase_source",
                          help="One source at a time: a metric means different things on different tasks.")
    sub = runs[runs["source"] == source]
    metrics = [m for m in metrics if sub[m].notna().any()]
    pref = next((p for p in PREFERRED if p[0] in metrics), (metrics[0], None, None))
    metric = c1.selectbox("Metric", metrics, index=metrics.index(pref[0]), key="phase_metric")
    sub = sub[sub[metric].notna()]
    cols = _choices(sub, list(axes.names))
    if len(cols) < 2:
        st.info(f"The runs of {md_escape(source)} with {md_escape(metric)} vary along fewer than two columns.")
        return
    label = {c: pretty(c.removeprefix("config.")) + (" (config)" if c.startswith("config.") else " (axis)")
             for c in cols}
    x_col = c2.selectbox("Horizontal", cols, index=cols.index(pref[1]) if pref[1] in cols else 0,
                         format_func=label.get, key="phase_rx")
    rest = [c for c in cols if c != x_col]
    y_col = c3.selectbox("Vertical", rest, index=rest.index(pref[2]) if pref[2] in rest else 0,
                         format_func=label.get, key="phase_ry")
    xb = bin_column(sub[x_col], axes[x_col].value_names if x_col in axes.names else None)
    yb = bin_column(sub[y_col], axes[y_col].value_names if y_col in axes.names else None)
    frame = phase_frame(sub, metric, xb, yb)
    shown = ctx.shown
    ids = ctx.atlas.results["id"].to_numpy()

    def squares(rid: str) -> np.ndarray:
        return claimed_squares(sub, ctx.atlas.masks[int(np.flatnonzero(ids == rid)[0])], xb, yb)

    # by default: the selected result and search hits, else results whose prediction reads this metric here
    default = [r for r in [st.session_state.get("result"), *st.session_state.get("search_hits", [])]
               if r in set(shown["id"])][:3]
    if not default:
        default = [r for r, chk in ctx.checks.items() if chk.prediction.metric == metric
                   and r in set(shown["id"]) and squares(r).any()][:3]
    picked = st.multiselect("Draw the regions of", list(shown["id"]), default=default, key=f"phase_regions_{metric}",
                            help="Each result's boundary encloses the squares most of whose runs lie in its region; "
                                 "results whose prediction was checked on the runs show their verdict.")
    regions = []
    for rid in picked:
        chk = ctx.checks.get(rid)
        label = rid + (f" (prediction on {chk.prediction.metric}: {chk.inside.verdict} inside, "
                       f"{chk.outside.verdict} outside)" if chk is not None else "")
        regions.append((label, ctx.atlas.results["map_type"].to_numpy()[ids == rid][0], squares(rid)))
    st.caption(f"{int(frame['count'].sum()) if len(frame) else 0:,} runs of {md_escape(source)} in "
               f"{len(frame)} squares: colour is the median {md_escape(metric)}, the number is how many runs; "
               "hover for the quartiles. Numeric columns are binned (log-spaced when they span decades).")
    st.plotly_chart(runs_phase_figure(frame, metric, xb, yb, regions), width="stretch", key="phase_runs")
    empty = [rid for rid, _, sq in regions if not sq.any()]
    if empty:
        st.caption("No square lies in the region of: " + md_escape(", ".join(empty)) + ".")


def _results_phase(ctx: ViewContext) -> None:
    atlas, shown = ctx.atlas, ctx.shown
    names = list(atlas.axes.names)
    c1, c2 = st.columns(2)
    x_axis = c1.selectbox("Horizontal axis", names, index=names.index("width") if "width" in names else 0,
                          format_func=pretty, key="phase_x")
    rest = [n for n in names if n != x_axis]
    y_default = "learning_rate" if "learning_rate" in rest else rest[0]
    y_axis = c2.selectbox("Vertical axis", rest, index=rest.index(y_default), format_func=pretty, key="phase_y")
    xv, yv = atlas.axes[x_axis].value_names, atlas.axes[y_axis].value_names
    everywhere = unrestricted(shown, {x_axis: xv, y_axis: yv})
    specific = shown[~everywhere] if len(shown) else shown
    grid = phase_grid(specific, x_axis, xv, y_axis, yv)
    st.markdown(f"**Holds everywhere in this projection: {int(everywhere.sum())}** of {len(shown)} filtered results "
                f"(any {pretty(x_axis)}, any {pretty(y_axis)}); they are left out of the squares so that the grid "
                "shows what is specific.")
    st.caption(f"Each square is one {pretty(x_axis)} × {pretty(y_axis)} pair; its colour is the most rigorous kind "
               f"of map among the {len(specific)} other results whose region includes it, the number is how many. "
               "Grey squares marked 'gap' have none.")
    st.plotly_chart(rigor_figure(grid, x_axis, y_axis, xv, yv), width="stretch", key="phase")
    gaps = grid[grid["n_results"] == 0]
    if len(gaps):
        st.markdown(f"**{len(gaps)} gaps** in this projection:")
        st.dataframe(gaps[["x", "y"]].map(pretty).rename(columns={"x": pretty(x_axis), "y": pretty(y_axis)}),
                     hide_index=True)
    pick = st.selectbox("Results in a square", [f"{r.x} × {r.y} ({r.n_results})" for r in grid.itertuples()
                                                if r.n_results], key="phase_pick")
    if pick:
        x, y = pick.split(" (")[0].split(" × ")
        ids = grid[(grid["x"] == x) & (grid["y"] == y)]["ids"].iloc[0]
        st.dataframe(shown[shown["id"].isin(ids)][["id", "map_type", "year", "claim"]], hide_index=True,
                     width="stretch")
