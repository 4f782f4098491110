"""Catalogue: a sortable table of the filtered results, with CSV and BibTeX export."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from atlas_viz.catalogue.loader import citation_link
from atlas_viz.catalogue.export import results_bibtex, results_csv


def catalogue_view(shown: pd.DataFrame) -> None:
    if shown.empty:
        st.warning("No result passes the filters. Widen them in the sidebar.")
        return
    table = pd.DataFrame({
        "id": shown["id"], "kind of map": shown["map_type"].str.replace("_", " "), "year": shown["year"],
        "claim": shown["claim"], "authors": shown["authors"], "title": shown["title"],
        "observables": shown["observables"].map(lambda o: ", ".join(o)),
        "status": shown["status"], "link": [citation_link(r) for _, r in shown.iterrows()],
    })
    st.dataframe(table, hide_index=True, width="stretch", height=560,
                 column_config={"link": st.column_config.LinkColumn("paper", display_text="open"),
                                "claim": st.column_config.TextColumn(width="large")})
    c1, c2 = st.columns(2)
    c1.download_button("Download these results (CSV)", results_csv(shown), "atlas_results.csv", "text/csv")
    c2.download_button("Download their citations (BibTeX)", results_bibtex(shown), "atlas_results.bib",
                       "application/x-bibtex")
