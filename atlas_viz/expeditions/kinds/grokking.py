"""Grokking: modular addition learned by a small MLP or a one-layer transformer under AdamW, with and without
weight decay.

The label is ``(a + b) mod p``; a fraction of the p x p table is the training set, the rest the test set.
``arch: mlp``: the inputs are the one-hot codes of ``a`` and ``b`` (2p numbers), ``depth`` hidden ReLU layers of
``width``. ``arch: transformer``: the tokens ``a b =`` with learned embeddings of ``width`` (d_model), ``depth``
blocks of 4-head self-attention and a 4x ReLU MLP (residual, no layer norm, as in Nanda et al. 2023), read out
at ``=``. Full-batch AdamW; train and test accuracy are measured every ``eval_every`` steps. Records

* ``memorization_step``: first step with train accuracy >= 0.99;
* ``grokking_step``: first step with test accuracy >= 0.95 (NaN if it never happens within ``steps``);
* ``grokking_delay``: grokking_step - memorization_step (NaN if either is missing);
* ``train_acc_end``, ``test_acc_end``: accuracies at the last step.

Answers predictions on the delay between memorisation and generalisation and on the role of weight decay:
``monotone`` (``grokking_delay`` or ``grokking_step`` decreasing against ``config.weight_decay``; Power et al.
2022, Liu et al. 2022 "Omnigrok" and "effective theory", Kumar et al. 2023 for one hidden layer), and
``bound`` (``test_acc_end`` at least some value with weight decay). Lands on task ``algorithmic``,
architecture ``shallow_net`` (one hidden layer), ``mlp`` (two or more) or ``transformer``, optimizer
``adaptive``.
"""
from __future__ import annotations

import numpy as np

from atlas_viz.expeditions.kinds._common import check_config, count_params, first_at_least, layer_sizes, torch_for

NAME = "grokking"
METRICS = ("memorization_step", "grokking_step", "grokking_delay", "train_acc_end", "test_acc_end")
OBSERVABLES = ("generalization", "training_dynamics")
DEFAULTS = {"p": 31, "train_fraction": 0.6, "width": 256, "depth": 1, "lr": 2e-3, "weight_decay": 1.0,
            "steps": 4000, "eval_every": 20, "init_scale": 1.0, "arch": "mlp"}
"""p = 31 with 60% of the table for training groks within ~2,000 steps at weight decay 1 (p = 23 did not
within 3,000 steps: too few training pairs); lr 2e-3 is 2x Adam's reference, inside the ``moderate`` bin."""
TINY = {"p": 7, "train_fraction": 0.6, "width": 16, "depth": 1, "steps": 60, "eval_every": 10}
RANGES = {"weight_decay": ("weight_decay", [0.0, 0.1, 0.3, 1.0, 2.0, 4.0])}
"""Canonical quantity -> (config key, values a sweep takes)."""
PAIRED: dict = {}


def split(p: int, train_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the p*p pairs in the training set and in the test set, drawn with ``seed``."""
    order = np.random.default_rng(seed).permutation(p * p)
    n_train = round(train_fraction * p * p)
    if not 1 <= n_train < p * p:
        raise ValueError(f"grokking: train_fraction must leave at least one pair on each side; got {train_fraction}")
    return order[:n_train], order[n_train:]


ADDED_LATER = {"arch": "mlp"}
"""Config keys added after runs were stored, left out of a run's id at these values so those runs keep theirs."""
ARCHS = ("mlp", "transformer")
HEADS = 4


def params(cfg: dict) -> int:
    if cfg["arch"] == "transformer":
        d = cfg["width"]
        block = 4 * d * d + count_params([d, 4 * d, d])          # attention (q, k, v, out; no bias) + MLP
        return (cfg["p"] + 1 + 3) * d + cfg["depth"] * block + d * cfg["p"]
    return count_params(layer_sizes(2 * cfg["p"], cfg["width"], cfg["depth"], cfg["p"]))


def _checked(config: dict) -> dict:
    cfg = check_config(NAME, config, DEFAULTS)
    if cfg["arch"] not in ARCHS:
        raise ValueError(f"experiment kind {NAME!r}: config 'arch' must be one of {', '.join(ARCHS)}; "
                         f"got {cfg['arch']!r}")
    if cfg["arch"] == "transformer" and cfg["width"] % HEADS:
        raise ValueError(f"experiment kind {NAME!r}: a transformer's width must be a multiple of {HEADS}; "
                         f"got {cfg['width']}")
    return cfg


def canonical(config: dict) -> dict:
    """Where a run lands and the canonical quantities its config carries."""
    cfg = _checked(config)
    n_train = round(cfg["train_fraction"] * cfg["p"] ** 2)
    p = params(cfg)
    arch = "transformer" if cfg["arch"] == "transformer" else "shallow_net" if cfg["depth"] == 1 else "mlp"
    return {"task": "algorithmic", "architecture": arch,
            "optimizer": "adaptive", "parameterization": "standard", "width_units": cfg["width"],
            "depth_layers": cfg["depth"], "lr": cfg["lr"], "steps": cfg["steps"],
            "weight_decay": cfg["weight_decay"], "params": p, "samples": n_train, "samples_per_param": n_train / p}


def _mlp(torch, cfg: dict, a: np.ndarray, b: np.ndarray):
    """(network, inputs): one-hot a and b into ``depth`` ReLU layers."""
    p = cfg["p"]
    layers, width_in = [], 2 * p
    for _ in range(cfg["depth"]):
        layers += [torch.nn.Linear(width_in, cfg["width"]), torch.nn.ReLU()]
        width_in = cfg["width"]
    return torch.nn.Sequential(*layers, torch.nn.Linear(width_in, p)), torch.cat([torch.eye(p)[a], torch.eye(p)[b]], 1)


def _transformer(torch, cfg: dict, a: np.ndarray, b: np.ndarray):
    """(network, inputs): tokens ``a b =`` through ``depth`` attention + MLP blocks, read out at ``=``."""
    p, d = cfg["p"], cfg["width"]
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.pos = nn.Embedding(p + 1, d), nn.Parameter(torch.randn(3, d) / np.sqrt(d))
            self.attn = nn.ModuleList(nn.MultiheadAttention(d, HEADS, bias=False, batch_first=True)
                                      for _ in range(cfg["depth"]))
            self.mlp = nn.ModuleList(nn.Sequential(nn.Linear(d, 4 * d), nn.ReLU(), nn.Linear(4 * d, d))
                                     for _ in range(cfg["depth"]))
            self.out = nn.Linear(d, p, bias=False)

        def forward(self, tokens):
            h = self.embed(tokens) + self.pos
            for attn, mlp in zip(self.attn, self.mlp):
                h = h + attn(h, h, h, need_weights=False)[0]
                h = h + mlp(h)
            return self.out(h[:, -1])

    return Net(), torch.as_tensor(np.stack([a, b, np.full_like(a, p)], axis=1))


def run(config: dict, seed: int) -> dict[str, float]:
    """Train once; returns the metrics of the module docstring."""
    cfg = _checked(config)
    torch = torch_for(seed)
    p = cfg["p"]
    a, b = np.divmod(np.arange(p * p), p)
    net, x = (_transformer if cfg["arch"] == "transformer" else _mlp)(torch, cfg, a, b)
    y = torch.as_tensor((a + b) % p)
    tr, te = (torch.as_tensor(i) for i in split(p, cfg["train_fraction"], seed))
    with torch.no_grad():
        for prm in net.parameters():
            prm.mul_(cfg["init_scale"])
    opt = torch.optim.AdamW(net.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"], betas=(0.9, 0.98))
    loss_fn = torch.nn.CrossEntropyLoss()
    steps, train_acc, test_acc = [], [], []
    for step in range(1, cfg["steps"] + 1):
        opt.zero_grad(set_to_none=True)
        loss_fn(net(x[tr]), y[tr]).backward()
        opt.step()
        if step % cfg["eval_every"] == 0 or step == cfg["steps"]:
            with torch.no_grad():
                pred = net(x).argmax(dim=1)
            steps.append(step)
            train_acc.append(float((pred[tr] == y[tr]).float().mean()))
            test_acc.append(float((pred[te] == y[te]).float().mean()))
    steps_a = np.array(steps)
    memorized = first_at_least(np.array(train_acc), steps_a, 0.99)
    grokked = first_at_least(np.array(test_acc), steps_a, 0.95)
    return {"memorization_step": memorized, "grokking_step": grokked, "grokking_delay": grokked - memorized,
            "train_acc_end": train_acc[-1], "test_acc_end": test_acc[-1]}
