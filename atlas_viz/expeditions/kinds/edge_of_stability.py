"""Edge of stability: full-batch gradient descent on a small tanh MLP, with the top Hessian eigenvalue tracked.

A subset of scikit-learn's digits (scaled to [0, 1]) is fitted with squared loss on one-hot targets by plain
full-batch GD at a fixed step size ``lr``. Every ``every`` steps the sharpness (largest eigenvalue of the Hessian
of the training loss) is estimated by power iteration on Hessian-vector products (``torch.autograd`` double
backward), warm-started from the previous eigenvector. Records

* ``sharpness_max``: the largest sharpness estimate over the second half of training;
* ``sharpness_lr_over_2``: ``sharpness_max * lr / 2`` (1.0 is the stability threshold 2 / lr of GD on a
  quadratic: Cohen et al. 2021 find it rises to about 1 and hovers there);
* ``sharpness_init``, ``sharpness_end``: the first and the last estimate;
* ``train_loss_end``: the training loss at the last step (NaN if training diverged).

Answers ``bound`` predictions (``sharpness_lr_over_2`` at most ~1 plus a tolerance, or at least ~1 once
progressive sharpening has had time), and ``power_law`` of ``sharpness_max`` against ``config.lr`` (exponent
-1 when every run sits at the edge). Lands on task ``image_classification``, architecture ``mlp``, optimizer
``gd``; the learning-rate bin follows ``lr`` / 0.1.
"""
from __future__ import annotations

import numpy as np

from atlas_viz.expeditions.kinds._common import check_config, count_params, digits, layer_sizes, torch_for

NAME = "edge_of_stability"
METRICS = ("sharpness_max", "sharpness_lr_over_2", "sharpness_init", "sharpness_end", "train_loss_end")
OBSERVABLES = ("training_dynamics", "loss_landscape", "stability")
DEFAULTS = {"width": 32, "depth": 2, "lr": 0.05, "steps": 1500, "n_train": 500, "every": 50, "power_iters": 20}
TINY = {"width": 8, "depth": 1, "steps": 30, "n_train": 40, "every": 10, "power_iters": 8}
RANGES = {"lr": ("lr", [0.01, 0.02, 0.04, 0.08, 0.12, 0.16, 0.24, 0.32, 0.48, 0.64]),
          "width_units": ("width", [16, 32, 64, 128])}
"""Canonical quantity -> (config key, values a sweep takes)."""
PAIRED: dict = {}


def params(cfg: dict) -> int:
    return count_params(layer_sizes(64, cfg["width"], cfg["depth"], 10))


def canonical(config: dict) -> dict:
    """Where a run lands and the canonical quantities its config carries."""
    cfg = check_config(NAME, config, DEFAULTS)
    p = params(cfg)
    return {"task": "image_classification", "architecture": "shallow_net" if cfg["depth"] == 1 else "mlp",
            "optimizer": "gd", "parameterization": "standard", "width_units": cfg["width"],
            "depth_layers": cfg["depth"], "lr": cfg["lr"], "steps": cfg["steps"], "weight_decay": 0.0,
            "params": p, "samples": cfg["n_train"], "samples_per_param": cfg["n_train"] / p}


def top_eigenvalue(torch, loss_of, weights: list, vec: list | None, iters: int) -> tuple[float, list]:
    """Largest Hessian eigenvalue of ``loss_of()`` in ``weights`` by power iteration (and its eigenvector)."""
    loss = loss_of()
    grads = torch.autograd.grad(loss, weights, create_graph=True)
    vec = vec or [torch.randn_like(w) for w in weights]
    value = 0.0
    for i in range(iters):
        norm = torch.sqrt(sum((v * v).sum() for v in vec))
        vec = [v / norm for v in vec]
        hv = torch.autograd.grad(grads, weights, grad_outputs=vec, retain_graph=i < iters - 1)
        value = float(sum((h * v).sum() for h, v in zip(hv, vec)))
        vec = [h.detach() for h in hv]
    return value, vec


def run(config: dict, seed: int) -> dict[str, float]:
    """Train once; returns the metrics of the module docstring."""
    cfg = check_config(NAME, config, DEFAULTS)
    torch = torch_for(seed)
    x_np, y_np, _, _ = digits(cfg["n_train"], seed)
    x = torch.as_tensor(x_np)
    target = torch.nn.functional.one_hot(torch.as_tensor(y_np), 10).float()
    layers, width_in = [], 64
    for _ in range(cfg["depth"]):
        layers += [torch.nn.Linear(width_in, cfg["width"]), torch.nn.Tanh()]
        width_in = cfg["width"]
    net = torch.nn.Sequential(*layers, torch.nn.Linear(width_in, 10))
    weights = list(net.parameters())

    def loss_of():
        return 0.5 * ((net(x) - target) ** 2).sum(dim=1).mean()

    sharp, at, vec = [], [], None
    loss = float("nan")
    for step in range(cfg["steps"] + 1):
        if step % cfg["every"] == 0 or step == cfg["steps"]:
            value, vec = top_eigenvalue(torch, loss_of, weights, vec, cfg["power_iters"])
            sharp.append(value)
            at.append(step)
        if step == cfg["steps"]:
            break
        net.zero_grad(set_to_none=True)
        out = loss_of()
        loss = float(out.detach())
        if not np.isfinite(loss):
            break
        out.backward()
        with torch.no_grad():
            for w in weights:
                w -= cfg["lr"] * w.grad
    with torch.no_grad():
        loss = float(loss_of())
    sharp_a, at_a = np.array(sharp), np.array(at)
    late = sharp_a[at_a >= cfg["steps"] / 2] if np.isfinite(loss) else np.array([np.nan])
    top = float(np.max(late)) if len(late) else float("nan")
    return {"sharpness_max": top, "sharpness_lr_over_2": top * cfg["lr"] / 2, "sharpness_init": float(sharp_a[0]),
            "sharpness_end": float(sharp_a[-1]), "train_loss_end": loss if np.isfinite(loss) else float("nan")}
