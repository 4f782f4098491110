"""The runs view, driven headless: stored sources, the upload path with mapping, preview, problems and import."""
from streamlit.testing.v1 import AppTest

from atlas_viz.runs.store import load_runs

from conftest import ROOT, make_data

APP = str(ROOT / "app.py")


def start(monkeypatch, data) -> AppTest:
    monkeypatch.setenv("ATLAS_DATA", str(data))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["view"] = "runs"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def texts(at) -> str:
    return "\n".join(str(getattr(e, "value", "")) for kind in ("markdown", "caption", "info", "error", "warning",
                                                               "success") for e in at.get(kind))


def test_upload_map_preview_and_import(tmp_path, monkeypatch, axes):
    data = make_data(tmp_path)
    at = start(monkeypatch, data)
    assert "No runs are stored" in texts(at)
    at.button[0].click().run()     # "Use an example table"
    assert not at.exception, [e.message for e in at.exception]
    # task and architecture have no default: the mapping is refused until they are given
    assert "cannot be used yet" in texts(at)
    at.selectbox(key="rm_ax_task").set_value("(one value for the whole table)").run()
    at.selectbox(key="rm_ax_architecture").set_value("(one value for the whole table)").run()
    at.selectbox(key="rm_val_task").set_value("tabular").run()
    at.selectbox(key="rm_val_architecture").set_value("mlp").run()
    assert not at.exception, [e.message for e in at.exception]
    frames = [d.value for d in at.dataframe]
    problems = next(f for f in frames if "problem" in f.columns)
    joined = "\n".join(problems["where"] + " " + problems["column"] + " " + problems["problem"])
    assert "line 6 width 'wide': not a number" in joined
    assert "line 7 optimizer 'lbfgs': not covered" in joined
    assert "line 9 run_id duplicate id 'a2'" in joined
    assert "line 10 width '-32': negative" in joined
    preview = next(f for f in frames if "run_id" in f.columns)
    assert list(preview["run_id"]) == ["a1", "a2", "a3", "a4", "a7"]
    assert list(preview["width"]) == ["moderate", "moderate", "wide", "moderate", "moderate"]
    at.text_input(key="rm_license").input("CC-BY-4.0").run()
    at.button(key="rm_import").click().run()
    assert not at.exception, [e.message for e in at.exception]
    runset = load_runs(data, axes)
    assert len(runset.runs) == 5 and runset.sources["example_sweep"]["license"] == "CC-BY-4.0"
    assert "Imported 5 runs" in texts(at)


def test_unreadable_upload_is_reported(tmp_path, monkeypatch):
    data = make_data(tmp_path)
    monkeypatch.setenv("ATLAS_DATA", str(data))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["view"] = "runs"
    at.session_state["_runs_data"] = ("empty.csv", b"")
    at.run()
    assert not at.exception
    assert "cannot be imported" in texts(at)
