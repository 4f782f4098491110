"""Expeditions: the ranked gaps, why each is one, where it lies on the map, and a runner for the small ones."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from atlas_viz.coverage.levels import cell_level
from atlas_viz.expeditions.runner import plan_sweep, run_sweep
from atlas_viz.expeditions.ranking import PART_COLUMNS, select, to_csv, to_markdown
from atlas_viz.figures.maps import map_figure
from atlas_viz.terrain.layout import continent_labels
from atlas_viz.core.text import md_escape
from atlas_viz.expeditions.gaps import (KIND_LABELS, KIND_WANTED, KINDS, PREDICTION_GAPS, SCORE_HELP, SCORE_WEIGHTS,
                                       Gap)
from atlas_viz.expeditions.loop import run_prediction_expedition
from atlas_viz.checks.evidence import evidence_points
from atlas_viz.figures.evidence import evidence_figure

from .context import ViewContext
from .sidebar import pretty

MAX_BUDGET = 600
PART_LABELS = {"proximity": "proximity", "size": "size", "relevance": "relevance", "kind": "kind weight"}


def expeditions_view(ctx: ViewContext, gaps: list[Gap], frame: pd.DataFrame, table: pd.DataFrame) -> None:
    """``gaps`` and ``frame`` from ``expeditions.compute_expeditions``; ``table`` the coverage of the whole catalogue."""
    ss = st.session_state
    st.markdown("#### Expeditions: where the next project could go")
    st.caption("Each expedition is a gap of the atlas: a connected block of cells, described by its axis values, "
               "where coverage of one observable is missing or disputed. They are ranked by a score whose parts "
               "are shown; pick one to see why it is a gap and where it lies, and run the small ones here.")
    if ss.pop("_x_flash", None) is not None:
        st.success(md_escape(ss.pop("_x_flash_text", "Runs stored.")))
        _show_evidence(ctx, ss.pop("_x_evidence", None))
    c1, c2, c3 = st.columns([1.3, 1.3, 0.8])
    kinds = c1.multiselect("Kind of gap", KINDS, key="x_kinds", format_func=KIND_LABELS.get, placeholder="all kinds",
                           help="\n".join(f"- {KIND_LABELS[k]}: wanted, {KIND_WANTED[k]}" for k in KINDS))
    obs = c2.multiselect("Observable", ctx.atlas.axes.observable_names, key="x_obs", format_func=pretty,
                         placeholder="all observables")
    runnable = c3.checkbox("Runnable here only", key="x_runnable",
                           help="Only gaps with cells the CPU runner can train: small networks on tasks generated in "
                                "code or on scikit-learn's digits.")
    chosen = select(frame, tuple(kinds), tuple(obs), runnable)
    if frame.empty:
        st.info("The atlas has no gap: every cell is charted and checked for every observable.")
        return
    if chosen.empty:
        st.warning("No expedition matches these choices; clear a filter above to see more.")
        return
    counts = chosen["kind"].value_counts()
    st.markdown(f"**{len(chosen):,}** of {len(frame):,} expeditions: "
                + " · ".join(f"{KIND_LABELS[k]} **{int(counts.get(k, 0))}**" for k in KINDS)
                + f" · runnable here **{int(chosen['runnable'].sum())}**")
    with st.expander("How the score is made"):
        st.markdown("Score = " + " + ".join(f"{w} × {k}" for k, w in SCORE_WEIGHTS.items()) + ", each part in [0, 1]:")
        st.markdown("\n".join(f"- **{k}**: {md_escape(v)}" for k, v in SCORE_HELP.items()))
        st.markdown("Expeditions that could change a verdict of the atlas come first, whatever their score: an "
                    "untested prediction (could change 1.0), an inconclusive one (0.8), the frontier one step outside "
                    "an agreeing one (0.6); then every other gap (0).")
    listing = pd.DataFrame({
        "rank": np.arange(1, len(chosen) + 1), "kind": chosen["kind"].map(KIND_LABELS),
        "observables": chosen["observables"].map(lambda o: ", ".join(pretty(x) for x in o)),
        "where": chosen["where"], "named results": chosen["results"].map(lambda r: ", ".join(r[:2]) + (" …" if len(r) > 2 else "")),
        "tests": [f"{r} · {pretty(m)}" if r else "" for r, m in zip(chosen["result"], chosen["metric"])],
        "could change": chosen["change"],
        "score": chosen["score"], **{PART_LABELS[k]: chosen[col] for k, col in PART_COLUMNS.items()},
        "cells": chosen["n_cells"], "runs": chosen["n_runs"], "runnable": chosen["runnable"], "id": chosen["id"]})
    event = st.dataframe(listing, hide_index=True, width="stretch", height=320, key="x_table", on_select="rerun",
                         selection_mode="single-row",
                         column_config={"score": st.column_config.ProgressColumn("score", min_value=0, max_value=1,
                                                                                 format="%.3f"),
                                        "where": st.column_config.TextColumn(width="large")})
    d1, d2, _ = st.columns([1, 1, 2])
    d1.download_button("Download this list (Markdown)", to_markdown(chosen), "atlas_expeditions.md", "text/markdown")
    d2.download_button("Download this list (CSV)", to_csv(chosen), "atlas_expeditions.csv", "text/csv")
    rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
    ids = list(chosen["id"])
    if rows:
        ss["x_pick"] = ids[rows[0]]
    pick = ss.get("x_pick") if ss.get("x_pick") in ids else ids[0]
    st.caption("Select a row to open it; the first is shown until you do.")
    st.divider()
    _show(ctx, {g.id: g for g in gaps}[pick], chosen[chosen["id"] == pick].iloc[0], table)


def _show(ctx: ViewContext, gap: Gap, row: pd.Series, table: pd.DataFrame) -> None:
    atlas = ctx.atlas
    level = cell_level(table, gap.observables)
    left, right = st.columns([1.35, 1])
    with left:
        st.markdown(f"**{KIND_LABELS[gap.kind].capitalize()}** · {md_escape(', '.join(pretty(o) for o in gap.observables))}"
                    f" · `{gap.id}`")
        st.text(row["explanation"])
        mask = np.zeros(len(atlas.terrain), dtype=bool)
        mask[gap.cells] = True
        near = atlas.results[atlas.results["id"].isin(gap.neighbours + gap.results)]
        fig = map_figure(ctx.painter.paint(level, highlight=mask, dim=True), near, height=480,
                         uirevision=f"expeditions|{gap.id}", labels=continent_labels(atlas.axes, atlas.layout),
                         regions=[(gap.id, "conjecture", ctx.painter.outlines(mask))], selected=gap.id,
                         region_name=f"expedition {gap.id}")
        st.plotly_chart(fig, key="x_map", width="stretch", config={"scrollZoom": True, "displaylogo": False})
        st.caption(f"Filled in orange with red dots: the expedition's {gap.n_cells:,} cells; land coloured by "
                   "coverage (washed out); markers: the results named here and the neighbours of the gap; labels "
                   "name each continent (task) and island (architecture).")
    with right:
        st.markdown("**Score parts**")
        st.dataframe(pd.DataFrame({"part": list(SCORE_WEIGHTS), "value": [row[c] for c in PART_COLUMNS.values()],
                                   "weight": list(SCORE_WEIGHTS.values())}), hide_index=True, width="stretch")
        st.markdown("**Where, in axis terms**")
        st.dataframe(pd.DataFrame([(pretty(a.name), ", ".join(pretty(v) for v in gap.values.get(a.name, a.value_names))
                                    if len(gap.values.get(a.name, a.value_names)) < len(a.values) else "any")
                                   for a in atlas.axes.axes], columns=["axis", "values"]),
                     hide_index=True, width="stretch")
        related = list(dict.fromkeys(gap.results + gap.neighbours))
        if related:
            st.markdown("**Results that make it a gap, and its neighbours**")
            for i, rid in enumerate(related):
                st.button(f"{'★ ' if rid in gap.results else ''}{rid}", key=f"x_open_{gap.id}_{i}",
                          on_click=_open_on_map, args=(rid,), help="Open this result on the map")
        _runner(ctx, gap, int(row["n_runnable"]))


def _open_on_map(rid: str) -> None:
    st.session_state["view"] = "map"
    st.session_state["result"] = rid


def _show_evidence(ctx: ViewContext, rid: str | None) -> None:
    """After an expedition on a prediction: the result's evidence plot, as the detail panel draws it."""
    check = ctx.checks.get(rid) if rid else None
    if check is None:
        return
    row = ctx.atlas.results.loc[ctx.atlas.results["id"] == rid].iloc[0]
    st.plotly_chart(evidence_figure(check, evidence_points(row, ctx.run_table)), width="stretch",
                    key=f"x_evidence_{rid}")


def _prediction_runner(ctx: ViewContext, gap: Gap, n_runnable: int) -> None:
    """Run the sweep a prediction needs, store it, check the result again and say what changed."""
    st.caption(f"Tests the prediction of {gap.result} on {pretty(gap.metric)}: an experiment kind that records it "
               f"sweeps the quantity the prediction reads, in the {n_runnable:,} cell(s) of this expedition it "
               "reaches. Each finished run is stored at once; afterwards the result is checked again.")
    a, b, c = st.columns(3)
    budget = a.number_input("Time budget (s)", 5, MAX_BUDGET, 120, step=5, key="x_budget")
    max_runs = b.number_input("Runs at most", 1, 300, 24, step=4, key="x_max_runs")
    workers = c.number_input("Local processes", 1, 8, 1, key="x_workers",
                             help="Runs in parallel on this many processes (joblib)")
    if not st.button("Run this expedition", type="primary", key="x_run", width="stretch"):
        return
    bar = st.progress(0.0, text="planning the sweep")
    try:
        out = run_prediction_expedition(
            ctx.data_dir, ctx.atlas, gap, list(ctx.checks.values()), float(budget), int(max_runs), int(workers),
            progress=lambda done, total, text: bar.progress(done / max(total, 1), text=f"{done} of {total}: {text}"),
            command=f"app: expedition {gap.id}")
    except ValueError as err:
        st.error(md_escape(str(err)))
        return
    ctx.reload()
    r = out.report
    st.session_state["_x_flash"] = True
    st.session_state["_x_flash_text"] = (f"Expedition {gap.id}: {r.done} of {r.planned} runs of {out.kind} finished "
                                         f"in {r.seconds:.0f} s ({r.stopped}). {gap.result}: {out.change}.")
    st.session_state["_x_evidence"] = gap.result
    st.rerun()


def _runner(ctx: ViewContext, gap: Gap, n_runnable: int) -> None:
    st.markdown("**Go there**")
    if gap.kind in PREDICTION_GAPS:
        if n_runnable:
            _prediction_runner(ctx, gap, n_runnable)
        else:
            st.caption(f"Out of reach of this laptop: no experiment kind here records {pretty(gap.metric)} while "
                       "sweeping what the prediction reads in these cells. A sweep on real models in this region "
                       "would decide it.")
        return
    if not n_runnable:
        st.caption("Out of reach of this laptop: none of these cells can be trained by the CPU runner (it trains "
                   "linear, kernel, shallow and 2-3 layer networks up to 1,024 units on generated tasks and "
                   "scikit-learn's digits, with standard parameterization).")
        return
    a, b = st.columns(2)
    budget = a.number_input("Time budget (s)", 5, MAX_BUDGET, 60, step=5, key="x_budget")
    max_runs = b.number_input("Runs at most", 1, 300, 40, step=5, key="x_max_runs")
    st.caption(f"{n_runnable:,} of its cells can be trained here; the sweep takes each cell once, then again with "
               f"new seeds, up to {int(max_runs)} runs. Every finished run is stored at once in runs/expeditions; "
               "pressing Stop (top right) or leaving the page keeps what finished.")
    if not st.button("Run this expedition", type="primary", key="x_run", width="stretch"):
        return
    plan = plan_sweep(ctx.atlas.axes, ctx.atlas.terrain, gap.cells, gap.id, max_runs=int(max_runs))
    bar = st.progress(0.0, text=f"0 of {len(plan)} runs")
    report = run_sweep(ctx.data_dir, ctx.atlas.axes, plan, budget=float(budget),
                       progress=lambda done, total, text: bar.progress(done / total, text=f"{done} of {total}: {text}"),
                       command=f"app: expedition {gap.id}")
    ctx.reload()
    st.session_state["_x_flash"] = True
    st.session_state["_x_flash_text"] = (f"Expedition {gap.id}: {report.done} of {report.planned} runs finished in "
                                         f"{report.seconds:.0f} s ({report.stopped}). The fog lifted where they "
                                         "observed, and the list below is ranked again.")
    st.rerun()
