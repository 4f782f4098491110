"""What the map's coverage and the expeditions need of the runs, kept on disk beside the checks.

Coverage and the ranking of gaps read only which (cell, observable) pairs some run observes, how many runs
there are and what went wrong reading them; with a million runs stored, reading and placing every run for that
takes tens of seconds. A :class:`RunSummary` is a pure function of the run files and the terrain, so it is
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
from atlas_viz.io.derived import DerivedStore

SUMMARY_VERSION = 1
"""Bump when what a summary holds, or how runs are placed, changes."""
STORE = DerivedStore("run_summary", SUMMARY_VERSION)


@dataclass(frozen=True)
class RunSummary:
    """The number of runs placed, the (cell, observable) pairs they observe and the problems met."""

    runs: int
    observed: pd.DataFrame
    problems: tuple[Problem, ...] = ()


def summarise(placed: pd.DataFrame, observed: pd.DataFrame, problems: list[Problem]) -> RunSummary:
    return RunSummary(len(placed), observed.reset_index(drop=True), tuple(problems))


def _encode(summary: RunSummary) -> tuple[dict, dict[str, np.ndarray]]:
    names, codes = np.unique(summary.observed["observable"].astype(str).to_numpy(), return_inverse=True)
    record = {"runs": summary.runs, "observables": names.tolist(), "problems": [asdict(p) for p in summary.problems]}
    return record, {"cell": summary.observed["cell"].to_numpy(np.int64), "observable": codes.astype(np.int32)}


def _decode(record: dict, arrays: dict[str, np.ndarray]) -> RunSummary:
    names = np.asarray(record["observables"], dtype=object)
    observed = pd.DataFrame({"cell": arrays["cell"].astype(np.int64),
                             "observable": names[arrays["observable"]] if len(names) else np.array([], dtype=object)})
    return RunSummary(int(record["runs"]), observed, tuple(Problem(**p) for p in record["problems"]))


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
