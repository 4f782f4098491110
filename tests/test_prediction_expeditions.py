"""Expeditions made from checked predictions: untested and inconclusive predictions and the frontier of an
agreeing one rank above every gap no prediction speaks to, name their result and metric, and survive the disk."""
import textwrap

import numpy as np
import pandas as pd
import pytest

from atlas_viz.atlas import load_atlas
from atlas_viz.checks.scope import RunTable
from atlas_viz.checks.verdicts import check_results
from atlas_viz.expeditions.gaps import PREDICTION_GAPS
from atlas_viz.expeditions.ranking import compute_expeditions, to_records
from atlas_viz.runs.store import load_observations, save_runs

from conftest import make_data

REGION = ("{task: [teacher_student], architecture: [shallow_net], width: [wide], depth: [shallow], optimizer: [gd], "
          "learning_rate: [small], parameterization: [ntk], data_regime: [overparameterized]}")
RESULTS = textwrap.dedent(f"""\
    - id: thm2020_lazy
      claim: The relative change of the weights of a wide two-layer network falls as one over the root of its width.
      map_type: theorem
      region: {REGION}
      observables: [training_dynamics]
      citation: {{authors: [Ada Alpha], year: 2020, title: Alpha, arxiv: "2001.00001"}}
      prediction: {{kind: power_law, metric: weight_change, against: config.units, exponent: [-0.6, -0.4]}}
    - id: law2021_sharp
      claim: Sharpness grows with width in these networks.
      map_type: empirical_law
      region: {REGION}
      observables: [loss_landscape]
      citation: {{authors: [Bo Beta], year: 2021, title: Beta, arxiv: "2101.00001"}}
      prediction: {{kind: monotone, metric: sharpness, against: config.units, direction: increasing}}
    """)
CELL = {"task": "teacher_student", "architecture": "shallow_net", "width": "wide", "depth": "shallow",
        "optimizer": "gd", "learning_rate": "small", "parameterization": "ntk", "data_regime": "overparameterized"}


@pytest.fixture(scope="module")
def ranked(tmp_path_factory):
    data = make_data(tmp_path_factory.mktemp("pred"), {"r.yaml": RESULTS})
    units = np.array([256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144] * 2, dtype=float)
    rng = np.random.default_rng(0)
    runs = pd.DataFrame([{**CELL, "run_id": f"r{i}", "weight_change": u ** -0.5 * np.exp(0.02 * rng.standard_normal()),
                          "config.units": u} for i, u in enumerate(units)])
    save_runs(data, "lazy", runs, {"name": "lazy", "license": "CC0-1.0", "metrics": ["weight_change"],
                                   "observables": ["training_dynamics"]})
    atlas = load_atlas(data)
    runset, placed, observed = load_observations(data, atlas.axes, atlas.terrain)
    assert not atlas.problems and not runset.problems
    checks = check_results(atlas.results, RunTable(runset.runs, runset.sources, atlas.axes))
    gaps, frame = compute_expeditions(atlas, placed, observed, checks=checks)
    return atlas, checks, gaps, frame


def test_the_checks_behind_the_fixture(ranked):
    _, checks, _, _ = ranked
    verdicts = {c.id: c.verdict for c in checks}
    assert verdicts == {"thm2020_lazy": "agrees", "law2021_sharp": "untested"}


def test_expeditions_that_could_change_a_verdict_rank_first(ranked):
    _, _, gaps, frame = ranked
    kinds = list(frame["kind"])
    assert kinds[0] == "untested_prediction" and frame.iloc[0]["result"] == "law2021_sharp"
    assert frame.iloc[0]["metric"] == "sharpness" and frame.iloc[0]["change"] == 1.0
    n_pred = sum(k in ("untested_prediction", "prediction_frontier") for k in kinds)
    assert n_pred >= 2 and all(k in ("untested_prediction", "prediction_frontier") for k in kinds[:n_pred])
    assert (frame["change"].iloc[n_pred:] == 0).all()


def test_an_agreeing_prediction_sends_an_expedition_to_its_frontier(ranked):
    atlas, _, gaps, _ = ranked
    frontier = [g for g in gaps if g.kind == "prediction_frontier" and g.stepped == "width"]
    assert len(frontier) == 1 and frontier[0].result == "thm2020_lazy"
    assert frontier[0].values["width"] == ("moderate", "infinite")  # both neighbours of `wide`, none inside
    assert not atlas.masks[list(atlas.results["id"]).index("thm2020_lazy")][frontier[0].cells].any()
    # no expedition is sent inside a region where the prediction already agrees
    assert not any(g.kind == "untested_prediction" and g.result == "thm2020_lazy" for g in gaps)


def test_the_json_names_the_result_and_the_metric(ranked):
    atlas, _, gaps, frame = ranked
    rec = to_records(frame.head(1), gaps, atlas.axes)[0]
    assert rec["result"] == "law2021_sharp" and rec["metric"] == "sharpness"
    assert rec["score_parts"]["change"] == 1.0


def test_verdict_change_reads_as_a_sentence():
    from atlas_viz.catalogue.predictions import Prediction
    from atlas_viz.checks.verdicts import Check, Fit
    from atlas_viz.expeditions.loop import verdict_change

    p = Prediction("monotone", "m", against="width_units", direction="decreasing")
    before = Check("r", p, Fit("untested"), Fit("untested"))
    after = Check("r", p, Fit("agrees", 24), Fit("disagrees", 12), {"width": Fit("disagrees", 12)})
    assert verdict_change(before, after) == ("before: untested; after: agrees inside (n=24), disagrees one step "
                                             "outside on width (n=12)")
    assert verdict_change(None, before) == "before: untested; after: untested"


def test_an_expedition_on_a_prediction_plans_runs_inside_its_cells(ranked):
    from atlas_viz.expeditions.loop import reach, swept_quantity

    atlas, _, gaps, _ = ranked
    assert swept_quantity("width") == "width_units" and swept_quantity("config.lr") == "lr"
    row = atlas.results.set_index("id").loc["thm2020_lazy"]
    gap = next(g for g in gaps if g.result == "thm2020_lazy")
    assert reach(gap, row["prediction"], atlas.axes, atlas.terrain) is None  # no kind records `weight_change`


KERNEL = textwrap.dedent(f"""\
    - id: thm2019_kernel_moves_less
      claim: The tangent kernel of a two-layer network in NTK parameterization moves less the wider it is.
      map_type: theorem
      region: {REGION.replace("width: [wide]", "width: [narrow, moderate]")}
      observables: [training_dynamics]
      citation: {{authors: [Ada Alpha], year: 2019, title: Alpha, arxiv: "1901.00001"}}
      prediction: {{kind: monotone, metric: ntk_change_rel, against: width_units, direction: decreasing}}
    """)


def test_the_loop_closes_runs_what_the_prediction_needs_and_reports_the_change(tmp_path):
    from atlas_viz.cli.expeditions import checks_of
    from atlas_viz.expeditions.loop import run_prediction_expedition

    data = make_data(tmp_path, {"r.yaml": KERNEL})
    atlas = load_atlas(data)
    runset, placed, observed = load_observations(data, atlas.axes, atlas.terrain)
    checks = checks_of(atlas, runset)
    gaps, _ = compute_expeditions(atlas, placed, observed, kinds=PREDICTION_GAPS, checks=checks)
    gap = gaps[0]
    assert gap.kind == "untested_prediction" and gap.result == "thm2019_kernel_moves_less"
    out = run_prediction_expedition(data, atlas, gap, checks, budget=120, max_runs=5, tiny=True)
    assert out.kind == "lazy_training" and out.report.done == 5
    assert out.change.startswith("before: untested; after: ") and "inside (n=5)" in out.change
    runset = load_observations(data, atlas.axes, atlas.terrain)[1]
    assert set(runset["cell"].astype(int)) <= set(gap.cells.tolist())  # every run landed in the expedition
    with pytest.raises(ValueError, match="budget must be a positive number"):
        run_prediction_expedition(data, atlas, gap, checks, budget=0, max_runs=5, tiny=True)


def test_the_apps_run_button_closes_the_loop_and_shows_the_change(tmp_path, monkeypatch):
    import functools

    from streamlit.testing.v1 import AppTest

    import views.expeditions_view as view
    from conftest import ROOT

    data = make_data(tmp_path, {"r.yaml": KERNEL})
    monkeypatch.setenv("ATLAS_DATA", str(data))
    monkeypatch.setattr(view, "run_prediction_expedition", functools.partial(view.run_prediction_expedition, tiny=True))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["view"] = "expeditions"
    at.run()
    at.number_input(key="x_max_runs").set_value(5).run()
    at.button(key="x_run").click().run()
    assert not at.exception, [e.message for e in at.exception]
    flash = " ".join(s.value for s in at.success).replace("\\", "")  # shown markdown-escaped
    assert "thm2019" in flash and "before: untested; after:" in flash and "inside (n=5)" in flash
    assert any(c.key == "x_evidence_thm2019_kernel_moves_less" for c in at.get("plotly_chart"))
