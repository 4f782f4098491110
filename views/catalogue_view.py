"""Catalogue: the filtered results as a table (ranked by relevance during a search); a click opens one."""
from __future__ import annotations

import streamlit as st

from atlas_viz.catalogue.export import results_bibtex, results_csv
from atlas_viz.figures.tables import catalogue_table

from .context import ViewContext

TABLE_KEY = "catalogue_table"
MAX_HEIGHT = 640
ROW_HEIGHT = 96  # five lines of a claim; the detail (a click) has all of it


def catalogue_view(ctx: ViewContext) -> None:
    shown = ctx.shown
    if shown.empty:
        st.warning("No result passes the filters. Widen them in the sidebar (or clear the search).")
        return
    table = catalogue_table(shown, ctx.atlas.axes)
    ranked = "relevance" in table
    st.caption(("Ranked by relevance to the search (1 = every word of it, central to the result). " if ranked
                else "") + "Click a row to open the result, with its whole claim, on the map; sort by clicking a column header.")
    generation = st.session_state.get("_catalogue_generation", 0)  # a fresh table after each opened result
    event = st.dataframe(
        table, hide_index=True, width="stretch", height=min(MAX_HEIGHT, 48 + ROW_HEIGHT * len(table)),
        row_height=ROW_HEIGHT, key=f"{TABLE_KEY}_{generation}",
        on_select="rerun", selection_mode="single-row",
        column_config={
            "relevance": st.column_config.ProgressColumn("relevance", min_value=0.0, max_value=1.0, format="%.2f",
                                                         width="small"),
            "id": st.column_config.TextColumn(width="medium"),
            "kind of map": st.column_config.TextColumn(width=104),
            "year": st.column_config.NumberColumn(format="%d", width="small"),
            "claim": st.column_config.TextColumn(width=430, help="Click the row to read the whole claim"),
            "region of validity": st.column_config.TextColumn(width="large",
                                                              help="The axes it restricts; the others are 'any'"),
            "paper": st.column_config.LinkColumn("paper", display_text="open", width="small"),
        })
    rows = event.selection.rows if event is not None else []
    if rows:
        st.session_state["result"] = str(table["id"].iloc[rows[0]])
        st.session_state["view"] = "map"
        st.session_state["_catalogue_generation"] = generation + 1
        st.rerun()
    c1, c2 = st.columns(2)
    c1.download_button("Download these results (CSV)", results_csv(shown), "atlas_results.csv", "text/csv")
    c2.download_button("Download their citations (BibTeX)", results_bibtex(shown), "atlas_results.bib",
                       "application/x-bibtex")
