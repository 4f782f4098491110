"""Small expeditions run for real on a CPU: a sweep over a gap's cells, trained and stored as runs.

What a laptop can realise (each run well under a couple of seconds):

* tasks generated in code (``linear_gaussian``: linear regression on Gaussian inputs; ``teacher_student``: a
  random two-layer tanh teacher; ``sparse_features``: sparse parity of 3 of 12 bits; ``algorithmic``: addition
  modulo 23) and ``image_classification`` on scikit-learn's bundled 8x8 digits;
* architectures ``linear`` (a deep linear network: identity activations), ``shallow_net`` (one hidden ReLU layer),
  ``mlp`` (2 or 3 hidden ReLU layers), both trained with scikit-learn's MLP, and ``kernel`` (random ReLU features
  whose linear readout is trained in numpy);
* widths narrow / moderate / wide (up to 1024 units), depths shallow / moderate, optimizers gd / sgd / adaptive at
  learning rates 0.1x / 1x / 5x the reference value of ``axes.yaml``, standard parameterization, and data regimes
  set by choosing the number of training samples relative to the number of trained parameters.

Every run records the axis values it realises (recomputed from its numbers with the bins of ``axes.yaml``, so it
lands in the cell it was planned for), train and test metrics, its seed, seconds and the code version, and is
saved as soon as it finishes (``runs.save_runs(..., append=True)`` into the source ``expeditions``), so a stop or
a time-out keeps every finished run.
"""
from __future__ import annotations

import subprocess
import threading
import time
import warnings
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from atlas_viz.core.names import QUANTITIES_KEY
from atlas_viz.expeditions.kinds import all_metrics
from atlas_viz.expeditions.sweeps import RunReport, run_and_store
from atlas_viz.terrain.axes import Axes

SOURCE = "expeditions"
OBSERVABLES = ("generalization", "training_dynamics")
METRICS = ("train_error", "test_error", "generalization_gap", "train_loss_start", "train_loss_end", "diverged",
           "seconds")
TASKS = ("linear_gaussian", "teacher_student", "sparse_features", "algorithmic", "image_classification")
ARCHITECTURES = ("linear", "kernel", "shallow_net", "mlp")
WIDTHS = {"narrow": (16, 8, 32, 4, 48), "moderate": (128, 64, 256, 512), "wide": (1024,)}
DEPTHS = {"shallow": 2, "moderate": 3}          # hidden layers for mlp / linear; shallow_net and kernel have 1
OPTIMIZERS = ("gd", "sgd", "adaptive")
LR_FACTORS = {"small": 0.1, "moderate": 1.0, "large": 5.0}
SAMPLES_PER_PARAM = {"overparameterized": 0.25, "interpolation": 1.0, "underparameterized": 4.0,
                     "infinite_data": 20.0}
PARAMETERIZATIONS = ("standard",)
MIN_TRAIN, MAX_TRAIN, N_TEST = 24, 6000, 500
WORK_PER_RUN = 5e8
"""Multiply-adds allowed per run (a fraction of a second on a laptop core): sets the number of epochs."""
MAX_EPOCHS, MIN_EPOCHS, MAX_STEPS, BATCH = 150, 3, 1200, 32
"""Epochs are also capped so that epochs x mini-batches stays under MAX_STEPS (Python overhead per step)."""
TASK_SHAPE = {  # inputs, outputs (classes; 1 for regression), train samples available (None: any number)
    "linear_gaussian": (20, 1, None), "teacher_student": (20, 1, None), "sparse_features": (12, 2, None),
    "algorithmic": (46, 23, 423), "image_classification": (64, 10, 1437),
}


@dataclass(frozen=True)
class RunConfig:
    """One planned training run, with the numbers that realise its cell."""

    cell: int
    task: str
    architecture: str
    width_units: int
    depth_layers: int
    optimizer: str
    lr: float
    lr_factor: float
    n_train: int
    params: int
    epochs: int
    seed: int
    expedition: str = ""


def code_version() -> str:
    """The git commit of this checkout if there is one, else the package version."""
    from atlas_viz import __version__

    try:
        out = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=Path(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=5)
        if out.returncode == 0 and out.stdout.strip():
            return "git:" + out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return "atlas_viz " + __version__


def count_params(arch: str, d_in: int, d_out: int, width: int, depth: int) -> int:
    """Trained parameters: all weights and biases of the MLP; for random features only the readout."""
    if arch == "kernel":
        return (width + 1) * d_out
    sizes = [d_in] + [width] * depth + [d_out]
    return int(sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:])))


def realise(values: dict[str, str], reference: dict[str, float]) -> dict | None:
    """Numbers that realise a cell on a CPU (width, depth, samples, learning rate), or None if out of reach."""
    task, arch = values["task"], values["architecture"]
    if (task not in TASKS or arch not in ARCHITECTURES or values["width"] not in WIDTHS
            or values["depth"] not in DEPTHS or values["optimizer"] not in OPTIMIZERS
            or values["parameterization"] not in PARAMETERIZATIONS or values["data_regime"] not in SAMPLES_PER_PARAM):
        return None
    if arch in ("kernel", "shallow_net") and values["depth"] != "shallow":
        return None
    depth = 1 if arch in ("kernel", "shallow_net") else DEPTHS[values["depth"]]
    d_in, d_out, avail = TASK_SHAPE[task]
    limit = min(MAX_TRAIN, avail or MAX_TRAIN)
    ratio = SAMPLES_PER_PARAM[values["data_regime"]]
    for width in WIDTHS[values["width"]]:
        p = count_params(arch, d_in, d_out, width, depth)
        n = int(round(ratio * p))
        if MIN_TRAIN <= n <= limit:
            lr = reference.get(values["optimizer"], 0.1) * LR_FACTORS[values["learning_rate"]]
            batches = 1 if values["optimizer"] == "gd" else -(-n // BATCH)
            epochs = int(np.clip(min(WORK_PER_RUN / (3 * p * n), MAX_STEPS / batches), MIN_EPOCHS, MAX_EPOCHS))
            return {"width_units": width, "depth_layers": depth, "n_train": n, "params": p, "lr": lr,
                    "lr_factor": LR_FACTORS[values["learning_rate"]], "epochs": epochs}
    return None


def realisable_cells(axes: Axes, terrain: pd.DataFrame, cells: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask over ``cells`` (default: every cell): which ones a CPU expedition can realise.

    Whether :func:`realise` finds numbers depends on task, architecture, width, depth and data regime; the
    optimizer and parameterization only need to be supported, and the learning rate never matters. So
    ``realise`` runs once per distinct combination of the five (a few hundred), not once per cell.
    """
    cells = np.arange(len(terrain)) if cells is None else np.asarray(cells, dtype=np.int64)
    if not len(cells):
        return np.zeros(0, dtype=bool)
    deciding = ["task", "architecture", "width", "depth", "data_regime"]
    uniq, inverse = np.unique(terrain[deciding].to_numpy()[cells], axis=0, return_inverse=True)
    probe = {"optimizer": OPTIMIZERS[0], "parameterization": PARAMETERIZATIONS[0],
             "learning_rate": next(iter(LR_FACTORS))}
    reference = axes["learning_rate"].reference
    ok = np.array([realise({**probe, **{a: axes[a].value_names[c] for a, c in zip(deciding, row)}}, reference)
                   is not None for row in uniq], dtype=bool)[inverse.ravel()]
    for name, supported in (("optimizer", OPTIMIZERS), ("parameterization", PARAMETERIZATIONS)):
        codes = [axes[name].code(v) for v in supported if v in axes[name].value_names]
        ok &= np.isin(terrain[name].to_numpy()[cells], codes)
    return ok


def plan_sweep(axes: Axes, terrain: pd.DataFrame, cells: np.ndarray, expedition: str = "", max_runs: int = 60,
               seeds: tuple[int, ...] = (0, 1, 2)) -> list[RunConfig]:
    """A sweep over the realisable cells of a gap: every cell once with the first seed, then again with the next.

    The cells are taken in a shuffled order fixed by the expedition id, so a short budget still spreads over the gap.
    """
    cells = np.asarray(cells, dtype=np.int64)
    cells = cells[realisable_cells(axes, terrain, cells)]
    if not len(cells):
        return []
    rng = np.random.default_rng(int.from_bytes(expedition.encode()[:8].ljust(8, b"\0"), "little"))
    cells = rng.permutation(cells)[:max_runs]
    reference = axes["learning_rate"].reference
    plan = []
    for seed in seeds:
        for cell in cells:
            row = terrain.iloc[int(cell)]
            values = {a.name: a.value_names[int(row[a.name])] for a in axes.axes}
            num = realise(values, reference)
            plan.append(RunConfig(int(cell), values["task"], values["architecture"], num["width_units"],
                                  num["depth_layers"], values["optimizer"], num["lr"], num["lr_factor"],
                                  num["n_train"], num["params"], num["epochs"], int(seed), expedition))
            if len(plan) >= max_runs:
                return plan
    return plan


# ---- data --------------------------------------------------------------------------------------------------

def make_task(task: str, n_train: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """(X_train, y_train, X_test, y_test, is_classification) for a task, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    if task == "linear_gaussian":
        d = TASK_SHAPE[task][0]
        w = rng.standard_normal(d) / np.sqrt(d)
        x = rng.standard_normal((n_train + N_TEST, d))
        y = x @ w + 0.1 * rng.standard_normal(len(x))
        return x[:n_train], y[:n_train], x[n_train:], y[n_train:], False
    if task == "teacher_student":
        d = TASK_SHAPE[task][0]
        w1 = rng.standard_normal((d, 8)) / np.sqrt(d)
        w2 = rng.standard_normal(8) / np.sqrt(8)
        x = rng.standard_normal((n_train + N_TEST, d))
        y = np.tanh(x @ w1) @ w2 + 0.05 * rng.standard_normal(len(x))
        return x[:n_train], y[:n_train], x[n_train:], y[n_train:], False
    if task == "sparse_features":
        d = TASK_SHAPE[task][0]
        x = rng.choice([-1.0, 1.0], size=(n_train + N_TEST, d))
        y = (x[:, :3].prod(axis=1) > 0).astype(int)
        return x[:n_train], y[:n_train], x[n_train:], y[n_train:], True
    if task == "algorithmic":
        p = 23
        a, b = np.divmod(np.arange(p * p), p)
        x = np.hstack([np.eye(p)[a], np.eye(p)[b]])
        y = (a + b) % p
        order = rng.permutation(len(x))
        tr, te = order[:n_train], order[n_train:]
        return x[tr], y[tr], x[te], y[te], True
    if task == "image_classification":
        from sklearn.datasets import load_digits

        x, y = load_digits(return_X_y=True)
        x = x / 16.0
        fixed = np.random.default_rng(12345).permutation(len(x))  # one test set for every run
        test, pool = fixed[:360], fixed[360:]
        tr = rng.permutation(pool)[:n_train]
        return x[tr], y[tr], x[test], y[test], True
    raise ValueError(f"task must be one of {', '.join(TASKS)}; got {task!r}")


# ---- training ----------------------------------------------------------------------------------------------

def _errors(pred_tr, y_tr, pred_te, y_te, classification: bool) -> tuple[float, float]:
    if classification:
        return float(np.mean(pred_tr != y_tr)), float(np.mean(pred_te != y_te))
    var = float(np.var(y_te)) or 1.0
    return float(np.mean((pred_tr - y_tr) ** 2) / var), float(np.mean((pred_te - y_te) ** 2) / var)


def _train_mlp(cfg: RunConfig, x_tr, y_tr, x_te, y_te, classification: bool) -> dict:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    model_cls = MLPClassifier if classification else MLPRegressor
    model = model_cls(hidden_layer_sizes=(cfg.width_units,) * cfg.depth_layers,
                      activation="identity" if cfg.architecture == "linear" else "relu",
                      solver="adam" if cfg.optimizer == "adaptive" else "sgd", alpha=0.0,
                      batch_size=cfg.n_train if cfg.optimizer == "gd" else min(BATCH, cfg.n_train),
                      learning_rate_init=cfg.lr, momentum=0.0 if cfg.optimizer == "gd" else 0.9,
                      nesterovs_momentum=False, max_iter=cfg.epochs, tol=0.0, n_iter_no_change=cfg.epochs + 1,
                      shuffle=True, random_state=cfg.seed)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            model.fit(x_tr, y_tr)
        except ValueError as err:  # the weights or loss became non-finite: a diverged run is a result too
            if "finite" not in str(err).lower() and "nan" not in str(err).lower() and "inf" not in str(err).lower():
                raise
            return {"diverged": 1.0}
        curve = list(getattr(model, "loss_curve_", []) or [np.nan])
        if not np.isfinite(curve[-1]):
            return {"diverged": 1.0, "train_loss_start": float(curve[0])}
        tr, te = _errors(model.predict(x_tr), y_tr, model.predict(x_te), y_te, classification)
    return {"train_error": tr, "test_error": te, "train_loss_start": float(curve[0]),
            "train_loss_end": float(curve[-1]), "diverged": 0.0}


def _train_random_features(cfg: RunConfig, x_tr, y_tr, x_te, y_te, classification: bool) -> dict:
    """Random ReLU features (fixed) and a linear readout trained on squared loss by gd, sgd or Adam."""
    rng = np.random.default_rng(cfg.seed)
    w = rng.standard_normal((x_tr.shape[1], cfg.width_units)) / np.sqrt(x_tr.shape[1])

    def feats(x):
        return np.c_[np.maximum(x @ w, 0.0) * np.sqrt(2.0 / cfg.width_units), np.ones(len(x))]

    f_tr, f_te = feats(x_tr), feats(x_te)
    classes = np.unique(np.r_[y_tr, y_te]) if classification else None
    t_tr = (y_tr[:, None] == classes[None, :]).astype(float) if classification else y_tr[:, None].astype(float)
    theta = np.zeros((f_tr.shape[1], t_tr.shape[1]))
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    batch = cfg.n_train if cfg.optimizer == "gd" else min(BATCH, cfg.n_train)
    losses, step = [], 0
    with np.errstate(all="ignore"):
        for _ in range(cfg.epochs):
            order = rng.permutation(cfg.n_train)
            for start in range(0, cfg.n_train, batch):
                idx = order[start:start + batch]
                grad = f_tr[idx].T @ (f_tr[idx] @ theta - t_tr[idx]) / len(idx)
                step += 1
                if cfg.optimizer == "adaptive":
                    m = 0.9 * m + 0.1 * grad
                    v = 0.999 * v + 0.001 * grad ** 2
                    theta -= cfg.lr * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
                else:
                    theta -= cfg.lr * grad
            losses.append(float(np.mean((f_tr @ theta - t_tr) ** 2) / 2))
            if not np.isfinite(losses[-1]):
                return {"diverged": 1.0, "train_loss_start": losses[0]}
    out_tr, out_te = f_tr @ theta, f_te @ theta
    if classification:
        pred_tr, pred_te = classes[out_tr.argmax(axis=1)], classes[out_te.argmax(axis=1)]
    else:
        pred_tr, pred_te = out_tr[:, 0], out_te[:, 0]
    tr, te = _errors(pred_tr, y_tr, pred_te, y_te, classification)
    return {"train_error": tr, "test_error": te, "train_loss_start": losses[0], "train_loss_end": losses[-1],
            "diverged": 0.0}


def train_one(cfg: RunConfig) -> dict:
    """Train one configuration; returns its metrics (errors are NaN when the run diverged)."""
    t0 = time.perf_counter()
    x_tr, y_tr, x_te, y_te, classification = make_task(cfg.task, cfg.n_train, cfg.seed)
    train = _train_random_features if cfg.architecture == "kernel" else _train_mlp
    out = {m: np.nan for m in METRICS}
    out.update(train(cfg, x_tr, y_tr, x_te, y_te, classification))
    out["generalization_gap"] = out["test_error"] - out["train_error"]
    out["seconds"] = time.perf_counter() - t0
    return out


def run_row(axes: Axes, cfg: RunConfig, metrics: dict, version: str) -> dict:
    """One stored run: axis values recomputed from the numbers with the bins of ``axes.yaml``, metrics, config."""
    def binned(axis: str, number: float) -> str | None:
        code = int(axes[axis].bin_codes(np.array([number]))[0])
        return axes[axis].value_names[code] if code >= 0 else None

    row = {"run_id": f"{cfg.expedition or 'manual'}-c{cfg.cell}-s{cfg.seed}", "task": cfg.task,
           "architecture": cfg.architecture, "width": binned("width", cfg.width_units),
           "depth": binned("depth", cfg.depth_layers), "optimizer": cfg.optimizer,
           "learning_rate": binned("learning_rate", cfg.lr_factor), "parameterization": "standard",
           "data_regime": binned("data_regime", cfg.n_train / cfg.params)}
    row.update({m: float(metrics[m]) for m in METRICS})
    for k, v in asdict(cfg).items():
        row[f"config.{k}"] = v
    row["config.samples_per_param"] = cfg.n_train / cfg.params
    row["config.code_version"] = version
    row["config.finished"] = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    return row


RUN_QUANTITIES = {"params": "config.params", "samples": "config.samples", "width_units": "config.width_units",
                  "depth_layers": "config.depth_layers", "lr": "config.lr", "steps": "config.steps",
                  "samples_per_param": "config.samples_per_param", "weight_decay": "config.weight_decay"}
"""Canonical quantity -> column of the expedition runs (source.yaml ``quantities:``), read by predictions."""


def source_meta(command: str, version: str) -> dict:
    import sklearn

    return {"name": "Expeditions run by the atlas", "url": "", "license": "CC0-1.0",
            "metrics": list(dict.fromkeys([*METRICS, *all_metrics()])), "observables": list(OBSERVABLES),
            "imported": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "provenance": {"generator": "atlas_viz.expeditions.runner", "command": command, "code_version": version,
                           "scikit_learn": sklearn.__version__, "numpy": np.__version__},
            "mapping": {"axes": "value names written directly by the runner (width, depth, learning rate and data "
                                "regime binned from the recorded numbers with axes.yaml)"},
            QUANTITIES_KEY: dict(RUN_QUANTITIES)}


def run_sweep(data_dir: Path | str, axes: Axes, plan: list[RunConfig], budget: float = 60.0,
              progress: Callable[[int, int, str], None] | None = None,
              cancel: threading.Event | Callable[[], bool] | None = None, command: str = "",
              workers: int = 1, scheduler: str | None = None, max_runs: int | None = None) -> RunReport:
    """Train the planned runs, saving each as it finishes, until done, out of time or cancelled.

    Runs one by one, on ``workers`` local processes (joblib) or on the Dask cluster at ``scheduler`` (see
    :mod:`atlas_viz.expeditions.sweeps`). ``progress(done, total, text)`` is called after every stored run;
    ``cancel`` is an Event or a function returning True to stop (runs in progress finish first). The budget is
    checked before each run starts. Bad arguments raise ValueError before anything runs.
    """
    version = code_version()

    def describe(cfg: RunConfig, row: dict) -> str:
        err = row["test_error"]
        return (f"{cfg.task} · {cfg.architecture} · width {cfg.width_units} · {cfg.optimizer} lr {cfg.lr:g} · "
                f"n {cfg.n_train}: test error " + ("diverged" if np.isnan(err) else f"{err:.3f}"))

    return run_and_store(data_dir, SOURCE, source_meta(command, version), train_one, plan,
                         lambda cfg, metrics: run_row(axes, cfg, metrics, version), budget, max_runs, workers,
                         scheduler, progress, describe, cancel)
