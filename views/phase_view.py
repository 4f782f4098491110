"""Phase diagram: two axes, a grid of cells coloured by best rigor, gaps marked."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from atlas_viz.atlas import Atlas
from atlas_viz.coverage.levels import phase_grid
from atlas_viz.figures.maps import phase_figure

from .sidebar import pretty


def phase_view(atlas: Atlas, shown: pd.DataFrame) -> None:
    names = list(atlas.axes.names)
    c1, c2 = st.columns(2)
    x_axis = c1.selectbox("Horizontal axis", names, index=names.index("width") if "width" in names else 0,
                          format_func=pretty, key="phase_x")
    rest = [n for n in names if n != x_axis]
    y_default = "learning_rate" if "learning_rate" in rest else rest[0]
    y_axis = c2.selectbox("Vertical axis", rest, index=rest.index(y_default), format_func=pretty, key="phase_y")
    xv, yv = atlas.axes[x_axis].value_names, atlas.axes[y_axis].value_names
    grid = phase_grid(shown, x_axis, xv, y_axis, yv)
    st.caption(f"Each square is one {pretty(x_axis)} × {pretty(y_axis)} pair; its colour is the most rigorous kind "
               f"of map among the {len(shown)} filtered results whose region includes it, the number is how many. "
               "Grey squares marked 'gap' have no result.")
    st.plotly_chart(phase_figure(grid, x_axis, y_axis, xv, yv), width="stretch", key="phase")
    gaps = grid[grid["n_results"] == 0]
    if len(gaps):
        st.markdown(f"**{len(gaps)} gaps** in this projection:")
        st.dataframe(gaps[["x", "y"]].rename(columns={"x": pretty(x_axis), "y": pretty(y_axis)}), hide_index=True)
    else:
        st.success("No gap in this projection: every pair is covered by at least one filtered result.")
    pick = st.selectbox("Results in a square", [f"{r.x} × {r.y} ({r.n_results})" for r in grid.itertuples()
                                                if r.n_results], key="phase_pick")
    if pick:
        x, y = pick.split(" (")[0].split(" × ")
        ids = grid[(grid["x"] == x) & (grid["y"] == y)]["ids"].iloc[0]
        st.dataframe(shown[shown["id"].isin(ids)][["id", "map_type", "year", "claim"]], hide_index=True,
                     width="stretch")
