"""Double descent: random ReLU features fitted by minimum-norm least squares, test error against samples per
parameter.

``features`` random ReLU features ``relu(x W) * sqrt(2 / features)`` (W ~ N(0, 1/d), fixed per seed) feed a
linear readout fitted by minimum-norm least squares (``numpy.linalg.lstsq``: the limit of gradient descent from
zero, so the optimizer is recorded as ``gd`` and the learning rate as not applicable), or by ridge with a tiny
``ridge`` when it is positive. ``n_train = samples_per_param * features`` samples; the readout has ``features``
parameters per output. Tasks: ``image_classification`` (digits, one-hot targets, error = misclassification
rate), ``linear_gaussian`` and ``teacher_student`` (d = 20 Gaussian inputs, label noise ``noise``, error =
mean squared error / target variance, on 2,000 fresh test samples). Records

* ``test_error``, ``train_error`` (as above);
* ``test_mse``: mean squared error of the readout's outputs on the test set (for digits against the one-hot
  targets), the quantity random-features theory computes.

Answers ``peak`` predictions of ``test_error`` or ``test_mse`` against ``config.samples_per_param`` (near 1:
the interpolation threshold; Belkin et al. 2019, Mei and Montanari 2019, Hastie et al. 2022) and ``monotone``
ones on either side. Lands on architecture ``kernel``, depth ``shallow``, optimizer ``gd``; the data regime bin
follows ``samples_per_param``.
"""
from __future__ import annotations

import numpy as np

from atlas_viz.expeditions.kinds._common import check_config, digits, gaussian_task

NAME = "double_descent"
METRICS = ("test_error", "train_error", "test_mse")
OBSERVABLES = ("generalization", "sample_complexity")
TASKS = ("image_classification", "linear_gaussian", "teacher_student")
D_GAUSS, N_TEST_GAUSS = 20, 2000
DEFAULTS = {"task": "image_classification", "features": 256, "samples_per_param": 1.0, "noise": 0.3,
            "ridge": 0.0}
TINY = {"task": "teacher_student", "features": 32, "samples_per_param": 1.0}
RANGES = {"samples_per_param": ("samples_per_param", [0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1,
                                                        1.25, 1.5, 2.0, 3.0, 5.0])}
"""Canonical quantity -> (config key, values a sweep takes): fine around the threshold 1."""
PAIRED: dict = {}
USES_TORCH = False


def _checked(config: dict) -> dict:
    cfg = check_config(NAME, config, DEFAULTS)
    if cfg["task"] not in TASKS:
        raise ValueError(f"experiment kind {NAME!r}: config 'task' must be one of {', '.join(TASKS)}; "
                         f"got {cfg['task']!r}")
    if cfg["samples_per_param"] <= 0 or cfg["features"] < 1 or cfg["ridge"] < 0:
        raise ValueError(f"experiment kind {NAME!r}: samples_per_param and features must be positive and ridge "
                         f"at least 0; got {cfg['samples_per_param']}, {cfg['features']}, {cfg['ridge']}")
    return cfg


def n_train(cfg: dict) -> int:
    return max(1, round(cfg["samples_per_param"] * cfg["features"]))


def canonical(config: dict) -> dict:
    """Where a run lands and the canonical quantities its config carries."""
    cfg = _checked(config)
    n = n_train(cfg)
    return {"task": cfg["task"], "architecture": "kernel", "optimizer": "gd", "parameterization": "standard",
            "width_units": cfg["features"], "depth_layers": 1, "lr": float("nan"), "steps": 0, "weight_decay":
            cfg["ridge"], "params": cfg["features"], "samples": n, "samples_per_param": n / cfg["features"]}


def _data(cfg: dict, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    n = n_train(cfg)
    if cfg["task"] == "image_classification":
        x, y, xt, yt = digits(n, seed)
        return x, y, xt, yt, True
    x, y = gaussian_task(cfg["task"], n + N_TEST_GAUSS, D_GAUSS, cfg["noise"], seed)
    return x[:n], y[:n], x[n:], y[n:], False


def run(config: dict, seed: int) -> dict[str, float]:
    """Fit once; returns the metrics of the module docstring."""
    cfg = _checked(config)
    x, y, xt, yt, classify = _data(cfg, seed)
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((x.shape[1], cfg["features"])) / np.sqrt(x.shape[1])
    scale = np.sqrt(2.0 / cfg["features"])
    f, ft = np.maximum(x @ w, 0.0) * scale, np.maximum(xt @ w, 0.0) * scale
    t = np.eye(10)[y] if classify else y[:, None].astype(np.float64)
    tt = np.eye(10)[yt] if classify else yt[:, None].astype(np.float64)
    if cfg["ridge"] > 0:
        theta = np.linalg.solve(f.T @ f + cfg["ridge"] * len(f) * np.eye(f.shape[1]), f.T @ t)
    else:
        theta = np.linalg.lstsq(f, t, rcond=None)[0]
    out, out_t = f @ theta, ft @ theta
    test_mse = float(np.mean(np.sum((out_t - tt) ** 2, axis=1)))
    if classify:
        return {"test_error": float(np.mean(out_t.argmax(1) != yt)), "train_error": float(np.mean(out.argmax(1) != y)),
                "test_mse": test_mse}
    var = float(np.var(yt)) or 1.0
    return {"test_error": float(np.mean((out_t[:, 0] - yt) ** 2) / var),
            "train_error": float(np.mean((out[:, 0] - y) ** 2) / var), "test_mse": test_mse}
