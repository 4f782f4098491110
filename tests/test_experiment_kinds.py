"""Experiment kinds on tiny budgets: their metrics are there and sane, configs are checked, runs land in cells."""
from __future__ import annotations

import math

import numpy as np
import pytest

from atlas_viz.expeditions.experiments import Task, cell, check_tasks, task_row
from atlas_viz.expeditions.kinds import CANONICAL, KINDS, get_kind, kinds_for_metric, plan


@pytest.mark.parametrize("name", list(KINDS))
def test_each_kind_runs_its_tiny_config_and_records_its_metrics(name):
    kind = KINDS[name]
    out = kind.run(kind.tiny, 0)
    assert set(out) == set(kind.metrics)
    assert all(isinstance(v, float) for v in out.values())
    canon = kind.canonical(kind.tiny)
    assert set(CANONICAL) <= set(canon) and {"task", "architecture", "optimizer"} <= set(canon)
    assert "Answers" in kind.doc and kind.summary   # the docstring says which predictions it can answer


def test_lazy_training_kernel_and_weights_move_less_at_larger_width():
    kind = KINDS["lazy_training"]
    narrow, wide = (kind.run({**kind.tiny, "width": w, "steps": 30}, 0) for w in (16, 256))
    assert 0 < wide["ntk_change_rel"] < narrow["ntk_change_rel"]
    assert 0 < wide["weight_change_rel"] < narrow["weight_change_rel"]


def test_lazy_training_is_deterministic_given_the_seed():
    kind = KINDS["lazy_training"]
    assert kind.run(kind.tiny, 3) == kind.run(kind.tiny, 3)
    assert kind.run(kind.tiny, 3) != kind.run(kind.tiny, 4)


def test_edge_of_stability_sharpness_is_positive_finite_and_scaled_by_lr():
    kind = KINDS["edge_of_stability"]
    out = kind.run({**kind.tiny, "lr": 0.2}, 0)
    assert 0 < out["sharpness_max"] < 1e4 and math.isfinite(out["sharpness_init"])
    assert out["sharpness_lr_over_2"] == pytest.approx(out["sharpness_max"] * 0.2 / 2)


def test_double_descent_test_error_peaks_at_the_interpolation_threshold():
    kind = KINDS["double_descent"]
    err = {s: kind.run({**kind.tiny, "features": 64, "samples_per_param": s}, 0)["test_error"] for s in (0.3, 1.0, 3.0)}
    assert err[1.0] > err[0.3] and err[1.0] > err[3.0]
    assert kind.run({**kind.tiny, "samples_per_param": 3.0}, 0)["train_error"] > 0     # cannot interpolate


def test_grokking_steps_are_consistent():
    kind = KINDS["grokking"]
    out = kind.run(kind.tiny, 0)
    assert 0 <= out["train_acc_end"] <= 1 and 0 <= out["test_acc_end"] <= 1
    for key in ("memorization_step", "grokking_step"):
        assert math.isnan(out[key]) or 0 < out[key] <= kind.tiny["steps"]
    if not math.isnan(out["grokking_delay"]):
        assert out["grokking_delay"] == out["grokking_step"] - out["memorization_step"]


def test_lr_transfer_mup_scales_hidden_learning_rates_and_readout():
    import torch

    from atlas_viz.expeditions.kinds.lr_transfer import DEFAULTS, _build

    cfg = {**DEFAULTS, "width": 256, "base_width": 64, "lr": 0.01, "depth": 3}
    _, groups, mult = _build(torch, {**cfg, "parameterization": "mup"})
    weight_lrs = [g["lr"] for g in groups[::2]]
    assert weight_lrs == pytest.approx([0.01, 0.0025, 0.0025, 0.01]) and mult == 0.25
    _, groups, mult = _build(torch, {**cfg, "parameterization": "standard"})
    assert {g["lr"] for g in groups} == {0.01} and mult == 1.0
    out = KINDS["lr_transfer"].run({**KINDS["lr_transfer"].tiny, "parameterization": "mup"}, 0)
    assert out["train_loss_end"] > 0 and 0 <= out["test_error"] <= 1


@pytest.mark.parametrize("config, match", [
    ({"widht": 3}, "unknown config key 'widht'"),
    ({"width": "wide"}, "config 'width' must be int"),
    ({"lr": float("nan")}, "config 'lr' must be finite"),
    ({"parameterization": "ntk"}, "must be one of standard, mup; got 'ntk'"),
])
def test_bad_config_is_named(config, match):
    with pytest.raises(ValueError, match=match):
        KINDS["lr_transfer"].canonical(config)


def test_bad_tasks_are_found_before_anything_runs():
    with pytest.raises(ValueError, match=r"task 2 of 2: .*unknown config key 'bogus'"):
        check_tasks([Task("grokking", {}), Task("grokking", {"bogus": 1})])
    with pytest.raises(ValueError, match="unknown experiment kind 'sorcery'; must be one of lr_transfer"):
        get_kind("sorcery")
    with pytest.raises(ValueError, match="seed must be a whole number"):
        check_tasks([Task("grokking", {}, -1)])


def test_runs_land_in_the_cells_of_the_results_they_test(axes):
    assert cell(axes, "lazy_training", {"width": 2048, "depth": 2, "task": "image_classification"}) == {
        "task": "image_classification", "architecture": "mlp", "width": "wide", "depth": "shallow",
        "optimizer": "gd", "learning_rate": "small", "parameterization": "ntk", "data_regime": "overparameterized"}
    c = cell(axes, "lr_transfer", {"parameterization": "mup", "width": 512, "lr": 8e-3})
    assert (c["width"], c["depth"], c["learning_rate"], c["parameterization"]) == ("moderate", "moderate", "large", "mup")
    c = cell(axes, "double_descent", {"samples_per_param": 1.1, "features": 1024})
    assert (c["architecture"], c["width"], c["data_regime"], c["learning_rate"]) == ("kernel", "wide", "interpolation",
                                                                                        None)
    assert cell(axes, "grokking", {"depth": 2})["architecture"] == "mlp"


def test_a_stored_row_carries_canonical_quantities_seed_and_version(axes):
    task = Task("edge_of_stability", {"lr": 0.1}, 2, "exp-1")
    row = task_row(axes, task, {"sharpness_max": 20.0, "seconds": 1.5}, "git:abc")
    assert row["run_id"] == task.run_id == Task("edge_of_stability", {"lr": 0.1}, 2).run_id
    assert row["run_id"] != Task("edge_of_stability", {"lr": 0.2}, 2).run_id
    assert all(f"config.{q}" in row for q in CANONICAL)
    assert row["config.lr"] == 0.1 and row["config.seed"] == 2 and row["config.kind"] == "edge_of_stability"
    assert row["config.code_version"] == "git:abc" and row["config.expedition"] == "exp-1"
    assert row["sharpness_max"] == 20.0 and np.isnan(row["train_loss_end"]) and row["seconds"] == 1.5
    assert row["observables"] == "training_dynamics,loss_landscape,stability"


def test_plan_sweeps_the_quantity_and_what_it_pairs_with():
    lr_plan = plan("lr_transfer", "lr", 30, tiny=True)
    assert {c["parameterization"] for c, _ in lr_plan} == {"standard", "mup"}
    assert len({c["width"] for c, _ in lr_plan}) == 5 and len({c["lr"] for c, _ in lr_plan}) >= 3
    fixed = plan("lr_transfer", "lr", 8, width_units=64, parameterization="mup")
    assert {(c["width"], c["parameterization"]) for c, _ in fixed} == {(64, "mup")} and len(fixed) == 8
    seeds = plan("grokking", "weight_decay", 12)
    assert [s for _, s in seeds] == [0] * 6 + [1] * 6
    dd = plan("double_descent", "samples_per_param", 5, tiny=True)
    assert len(dd) == 5 and dd[0][0]["samples_per_param"] == 0.1 and dd[-1][0]["samples_per_param"] == 5.0
    with pytest.raises(ValueError, match="cannot sweep 'lr'; it varies weight_decay"):
        plan("grokking", "lr", 4)
    with pytest.raises(ValueError, match="n_runs must be a whole number"):
        plan("grokking", "weight_decay", 0)


def test_kinds_for_metric():
    assert kinds_for_metric("ntk_change_rel") == ["lazy_training"]
    assert set(kinds_for_metric("train_loss_end")) == {"lr_transfer", "lazy_training", "edge_of_stability"}
    assert kinds_for_metric("bogus") == []


def test_grokking_transformer_lands_on_transformers_and_old_runs_keep_their_ids(axes):
    kind = KINDS["grokking"]
    out = kind.run({**kind.tiny, "arch": "transformer", "width": 8}, 0)
    assert set(out) == set(kind.metrics) and 0 <= out["train_acc_end"] <= 1
    assert cell(axes, "grokking", {"arch": "transformer", "width": 64})["architecture"] == "transformer"
    assert Task("grokking", {"arch": "mlp"}).run_id == Task("grokking", {}).run_id     # a knob added later
    assert Task("grokking", {"arch": "transformer"}).run_id != Task("grokking", {}).run_id
    with pytest.raises(ValueError, match="width must be a multiple of 4; got 10"):
        kind.canonical({"arch": "transformer", "width": 10})
    with pytest.raises(ValueError, match="'arch' must be one of mlp, transformer"):
        kind.canonical({"arch": "rnn"})
