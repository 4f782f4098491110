"""Learning-rate transfer across width: an MLP on digits trained by Adam under standard or maximal-update
parameterization (muP), one learning rate per run.

The network has ``depth`` hidden ReLU layers of ``width`` units (default 3), weights initialised N(0, 1/fan_in)
(He-scaled for the hidden layers) in both parameterizations, and is trained by Adam on minibatches with
cross-entropy. ``standard``: one learning rate for every tensor. ``mup`` (Yang et al. 2021/2022, Tensor
Programs V, Table 3 for Adam; ``base_width`` is where the two coincide): the hidden (width x width) matrices
take learning rate ``lr * base_width / width``, the input layer, readout and biases ``lr``; the readout's output
is multiplied by ``base_width / width`` (so its effective step also shrinks as 1/width, as in the table) and its
weights start at zero. Records

* ``train_loss_end``: cross-entropy on the whole training set after the last step (NaN if it diverged);
* ``test_loss``: cross-entropy on the fixed 360-image test set; ``test_error``: its misclassification rate.

Answers ``optimum_invariant`` predictions: ``over: config.lr``, ``across: config.width_units`` (the learning
rate minimising ``train_loss_end`` or ``test_loss`` stays within a small factor across widths under muP and
drifts, typically down, under standard parameterization; Yang et al. 2022). Lands on task
``image_classification``, architecture ``mlp``, optimizer ``adaptive``, parameterization ``standard`` or
``mup``; the learning-rate bin follows ``lr`` / 1e-3.
"""
from __future__ import annotations

from itertools import pairwise

import numpy as np

from atlas_viz.expeditions.kinds._common import check_config, count_params, digits, layer_sizes, torch_for

NAME = "lr_transfer"
METRICS = ("train_loss_end", "test_loss", "test_error")
OBSERVABLES = ("transfer", "training_dynamics", "generalization")
PARAMETERIZATIONS = ("standard", "mup")
DEFAULTS = {"parameterization": "standard", "width": 128, "depth": 3, "lr": 1e-3, "steps": 300, "batch": 64,
            "n_train": 1437, "base_width": 64}
TINY = {"width": 16, "depth": 2, "steps": 8, "batch": 16, "n_train": 64, "base_width": 8}
RANGES = {"lr": ("lr", [1e-3 * 2.0 ** k for k in range(-4, 6)]), "width_units": ("width", [64, 128, 256, 512, 1024]),
          "parameterization": ("parameterization", list(PARAMETERIZATIONS))}
"""Canonical quantity -> (config key, values a sweep takes): lr from 6e-5 to 3e-2 brackets the optimum of
both parameterizations at every width (measured: 2e-3..8e-3)."""
PAIRED = {"lr": ("width_units", "parameterization"), "width_units": ("lr", "parameterization")}
"""A sweep of one of these also spans the others: an optimum over lr means nothing at a single width."""


def params(cfg: dict) -> int:
    return count_params(layer_sizes(64, cfg["width"], cfg["depth"], 10))


def _checked(config: dict) -> dict:
    cfg = check_config(NAME, config, DEFAULTS)
    if cfg["parameterization"] not in PARAMETERIZATIONS:
        raise ValueError(f"experiment kind {NAME!r}: config 'parameterization' must be one of "
                         f"{', '.join(PARAMETERIZATIONS)}; got {cfg['parameterization']!r}")
    return cfg


def canonical(config: dict) -> dict:
    """Where a run lands and the canonical quantities its config carries."""
    cfg = _checked(config)
    p = params(cfg)
    return {"task": "image_classification", "architecture": "shallow_net" if cfg["depth"] == 1 else "mlp",
            "optimizer": "adaptive", "parameterization": cfg["parameterization"], "width_units": cfg["width"],
            "depth_layers": cfg["depth"], "lr": cfg["lr"], "steps": cfg["steps"], "weight_decay": 0.0,
            "params": p, "samples": cfg["n_train"], "samples_per_param": cfg["n_train"] / p}


def _build(torch, cfg: dict) -> tuple[list, list, float]:
    """(layers, Adam parameter groups, readout multiplier) for the configured parameterization."""
    sizes = layer_sizes(64, cfg["width"], cfg["depth"], 10)
    layers = [torch.nn.Linear(a, b) for a, b in pairwise(sizes)]
    mup = cfg["parameterization"] == "mup"
    ratio = cfg["base_width"] / cfg["width"]
    with torch.no_grad():
        for i, layer in enumerate(layers):
            gain = 2.0 if 0 < i < len(layers) - 1 or (i == 0 and len(layers) > 1) else 1.0
            layer.weight.normal_(0.0, float(np.sqrt(gain / layer.in_features)))
            layer.bias.zero_()
        if mup:
            layers[-1].weight.zero_()
    groups = []
    for i, layer in enumerate(layers):
        scaled = mup and 0 < i < len(layers) - 1
        groups.append({"params": [layer.weight], "lr": cfg["lr"] * (ratio if scaled else 1.0)})
        groups.append({"params": [layer.bias], "lr": cfg["lr"]})
    return layers, groups, ratio if mup else 1.0


def run(config: dict, seed: int) -> dict[str, float]:
    """Train once; returns the metrics of the module docstring."""
    cfg = _checked(config)
    torch = torch_for(seed)
    x_np, y_np, xt_np, yt_np = digits(cfg["n_train"], seed)
    x, y, xt, yt = (torch.as_tensor(a) for a in (x_np, y_np, xt_np, yt_np))
    layers, groups, mult = _build(torch, cfg)

    def net(inp):
        h = inp
        for layer in layers[:-1]:
            h = torch.relu(layer(h))
        return layers[-1](h) * mult

    opt = torch.optim.Adam(groups)
    loss_fn = torch.nn.functional.cross_entropy
    gen = torch.Generator().manual_seed(int(seed))
    batch = min(cfg["batch"], len(x))
    for _ in range(cfg["steps"]):
        idx = torch.randint(0, len(x), (batch,), generator=gen)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x[idx]), y[idx])
        if not torch.isfinite(loss):
            break
        loss.backward()
        opt.step()
    with torch.no_grad():
        train_loss, out_t = float(loss_fn(net(x), y)), net(xt)
        test_loss, test_error = float(loss_fn(out_t, yt)), float((out_t.argmax(dim=1) != yt).float().mean())
    if not (np.isfinite(train_loss) and np.isfinite(test_loss)):
        return {"train_loss_end": float("nan"), "test_loss": float("nan"), "test_error": float("nan")}
    return {"train_loss_end": train_loss, "test_loss": test_loss, "test_error": test_error}
