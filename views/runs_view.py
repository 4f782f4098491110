"""Runs: the stored run sources, and importing a table by upload with an interactive column mapping."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import streamlit as st
import yaml

from atlas_viz.terrain.axes import Axes
from atlas_viz.runs.mapping import parse_mapping, reference_axis
from atlas_viz.runs.importer import ImportResult, import_table, read_table, source_meta
from atlas_viz.runs.store import save_runs, slugify, source_exists
from atlas_viz.runs.suggest import column_kinds, guess_axis_column, guess_id_column, guess_metrics, guess_value

from .context import ViewContext

MAX_UPLOAD_MB = 50
"""Uploads above this size are refused with a pointer to the command line, which has no limit."""
PREVIEW_ROWS = 200
MAX_CATEGORIES = 30
UNKNOWN, CONSTANT = "(unknown: left out)", "(one value for the whole table)"
NO_ID = "(row number)"
NEW_SOURCE, APPEND, REPLACE = "new", "add these runs to it (a run with the same id is replaced)", "replace it"
EXAMPLE = (
    "run_id,width,depth,optimizer,lr,n_train,n_params,val_acc,test_loss,seed\n"
    "a1,128,4,adam,0.001,50000,120000,0.91,0.31,1\n"
    "a2,512,4,adam,0.003,50000,1600000,0.93,0.27,1\n"
    "a3,2048,8,sgd,0.1,50000,40000000,0.94,0.25,2\n"
    "a4,64,2,sgd,0.5,50000,9000,0.85,0.44,2\n"
    "a5,wide,4,adam,0.001,50000,120000,0.90,0.33,3\n"
    "a6,256,4,lbfgs,0.001,50000,400000,0.92,0.29,3\n"
    "a7,256,,adam,0.001,50000,400000,,0.30,4\n"
    "a2,512,4,adam,0.003,50000,1600000,0.93,0.27,5\n"
    "a9,-32,4,adam,0.001,50000,120000,0.90,0.32,5\n"
)


def runs_view(ctx: ViewContext) -> None:
    st.markdown("#### Runs: field observations on the map")
    st.caption("A run is one experiment: a configuration, placed in one cell of the terrain, plus what it "
               "measured. Stored runs are drawn on the map and mark their cells as observed. Import a sweep "
               "below (CSV or Parquet, one row per run); the same import runs on the command line with "
               "`python -m atlas_viz import-runs TABLE --mapping MAPPING.yaml`.")
    for note in st.session_state.pop("_runs_notes", []):
        st.success(note)
    stored_sources(ctx)
    st.divider()
    upload_section(ctx)


def stored_sources(ctx: ViewContext) -> None:
    sources = ctx.runset.sources
    if not sources:
        st.info("No runs are stored in this atlas yet.")
        return
    rows = [{"source": slug, "name": str(m.get("name", "")), "runs": int(m.get("rows", 0)),
             "license": str(m.get("license", "")), "url": str(m.get("url", "")),
             "metrics": ", ".join(map(str, m.get("metrics", []))), "imported": str(m.get("imported", ""))}
            for slug, m in sources.items()]
    st.markdown(f"**{sum(r['runs'] for r in rows):,} runs** stored in {len(rows)} source(s); "
                f"{len(ctx.runs):,} pass the sidebar's axis filters.")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={"url": st.column_config.LinkColumn("url")})


def upload_section(ctx: ViewContext) -> None:
    st.markdown("##### Import a table")
    c1, c2 = st.columns([3, 1])
    up = c1.file_uploader(f"Run table: CSV (any common encoding) or Parquet, up to {MAX_UPLOAD_MB} MB",
                          type=["csv", "parquet", "pq", "txt"], key="runs_upload")
    if c2.button("Use an example table", help="A 9-row sweep with some bad rows, to see how import works"):
        st.session_state["_runs_data"] = ("example_sweep.csv", EXAMPLE.encode("utf-8"))
    if up is not None:
        if up.size > MAX_UPLOAD_MB * 1024 * 1024:
            st.error(f"This file is {up.size / 1024 / 1024:,.0f} MB; uploads here are limited to {MAX_UPLOAD_MB} MB. "
                     "Import bigger tables with the command line, which has no limit and streams a million runs "
                     "in seconds: python -m atlas_viz import-runs TABLE --mapping MAPPING.yaml "
                     "(build the mapping here on a sample of the table, then download it below).")
            return
        st.session_state["_runs_data"] = (up.name, up.getvalue())
    if "_runs_data" not in st.session_state:
        st.caption("Choose a file to map its columns to the axes of the atlas.")
        return
    name, data = st.session_state["_runs_data"]
    raw, read_problems = _read_columns(data, name)
    if raw is None:
        st.error("This file cannot be imported:")
        st.dataframe(_problem_frame(read_problems), hide_index=True, width="stretch")
        return
    columns, dtypes, samples = raw
    st.caption(f"{name}: {len(columns)} columns, {samples.attrs.get('rows', 0):,} rows")
    mapping_data = mapping_form(ctx.atlas.axes, name, columns, dtypes, samples)
    mapping, problems = parse_mapping(mapping_data, "the mapping above", ctx.atlas.axes, columns)
    with st.expander("The mapping as YAML (save it to import the same kind of table from the command line)"):
        text = yaml.safe_dump(mapping_data, sort_keys=False, allow_unicode=True)
        st.code(text, language="yaml")
        st.download_button("Download the mapping", text, file_name=Path(name).stem + ".mapping.yaml",
                           mime="text/yaml")
    if mapping is None:
        st.error("The mapping cannot be used yet:")
        st.dataframe(_problem_frame(problems), hide_index=True, width="stretch")
        return
    result = _import(data, name, text, ctx.atlas.axes)
    preview(result)
    import_button(ctx, mapping, result, name)


@st.cache_data(max_entries=4, show_spinner="Reading the table…")
def _read_columns(data: bytes, name: str):
    """(columns, their kinds, up to 2,000 sample rows) or None when unreadable; and the problems met."""
    raw = read_table(data, name)
    if raw.frame is None or not len(raw.frame.columns):
        return None, raw.problems
    df = raw.frame
    sample = df.head(2000).copy()
    kinds = column_kinds(sample)
    sample.attrs["rows"] = len(df)
    return (list(df.columns), kinds, sample), raw.problems


@st.cache_data(max_entries=4, show_spinner="Applying the mapping…")
def _import(data: bytes, name: str, mapping_text: str, _axes: Axes) -> ImportResult:
    mapping, _ = parse_mapping(yaml.safe_load(mapping_text), "mapping", _axes)
    return import_table(data, mapping, _axes, name)


def _key(s: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", s)[:40]


def mapping_form(axes: Axes, name: str, columns: list[str], kinds: dict[str, str], sample: pd.DataFrame) -> dict:
    """Widgets for the source, id, each axis and the metrics; returns the mapping as plain data."""
    s1, s2, s3 = st.columns(3)
    src = {"name": s1.text_input("Source name", value=Path(name).stem, key="rm_name"),
           "url": s2.text_input("URL (where the runs come from)", key="rm_url"),
           "license": s3.text_input("License of the data", value="", placeholder="e.g. MIT, CC-BY-4.0",
                                    key="rm_license")}
    out: dict = {"source": {k: v for k, v in src.items() if v}}
    id_opts = [NO_ID, *columns]
    guess = guess_id_column(columns)
    rid = st.selectbox("Run id column (unique per run)", id_opts,
                       index=id_opts.index(guess) if guess else 0, key="rm_id")
    if rid != NO_ID:
        out["id"] = rid
    st.markdown("**Axes**: where each run sits on the terrain. Numbers are binned with the bins of `axes.yaml`; "
                "axes left out are unknown: those runs are placed at the axis default and marked as imputed.")
    out["axes"] = {}
    for ax in axes.axes:
        spec = _axis_widgets(axes, ax.name, columns, kinds, sample)
        if spec is not None:
            out["axes"][ax.name] = spec
    used = {c for spec in out["axes"].values() for c in (spec.get("column"), spec.get("per")) if c} | {rid}
    numeric = [c for c in columns if kinds[c] == "number" and c not in used]
    default = guess_metrics(numeric)
    out["metrics"] = st.multiselect("Metrics (numeric columns measured by each run)", numeric, default=default,
                                    key="rm_metrics")
    return out


def _axis_widgets(axes: Axes, name: str, columns: list[str], kinds: dict[str, str],
                  sample: pd.DataFrame) -> dict | None:
    ax = axes[name]
    bins = "; ".join(f"{v.name} [{v.bin[0]:g}, {v.bin[1]:g})" for v in ax.values if v.bin)
    help_ = ax.description + (f" Unit: {ax.unit}. Bins: {bins}." if bins else "")
    left = UNKNOWN if ax.default else "(choose: this axis has no default)"
    opts = [left, CONSTANT, *columns]
    guess = guess_axis_column(name, columns)
    c1, c2, c3 = st.columns([1.2, 1.4, 2.4])
    c1.markdown(f"**{name.replace('_', ' ')}**", help=help_)
    how = c2.selectbox(f"{name} from", opts, index=opts.index(guess) if guess else 0,
                       key=f"rm_ax_{name}", label_visibility="collapsed")
    if how == left:
        c3.caption(f"unknown: placed at '{ax.default}'" if ax.default else "required: pick a column or a value")
        return None
    if how == CONSTANT:
        v = c3.selectbox(f"{name} value", ax.value_names, key=f"rm_val_{name}", label_visibility="collapsed")
        return {"value": v}
    if ax.binned and kinds[how] == "number":
        spec: dict = {"column": how}
        ref = None if not ax.reference else reference_axis(axes, name)
        if name == "data_regime" or ax.unit.endswith("per parameter"):
            per = c3.selectbox("divided by (parameters)", ["(nothing: already a ratio)", *columns],
                               key=f"rm_per_{name}")
            if per in columns:
                spec["per"] = per
        elif ref:
            rel = c3.checkbox(f"already relative to the {ref}'s reference", key=f"rm_rel_{name}",
                              help=f"Otherwise divided by {ax.reference} according to the run's {ref}")
            if rel:
                spec["relative"] = True
        else:
            c3.caption(f"binned: {bins}")
        return spec
    return _category_widgets(ax, how, sample, c3)


def _category_widgets(ax, column: str, sample: pd.DataFrame, box) -> dict:
    labels = sample[column].dropna().astype(str).str.strip()
    uniques = list(pd.unique(labels[labels != ""]))[:MAX_CATEGORIES]
    values = {}
    with box.expander(f"{len(uniques)} label(s) of {column} -> {ax.name}", expanded=False):
        skip = "(not covered: skip those rows)"
        for u in uniques:
            opts = [skip, *ax.value_names]
            guess = guess_value(u, ax.value_names) or skip
            choice = st.selectbox(u, opts, index=opts.index(guess), key=f"rm_cat_{ax.name}_{_key(u)}")
            if choice != skip:
                values[u] = choice
    return {"column": column, "values": values} if values else {"column": column}


def _problem_frame(problems) -> pd.DataFrame:
    return pd.DataFrame([{"where": p.entry, "column": p.field, "problem": p.message} for p in problems],
                        columns=["where", "column", "problem"])


def preview(result: ImportResult) -> None:
    n_ok, n = len(result.table), result.rows_read
    m1, m2, m3 = st.columns(3)
    m1.metric("rows read", f"{n:,}")
    m2.metric("runs that import", f"{n_ok:,}")
    m3.metric("rows skipped", f"{result.rows_skipped:,}")
    if result.problems:
        st.markdown(f"**{len(result.problems)} problem(s)**: skipped rows and notes, each with its line and reason")
        st.dataframe(_problem_frame(result.problems), hide_index=True, width="stretch", height=min(
            38 + 35 * len(result.problems), 320))
    st.markdown(f"**Preview of the mapped runs** (first {min(PREVIEW_ROWS, n_ok)} of {n_ok:,}; empty axis = unknown)")
    st.dataframe(result.table.head(PREVIEW_ROWS), hide_index=True, width="stretch")


def import_button(ctx: ViewContext, mapping, result: ImportResult, name: str) -> None:
    if not len(result.table):
        st.warning("No row can be imported: fix the problems above or the mapping.")
        return
    slug = slugify(mapping.source.get("name") or Path(name).stem)
    how = NEW_SOURCE
    if source_exists(ctx.data_dir, slug):  # never replaced without being asked
        how = st.radio(f"A source '{slug}' is stored already: add these runs to it, or replace it?",
                       (APPEND, REPLACE), index=None, key="rm_how")
    if not mapping.source.get("license"):
        st.caption("No license given: the source will be stored with license 'not stated'.")
    if st.button(f"Import {len(result.table):,} runs as '{slug}'", type="primary", disabled=how is None,
                 key="rm_import"):
        meta = source_meta(mapping, result, name, {"via": "app upload"})
        folder = save_runs(ctx.data_dir, slug, result.table, meta, append=how == APPEND)
        st.session_state["_runs_notes"] = [f"Imported {len(result.table):,} runs into {folder}. They are on the map "
                                           "now (layer 'Runs')."]
        st.session_state.pop("_runs_data", None)
        ctx.reload()
        st.rerun()

