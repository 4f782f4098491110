"""The detail panel of one result: claim, citation, region, qualities, relations."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from atlas_viz.atlas import Atlas
from atlas_viz.catalog import citation_link, citation_text
from atlas_viz.regions import region_in_words

QUALITY_HELP = {
    "Trueness": "Is it correct: proven, replicated, contested or refuted.",
    "Precision": "Qualitative, order of magnitude, or a quantitative prediction.",
    "Extent": "How much of the terrain its region of validity covers.",
    "Parsimony": "How few inputs it needs; shown here as how many axes its statement constrains.",
}


def show_detail(atlas: Atlas, rid: str) -> None:
    res = atlas.results
    hit = res[res["id"] == rid]
    if hit.empty:
        st.info(f"No result with id {rid!r} in this catalogue.")
        return
    r = hit.iloc[0]
    st.markdown(f"**{r['map_type'].replace('_', ' ').capitalize()}** · `{r['id']}`")
    st.text(r["claim"])  # user text: shown as text, never as markdown or HTML
    st.caption("Citation")
    st.text(citation_text(r))
    link = citation_link(r)
    if link:
        st.link_button("Open the paper", link)
    n_axes = sum(1 for a in atlas.axes.axes if len(r["region"][a.name]) < len(a.values))
    qualities = {
        "Trueness": r["status"] or "not recorded",
        "Precision": (r["precision"] or "not recorded").replace("_", " "),
        "Extent": f"{r['extent']:.2%} of the terrain ({r['n_cells']:,} cells)" if "extent" in r else "terrain not built",
        "Parsimony": f"constrains {n_axes} of {len(atlas.axes.axes)} axes",
    }
    st.dataframe(pd.DataFrame({"quality": list(qualities), "value": list(qualities.values()),
                               "meaning": [QUALITY_HELP[q] for q in qualities]}),
                 hide_index=True, width="stretch")
    meta = " · ".join(x for x in (r["method"], r["object"] and f"object: {r['object']}") if x)
    if meta:
        st.caption(meta)
    st.caption("Region of validity")
    st.dataframe(pd.DataFrame(region_in_words(atlas.axes, r["region"]), columns=["axis", "values"]),
                 hide_index=True, width="stretch")
    st.caption("Observables: " + ", ".join(o.replace("_", " ") for o in r["observables"]))
    if r["notes"]:
        st.caption("Notes")
        st.text(r["notes"])
    related = [(kind, tgt, "→") for kind, tgt in r["relations"]]
    related += [(kind, src, "←") for src, rels in zip(res["id"], res["relations"]) for kind, tgt in rels if tgt == rid]
    if related:
        st.caption("Related results")
        for i, (kind, other, arrow) in enumerate(related):
            label = f"{arrow} {kind.replace('_', ' ')}: {other}"
            if st.button(label, key=f"rel_{rid}_{i}", help="Open this result"):
                st.session_state["result"] = other
                st.rerun()
