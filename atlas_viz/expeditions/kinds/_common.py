"""Shared pieces of the experiment kinds: deterministic torch set-up, small datasets, norms.

Nothing here imports torch at module import time: :func:`torch_for` imports it inside the run, so listing the
kinds (the CLI, the app, the ranking) never pays for loading PyTorch.
"""
from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import numpy as np

DIGITS_TEST = 360
"""Digits held out as the one test set every run sees (the rest, 1437 images, is the training pool)."""


def torch_for(seed: int) -> Any:
    """Import torch, pin it to one thread (workers share the machine) and seed it; returns the module."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(int(seed))
    return torch


def check_config(kind: str, config: dict, defaults: dict) -> dict:
    """``defaults`` updated with ``config``; an unknown key or a value of the wrong type is a located error."""
    unknown = sorted(set(config) - set(defaults))
    if unknown:
        raise ValueError(f"experiment kind {kind!r}: unknown config key {unknown[0]!r}; expected one of "
                         f"{', '.join(sorted(defaults))}")
    out = dict(defaults)
    for key, value in config.items():
        want = type(defaults[key])
        if want is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = float(value)
        elif want is int and isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            value = int(value)
        if not isinstance(value, want):
            raise ValueError(f"experiment kind {kind!r}: config {key!r} must be {want.__name__}; got {value!r}")
        if want in (int, float) and not math.isfinite(value):
            raise ValueError(f"experiment kind {kind!r}: config {key!r} must be finite; got {value!r}")
        out[key] = value
    return out


def layer_sizes(d_in: int, width: int, depth: int, d_out: int) -> list[int]:
    """Units per layer of an MLP with ``depth`` hidden layers of ``width``: [d_in, width, ..., d_out]."""
    return [d_in] + [width] * depth + [d_out]


def count_params(sizes: list[int], bias: bool = True) -> int:
    """Trained parameters of the dense layers between consecutive ``sizes`` (weights, and biases if ``bias``)."""
    return int(sum((a + int(bias)) * b for a, b in pairwise(sizes)))


def digits(n_train: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test) from scikit-learn's 8x8 digits scaled to [0, 1]; the test set is fixed."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    fixed = np.random.default_rng(12345).permutation(len(x))
    test, pool = fixed[:DIGITS_TEST], fixed[DIGITS_TEST:]
    if not 1 <= n_train <= len(pool):
        raise ValueError(f"digits: n_train must be between 1 and {len(pool)}; got {n_train}")
    train = np.random.default_rng(seed).permutation(pool)[:n_train]
    return x[train], y[train], x[test], y[test]


def gaussian_task(task: str, n: int, d: int, noise: float, seed: int, data_seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Inputs N(0, I_d) and targets of ``linear_gaussian`` (a random linear teacher) or ``teacher_student``
    (a random two-layer tanh teacher with 8 hidden units), with Gaussian label noise of std ``noise``.

    The teacher is drawn from ``data_seed`` (the same function for every run), the samples from ``seed``.
    """
    teacher = np.random.default_rng(10_000 + data_seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    if task == "linear_gaussian":
        y = x @ (teacher.standard_normal(d) / np.sqrt(d))
    elif task == "teacher_student":
        w1 = teacher.standard_normal((d, 8)) / np.sqrt(d)
        w2 = teacher.standard_normal(8) / np.sqrt(8)
        y = np.tanh(x @ w1) @ w2 * np.sqrt(2.0)
    else:
        raise ValueError(f"task must be linear_gaussian or teacher_student; got {task!r}")
    return x.astype(np.float32), (y + noise * rng.standard_normal(n)).astype(np.float32)


def first_at_least(values: np.ndarray, steps: np.ndarray, threshold: float) -> float:
    """The first step at which ``values`` reaches ``threshold`` (NaN if it never does)."""
    hit = np.flatnonzero(np.asarray(values) >= threshold)
    return float(steps[hit[0]]) if len(hit) else float("nan")
