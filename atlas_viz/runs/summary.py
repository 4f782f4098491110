"""What the map's coverage, its runs layer and the expeditions need of the runs, kept on disk beside the checks.

Coverage and the ranking of gaps read only which (cell, observable) pairs some run observes, how many runs
there are and what went wrong reading them; the map's runs layer draws one marker per cell, so it needs runs
counted per cell (and per set of imputed axes, which every axis filter lets through) with the sum of each
metric. With a million runs stored, reading and placing every run for that takes tens of seconds. A :class:`RunSummary` is a pure function of the run files and the terrain, so it is
kept as a :class:`~atlas_viz.io.derived.DerivedStore` entry keyed by their fingerprints, and a new process
reads it instead of the runs (which are then read only by a view that shows them).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from atlas_viz.core.problems import Problem
from atlas_viz.terrain.axes import Axes
from atlas_viz.io.derived import DerivedStore

SUMMARY_VERSION = 2
"""Bump when what a summary holds, or how runs are placed, changes."""
STORE = DerivedStore("run_summary", SUMMARY_VERSION)


@dataclass(frozen=True)
class RunSummary:
    """The number of runs placed, the (cell, observable) pairs they observe, the problems met, the metric
    columns (in source order) and ``groups``: one row per (cell, imputed axes) with ``count`` and, per metric
    ``m``, ``sum:m`` and ``n:m`` (the runs with a value)."""

    runs: int
    observed: pd.DataFrame
    problems: tuple[Problem, ...] = ()
    metrics: tuple[str, ...] = ()
    groups: pd.DataFrame | None = None


def summarise(placed: pd.DataFrame, observed: pd.DataFrame, problems: list[Problem],
              metrics: list[str] | tuple[str, ...] = ()) -> RunSummary:
    """The summary of placed runs (``store.place_runs``) and their observed pairs (``store.run_cells``)."""
    metrics = tuple(m for m in metrics if m in placed)
    imputed = placed["imputed"].fillna("").astype(str) if "imputed" in placed else pd.Series("", index=placed.index)
    values = {f"sum:{m}": pd.to_numeric(placed[m], errors="coerce") for m in metrics}
    frame = pd.DataFrame({"cell": placed["cell"].to_numpy(np.int64) if len(placed) else np.zeros(0, np.int64),
                          "imputed": imputed.to_numpy(), **{k: v.to_numpy() for k, v in values.items()}})
    grouped = frame.groupby(["cell", "imputed"], sort=True)
    groups = grouped.size().rename("count").reset_index()
    for m in metrics:
        groups[f"sum:{m}"] = grouped[f"sum:{m}"].sum().to_numpy(np.float64)
        groups[f"n:{m}"] = grouped[f"sum:{m}"].count().to_numpy(np.int64)
    return RunSummary(len(placed), observed.reset_index(drop=True), tuple(problems), metrics, groups)


def aggregate_cells(summary: RunSummary, axes: Axes, terrain: pd.DataFrame, axis_filters: dict[str, list[str]],
                    metric: str | None = None) -> pd.DataFrame:
    """One row per occupied cell of the runs passing ``axis_filters`` (axis -> allowed value names; a run
    whose value of the axis is unknown passes, as in ``catalogue.filters.filter_runs``): x, y (the cell's
    centre), count and the mean of ``metric``."""
    g = summary.groups if summary.groups is not None else pd.DataFrame({"cell": [], "imputed": [], "count": []})
    keep = np.ones(len(g), dtype=bool)
    patterns, distinct = pd.factorize(g["imputed"]) if len(g) else (np.zeros(0, np.int64), [])
    for ax, vals in axis_filters.items():
        if vals and ax in terrain and ax in axes.names:
            names = axes[ax].value_names
            allowed = np.isin(terrain[ax].to_numpy()[g["cell"].to_numpy(np.int64)],
                              [names.index(v) for v in vals if v in names])
            unknown = np.array([ax in str(p).split(",") for p in distinct], dtype=bool)
            keep &= allowed | (unknown[patterns] if len(distinct) else False)
    g = g[keep]
    cols = {"count": g["count"].to_numpy(np.int64)}
    if metric and f"sum:{metric}" in g:
        cols.update(total=g[f"sum:{metric}"].to_numpy(), n=g[f"n:{metric}"].to_numpy())
    out = pd.DataFrame({"cell": g["cell"].to_numpy(np.int64), **cols}).groupby("cell", sort=True).sum().reset_index()
    xy = terrain[["x", "y"]].to_numpy()[out["cell"].to_numpy(np.int64)]
    out.insert(1, "x", xy[:, 0])
    out.insert(2, "y", xy[:, 1])
    if "total" in out:
        out["mean"] = np.divide(out.pop("total"), out.pop("n").where(lambda n: n > 0))
    return out


def _encode(summary: RunSummary) -> tuple[dict, dict[str, np.ndarray]]:
    names, codes = np.unique(summary.observed["observable"].astype(str).to_numpy(), return_inverse=True)
    g = summary.groups
    patterns, pattern_codes = np.unique(g["imputed"].astype(str).to_numpy(), return_inverse=True)
    record = {"runs": summary.runs, "observables": names.tolist(), "problems": [asdict(p) for p in summary.problems],
              "metrics": list(summary.metrics), "imputed": patterns.tolist()}
    arrays = {"cell": summary.observed["cell"].to_numpy(np.int64), "observable": codes.astype(np.int32),
              "g_cell": g["cell"].to_numpy(np.int64), "g_imputed": pattern_codes.astype(np.int32),
              "g_count": g["count"].to_numpy(np.int64)}
    for i, m in enumerate(summary.metrics):
        arrays[f"g_sum_{i}"], arrays[f"g_n_{i}"] = g[f"sum:{m}"].to_numpy(np.float64), g[f"n:{m}"].to_numpy(np.int64)
    return record, arrays


def _decode(record: dict, arrays: dict[str, np.ndarray]) -> RunSummary:
    names = np.asarray(record["observables"], dtype=object)
    observed = pd.DataFrame({"cell": arrays["cell"].astype(np.int64),
                             "observable": names[arrays["observable"]] if len(names) else np.array([], dtype=object)})
    patterns = np.asarray(record["imputed"], dtype=object)
    groups = pd.DataFrame({"cell": arrays["g_cell"], "imputed": patterns[arrays["g_imputed"]] if len(patterns)
                           else np.array([], dtype=object), "count": arrays["g_count"]})
    metrics = tuple(record["metrics"])
    for i, m in enumerate(metrics):
        groups[f"sum:{m}"], groups[f"n:{m}"] = arrays[f"g_sum_{i}"], arrays[f"g_n_{i}"]
    return RunSummary(int(record["runs"]), observed, tuple(Problem(**p) for p in record["problems"]), metrics, groups)


def kept_summary(data_dir: Path | str, fingerprint: str, compute: Callable[[], RunSummary]) -> RunSummary:
    """The kept summary of these run files on this terrain (``fingerprint`` covers both), else ``compute()``'s,
    kept for next time."""
    key = STORE.key(data_dir, fingerprint)
    kept = STORE.load(key, arrays=True)
    if kept is not None:
        try:
            return _decode(*kept)
        except (ValueError, KeyError, TypeError, IndexError):
            pass  # damaged: computed again below
    summary = compute()
    STORE.keep(key, *_encode(summary))
    return summary
