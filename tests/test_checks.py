"""Predictions and their checks: neighbours on axes, the prediction block, verdicts on synthetic runs, the CLI."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from atlas_viz.catalogue.predictions import parse_prediction
from atlas_viz.checks.scope import RunTable
from atlas_viz.checks.verdicts import check_result
from atlas_viz.core.problems import DataError
from atlas_viz.terrain.axes import parse_axes

SMALL_AXES = {
    "axes": [
        {"name": "arch", "kind": "nominal", "values": [{"name": "a"}, {"name": "b"}, {"name": "c"}],
         "neighbours": [{"values": ["a", "b"], "why": "b is a with one change."}]},
        {"name": "size", "kind": "ordinal", "values": [{"name": "s"}, {"name": "m"}, {"name": "l"}]},
    ],
    "observables": [{"name": "generalization"}],
    "map_types": [{"name": m} for m in ("theorem", "calculation", "empirical_law", "heuristic", "conjecture")],
}


def test_neighbours_are_symmetric_declared_or_adjacent(axes):
    small = parse_axes(SMALL_AXES)
    assert small.neighbours("arch", "a") == ("b",) and small.neighbours("arch", "b") == ("a",)
    assert small.neighbours("arch", "c") == ()  # nominal, no pair: nothing is one step away
    assert small.neighbours("size", "m") == ("s", "l") and small.neighbours("size", "l") == ("m",)
    assert small["arch"].why_near("b", "a") == "b is a with one change."
    # bundled: declared pairs, and data_regime follows its bins, not its list order
    assert set(axes.neighbours("architecture", "shallow_net")) == {"linear", "kernel", "mlp"}
    assert axes.neighbours("data_regime", "overparameterized") == ("interpolation",)
    for ax in axes.axes:
        for v in ax.value_names:
            for n in axes.neighbours(ax.name, v):
                assert v in axes.neighbours(ax.name, n)


@pytest.mark.parametrize("pairs, field, match", [
    ([{"values": ["a", "z"], "why": "w"}], "neighbours[0].values", "got 'z'"),
    ([{"values": ["a", "a"], "why": "w"}], "neighbours[0].values", "two different values"),
    ([{"values": ["a", "b"]}], "neighbours[0].why", "why the two values"),
    ([{"values": ["a", "b"], "why": "w"}, {"values": ["b", "a"], "why": "w"}], "neighbours[1].values", "twice"),
    ("a b", "neighbours", "must be a list"),
])
def test_bad_neighbours_are_located(pairs, field, match):
    data = {**SMALL_AXES, "axes": [{**SMALL_AXES["axes"][0], "neighbours": pairs}, SMALL_AXES["axes"][1]]}
    with pytest.raises(DataError, match=match) as err:
        parse_axes(data)
    assert err.value.problems[0].field == field and err.value.problems[0].entry == "arch"


def test_layout_digest_ignores_neighbours_and_descriptions():
    base = parse_axes(SMALL_AXES).digest
    from atlas_viz.terrain.axes import layout_digest

    assert layout_digest(SMALL_AXES) == layout_digest({**SMALL_AXES, "axes": [
        {**SMALL_AXES["axes"][0], "neighbours": [], "description": "new"}, SMALL_AXES["axes"][1]]})
    assert layout_digest({**SMALL_AXES, "axes": SMALL_AXES["axes"][::-1]}) != layout_digest(SMALL_AXES)
    assert base == ""  # parse_axes without a file keeps the digest it is given


# ---------------------------------------------------------------- predictions on synthetic runs

CELL = {"task": "language_modeling", "architecture": "transformer", "width": "wide", "depth": "deep",
        "optimizer": "adaptive", "learning_rate": "moderate", "parameterization": "standard",
        "data_regime": "infinite_data"}


def region_of(axes, **narrow) -> dict:
    return {a.name: tuple(narrow.get(a.name, a.value_names)) for a in axes.axes}


def prediction(axes, block: dict, region: dict | None = None):
    problems = []
    p = parse_prediction(block, region, axes, lambda f, m: problems.append((f, m)))
    assert not problems, problems
    return p


def runs_frame(n: int, seed: int = 0, **cols) -> pd.DataFrame:
    """n runs in CELL (columns may override axes or add metrics/config as arrays or constants)."""
    frame = pd.DataFrame({"id": [f"s:{seed}-{i}" for i in range(n)], "source": "s", "run_id": range(n),
                          **{k: v for k, v in CELL.items()}})
    for k, v in cols.items():
        frame[k] = v
    return frame


def check(axes, block, runs, region=None, sources=None):
    region = region or region_of(axes)
    p = prediction(axes, block, region)
    return check_result({"id": "r", "region": region, "prediction": p}, RunTable(runs, sources or {"s": {}}, axes))


def power_runs(n=60, exponent=-0.076, noise=0.01, seed=0, **cols):
    rng = np.random.default_rng(seed)
    params = np.exp(rng.uniform(np.log(1e6), np.log(1e9), n))
    loss = 10 * params ** exponent * np.exp(rng.normal(0, noise, n))
    return runs_frame(n, seed, test_loss=loss, **{"config.n_params": params}, **cols)


def test_power_law_agrees_disagrees_and_reads_declared_quantities(axes):
    block = {"kind": "power_law", "metric": "test_loss", "against": "params", "exponent": [-0.09, -0.06]}
    src = {"s": {"quantities": {"params": "config.n_params"}}}
    good = check(axes, block, power_runs(), sources=src)
    assert good.verdict == "agrees" and good.inside.runs == 60, good.inside
    st = good.inside.statistic
    assert st.low <= -0.076 <= st.high and -0.09 <= st.low
    bad = check(axes, block, power_runs(exponent=-0.3), sources=src)
    assert bad.verdict == "disagrees"
    # undeclared quantity and no config.params column: nothing to read
    assert check(axes, block, power_runs()).verdict == "untested"


def test_power_law_inconclusive_when_few_runs_few_values_or_wide(axes):
    block = {"kind": "power_law", "metric": "test_loss", "against": "config.n_params", "exponent": [-0.09, -0.06]}
    few = check(axes, block, power_runs(n=5))
    assert few.verdict == "inconclusive" and "at least 8" in few.inside.reason
    two_values = power_runs(n=20)
    two_values["config.n_params"] = np.where(np.arange(20) % 2, 1e6, 1e8)
    assert "distinct" in check(axes, block, two_values).inside.reason
    noisy = check(axes, block, power_runs(n=12, noise=0.5))
    assert noisy.verdict == "inconclusive" and "straddles" in noisy.inside.reason


def test_untested_when_no_run_has_the_metric(axes):
    block = {"kind": "monotone", "metric": "sharpness", "against": "config.lr", "direction": "increasing"}
    c = check(axes, block, runs_frame(10, **{"config.lr": np.arange(10.0)}))
    assert c.verdict == "untested" and c.inside.runs == 0 and c.to_dict()["statistic"] is None


def test_monotone_spearman_sign(axes):
    x = np.linspace(1, 10, 30)
    runs = runs_frame(30, test_error=1 / x + np.random.default_rng(1).normal(0, 0.01, 30), **{"config.params": x})
    dec = {"kind": "monotone", "metric": "test_error", "against": "params", "direction": "decreasing"}
    assert check(axes, dec, runs).verdict == "agrees"
    assert check(axes, {**dec, "direction": "increasing"}, runs).verdict == "disagrees"
    # an ordinal axis as against: value order
    flat = runs_frame(30, test_error=np.random.default_rng(2).normal(0, 1, 30),
                      width=np.array(["narrow", "moderate", "wide"] * 10))
    assert check(axes, {**dec, "against": "width"}, flat).verdict == "inconclusive"


def lr_sweep(shift: float) -> pd.DataFrame:
    """Loss minimised at lr = 1e-3 * (width/64)**shift, swept over 11 learning rates at 3 widths, two seeds each
    (a little noise: with one run per rate, resampling could not measure the optimum's noise)."""
    rows = []
    noise = np.random.default_rng(7)
    for width in (64, 256, 1024):
        best = 1e-3 * (width / 64) ** shift
        for lr in 1e-3 * 2.0 ** np.arange(-5, 6):  # 11 rates: each its own bin
            for _ in range(2):
                rows.append((width, lr, 1 + np.log(lr / best) ** 2 + noise.normal(0, 0.01)))
    w, lr, loss = map(np.array, zip(*rows))
    return runs_frame(len(w), train_loss=loss, **{"config.lr": lr, "config.width_units": w})


def test_optimum_invariant_transfer_and_edge(axes):
    block = {"kind": "optimum_invariant", "metric": "train_loss", "over": "lr", "across": "width_units",
             "within_factor": 2}
    assert check(axes, block, lr_sweep(0.0)).verdict == "agrees"
    moved = check(axes, block, lr_sweep(-1.0))  # optimum / 16 across the widths: no transfer
    assert moved.verdict == "disagrees" and moved.inside.statistic.value == pytest.approx(16)
    edge = lr_sweep(0.0)
    edge = edge[edge["config.lr"] >= 1e-3]  # the optimum is the smallest swept rate
    assert "edge" in check(axes, block, edge).inside.reason


def test_peak_near_interpolation_threshold(axes):
    ratio = np.exp(np.linspace(np.log(0.05), np.log(20), 80))
    err = np.exp(-np.log(ratio) ** 2) + np.random.default_rng(3).normal(0, 0.02, 80)
    runs = runs_frame(80, test_error=err, **{"config.samples_per_param": ratio})
    block = {"kind": "peak", "metric": "test_error", "against": "samples_per_param", "near": 1.0, "within_factor": 2}
    assert check(axes, block, runs).verdict == "agrees"
    assert check(axes, {**block, "near": 20.0}, runs).verdict == "disagrees"
    rising = runs_frame(80, test_error=np.log(ratio), **{"config.samples_per_param": ratio})
    assert "edge" in check(axes, block, rising).inside.reason


def test_bound_share_of_violations(axes):
    y = np.r_[np.full(99, 0.5), 3.0]
    block = {"kind": "bound", "metric": "test_loss", "at_most": 2.0}
    assert check(axes, block, runs_frame(100, test_loss=y)).verdict == "agrees"
    assert check(axes, block, runs_frame(100, test_loss=y[::-1] * 6)).verdict == "disagrees"


def test_inside_agrees_outside_disagrees_per_axis(axes):
    region = region_of(axes, width=["wide", "infinite"], parameterization=["mup"])
    inside = power_runs(n=40, parameterization="mup")
    outside = power_runs(n=40, exponent=-0.4, seed=1, width="moderate", parameterization="mup")
    two_off = power_runs(n=40, exponent=-0.4, seed=2, width="narrow", parameterization="mup")
    param_off = power_runs(n=40, exponent=-0.4, seed=3, parameterization="standard")
    runs = pd.concat([inside, outside, two_off, param_off], ignore_index=True)
    block = {"kind": "power_law", "metric": "test_loss", "against": "config.n_params", "exponent": [-0.09, -0.06]}
    c = check(axes, block, runs, region=region)
    assert c.verdict == "agrees" and c.inside.runs == 40
    assert c.outside.verdict == "disagrees" and c.outside.runs == 80  # narrow is two steps away: not counted
    assert set(c.by_axis) == {"width", "parameterization"} and c.by_axis["width"].runs == 40
    d = c.to_dict()
    assert d["verdict"] == "agrees" and d["outside"]["by_axis"]["width"]["verdict"] == "disagrees"
    assert d["statistic"]["low"] <= d["statistic"]["value"] <= d["statistic"]["high"]


def test_where_narrows_the_inside_and_its_frontier_is_one_step_from_the_narrowed_scope(axes):
    region = region_of(axes, width=["moderate", "wide"])
    runs = pd.concat([power_runs(n=30), power_runs(n=30, exponent=-0.5, seed=1, width="moderate")], ignore_index=True)
    block = {"kind": "power_law", "metric": "test_loss", "against": "config.n_params", "exponent": [-0.09, -0.06]}
    assert check(axes, block, runs, region=region).verdict != "agrees"
    narrowed = check(axes, {**block, "where": {"width": ["wide"]}}, runs, region=region)
    assert narrowed.verdict == "agrees" and narrowed.inside.runs == 30
    # moderate width is in the region but outside the prediction's scope: one step outside it
    assert narrowed.by_axis["width"].runs == 30 and narrowed.outside.verdict == "disagrees"


def test_optimum_with_continuous_sweeps_and_unrestricted_swept_axis(axes):
    rng = np.random.default_rng(4)
    width = rng.choice([64, 96, 128, 256, 384, 512, 768, 1024], 600).astype(float)
    lr = np.exp(rng.uniform(np.log(1e-5), np.log(1e-1), 600))
    loss = 1 + np.log(lr / 1e-3) ** 2 + rng.normal(0, 0.01, 600)
    runs = runs_frame(600, train_loss=loss, **{"config.lr": lr, "config.width_units": width},
                      learning_rate=np.where(lr < 3e-4, "small", np.where(lr < 3e-3, "moderate", "large")))
    block = {"kind": "optimum_invariant", "metric": "train_loss", "over": "lr", "across": "width_units",
             "within_factor": 2}
    c = check(axes, block, runs, region=region_of(axes, learning_rate=["moderate"]))
    assert c.verdict == "agrees" and c.inside.runs == 600, c.inside  # learning_rate not cut: the sweep brackets


def test_peak_of_a_minimum(axes):
    x = np.exp(np.linspace(0, np.log(400), 60))
    runs = runs_frame(60, test_loss=np.log(x / 20) ** 2, **{"config.tokens_per_param": x})
    block = {"kind": "peak", "metric": "test_loss", "against": "config.tokens_per_param", "near": 20,
             "within_factor": 2, "extremum": "minimum"}
    assert check(axes, block, runs).verdict == "agrees"


@pytest.mark.parametrize("block, field, match", [
    ({"kind": "power_lw", "metric": "m"}, "prediction.kind", "did you mean 'power_law'"),
    ({"kind": "power_law", "metric": "m", "against": "params"}, "prediction.exponent", "is missing"),
    ({"kind": "power_law", "metric": "m", "against": "params", "exponent": [-0.05, -0.1]}, "prediction.exponent",
     "wrong order"),
    ({"kind": "power_law", "metric": "m", "against": "width", "exponent": [-1, 0]}, "prediction.against",
     "has no numbers"),
    ({"kind": "power_law", "metric": "m", "against": "parms", "exponent": [-1, 0]}, "prediction.against",
     "did you mean 'params'"),
    ({"kind": "monotone", "metric": "m", "against": "task", "direction": "increasing"}, "prediction.against",
     "nominal"),
    ({"kind": "monotone", "metric": "m", "against": "lr", "direction": "up"}, "prediction.direction", "increasing"),
    ({"kind": "peak", "metric": "m", "against": "lr", "near": 1, "within_factor": 0.5}, "prediction.within_factor",
     "at least 1"),
    ({"kind": "bound", "metric": "m"}, "prediction", "at_most, at_least or both"),
    ({"kind": "bound", "metric": "m", "at_most": 1, "at_least": 2}, "prediction.at_least", "no value could hold"),
    ({"kind": "bound", "metric": "m", "at_most": 1, "exponent": [0, 1]}, "prediction.exponent", "another kind"),
    ({"kind": "bound", "metric": "m", "at_most": 1, "where": {"width": ["narrow"]}}, "prediction.where.width",
     "outside the result's region"),
    ({"kind": "bound", "metric": "m", "at_most": 1, "where": {"widht": ["wide"]}}, "prediction.where.widht",
     "did you mean 'width'"),
    ({"kind": "bound", "metric": "__import__('os')", "at_most": 1}, "prediction.metric", "name of a metric"),
    ("power_law", "prediction", "must be a map"),
])
def test_bad_prediction_blocks_are_located(axes, block, field, match):
    problems = []
    region = region_of(axes, width=["wide"])
    assert parse_prediction(block, region, axes, lambda f, m: problems.append((f, m))) is None
    assert any(f == field and match in m for f, m in problems), problems


def test_loader_reports_a_bad_block_and_keeps_the_result(tmp_path):
    from conftest import make_data

    from atlas_viz.catalogue.loader import load_catalog
    from atlas_viz.terrain.axes import load_axes

    text = (law_yaml("gamma2022_law", "{kind: power_law, metric: test_loss, against: params, exponent: [-0.05, -0.1]}")
            + law_yaml("delta2022_law", "{kind: power_law, metric: test_loss, against: params, exponent: [-0.1, -0.05], "
                                        'basis: "Fig. 1"}'))
    data = make_data(tmp_path, {"r.yaml": text}, with_terrain=False)
    cat = load_catalog(data, load_axes(data / "axes.yaml"))
    expected = ("r.yaml, entry gamma2022_law, field prediction.exponent: is in the wrong order: low -0.05 is above "
                "high -0.1; write [-0.1, -0.05]")
    assert [str(p) for p in cat.problems] == [expected]
    rows = cat.results.set_index("id")
    assert rows.loc["gamma2022_law", "prediction"] is None
    assert rows.loc["delta2022_law", "prediction"].to_dict() == {
        "kind": "power_law", "metric": "test_loss", "against": "params", "exponent": [-0.1, -0.05], "basis": "Fig. 1"}


def law_yaml(rid: str, prediction: str | None, region: str = "{task: [language_modeling]}") -> str:
    """One result as catalogue YAML (with a prediction block given as flow YAML, or none)."""
    text = (f"- id: {rid}\n  claim: A result about loss and scale.\n  map_type: empirical_law\n  region: {region}\n"
            f"  observables: [scaling]\n  citation: {{authors: [Ann {rid[:4]}], year: 2022, title: {rid}, "
            f"url: https://example.org/{rid}}}\n")
    return text + (f"  prediction: {prediction}\n" if prediction else "")


RESULT_WITH_PREDICTION = (
    law_yaml("gamma2022_law", "{kind: power_law, metric: test_loss, against: params, exponent: [-0.09, -0.06]}",
             "{task: [language_modeling], architecture: [transformer], width: [wide]}")
    + law_yaml("delta2022_note", None, "any")
    + law_yaml("eps2022_law", "{kind: bound, metric: sharpness, at_most: 1.1}", "any"))


def test_cli_check_json_md_csv_and_errors(tmp_path, capsys):
    import json

    from conftest import make_data

    from atlas_viz.cli.main import main
    from atlas_viz.runs.store import save_runs

    data = make_data(tmp_path, {"r.yaml": RESULT_WITH_PREDICTION}, with_terrain=False)
    runs = pd.concat([power_runs(n=30), power_runs(n=20, exponent=-0.5, seed=1, width="moderate")])
    save_runs(data, "s", runs.drop(columns=["id", "source"]).assign(run_id=lambda f: [f"r{i}" for i in range(len(f))]),
              {"name": "s", "metrics": ["test_loss"], "quantities": {"params": "config.n_params"}})
    assert main(["check", "--data", str(data), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    checks = {c["id"]: c for c in json.loads(out)}
    assert set(checks) == {"gamma2022_law", "eps2022_law"}
    g = checks["gamma2022_law"]
    assert (g["verdict"], g["runs"], g["sources"], g["kind"], g["against"]) == ("agrees", 30, ["s"], "power_law", "params")
    assert g["outside"]["verdict"] == "disagrees" and g["outside"]["by_axis"]["width"]["runs"] == 20
    assert set(g["statistic"]) == {"name", "value", "low", "high"}
    assert checks["eps2022_law"]["verdict"] == "untested"
    assert "no run source has the metric 'sharpness'" in err  # a warning, not an error
    assert main(["check", "gamma2022_law", "--data", str(data), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1].startswith("gamma2022_law,power_law,test_loss,params,agrees,30,")
    assert main(["check", "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "2 predictions checked on 50 runs" in out
    assert "a frontier (agrees inside, disagrees one step outside) for 1: gamma2022_law (width)" in out
    assert main(["check", "nope2020_x", "--data", str(data)]) == 1
    assert "no result with id 'nope2020_x'" in capsys.readouterr().err
    assert main(["check", "delta2022_note", "--data", str(data)]) == 1
    assert "has no prediction block" in capsys.readouterr().err
    assert main(["validate", "--data", str(data)]) == 0  # an unrecorded metric is a warning, not a problem
    assert "field prediction.metric: no run source has the metric 'sharpness'" in capsys.readouterr().out


def test_contribute_form_builds_and_reads_back_a_prediction(axes):
    from atlas_viz.catalogue.contribute import build_entry, check_entry, entry_to_form

    form = {"id": "zeta2021_law", "claim": "Loss falls as a power of parameters.", "map_type": "empirical_law",
            "region": {"task": ["language_modeling"]}, "observables": ["scaling"], "authors": "Zed Zeta",
            "year": 2021, "title": "Zeta", "arxiv": "2101.00001",
            "prediction": {"kind": "power_law", "metric": "test_loss", "against": "params", "exponent_low": "-0.1",
                           "exponent_high": " -0.05", "direction": "increasing", "near": "", "basis": "Fig. 2"}}
    entry = build_entry(form, axes)
    assert entry["prediction"] == {"kind": "power_law", "metric": "test_loss", "against": "params",
                                   "exponent": [-0.1, -0.05], "basis": "Fig. 2"}  # other kinds' fields dropped
    row, problems = check_entry(entry, axes, {})
    assert not problems and row["prediction"].exponent == (-0.1, -0.05)
    back = entry_to_form(entry)["prediction"]
    assert (back["exponent_low"], back["exponent_high"], back["against"]) == ("-0.1", "-0.05", "params")
    assert "prediction" not in build_entry({**form, "prediction": {"kind": None, "metric": "x"}}, axes)
    bad = build_entry({**form, "prediction": {**form["prediction"], "exponent_high": "steep"}}, axes)
    _, problems = check_entry(bad, axes, {})
    assert [p.field for p in problems] == ["prediction.exponent"]


def test_evidence_of_an_optimum_draws_one_mean_curve_per_group_with_its_best_bin(axes):
    from atlas_viz.checks.evidence import evidence_points, mean_curves
    from atlas_viz.figures.evidence import evidence_figure

    region = region_of(axes)
    block = {"kind": "optimum_invariant", "metric": "train_loss", "over": "lr", "across": "width_units",
             "within_factor": 2}
    row = {"id": "r", "region": region, "prediction": prediction(axes, block, region)}
    table = RunTable(lr_sweep(-1.0), {"s": {}}, axes)
    points = evidence_points(row, table)
    curves = mean_curves(row["prediction"], points)
    best = curves[curves["best"]].set_index("group")["x"]
    assert best.to_dict() == pytest.approx({"64": 1e-3, "256": 2.5e-4, "1024": 6.25e-5})  # the optimum moves
    fig = evidence_figure(check_result(row, table), points)
    assert [t.name for t in fig.data if t.name] == ["width units 64", "width units 256", "width units 1024",
                                                   "runs inside (66)"]
    assert fig.layout.xaxis.type == "log" and list(fig.data[-1].customdata[:1]) == ["s:0-0"]


def test_resampled_ranks_equal_scipy_average_ranks():
    from scipy.stats import rankdata

    from atlas_viz.checks.stats import _resample_ranks

    rng = np.random.default_rng(5)
    x = rng.integers(0, 6, 80).astype(float)  # many ties
    idx = rng.integers(0, 80, (20, 80))
    assert np.allclose(_resample_ranks(x, idx), rankdata(x[idx], axis=1))


def test_evidence_uses_the_runs_the_check_used(axes):
    from atlas_viz.checks.evidence import evidence_points

    sweep = lr_sweep(0.0)
    sweep["learning_rate"] = np.where(sweep["config.lr"] < 3e-4, "small", "moderate")
    region = region_of(axes, learning_rate=["moderate"])
    block = {"kind": "optimum_invariant", "metric": "train_loss", "over": "lr", "across": "width_units",
             "within_factor": 2}
    row = {"id": "r", "region": region, "prediction": prediction(axes, block, region)}
    table = RunTable(sweep, {"s": {}}, axes)
    c = check_result(row, table)
    points = evidence_points(row, table)
    assert c.inside.runs == len(points) == (points["where"] == "inside").sum() == 66


def test_run_ids_in_the_evidence_hover_are_escaped(axes):
    from atlas_viz.checks.evidence import evidence_points
    from atlas_viz.figures.evidence import evidence_figure

    runs = power_runs(n=10)
    runs["id"] = [f"s:<b onmouseover=x>{i}" for i in range(10)]
    region = region_of(axes)
    block = {"kind": "power_law", "metric": "test_loss", "against": "config.n_params", "exponent": [-0.09, -0.06]}
    row = {"id": "r", "region": region, "prediction": prediction(axes, block, region)}
    table = RunTable(runs, {"s": {}}, axes)
    trace = evidence_figure(check_result(row, table), evidence_points(row, table)).data[-1]
    assert trace.text[0] == "s:&lt;b onmouseover=x&gt;0" and trace.customdata[0] == "s:<b onmouseover=x>0"


def test_evidence_of_a_monotone_trend_draws_the_binned_mean_without_a_best_bin(axes):
    from atlas_viz.checks.evidence import evidence_points, mean_curves

    x = np.linspace(1, 10, 30)
    runs = runs_frame(30, test_error=1 / x, **{"config.params": x})
    region = region_of(axes)
    block = {"kind": "monotone", "metric": "test_error", "against": "params", "direction": "decreasing"}
    row = {"id": "r", "region": region, "prediction": prediction(axes, block, region)}
    curves = mean_curves(row["prediction"], evidence_points(row, RunTable(runs, {"s": {}}, axes)))
    assert len(curves) == 10 and curves["mean"].is_monotonic_decreasing and not curves["best"].any()


def test_a_power_law_is_fitted_within_each_run_source():
    """Two sources with the same exponent on different scales: pooled they fake a steeper law; within, -0.5."""
    from atlas_viz.checks import stats

    rng = np.random.default_rng(0)
    x1, x2 = np.logspace(0, 2, 20), np.logspace(4, 6, 20)
    y1 = 10 * x1 ** -0.5 * np.exp(0.01 * rng.standard_normal(20))
    y2 = 0.01 * x2 ** -0.5 * np.exp(0.01 * rng.standard_normal(20))
    x, y, src = np.r_[x1, x2], np.r_[y1, y2], np.array(["a"] * 20 + ["b"] * 20)
    pooled, within = stats.power_law(x, y), stats.power_law(x, y, src)
    assert pooled.value < -1.0
    assert within.low <= -0.5 <= within.high and abs(within.value + 0.5) < 0.01
    assert "within each run source" in within.name


def test_a_peak_swept_once_per_value_has_no_noise_to_measure_and_stays_inconclusive():
    import pandas as pd

    from atlas_viz.catalogue.predictions import Prediction
    from atlas_viz.checks.scope import RunTable
    from atlas_viz.checks.verdicts import fit
    from atlas_viz.terrain.axes import load_axes

    from conftest import BUNDLED

    axes = load_axes(BUNDLED / "axes.yaml")
    x = np.array([0.25, 0.5, 0.8, 1.0, 1.25, 2.0, 4.0, 8.0])
    runs = pd.DataFrame({"source": "s", "test_mse": 1 / (np.abs(np.log(x)) + 0.1), "config.spp": x})
    table = RunTable(runs, {"s": {}}, axes)
    p = Prediction("peak", "test_mse", against="config.spp", near=1.0, within_factor=2.0)
    once = fit(p, table, np.ones(len(runs), dtype=bool))
    assert once.verdict == "inconclusive" and "one run per value" in once.reason
    twice = RunTable(pd.concat([runs, runs.assign(test_mse=runs["test_mse"] * 1.01)], ignore_index=True),
                     {"s": {}}, axes)
    assert fit(p, twice, np.ones(2 * len(runs), dtype=bool)).verdict == "agrees"


def test_ranks_match_scipys_with_ties():
    from scipy.stats import rankdata as reference

    from atlas_viz.checks.stats import rankdata

    rng = np.random.default_rng(0)
    for n in (0, 1, 2, 7, 300):
        for values in (rng.integers(0, max(1, n // 3), n).astype(float), rng.normal(size=n)):
            assert np.allclose(rankdata(values), reference(values))
