"""Add a result (or edit one added here): every field of the catalogue, the loader's checks, a map preview."""
from __future__ import annotations


import pandas as pd
import streamlit as st

from atlas_viz.catalogue.bibtex import MAX_BIBTEX_CHARS, parse_bibtex
from atlas_viz.catalogue.loader import FIRST_YEAR, MAX_CLAIM_CHARS, last_year
from atlas_viz.catalogue.contribute import (PREFIX, build_entry, check_entry, contributed_entries, entry_to_form, entry_yaml,
                                  save_entry, suggest_id)
from atlas_viz.figures.maps import map_figure
from atlas_viz.core.text import md_escape
from atlas_viz.core.names import (DIRECTIONS, EXTREMA, METHODS, MAP_TYPES, OBJECTS, PRECISIONS, PREDICTION_KINDS,
                                  QUANTITIES, RELATION_TYPES, STATUSES)
from atlas_viz.catalogue.predictions import FORM_KEYS as PREDICTION_FORM_KEYS, KIND_KEYS as PREDICTION_KIND_KEYS
from atlas_viz.coverage.preview import NEW_ID, preview_result
from atlas_viz.coverage.regions import region_shapes

from .context import ViewContext
from .sidebar import pretty

TEXT_KEYS = ("id", "claim", "authors", "title", "arxiv", "doi", "url", "venue", "notes", "aliases")
CHOICE_KEYS = ("map_type", "status", "precision", "method", "object")
MAX_NOTES_CHARS = 4000
ADD, EDIT = "Add a new result", "Edit a result added here"


def _blank(axes) -> dict:
    return {"id": "", "claim": "", "map_type": None, "region": {a.name: [] for a in axes.axes}, "observables": [],
            "authors": [], "year": None, "title": "", "arxiv": "", "doi": "", "url": "", "venue": "",
            "status": None, "precision": None, "method": None, "object": None, "relations": [], "notes": "",
            "aliases": "", "prediction": {}}


def _apply(form: dict, axes) -> None:
    """Put form values into the widgets' state (only ever before the widgets are drawn)."""
    ss = st.session_state
    for k in TEXT_KEYS:
        if k in form:
            v = form[k]
            ss[f"c_{k}"] = "\n".join(v) if isinstance(v, list) else ("" if v is None else str(v))
    for k in CHOICE_KEYS:
        if k in form:
            ss[f"c_{k}"] = form[k] if form[k] else None
    if "year" in form:
        y = form["year"]
        ss["c_year"] = y if isinstance(y, int) and not isinstance(y, bool) and FIRST_YEAR <= y <= last_year() else None
    if "observables" in form:
        ss["c_obs"] = [o for o in form["observables"] if o in axes.observable_names]
    if "region" in form:
        for ax in axes.axes:
            ss[f"c_ax_{ax.name}"] = [v for v in form["region"].get(ax.name, []) if v in ax.value_names]
    if "relations" in form:
        for kind in RELATION_TYPES:
            ss[f"c_rel_{kind}"] = [t for k, t in form["relations"] if k == kind]
    if "prediction" in form:
        for k in PREDICTION_FORM_KEYS:
            value = form["prediction"].get(k)
            ss[f"c_p_{k}"] = (value or None) if k in PREDICTION_CHOICES else (value or "")
        where = form["prediction"].get("where") or {}
        for ax in axes.axes:
            ss[f"c_pw_{ax.name}"] = [v for v in where.get(ax.name, []) if v in ax.value_names]


def _form_values(axes) -> dict:
    ss = st.session_state
    form = {k: ss.get(f"c_{k}") for k in TEXT_KEYS + CHOICE_KEYS}
    form["year"] = ss.get("c_year")
    form["observables"] = ss.get("c_obs", [])
    form["region"] = {ax.name: ss.get(f"c_ax_{ax.name}", []) for ax in axes.axes}
    form["relations"] = [(kind, t) for kind in RELATION_TYPES for t in ss.get(f"c_rel_{kind}", [])]
    form["prediction"] = {k: ss.get(f"c_p_{k}") for k in PREDICTION_FORM_KEYS}
    form["prediction"]["where"] = {ax.name: ss.get(f"c_pw_{ax.name}", []) for ax in axes.axes}
    return form


def contribute_view(ctx: ViewContext) -> None:
    ss = st.session_state
    axes = ctx.atlas.axes
    if "_c_pending" in ss:  # a BibTeX fill, an edit load or a reset asked for on the previous run
        _apply(ss.pop("_c_pending"), axes)
    for key, value in _blank(axes).items():  # first visit: empty form
        if key in ("region", "relations"):
            continue
        ss.setdefault(f"c_{'obs' if key == 'observables' else key}", "\n".join(value) if key == "authors" else value)
    for ax in axes.axes:
        ss.setdefault(f"c_ax_{ax.name}", [])
    for kind in RELATION_TYPES:
        ss.setdefault(f"c_rel_{kind}", [])

    st.markdown("#### Add a result to the atlas")
    st.caption("Describe one claim from a paper: what it says, what kind of map it is, and the region of the terrain "
               "where it holds. It is checked by the same rules as the catalogue files, previewed on the map, and "
               f"saved as its own YAML file (results/{PREFIX}<id>.yaml) that can be reviewed in a pull request.")
    if ss.get("_c_flash"):
        rid, path, n = ss["_c_flash"]
        st.success(f"Saved **{md_escape(rid)}** to {md_escape(path)}. The atlas now holds {n} results; "
                   "the new one is on the map, and no other marker moved.")
        st.button("Open it on the map", key="c_open_saved", on_click=_open_on_map, args=(rid,))

    contributed = contributed_entries(ctx.data_dir)
    mode = ADD
    if contributed:
        mode = st.radio("What do you want to do?", [ADD, EDIT], horizontal=True, key="c_mode",
                        on_change=_reset, args=(axes,))
    if mode == EDIT:
        c1, c2 = st.columns([3, 1])
        pick = c1.selectbox("Result added here earlier", sorted(contributed), key="c_edit_pick")
        c2.button("Load it into the form", key="c_load", on_click=_load, args=(contributed.get(pick), axes),
                  width="stretch")
        if ss.get("c_id") not in contributed:
            st.info("Pick a result and load it into the form; its id stays the same when you save it.")
            return

    _bibtex_box(axes)
    _fields(ctx, mode)

    form = _form_values(axes)
    suggested = suggest_id(form["authors"], form["year"], form["title"])
    if not form["id"]:
        form["id"] = suggested
    entry = build_entry(form, axes)
    ids = dict(zip(ctx.atlas.catalog.results["id"], ctx.atlas.catalog.results["file"]))
    _, problems = check_entry(entry, axes, ids, replace=(mode == EDIT))
    st.divider()
    left, right = st.columns([1.35, 1])
    with left:
        _preview(ctx, entry)
    with right:
        st.markdown("**Check**")
        if problems:
            st.caption(f"{len(problems)} thing(s) to fix before saving (the catalogue loader's own messages):")
            st.code("\n".join(f"- {p.field or 'entry'}: {p.message}" for p in problems), language=None, wrap_lines=True)
        else:
            st.caption("No problem found: the entry is ready to save.")
        with st.expander("The YAML that will be saved", expanded=not problems):
            st.code(entry_yaml(entry), language="yaml")
        label = "Save the changes" if mode == EDIT else "Save to the atlas"
        if st.button(label, type="primary", disabled=bool(problems), key="c_save", width="stretch"):
            outcome = save_entry(ctx.data_dir, entry, axes, replace=(mode == EDIT))
            if outcome.ok:
                ctx.reload()
                ss["_c_flash"] = (entry["id"], f"results/{outcome.path.name}", len(ctx.atlas.results) + (mode == ADD))
                ss["_c_pending"] = _blank(axes) if mode == ADD else entry_to_form(entry)
                st.rerun()
            st.error("Nothing was saved:")
            st.code("\n".join(str(p) for p in outcome.problems), language=None, wrap_lines=True)


def _reset(axes) -> None:
    ss = st.session_state
    _apply(_blank(axes), axes)
    ss.pop("_c_flash", None)


def _load(entry: dict | None, axes) -> None:
    if entry is not None:
        _apply({**_blank(axes), **entry_to_form(entry)}, axes)
        st.session_state.pop("_c_flash", None)


def _open_on_map(rid: str) -> None:
    st.session_state["view"] = "map"
    st.session_state["result"] = rid
    st.session_state.pop("_c_flash", None)


def _bibtex_box(axes) -> None:
    ss = st.session_state
    with st.expander("Fill in the citation from BibTeX", expanded=not ss.get("c_title")):
        st.text_area("Paste one BibTeX entry (from arXiv, Google Scholar, a .bib file)", key="c_bib", height=130,
                     max_chars=MAX_BIBTEX_CHARS, placeholder="@article{jacot2018neural,\n  title={Neural Tangent "
                     "Kernel: ...},\n  author={Jacot, Arthur and ...},\n  journal={arXiv preprint arXiv:1806.07572},"
                     "\n  year={2018}\n}")
        if st.button("Fill in from BibTeX", key="c_bib_go", disabled=not ss.get("c_bib")):
            fields, notes = parse_bibtex(ss.get("c_bib", ""))
            update = {k: fields[k] for k in ("authors", "year", "title", "arxiv", "doi", "url", "venue") if fields[k]}
            if update and not ss.get("c_id"):
                update["id"] = suggest_id(fields["authors"], fields["year"], fields["title"])
            ss["_c_pending"] = update
            ss["_c_bib_notes"] = notes or ["citation filled in; check it against the paper"]
            st.rerun()
        for note in ss.get("_c_bib_notes", []):
            st.text(note)


def _fields(ctx: ViewContext, mode: str) -> None:
    axes = ctx.atlas.axes
    form = _form_values(axes)
    c1, c2 = st.columns([1.35, 1])
    with c1:
        st.markdown("**The claim**")
        st.text_area("Claim: one sentence, in your own words", key="c_claim", max_chars=MAX_CLAIM_CHARS, height=90,
                     help="What the result says, including the conditions it needs. At most "
                          f"{MAX_CLAIM_CHARS} characters.")
        a, b = st.columns(2)
        types = dict(axes.map_types)
        a.selectbox("Kind of map", MAP_TYPES, key="c_map_type", index=None, placeholder="choose one",
                    format_func=lambda t: f"{pretty(t)}: {types.get(t, '')}"[:90],
                    help="How the result was obtained, from most to least rigorous.")
        obs = dict(axes.observables)
        b.multiselect("Observables: what it speaks about", axes.observable_names, key="c_obs", format_func=pretty,
                      help="\n".join(f"- {pretty(o)}: {d}" for o, d in obs.items()))
        st.markdown("**Region of validity**")
        st.caption("For each axis, the values where the claim holds; leave an axis empty for *any*.")
        cols = st.columns(2)
        for i, ax in enumerate(axes.axes):
            cols[i % 2].multiselect(pretty(ax.name), ax.value_names, key=f"c_ax_{ax.name}", format_func=pretty,
                                    placeholder="any",
                                    help=ax.description + "\n\n" + "\n".join(f"- {pretty(v.name)}: {v.description}"
                                                                              for v in ax.values))
    with c2:
        st.markdown("**Citation**")
        suggested = suggest_id(form["authors"], form["year"], form["title"])
        st.text_input("Id", key="c_id", disabled=(mode == EDIT), placeholder=suggested or "e.g. jacot2018_ntk",
                      help="Unique; lowercase letters, digits and _. Left empty, it is made from the first author, "
                           "the year and a word of the title. Other characters become _.")
        st.text_area("Authors, one per line", key="c_authors", height=90, placeholder="Arthur Jacot\nFranck Gabriel")
        y, t = st.columns([1, 2.2])
        y.number_input("Year", min_value=FIRST_YEAR, max_value=last_year(), step=1, key="c_year", placeholder="year")
        t.text_input("Title", key="c_title")
        x1, x2 = st.columns(2)
        x1.text_input("arXiv id", key="c_arxiv", placeholder="1806.07572")
        x2.text_input("DOI", key="c_doi", placeholder="10.1038/nature14539")
        x1.text_input("URL (http or https)", key="c_url")
        x2.text_input("Venue", key="c_venue", placeholder="NeurIPS 2018")
        with st.expander("Status, precision, relations, notes, short names (optional)"):
            q1, q2 = st.columns(2)
            q1.selectbox("Status (trueness)", STATUSES, key="c_status", index=None, placeholder="not recorded")
            q2.selectbox("Precision", PRECISIONS, key="c_precision", index=None, placeholder="not recorded",
                         format_func=pretty)
            q1.selectbox("Method", METHODS, key="c_method", index=None, placeholder="not recorded")
            q2.selectbox("Object of study", OBJECTS, key="c_object", index=None, placeholder="not recorded")
            ids = sorted(ctx.atlas.results["id"])
            for kind in RELATION_TYPES:
                st.multiselect(f"It {pretty(kind)}", ids, key=f"c_rel_{kind}", placeholder="no result")
            st.text_area("Notes", key="c_notes", max_chars=MAX_NOTES_CHARS, height=80)
            st.text_input("Short names (aliases), separated by commas", key="c_aliases",
                          placeholder="EoS, edge of stability",
                          help="Abbreviations and everyday names researchers search for; at most 12, each up to "
                               "40 characters.")
        with st.expander("Prediction: what runs can check (optional)"):
            _prediction_fields(axes)


PREDICTION_CHOICES = {"kind": PREDICTION_KINDS, "direction": DIRECTIONS, "extremum": EXTREMA}
PREDICTION_LABELS = {
    "metric": "Metric (a metric column of runs)", "against": "Against", "exponent_low": "Exponent: low",
    "exponent_high": "Exponent: high", "over": "Over (the swept quantity)", "across": "Across (what it must not move "
    "with)", "within_factor": "Within a factor", "near": "Near (where the metric peaks)", "at_most": "At most",
    "at_least": "At least", "direction": "Direction", "extremum": "Extremum",
}


def _prediction_fields(axes) -> None:
    """The prediction block: a kind, then only that kind's fields (documented in data/results/README.md)."""
    st.caption("What a metric of runs must do; `python -m atlas_viz check` fits it on the runs inside the region "
               "and one step outside it. Quantities: " + ", ".join(QUANTITIES) + ", an ordinal axis (monotone, "
               "bound), or a run column config.<name>.")
    kind = st.selectbox("Kind", PREDICTION_KINDS, key="c_p_kind", index=None, placeholder="no prediction",
                        format_func=pretty)
    if kind is None:
        return
    keys = ["metric"] + [k for k in PREDICTION_KIND_KEYS[kind] if k != "exponent"]
    if kind == "power_law":
        keys[1:1] = ["exponent_low", "exponent_high"]
    cols = st.columns(2)
    for i, key in enumerate(keys):
        if key in PREDICTION_CHOICES:
            cols[i % 2].selectbox(PREDICTION_LABELS[key], PREDICTION_CHOICES[key], key=f"c_p_{key}", index=None,
                                  placeholder="choose" if key == "direction" else "maximum")
        else:
            cols[i % 2].text_input(PREDICTION_LABELS[key], key=f"c_p_{key}")
    st.text_input("Basis: where in the paper the numbers come from", key="c_p_basis")
    _where_fields(axes)


def _where_fields(axes) -> None:
    """``where``: axes on which the prediction is tested in part of the region only (e.g. a law stated for µP)."""
    ss = st.session_state
    st.caption("Tested only where (optional): the values of an axis the prediction is stated for, within the "
               "region; leave an axis empty to test it over the whole region.")
    cols = st.columns(2)
    for i, ax in enumerate(axes.axes):
        options = list(ss.get(f"c_ax_{ax.name}") or ax.value_names)  # the region's values (all when any)
        key = f"c_pw_{ax.name}"
        if any(v not in options for v in ss.get(key, [])):  # the region was narrowed since: keep what still fits
            ss[key] = [v for v in ss[key] if v in options]
        cols[i % 2].multiselect(pretty(ax.name), options, key=key, format_func=pretty,
                                placeholder="whole region")


def _preview(ctx: ViewContext, entry: dict) -> None:
    """The region on plain land, in red, with the new marker among the existing ones."""
    atlas = ctx.atlas
    if atlas.terrain is None:
        st.info("The terrain is not built yet, so no preview can be drawn.")
        return
    mask, new = preview_result(atlas.axes, atlas.terrain, entry)
    rid = entry.get("id") or NEW_ID
    n = int(mask.sum())
    st.markdown("**Preview: its region of validity (red) on the map**")
    if not n:
        st.warning("This region holds no cell of the terrain (the axes declare these combinations impossible); "
                   "widen it.")
    mtype = new["map_type"].iloc[0] if n else "conjecture"
    others = atlas.results[atlas.results["id"] != rid]
    shown = pd.concat([others, new], ignore_index=True) if n else others
    raster = ctx.painter.paint(None, highlight=mask)
    regions = [(rid, mtype, region_shapes(mask, atlas.terrain))] if n else []
    fig = map_figure(raster, shown, regions=regions, selected=rid if n else None, height=520,
                     uirevision="contribute")
    st.plotly_chart(fig, key="c_preview", width="stretch", config={"scrollZoom": True, "displaylogo": False})
    share = n / max(len(atlas.terrain), 1)
    st.caption(f"{n:,} cells, {share:.2%} of the terrain. The circled marker is where the result will sit; every "
               "other marker stays where it is.")
