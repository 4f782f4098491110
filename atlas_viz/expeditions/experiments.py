"""Experiments of the registered kinds as runs of the atlas: plan a grid, run it, store each run as it finishes.

A :class:`Task` is one (kind, config, seed). :func:`run_experiments` runs a list of them with any executor of
:mod:`atlas_viz.expeditions.sweeps` and stores every finished run at once into the source ``expeditions``
(``runs.store.save_runs(..., append=True)``). A stored run carries the axis values of its cell (width, depth,
learning rate and data regime binned from its numbers with ``axes.yaml``, the rest named by its kind), its
metrics and ``seconds``, the canonical quantities as ``config.<name>``, its raw config, seed, kind, code
version and finishing time. Its ``run_id`` is made from the kind, the full config and the seed, so running the
same experiment again replaces the stored run instead of adding a copy.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from atlas_viz.expeditions.kinds import CANONICAL, get_kind
from atlas_viz.expeditions.sweeps import RunReport, check_sweep_args, run_and_store
from atlas_viz.terrain.axes import Axes

SOURCE = "expeditions"


@dataclass(frozen=True)
class Task:
    """One experiment to run: a kind, its config (defaults fill the rest) and a seed."""

    kind: str
    config: dict = field(default_factory=dict)
    seed: int = 0
    expedition: str = ""

    def full_config(self) -> dict:
        return {**get_kind(self.kind).defaults, **self.config}

    @property
    def run_id(self) -> str:
        """``<kind>-<hash of the full config>-s<seed>``; keys a kind added later count only away from their
        default (``ADDED_LATER``), so adding a knob never renames the runs already stored."""
        later = get_kind(self.kind).added_later or {}
        config = {k: v for k, v in self.full_config().items() if not (k in later and later[k] == v)}
        text = json.dumps({"kind": self.kind, "config": config}, sort_keys=True, default=str)
        return f"{self.kind}-{hashlib.sha1(text.encode()).hexdigest()[:10]}-s{self.seed}"


def grid(kind: str, seeds: Sequence[int] = (0,), expedition: str = "", **values: Sequence) -> list[Task]:
    """Every combination of the given config values (keyword -> list), for each seed; seeds vary slowest."""
    keys = list(values)
    return [Task(kind, dict(zip(keys, combo)), int(seed), expedition)
            for seed in seeds for combo in itertools.product(*(values[k] for k in keys))]


def check_tasks(tasks: Sequence[Task]) -> None:
    """ValueError naming the first task whose kind or config is bad (before anything runs)."""
    for i, task in enumerate(tasks):
        if isinstance(task.seed, bool) or not isinstance(task.seed, (int, np.integer)) or task.seed < 0:
            raise ValueError(f"task {i + 1} ({task.kind}): seed must be a whole number >= 0; got {task.seed!r}")
        try:
            get_kind(task.kind).canonical(task.config)
        except ValueError as err:
            raise ValueError(f"task {i + 1} of {len(tasks)}: {err}") from err


def _installed(package: str) -> str:
    """The installed version of ``package`` (without importing it), or "" when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return ""


def run_task(task: Task) -> dict[str, float]:
    """Run one task (in whichever process the executor chose); its metrics plus ``seconds``."""
    kind = get_kind(task.kind)
    if kind.uses_torch:  # the first import takes seconds: not part of the run's time
        import torch  # noqa: F401
    t0 = time.perf_counter()
    out = {k: float(v) for k, v in kind.run(task.config, task.seed).items()}
    out["seconds"] = time.perf_counter() - t0
    return out


def _binned(axes: Axes, axis: str, number: float) -> str | None:
    if number is None or not math.isfinite(float(number)):
        return None
    code = int(axes[axis].bin_codes(np.array([float(number)]))[0])
    return axes[axis].value_names[code] if code >= 0 else None


def cell(axes: Axes, kind: str, config: dict) -> dict[str, str | None]:
    """Axis -> value where a run of ``kind`` with ``config`` lands (numbers binned with ``axes.yaml``; None where
    the axis does not apply, e.g. the learning rate of a closed-form fit: the store then imputes its default)."""
    canon = get_kind(kind).canonical(config)
    reference = axes["learning_rate"].reference.get(canon["optimizer"], 0.1)
    return {"task": canon["task"], "architecture": canon["architecture"],
            "width": _binned(axes, "width", canon["width_units"]), "depth": _binned(axes, "depth", canon["depth_layers"]),
            "optimizer": canon["optimizer"], "learning_rate": _binned(axes, "learning_rate", canon["lr"] / reference),
            "parameterization": canon["parameterization"],
            "data_regime": _binned(axes, "data_regime", canon["samples_per_param"])}


def task_row(axes: Axes, task: Task, metrics: dict[str, float], version: str) -> dict:
    """One stored run: the cell's axis values, the metrics, the canonical quantities and the raw config."""
    kind = get_kind(task.kind)
    canon = kind.canonical(task.config)
    row = {"run_id": task.run_id, **cell(axes, task.kind, task.config), "observables": ",".join(kind.observables)}
    row.update({m: float(metrics.get(m, float("nan"))) for m in (*kind.metrics, "seconds")})
    row["config.kind"] = task.kind
    row.update({f"config.{name}": canon[name] for name in CANONICAL})
    for key, value in task.full_config().items():
        row.setdefault(f"config.{key}", value)
    row.update({"config.seed": int(task.seed), "config.expedition": task.expedition, "config.code_version": version,
                "config.finished": datetime.now(timezone.utc).replace(microsecond=0).isoformat()})
    return row


def run_experiments(data_dir: Path | str, axes: Axes, tasks: Sequence[Task], budget: float = 600.0,
                    max_runs: int | None = None, workers: int = 1, scheduler: str | None = None,
                    progress: Callable[[int, int, str], None] | None = None,
                    cancel: threading.Event | Callable[[], bool] | None = None, command: str = "") -> RunReport:
    """Run the tasks (serially, on ``workers`` processes or on the Dask cluster at ``scheduler``) and store each
    finished run at once. Bad arguments or tasks raise ValueError before anything runs or is stored."""
    from atlas_viz.expeditions.runner import code_version, source_meta

    check_sweep_args(budget, max_runs, workers, scheduler)
    check_tasks(tasks)
    version = code_version()

    def describe(task: Task, row: dict) -> str:
        shown = ", ".join(f"{m} {row[m]:.3g}" for m in get_kind(task.kind).metrics[:2])
        return f"{task.kind} seed {task.seed}: {shown}"

    meta = source_meta(command, version)
    meta["provenance"] = {**meta["provenance"], "generator": "atlas_viz.expeditions.experiments",
                          "torch": _installed("torch"), "kinds": sorted({t.kind for t in tasks})}
    return run_and_store(data_dir, SOURCE, meta, run_task, tasks,
                         lambda task, metrics: task_row(axes, task, metrics, version), budget, max_runs, workers,
                         scheduler, progress, describe, cancel)


def run_planned(data_dir: Path | str, axes: Axes, kind: str, planned: Sequence[tuple[dict, int]],
                budget: float = 600.0, max_runs: int | None = None, workers: int = 1, scheduler: str | None = None,
                progress: Callable[[int, int, str], None] | None = None, expedition: str = "",
                cancel: threading.Event | Callable[[], bool] | None = None, command: str = "") -> RunReport:
    """:func:`run_experiments` on the (config, seed) pairs of ``kinds.plan``; ``report.run_ids`` lists the stored runs."""
    tasks = [Task(kind, dict(config), int(seed), expedition) for config, seed in planned]
    return run_experiments(data_dir, axes, tasks, budget, max_runs, workers, scheduler, progress, cancel, command)
