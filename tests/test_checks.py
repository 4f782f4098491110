"""Predictions and their checks: neighbours on axes, the prediction block, verdicts on synthetic runs, the CLI."""
from __future__ import annotations

import pytest

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

import numpy as np
import pandas as pd

from atlas_viz.catalogue.predictions import parse_prediction
from atlas_viz.checks.scope import RunTable
from atlas_viz.checks.verdicts import check_result

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
    """Loss minimised at lr = 1e-3 * (width/64)**shift, swept over 7 learning rates at 3 widths."""
    rows = []
    for width in (64, 256, 1024):
        best = 1e-3 * (width / 64) ** shift
        for lr in 1e-3 * 2.0 ** np.arange(-6, 7):
            rows.append((width, lr, 1 + np.log(lr / best) ** 2))
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


def test_where_narrows_the_inside(axes):
    region = region_of(axes, width=["moderate", "wide"])
    runs = pd.concat([power_runs(n=30), power_runs(n=30, exponent=-0.5, seed=1, width="moderate")], ignore_index=True)
    block = {"kind": "power_law", "metric": "test_loss", "against": "config.n_params", "exponent": [-0.09, -0.06]}
    assert check(axes, block, runs, region=region).verdict != "agrees"
    narrowed = check(axes, {**block, "where": {"width": ["wide"]}}, runs, region=region)
    assert narrowed.verdict == "agrees" and narrowed.inside.runs == 30
