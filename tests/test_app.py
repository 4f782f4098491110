"""The app, driven headless with Streamlit's AppTest: every view, filters, layers, shareable links."""
import json

import pytest
from streamlit.testing.v1 import AppTest

from atlas_viz.atlas import load_atlas

from conftest import BUNDLED, GOOD, ROOT, make_data

APP = str(ROOT / "app.py")


def run_app(params: dict | None = None, data=None, monkeypatch=None) -> AppTest:
    if data is not None:
        monkeypatch.setenv("ATLAS_DATA", str(data))
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def qp(at: AppTest, key: str) -> str:
    """A query parameter as the app wrote it (AppTest keeps values as lists)."""
    value = at.query_params[key]
    return value[0] if isinstance(value, list) else value


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def map_spec(at: AppTest) -> dict:
    found = [c for c in charts(at) if c["layout"].get("images")]
    assert found, "the map was not drawn"
    return found[0]


def result_points(spec: dict) -> int:
    return sum(len(t.get("customdata") or []) for t in spec["data"] if t.get("legendgroup") in
               ("theorem", "calculation", "empirical_law", "heuristic", "conjecture"))


@pytest.fixture(autouse=True)
def bundled(monkeypatch):
    monkeypatch.delenv("ATLAS_DATA", raising=False)


def test_map_view_draws_every_result_with_ids():
    at = run_app()
    spec = map_spec(at)
    names = [t.get("name") for t in spec["data"]]
    assert "theorem" in names and "conjecture" in names
    assert result_points(spec) == len(load_atlas(BUNDLED).results)
    ids = [i for t in spec["data"] if t.get("legendgroup") == "theorem" for i in t["customdata"]]
    assert "jacot2018_ntk" in ids
    assert spec["layout"]["images"][0]["source"].startswith("data:image/webp;base64,")
    assert any("LANGUAGE" in a["text"] for a in spec["layout"]["annotations"])


def test_the_loading_frame_is_gone_once_the_map_is_drawn():
    at = run_app()
    assert [c.proto.id for c in at.get("plotly_chart") if "map_skeleton" in c.proto.id] == []
    assert at.session_state["_drawn"] and map_spec(at)["data"]


def test_filter_by_map_type_changes_the_count():
    at = run_app()
    before = result_points(map_spec(at))
    at.sidebar.multiselect(key="f_types").set_value(["theorem"]).run()
    after = result_points(map_spec(at))
    assert 0 < after < before
    assert qp(at, "type") == "theorem"


def test_search_from_the_url_and_empty_state():
    at = run_app({"q": "grokking"})
    n = result_points(map_spec(at))
    assert 0 < n < 20
    at = run_app({"q": "xyzzy plugh"})  # no word of it in the catalogue (the search ranks partial matches)
    assert result_points(map_spec(at)) == 0
    assert any("No result matches" in w.value for w in at.warning)


def test_result_link_opens_the_detail_panel():
    at = run_app({"result": "jacot2018_ntk"})
    texts = " ".join(t.value for t in at.text)
    assert "Jacot" in texts and "1806.07572" in texts
    assert any("Neural Tangent Kernel" in t.value for t in at.text)
    spec = map_spec(at)
    assert any(t.get("name") == "region of jacot2018_ntk" for t in spec["data"])
    assert any(t.get("name") == "selected result" for t in spec["data"])


def test_layer_toggles_add_and_remove_traces():
    at = run_app({"result": "jacot2018_ntk"})

    def arrows() -> list[dict]:
        return [a for a in map_spec(at)["layout"].get("annotations", []) if a.get("showarrow")]

    assert not arrows()
    at.sidebar.checkbox(key="layer_relations").check().run()
    assert len(arrows()) >= 3  # the selected result's relations only, as arrows (issue 13)
    at.sidebar.checkbox(key="layer_labels").uncheck().run()
    # no label left (jacot2018_ntk has more relations than get their type written on the map: arrows only)
    assert not [a for a in map_spec(at)["layout"].get("annotations", []) if not a.get("showarrow")]
    at.sidebar.checkbox(key="show_theorem").uncheck().run()
    assert "theorem" not in [t.get("name") for t in map_spec(at)["data"]]
    assert qp(at, "hide") == "theorem"
    assert qp(at, "layers") == "fog,runs,relations"


def test_fog_layer_and_observable_change_the_image():
    at = run_app()
    img = map_spec(at)["layout"]["images"][0]["source"]
    at.sidebar.multiselect(key="f_obs").set_value(["transfer"]).run()
    img2 = map_spec(at)["layout"]["images"][0]["source"]
    assert img2 != img
    at.sidebar.checkbox(key="layer_fog").uncheck().run()
    assert map_spec(at)["layout"]["images"][0]["source"] not in (img, img2)


def test_phase_diagram_view():
    at = run_app({"view": "phase"})
    heat = [c for c in charts(at) if c["data"] and c["data"][0]["type"] == "heatmap"]
    assert heat, "no phase diagram drawn"
    runs = heat[0]["data"][0]  # default: what the language-model runs measured, d_model x learning rate
    assert "test_loss" in runs["name"] and len(runs["z"]) >= 4 and len(runs["z"][0]) >= 4
    assert any(v is not None for row in runs["z"] for v in row)
    at.radio(key="phase_mode").set_value("results").run()
    heat = [c for c in charts(at) if c["data"] and c["data"][0]["type"] == "heatmap"]
    z = heat[0]["data"][0]["z"]
    assert len(z) == 3 and len(z[0]) == 4  # learning rate x width
    text = heat[0]["data"][0]["text"]
    assert all(cell == "gap" or cell.isdigit() for row in text for cell in row)
    assert any("Holds everywhere in this projection" in m.value for m in at.markdown)


def test_catalogue_view_and_exports():
    at = run_app({"view": "catalogue", "type": "conjecture"})
    table = at.dataframe[0].value
    assert len(table) == (load_atlas(BUNDLED).results["map_type"] == "conjecture").sum()
    assert set(table["kind of map"]) == {"conjecture"}
    assert table["paper"].str.startswith("https://").all()


def test_broken_entries_are_listed_and_the_rest_draws(tmp_path, monkeypatch):
    data = make_data(tmp_path, {"good.yaml": GOOD, "bad.yaml": "- id: x1\n  map_type: theorm\n"})
    at = run_app(data=data, monkeypatch=monkeypatch)
    assert result_points(map_spec(at)) == 2
    assert any("bad.yaml, entry x1, field map_type" in c.value for c in at.code)


def test_empty_catalogue_still_draws_the_terrain(tmp_path, monkeypatch):
    at = run_app(data=make_data(tmp_path, {}), monkeypatch=monkeypatch)
    assert result_points(map_spec(at)) == 0
    assert any("catalogue" in i.value and "empty" in i.value for i in at.info)


def test_url_text_never_forms_markdown_links_or_formatting():
    # words no result holds (the catalogue grows: 'example' came to match a result about per-example gradients)
    at = run_app({"q": "[click qwzx](https://qwzx.zz/phish) **bold**", "result": "no_such_[x](y)"})
    warning = next(w.value for w in at.warning if "No result matches" in w.value)
    assert "\\[click qwzx\\]\\(https\\:" in warning and "\\*\\*bold\\*\\*" in warning
    assert "[click qwzx](https://qwzx.zz/phish)" not in warning
    assert all("](" not in i.value.replace("\\]\\(", "") for i in at.info)


def test_a_related_result_opens_from_the_detail_panel():
    at = run_app({"result": "jacot2018_ntk"})
    pick = at.selectbox(key="rel_pick_jacot2018_ntk")  # jacot2018_ntk has a long lineage: a list, not buttons
    target = next(i for i in pick.options if "hanin2020_finite_width_ntk" in i)
    pick.set_value(pick.options.index(target)).run()
    assert not at.exception
    assert qp(at, "result") == "hanin2020_finite_width_ntk"
    assert any("hanin" in t.value.lower() for t in at.text)
