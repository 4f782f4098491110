"""The app's view of checked predictions (AppTest): detail panel, evidence plot, verdict layer, filter, catalogue."""
import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import GOOD, LAW, ROOT, make_data
from streamlit.testing.v1 import AppTest

APP = str(ROOT / "app.py")


def _runs(n: int, exponent: float, width: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    params = np.exp(rng.uniform(np.log(1e6), np.log(1e9), n))
    return pd.DataFrame({"run_id": [f"{width}-{i}" for i in range(n)], "task": "language_modeling",
                         "architecture": "transformer", "width": width,
                         "test_loss": 10 * params ** exponent * np.exp(rng.normal(0, 0.01, n)),
                         "config.n_params": params})


@pytest.fixture
def app(tmp_path, monkeypatch):
    from atlas_viz.runs.store import save_runs

    data = make_data(tmp_path, {"good.yaml": GOOD, "law.yaml": LAW})
    runs = pd.concat([_runs(30, -0.076, "wide", 0), _runs(20, -0.4, "moderate", 1)], ignore_index=True)
    save_runs(data, "lm", runs, {"name": "lm", "metrics": ["test_loss"], "quantities": {"params": "config.n_params"}})
    monkeypatch.setenv("ATLAS_DATA", str(data))

    def run(params: dict) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=120)
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        return at
    return run


def _plain(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", str(text))


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_detail_panel_shows_prediction_verdicts_and_evidence(app):
    at = app({"result": "gamma2022_law"})
    texts = [t.value for t in at.text]
    assert any(t.startswith("test loss scales as a power of params, with exponent between -0.09 and -0.06")
               for t in texts), texts
    assert "Basis: Fig. 1" in texts
    frames = [t.value.map(_plain).rename(columns=_plain) for t in at.table]  # cells are Markdown-escaped
    quality = next(f for f in frames if "quality" in f)
    trueness = quality.set_index("quality").loc["Trueness", "value"]
    assert trueness == "stated: replicated · measured: agrees on 30 runs"
    verdicts = next(f for f in frames if "verdict" in f).set_index("runs")
    assert verdicts.loc["inside its region", "verdict"] == "agrees (n=30)"
    assert verdicts.loc["outside along width", "verdict"] == "disagrees (n=20)"
    assert any(c.value.replace("\\", "").replace("\u200b", "").startswith("Inside: 95% interval [")
               for c in at.caption)
    evidence = next(c for c in _charts(at) if any("runs inside" in (t.get("name") or "") for t in c["data"]))
    names = [t.get("name") for t in evidence["data"]]
    assert "runs inside (30)" in names and "runs outside: width (20)" in names and "fit (inside runs)" in names
    inside = next(t for t in evidence["data"] if t.get("name") == "runs inside (30)")
    assert inside["customdata"][0].startswith("lm:wide-")  # a click shows this run
    assert evidence["layout"]["xaxis"]["type"] == "log" and evidence["layout"]["yaxis"]["type"] == "log"


def test_verdict_layer_rings_results_without_hiding_rigor(app):
    at = app({"layers": "verdicts"})
    the_map = next(c for c in _charts(at) if c["layout"].get("images"))
    rings = [t for t in the_map["data"] if (t.get("name") or "").startswith("verdict:")]
    assert [t["name"] for t in rings] == ["verdict: agrees with the runs · 1"]
    assert rings[0]["customdata"] == ["gamma2022_law"] and rings[0]["marker"]["symbol"] == "circle-open"
    assert rings[0]["text"] == ["gamma2022_law<br>inside: agrees (n=30)<br>one step outside: disagrees (n=20)"]
    assert any("theorem" in (t.get("name") or "") for t in the_map["data"])  # the rigor symbols stay


def test_verdict_filter_and_catalogue_column(app):
    at = app({"verdict": "agrees", "view": "catalogue"})
    table = next(d.value for d in at.dataframe if "verdict" in d.value)
    assert table["id"].tolist() == ["gamma2022_law"] and table["verdict"].tolist() == ["agrees"]


def test_add_a_result_form_has_a_prediction_section(app):
    at = app({"view": "contribute"})
    assert at.selectbox(key="c_p_kind").value is None  # no prediction unless chosen
    at.selectbox(key="c_p_kind").select("peak").run()
    keys = {t.key for t in at.text_input}
    assert {"c_p_metric", "c_p_against", "c_p_near", "c_p_within_factor", "c_p_basis"} <= keys
    assert "c_p_exponent_low" not in keys and at.selectbox(key="c_p_extremum").value is None
