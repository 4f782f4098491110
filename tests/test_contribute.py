"""Adding results: built from form fields, checked like the loader, saved atomically under a lock, never overwriting."""
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from atlas_viz.atlas import load_atlas
from atlas_viz.catalogue.bibtex import parse_bibtex
from atlas_viz.catalogue.loader import load_catalog, parse_results_text
from atlas_viz.catalogue.contribute import (build_entry, contributed_entries, contributed_path, entry_to_form, entry_yaml,
                                  save_entry, slugify_id, suggest_id)

from conftest import ROOT, make_data, run_cli

FORM = {"id": "Zed 2023: Width!", "claim": "Wider networks  generalize better\non images.", "map_type": "empirical_law",
        "region": {"task": ["image_classification"], "width": ["wide", "moderate"]}, "observables": ["generalization"],
        "authors": "Zoe Zed\nAda Alpha", "year": "2023", "title": "On width", "arxiv": "arXiv:2301.00001",
        "relations": [("tests", "alpha2020_theorem")], "notes": "A note.", "status": "", "precision": "quantitative"}


def entry(axes, **changes):
    return build_entry({**FORM, **changes}, axes)


def test_form_fields_become_a_catalogue_entry_that_the_loader_accepts(axes):
    e = entry(axes)
    assert e["id"] == "zed_2023_width"
    assert e["claim"] == "Wider networks generalize better on images."
    assert e["region"]["width"] == ["moderate", "wide"] and e["region"]["depth"] == "any"
    assert e["citation"] == {"authors": ["Zoe Zed", "Ada Alpha"], "year": 2023, "title": "On width",
                             "arxiv": "2301.00001"}
    assert "status" not in e and e["precision"] == "quantitative"
    text = entry_yaml(e)
    assert text.startswith("# Added through the atlas app")
    assert "arxiv: '2301.00001'" in text and "- {type: tests, target: alpha2020_theorem}" in text
    rows, problems = parse_results_text(text, "x.yaml", axes)
    assert problems == [] and rows[0]["id"] == "zed_2023_width"
    assert build_entry(entry_to_form(e), axes) == e  # editing round trip


def test_save_adds_a_file_the_atlas_loads_without_moving_other_points(data_dir, axes):
    before = load_atlas(data_dir).results.set_index("id")
    out = save_entry(data_dir, entry(axes), axes)
    assert out.ok and out.path == data_dir.resolve() / "results" / "contributed_zed_2023_width.yaml"
    after = load_atlas(data_dir)
    assert after.problems == []
    res = after.results.set_index("id")
    assert len(res) == len(before) + 1 and "zed_2023_width" in res.index
    np.testing.assert_array_equal(res.loc[before.index, ["x", "y"]].to_numpy(), before[["x", "y"]].to_numpy())
    assert res.loc["zed_2023_width", "relations"] == (("tests", "alpha2020_theorem"),)


def test_existing_id_is_refused_and_the_file_is_untouched(data_dir, axes):
    good = (data_dir / "results" / "good.yaml").read_bytes()
    out = save_entry(data_dir, entry(axes, id="alpha2020_theorem", relations=[]), axes)
    assert not out.ok and out.path is None
    assert [p.field for p in out.problems] == ["id"]
    assert "duplicate id: already used in good.yaml" in out.problems[0].message
    assert "never overwritten" in out.problems[0].message
    assert (data_dir / "results" / "good.yaml").read_bytes() == good
    assert not list((data_dir / "results").glob("contributed_*"))
    # and an id added earlier is refused too, unless it is an edit
    assert save_entry(data_dir, entry(axes), axes).ok
    again = save_entry(data_dir, entry(axes, claim="Changed."), axes)
    assert not again.ok and "edit it" in again.problems[0].message
    edited = save_entry(data_dir, entry(axes, claim="Changed."), axes, replace=True)
    assert edited.ok
    assert contributed_entries(data_dir)["zed_2023_width"]["claim"] == "Changed."


def test_only_results_added_through_the_app_can_be_edited(data_dir, axes):
    out = save_entry(data_dir, entry(axes, id="alpha2020_theorem", relations=[]), axes, replace=True)
    assert not out.ok and "only results added through the app can be edited" in out.problems[0].message
    out = save_entry(data_dir, entry(axes, id="never_added"), axes, replace=True)
    assert not out.ok and "no result 'never_added' added through the app" in out.problems[0].message


@pytest.mark.parametrize("bad", ["../../etc/passwd", "/abs/path", "a/b", "..", "x\x00y", "CON", "a b", "é"])
def test_ids_cannot_name_a_path_outside_the_results_folder(data_dir, axes, bad):
    slug = slugify_id(bad)
    assert slug == "" or (slug.replace("_", "").isalnum() and "/" not in slug and "." not in slug)
    raw = entry(axes)
    raw["id"] = bad  # as if it came from a file, not the form
    out = save_entry(data_dir, raw, axes)
    assert not out.ok and any(p.field == "id" for p in out.problems)
    with pytest.raises(ValueError):
        contributed_path(data_dir, bad)
    assert sorted(p.name for p in (data_dir / "results").iterdir()) == [".contributions.lock", "good.yaml"]
    assert sorted(p.name for p in data_dir.parent.iterdir()) == ["data"]


def test_loader_messages_and_unknown_relation_targets(data_dir, axes):
    out = save_entry(data_dir, entry(axes, map_type="theorm", relations=[("tests", "nobody_2020")],
                                     region={"width": ["huge"]}), axes)
    msgs = {p.field: p.message for p in out.problems}
    assert msgs["map_type"].startswith("map_type must be one of theorem") and "did you mean 'theorem'" in msgs["map_type"]
    assert "a value of width must be one of" in msgs["region.width"]
    assert msgs["relations[0].target"] == "relates to unknown id 'nobody_2020'"
    assert all(p.file == "contributed_zed_2023_width.yaml" and p.entry == "zed_2023_width" for p in out.problems)


def test_suggested_ids():
    assert suggest_id(["Arthur Jacot", "Franck Gabriel"], 2018, "Neural Tangent Kernel") == "jacot2018_neural"
    assert suggest_id("Müller, Jörg", 2020, "On the Edge of Stability") == "muller2020_edge"
    assert suggest_id([], None, None) == ""


# ---- concurrency and crashes -----------------------------------------------------------------------------------


def _writer(data_dir, rid, barrier, queue):
    from atlas_viz.terrain.axes import load_axes

    axes = load_axes(data_dir / "axes.yaml")
    n = sum(map(ord, rid)) % 90000  # each writer cites its own paper: one paper has one entry per kind and region
    e = build_entry({**FORM, "id": rid, "arxiv": f"2301.{10000 + n:05d}", "relations": []}, axes)
    barrier.wait()
    out = save_entry(data_dir, e, axes)
    queue.put((rid, out.ok, [p.message for p in out.problems]))


def _race(data_dir, ids):
    ctx = mp.get_context("fork")
    barrier, queue = ctx.Barrier(len(ids)), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(data_dir, rid, barrier, queue)) for rid in ids]
    for p in procs:
        p.start()
    outcomes = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return outcomes


def test_concurrent_writers_all_keep_their_entries(data_dir, axes):
    ids = [f"writer{i}_2023" for i in range(8)]
    outcomes = _race(data_dir, ids)
    assert all(ok for _, ok, _ in outcomes), outcomes
    cat = load_catalog(data_dir, axes)
    assert cat.problems == [] and set(ids) <= set(cat.results["id"])


def test_concurrent_writers_of_one_id_one_wins_the_others_are_told(data_dir):
    outcomes = _race(data_dir, ["same_id_2023"] * 6)
    assert sum(ok for _, ok, _ in outcomes) == 1, outcomes
    refused = [m for _, ok, msgs in outcomes if not ok for m in msgs]
    assert len(refused) == 5 and all("duplicate id" in m for m in refused)


KILLER = textwrap.dedent("""\
    import os, sys, time
    from pathlib import Path
    import atlas_viz.catalogue.contribute as c
    from atlas_viz.terrain.axes import load_axes

    real_fsync = os.fsync

    def announced_fsync(fd):  # the new text is in the temporary file; say so, and linger before the rename
        print("written", flush=True)
        time.sleep(float(sys.argv[2]))
        real_fsync(fd)

    os.fsync = announced_fsync
    data = Path(sys.argv[1])
    axes = load_axes(data / "axes.yaml")
    k = 0
    while True:
        k += 1
        notes = f"version{k} " * 20000
        e = c.build_entry({"id": "victim_2020", "claim": "c.", "map_type": "heuristic", "region": {},
                           "observables": ["scaling"], "authors": ["A B"], "year": 2020, "title": "T",
                           "arxiv": "2001.00001", "notes": notes}, axes)
        assert c.save_entry(data, e, axes, replace=True).ok
    """)


def test_a_save_killed_midway_leaves_the_old_or_the_new_file(data_dir, axes):
    first = build_entry({**FORM, "id": "victim_2020", "relations": [], "notes": "version0"}, axes)
    assert save_entry(data_dir, first, axes).ok
    results = data_dir / "results"
    target = results / "contributed_victim_2020.yaml"
    seen = set()
    # Killed while the new text sits in the temporary file (deterministic), then at random moments of saves.
    for linger, delay in ((5, 0.0), (0, 0.05), (0, 0.23), (0, 0.41)):
        proc = subprocess.Popen([sys.executable, "-c", KILLER, str(data_dir), str(linger)], cwd=ROOT,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "written"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        if linger:
            assert list(results.glob(".contributed_victim_2020.yaml.*.tmp")), "the kill did not land mid-save"
        rows, problems = parse_results_text(target.read_text(encoding="utf-8"), target.name, axes)
        assert problems == [] and len(rows) == 1, "a killed save left a broken file"
        words = set(rows[0]["notes"].split())
        assert len(words) == 1, "a killed save left a mixed file"
        if linger:
            assert words == {"version0"}, "the old file must stay until the new one is complete"
        seen |= words
    assert len(seen) >= 2  # some random kills came after a completed save
    # temporary files of killed saves are never read as results, and the next save clears them
    assert load_catalog(data_dir, axes).problems == []
    assert save_entry(data_dir, entry(axes, id="after_2020"), axes).ok
    assert not list(results.glob(".*.tmp"))


# ---- command line --------------------------------------------------------------------------------------------


def cli(*args):
    return run_cli(*args)


def test_add_result_command(data_dir, tmp_path):
    f = tmp_path / "new.yaml"
    f.write_text(textwrap.dedent("""\
        - id: gamma2022_depth
          claim: Deeper is different.
          map_type: conjecture
          region: {depth: [deep]}
          observables: [generalization]
          citation: {authors: [Gi Gamma], year: 2022, title: Gamma, url: "https://example.org/g"}
        """))
    out = cli("add-result", str(f), "--data", str(data_dir))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "added gamma2022_depth" in out.stdout
    assert (data_dir / "results" / "contributed_gamma2022_depth.yaml").exists()
    again = cli("add-result", str(f), "--data", str(data_dir))
    assert again.returncode == 1 and "Traceback" not in again.stdout + again.stderr
    assert "new.yaml, entry gamma2022_depth, field id: duplicate id" in again.stdout
    assert cli("add-result", str(f), "--data", str(data_dir), "--replace").returncode == 0
    assert cli("validate", "--data", str(data_dir)).returncode == 0


def test_add_result_command_writes_nothing_when_one_entry_is_bad(data_dir, tmp_path):
    f = tmp_path / "two.yaml"
    f.write_text(textwrap.dedent("""\
        - id: fine2022_one
          claim: Fine.
          map_type: heuristic
          region: any
          observables: [scaling]
          citation: {authors: [A B], year: 2022, title: T, arxiv: "2201.00001"}
        - id: Bad Id
          claim: Bad.
        """))
    out = cli("add-result", str(f), "--data", str(data_dir))
    assert out.returncode == 1 and "nothing was written" in out.stdout
    assert "entry Bad Id, field id: must be 2-80 lowercase" in out.stdout and "'bad_id'" in out.stdout
    assert not list((data_dir / "results").glob("contributed_*"))
    for text, msg in (("[unclosed", "not valid YAML"), ("", "is empty"), ("42", "must hold one result")):
        f.write_text(text)
        out = cli("add-result", str(f), "--data", str(data_dir))
        assert out.returncode == 1 and msg in out.stdout and "Traceback" not in out.stderr


# ---- BibTeX ------------------------------------------------------------------------------------------------------


def test_bibtex_from_scholar_and_arxiv():
    scholar = r"""@article{jacot2018neural,
      title={Neural tangent kernel: Convergence and generalization in neural networks},
      author={Jacot, Arthur and Gabriel, Franck and Hongler, Cl{\'e}ment},
      journal={arXiv preprint arXiv:1806.07572},
      year={2018}
    }"""
    f, notes = parse_bibtex(scholar)
    assert f["authors"] == ["Arthur Jacot", "Franck Gabriel", "Clément Hongler"] and f["year"] == 2018
    assert f["arxiv"] == "1806.07572" and f["venue"] is None and notes == []
    arxiv = """@misc{kaplan2020scaling, title={Scaling Laws for Neural Language Models},
      author={Jared Kaplan and Sam McCandlish and others}, year={2020}, eprint={2001.08361},
      archivePrefix={arXiv}, primaryClass={cs.LG}, url={https://arxiv.org/abs/2001.08361}}"""
    f, _ = parse_bibtex(arxiv)
    assert f["authors"] == ["Jared Kaplan", "Sam McCandlish", "others"] and f["arxiv"] == "2001.08361"
    assert f["url"] is None  # the arXiv link is kept as the arxiv id
    doi = """@article{lecun2015, author = "LeCun, Yann and Bengio, Yoshua" # " and Hinton, Geoffrey",
      title = "Deep {L}earning", journal = {Nature}, year = 2015, month = may,
      doi = {https://doi.org/10.1038/nature14539}, url = {javascript:alert(1)}}"""
    f, notes = parse_bibtex(doi)
    assert f["authors"] == ["Yann LeCun", "Yoshua Bengio", "Geoffrey Hinton"] and f["title"] == "Deep Learning"
    assert f["doi"] == "10.1038/nature14539" and f["venue"] == "Nature" and f["url"] is None
    assert any("only http:// or https://" in n for n in notes)


@pytest.mark.parametrize("junk", ["", "hello", "@", "@article{", "@article{k,", "@article{k, title={a{b}", "}}}{{{",
                                  "@article(k, title = \"x\" # , year=)", None, 12, "@misc{k, author={and and}}"])
def test_bibtex_junk_never_raises(junk):
    fields, notes = parse_bibtex(junk)
    assert set(fields) >= {"authors", "year", "title", "arxiv", "doi", "url"} and isinstance(notes, list)


# ---- the view ----------------------------------------------------------------------------------------------------


def test_contribute_view_adds_previews_saves_and_edits(tmp_path, monkeypatch):
    data = make_data(tmp_path)
    monkeypatch.setenv("ATLAS_DATA", str(data))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["view"] = "contribute"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.button(key="c_save").disabled
    assert any("claim: is missing" in c.value for c in at.code)
    at.text_area(key="c_claim").input("Wide networks generalize.")
    at.selectbox(key="c_map_type").set_value("heuristic")
    at.multiselect(key="c_obs").set_value(["generalization"])
    at.multiselect(key="c_ax_width").set_value(["wide"])
    at.text_area(key="c_bib").input("@article{k, title={On width}, author={Zed, Zoe}, year={2023}, "
                                    "journal={arXiv preprint arXiv:2301.00001}}")
    at.run()
    at.button(key="c_bib_go").click().run()
    assert at.session_state["c_id"] == "zed2023_width" and at.session_state["c_authors"] == "Zoe Zed"
    spec = [c for c in at.get("plotly_chart") if "region of zed2023_width" in c.proto.spec]
    assert spec, "no preview of the region"
    assert not at.button(key="c_save").disabled
    at.button(key="c_save").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert (data / "results" / "contributed_zed2023_width.yaml").exists()
    assert any("zed2023" in s.value for s in at.success)
    assert at.session_state["c_claim"] == ""  # the form is cleared for the next one
    # edit it
    at.radio(key="c_mode").set_value("Edit a result added here").run()
    at.button(key="c_load").click().run()
    assert at.session_state["c_claim"] == "Wide networks generalize." and at.text_input(key="c_id").disabled
    at.text_area(key="c_claim").input("Wide networks generalize well.").run()
    at.button(key="c_save").click().run()
    assert not at.exception
    assert contributed_entries(data)["zed2023_width"]["claim"] == "Wide networks generalize well."
    # it is on the map, without a restart
    at.button(key="c_open_saved").click().run()
    assert at.session_state["view"] == "map" and at.session_state["result"] == "zed2023_width"
    assert any("Wide networks generalize well." in t.value for t in at.text)


def test_prediction_where_goes_from_the_form_to_the_file_and_back(tmp_path, monkeypatch):
    from atlas_viz.catalogue.predictions import build_prediction, prediction_form

    form = {"kind": "bound", "metric": "test_error", "at_most": "0.5", "where": {"width": ["wide"], "depth": []}}
    block = build_prediction(form)
    assert block == {"kind": "bound", "metric": "test_error", "at_most": 0.5, "where": {"width": ["wide"]}}
    assert prediction_form(block)["where"] == {"width": ["wide"]}
    assert "where" not in build_prediction({**form, "where": {"width": []}})

    data = make_data(tmp_path)
    monkeypatch.setenv("ATLAS_DATA", str(data))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["view"] = "contribute"
    at.run()
    at.text_input(key="c_id").input("zed2023_bound")
    at.text_area(key="c_claim").input("Wide networks keep their test error below one half.")
    at.selectbox(key="c_map_type").set_value("empirical_law")
    at.multiselect(key="c_obs").set_value(["generalization"])
    at.multiselect(key="c_ax_width").set_value(["wide", "infinite"])
    at.text_area(key="c_authors").input("Zoe Zed")
    at.number_input(key="c_year").set_value(2023)
    at.text_input(key="c_title").input("On width")
    at.text_input(key="c_url").input("https://example.org/width")
    at.run()
    at.selectbox(key="c_p_kind").select("bound").run()
    assert at.multiselect(key="c_pw_width").options == ["wide", "infinite"]  # only the region's values
    at.text_input(key="c_p_metric").input("test_error")
    at.text_input(key="c_p_at_most").input("0.5")
    at.multiselect(key="c_pw_width").set_value(["wide"])
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    at.button(key="c_save").click().run()
    assert not at.exception, [e.message for e in at.exception]
    saved = contributed_entries(data)["zed2023_bound"]["prediction"]
    assert saved["where"] == {"width": ["wide"]} and saved["at_most"] == 0.5
    # narrowing the region drops a where value that no longer fits instead of failing
    at.radio(key="c_mode").set_value("Edit a result added here").run()
    at.button(key="c_load").click().run()
    assert at.session_state["c_pw_width"] == ["wide"]
    at.multiselect(key="c_ax_width").set_value(["infinite"]).run()
    assert not at.exception and at.session_state["c_pw_width"] == []
