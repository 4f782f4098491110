"""The detail panel of one result: claim, citation, region, qualities, relations."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from atlas_viz.catalogue.relations import lineage
from atlas_viz.catalogue.loader import citation_link, citation_text
from atlas_viz.figures.maps import HOVER, runs_metric_figure
from atlas_viz.core.text import md_escape, pretty
from atlas_viz.checks.evidence import (evidence_points, measured_text, name, prediction_text, reason_text,
                                       scope_text, verdict_table)
from atlas_viz.figures.evidence import evidence_figure
from atlas_viz.coverage.regions import region_in_words
from atlas_viz.runs.store import config_columns, metric_columns

from .context import ViewContext

MAX_RELATED_BUTTONS = 6
QUALITY_HELP = {
    "Trueness": "Is it correct: stated as proven, replicated, contested or refuted by the catalogue; measured as "
                "the verdict of its prediction on the stored runs inside its region.",
    "Precision": "Qualitative, order of magnitude, or a quantitative prediction.",
    "Extent": "How much of the terrain its region of validity covers.",
    "Parsimony": "How few inputs it needs; shown here as how many axes its statement constrains.",
}


def show_detail(ctx: ViewContext, rid: str) -> None:
    atlas = ctx.atlas
    res = atlas.results
    hit = res[res["id"] == rid]
    if hit.empty:
        st.info(md_escape(f"No result with id {rid!r} in this catalogue."))
        return
    r = hit.iloc[0]
    st.markdown(f"**{pretty(r['map_type']).capitalize()}** · `{r['id']}`")
    st.text(r["claim"])  # user text: shown as text, never as markdown or HTML
    st.caption("Citation")
    st.text(citation_text(r))
    link = citation_link(r)
    if link:
        st.link_button("Open the paper", link)
    n_axes = sum(1 for a in atlas.axes.axes if len(r["region"][a.name]) < len(a.values))
    qualities = {
        "Trueness": f"stated: {r['status'] or 'not recorded'} · measured: {measured_text(ctx.checks.get(rid))}",
        "Precision": pretty(r["precision"] or "not recorded"),
        "Extent": f"{r['extent']:.2%} of the terrain ({r['n_cells']:,} cells)" if "extent" in r else "terrain not built",
        "Parsimony": f"constrains {n_axes} of {len(atlas.axes.axes)} axes",
    }
    static_table(pd.DataFrame({"quality": list(qualities), "value": list(qualities.values())}))
    with st.expander("What the four qualities mean"):
        st.markdown("\n".join(f"- **{q}**: {md_escape(m)}" for q, m in QUALITY_HELP.items()))
    show_prediction(ctx, r)
    meta = " · ".join(x for x in (r["method"], r["object"] and f"object: {r['object']}") if x)
    if meta:
        st.caption(meta)
    st.caption("Region of validity")
    static_table(pd.DataFrame(region_in_words(atlas.axes, r["region"]), columns=["axis", "values"]))
    st.caption("Observables: " + ", ".join(pretty(o) for o in r["observables"]))
    aliases = r.get("aliases")
    if isinstance(aliases, (list, tuple)) and aliases:
        st.caption("Also known as: " + md_escape(", ".join(aliases)))
    if r["notes"]:
        st.caption("Notes")
        st.text(r["notes"])
    related = lineage(res, rid)
    if related:
        st.caption(f"Related results ({len(related)}): → this one relates to it, ← it relates to this one")
        labels = [f"{arrow} {pretty(kind)}: {other}" for kind, other, arrow in related]
        if len(related) <= MAX_RELATED_BUTTONS:
            for i, (label, (_, other, _)) in enumerate(zip(labels, related)):
                st.button(label, key=f"rel_{rid}_{i}", help="Open this result", on_click=_open, args=(other,))
        else:  # a long lineage reads better as one list than as a column of buttons
            pick = st.selectbox("Open a related result", range(len(related)), index=None, key=f"rel_pick_{rid}",
                                format_func=labels.__getitem__, placeholder=f"choose one of {len(related)}")
            if pick is not None:
                _open(related[pick][1])
                st.rerun()
    show_runs_in_region(ctx, int(r.name))


def show_prediction(ctx: ViewContext, r: pd.Series) -> None:
    """The prediction in words, its verdict inside the region and one step outside, and the evidence plot."""
    check = ctx.checks.get(r["id"])
    if check is None:
        return
    p = check.prediction
    st.caption("Prediction, checked against the stored runs")
    st.text(" ".join(x for x in (prediction_text(p), scope_text(p, ctx.atlas.axes)) if x))  # never markdown
    if p.basis:
        st.text(f"Basis: {p.basis}")
    static_table(verdict_table(check))
    st.caption(md_escape(reason_text(check)))
    points = evidence_points(r, ctx.run_table)
    if points.empty:
        st.caption(f"No stored run measures {name(p.metric)}" + (f" against {name(p.x)}" if p.x else "")
                   + " here or one step outside: an expedition could.")
        return
    event = st.plotly_chart(evidence_figure(check, points), width="stretch", key=f"evidence_{r['id']}",
                            on_select="rerun", selection_mode="points")
    st.caption("Click a run to see it.")
    ids = [pt.get("customdata") for pt in getattr(getattr(event, "selection", None), "points", [])]
    ids = [i for i in ids if isinstance(i, str)]
    if ids:
        run = ctx.runset.runs[ctx.runset.runs["id"] == ids[0]]
        st.text(f"run {ids[0]}")
        st.dataframe(run.dropna(axis=1).T.astype(str).rename(columns=lambda _: "value"), width="stretch")


def static_table(frame: pd.DataFrame) -> None:
    """A small table shown in full (wrapped, never clipped); cells are escaped, as st.table reads Markdown."""
    st.table(frame.astype(str).map(md_escape).rename(columns=md_escape), hide_index=True)


def _open(rid: str) -> None:
    st.session_state["result"] = rid


def show_runs_in_region(ctx: ViewContext, row: int) -> None:
    """The runs inside a result's region, and a metric plotted against an axis or config column."""
    runs = ctx.runs
    if not len(runs):
        st.caption("No runs are stored in this atlas yet.")
        return
    inside = runs[ctx.atlas.masks[row][runs["cell"].to_numpy()]]
    st.caption(f"Runs inside its region: {len(inside):,}")
    if inside.empty:
        st.caption("None yet: this region is not checked by any stored run (an expedition for experiments).")
        return
    metrics = [m for m in metric_columns(inside, ctx.runset.sources) if inside[m].notna().any()]
    xs = [a for a in ctx.atlas.axes.names if inside[a].nunique() > 1] + config_columns(inside)
    if not metrics or not xs:
        st.dataframe(inside.drop(columns=[HOVER], errors="ignore").head(200), hide_index=True, width="stretch")
        return
    c1, c2 = st.columns(2)
    metric = c1.selectbox("Metric", metrics, key=f"dm_{row}")
    x = c2.selectbox("against", xs, key=f"dx_{row}")
    numeric = pd.api.types.is_numeric_dtype(inside[x])
    log_x = numeric and (inside[x] > 0).all() and inside[x].max() / max(inside[x].min(), 1e-300) > 50
    st.plotly_chart(runs_metric_figure(inside, metric, x, log_x=bool(log_x)), width="stretch", key=f"dfig_{row}")
