"""Lazy training: how far weights and the empirical neural tangent kernel move during training, against width.

A network in NTK parameterization (weights N(0, 1), each layer's output multiplied by sqrt(2 / fan_in) before
the ReLU, the readout by 1 / sqrt(fan_in); no biases) is trained by full-batch gradient descent on squared loss:
either ``teacher_student`` regression (20 Gaussian inputs, a random tanh teacher) or ``image_classification``
(digits, one-hot targets). The empirical NTK ``K = J J^T`` is taken on ``n_probe`` fixed training inputs, ``J``
the Jacobian of the network's output (for 10 outputs: their sum / sqrt(10), a fixed projection) in all
weights. Records

* ``weight_change_rel``: ||W_T - W_0||_F / ||W_0||_F over all weights together;
* ``ntk_change_rel``: ||K_T - K_0||_F / ||K_0||_F;
* ``train_loss_end``: the training loss at the last step.

Answers ``power_law`` predictions of either change against ``config.width_units`` (exponent about -1/2 for the
kernel, Lee et al. 2019; for the weights of a two-layer net also -1/2, of deeper nets about -1 because the
hidden matrices dominate the norm) and ``monotone`` decreasing (Chizat et al. 2019, Jacot et al. 2018).
Lands on architecture ``shallow_net`` (depth 1) or ``mlp``, optimizer ``gd``, parameterization ``ntk``; the
learning-rate bin follows ``lr`` / 0.1 (the default 0.025 is ``small``).
"""
from __future__ import annotations

from itertools import pairwise

import numpy as np

from atlas_viz.expeditions.kinds._common import (
    check_config,
    count_params,
    digits,
    gaussian_task,
    layer_sizes,
    torch_for,
)

NAME = "lazy_training"
METRICS = ("weight_change_rel", "ntk_change_rel", "train_loss_end")
OBSERVABLES = ("training_dynamics", "representations")
TASKS = ("teacher_student", "image_classification")
D_GAUSS = 20
DEFAULTS = {"task": "teacher_student", "width": 256, "depth": 1, "lr": 0.025, "steps": 400, "n_train": 64,
            "n_probe": 8}
TINY = {"width": 16, "steps": 10, "n_train": 16, "n_probe": 4}
RANGES = {"width_units": ("width", [16, 32, 64, 128, 256, 512, 1024, 1536, 2048])}
"""Canonical quantity -> (config key, values a sweep takes); 2048 hidden units x 2 layers on digits take ~15 s."""
PAIRED: dict = {}


def _dims(cfg: dict) -> tuple[int, int]:
    if cfg["task"] not in TASKS:
        raise ValueError(f"experiment kind {NAME!r}: config 'task' must be one of {', '.join(TASKS)}; "
                         f"got {cfg['task']!r}")
    return (D_GAUSS, 1) if cfg["task"] == "teacher_student" else (64, 10)


def params(cfg: dict) -> int:
    d_in, d_out = _dims(cfg)
    return count_params(layer_sizes(d_in, cfg["width"], cfg["depth"], d_out), bias=False)


def canonical(config: dict) -> dict:
    """Where a run lands and the canonical quantities its config carries."""
    cfg = check_config(NAME, config, DEFAULTS)
    p = params(cfg)
    return {"task": cfg["task"], "architecture": "shallow_net" if cfg["depth"] == 1 else "mlp",
            "optimizer": "gd", "parameterization": "ntk", "width_units": cfg["width"], "depth_layers": cfg["depth"],
            "lr": cfg["lr"], "steps": cfg["steps"], "weight_decay": 0.0, "params": p, "samples": cfg["n_train"],
            "samples_per_param": cfg["n_train"] / p}


def _data(cfg: dict, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if cfg["task"] == "teacher_student":
        x, y = gaussian_task("teacher_student", cfg["n_train"], D_GAUSS, 0.0, seed)
        return x, y[:, None]
    x, y, _, _ = digits(cfg["n_train"], seed)
    return x * np.float32(np.sqrt(64 / 20.0)), np.eye(10, dtype=np.float32)[y]  # |x|^2 / d about 1, as above


def _forward(torch, weights: list, x):
    h = x
    for w in weights[:-1]:
        h = torch.relu(h @ w * np.sqrt(2.0 / w.shape[0]))
    return h @ weights[-1] / np.sqrt(weights[-1].shape[0])


def _ntk(torch, weights: list, probe) -> np.ndarray:
    """Empirical NTK on the probe inputs, of the output summed over units / sqrt(units)."""
    rows = []
    for i in range(len(probe)):
        out = _forward(torch, weights, probe[i:i + 1]).sum() / np.sqrt(weights[-1].shape[1])
        grads = torch.autograd.grad(out, weights)
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    jac = torch.stack(rows)
    return (jac @ jac.T).numpy().astype(np.float64)


def run(config: dict, seed: int) -> dict[str, float]:
    """Train once; returns the metrics of the module docstring."""
    cfg = check_config(NAME, config, DEFAULTS)
    torch = torch_for(seed)
    d_in, d_out = _dims(cfg)
    x_np, y_np = _data(cfg, seed)
    x, y = torch.as_tensor(x_np), torch.as_tensor(y_np)
    sizes = layer_sizes(d_in, cfg["width"], cfg["depth"], d_out)
    weights = [torch.randn(a, b, requires_grad=True) for a, b in pairwise(sizes)]
    start = [w.detach().clone() for w in weights]
    probe = x[:cfg["n_probe"]]
    k0 = _ntk(torch, weights, probe)
    loss = float("nan")
    for _ in range(cfg["steps"]):
        out = 0.5 * ((_forward(torch, weights, x) - y) ** 2).sum(dim=1).mean()
        grads = torch.autograd.grad(out, weights)
        with torch.no_grad():
            for w, g in zip(weights, grads):
                w -= cfg["lr"] * g
    with torch.no_grad():
        loss = float(0.5 * ((_forward(torch, weights, x) - y) ** 2).sum(dim=1).mean())
        moved = float(torch.sqrt(sum(((w - s) ** 2).sum() for w, s in zip(weights, start))))
        size = float(torch.sqrt(sum((s ** 2).sum() for s in start)))
    k1 = _ntk(torch, weights, probe)
    return {"weight_change_rel": moved / size, "ntk_change_rel": float(np.linalg.norm(k1 - k0) / np.linalg.norm(k0)),
            "train_loss_end": loss}
