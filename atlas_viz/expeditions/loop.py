"""The loop that closes: an expedition on a prediction plans the sweep its prediction needs, runs it, stores the
runs, checks the result again and says what changed.

A prediction reads one metric against one quantity (``Prediction.x``). The sweep is taken from an experiment
kind that records that metric and can vary that quantity (``kinds.plan``), and kept to the configurations that
land in the expedition's cells, so every run it makes is evidence inside the region (an untested or inconclusive
prediction) or one step outside it (the frontier of an agreeing one).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from atlas_viz.checks.verdicts import Check, Fit
from atlas_viz.expeditions.gaps import PREDICTION_GAPS, Gap
from atlas_viz.terrain.axes import Axes

AXIS_QUANTITY = {"width": "width_units", "depth": "depth_layers", "learning_rate": "lr",
                 "data_regime": "samples_per_param"}
"""The canonical quantity a kind sweeps for a prediction read against an ordinal axis."""
CANDIDATES = 4
"""A sweep is planned this many times larger than wanted, then kept to the configurations inside the gap."""


@dataclass(frozen=True)
class Reach:
    """How an experiment kind reaches an expedition: the kind, the quantity swept, and the planned runs."""

    kind: str
    against: str
    planned: tuple[tuple[dict, int], ...]
    cells: tuple[int, ...]

    @property
    def n_cells(self) -> int:
        return len(set(self.cells))


def swept_quantity(x: str | None) -> str | None:
    """The canonical quantity behind a prediction's ``against``/``over`` (an axis, a quantity or config.<name>)."""
    if x is None:
        return None
    if x.startswith("config."):
        x = x[len("config."):]
    return AXIS_QUANTITY.get(x, x)


def _cell_ids(axes: Axes, index: np.ndarray, where: list[dict]) -> np.ndarray:
    """Cell id of each axis->value dict (-1 when impossible); a missing value sits at the axis default.
    ``index``: ``axes.grid``."""
    codes = np.array([[a.code(w.get(a.name) or a.default or a.value_names[0]) for a in axes.axes] for w in where],
                     dtype=np.int64).reshape(len(where), len(axes.axes))
    return index[tuple(codes.T)] if len(where) else np.zeros(0, dtype=np.int64)


def reach(gap: Gap, prediction, axes: Axes, terrain: pd.DataFrame, max_runs: int = 24,
          index: np.ndarray | None = None, tiny: bool = False) -> Reach | None:
    """The first experiment kind that records the prediction's metric, sweeps its quantity, and lands runs in the
    gap's cells, with up to ``max_runs`` planned runs there; None when no kind reaches the gap."""
    from atlas_viz.expeditions.experiments import cell
    from atlas_viz.expeditions.kinds import get_kind, kinds_for_metric, plan

    against = swept_quantity(prediction.x)
    if against is None or max_runs < 1:
        return None
    inside = set(int(c) for c in gap.cells)
    for name in kinds_for_metric(prediction.metric):
        if against not in get_kind(name).ranges:
            continue
        planned = plan(name, against, max_runs * CANDIDATES, tiny=tiny)
        index = axes.grid if index is None else index
        ids = _cell_ids(axes, index, [cell(axes, name, config) for config, _ in planned])
        keep = [i for i, c in enumerate(ids) if int(c) in inside][:max_runs]
        if keep:
            return Reach(name, against, tuple(planned[i] for i in keep), tuple(int(ids[i]) for i in keep))
    return None


def reaches(gaps: list[Gap], results: pd.DataFrame, axes: Axes, terrain: pd.DataFrame) -> dict[str, Reach]:
    """Reach of every prediction expedition that some kind can go on (by gap id); planning runs nothing."""
    by_id = dict(zip(results["id"], results["prediction"])) if "prediction" in results else {}
    index = axes.grid
    out = {}
    for g in gaps:
        if g.kind in PREDICTION_GAPS and by_id.get(g.result) is not None:
            r = reach(g, by_id[g.result], axes, terrain, index=index)
            if r is not None:
                out[g.id] = r
    return out


def _fit_words(fit: Fit, where: str) -> str:
    return f"{fit.verdict} {where}" + (f" (n={fit.runs})" if fit.runs else "")


def verdict_change(before: Check | None, after: Check | None) -> str:
    """'before: untested; after: agrees inside (n=24), disagrees one step outside on width (n=12)'."""
    def words(c: Check | None) -> str:
        if c is None:
            return "untested"
        parts = [_fit_words(c.inside, "inside")]
        for axis, fit in sorted(c.by_axis.items()):
            if fit.verdict != "untested":
                parts.append(_fit_words(fit, f"one step outside on {axis.replace('_', ' ')}"))
        return "untested" if len(parts) == 1 and c.inside.verdict == "untested" else ", ".join(parts)

    return f"before: {words(before)}; after: {words(after)}"


@dataclass(frozen=True)
class LoopReport:
    """What an expedition on a prediction did: the sweep's report, the result's check before and after, in words."""

    kind: str
    report: object
    before: Check | None
    after: Check | None

    @property
    def change(self) -> str:
        return verdict_change(self.before, self.after)


def run_prediction_expedition(data_dir, atlas, gap: Gap, checks: list[Check], budget: float, max_runs: int,
                              workers: int = 1, scheduler: str | None = None, progress=None, cancel=None,
                              command: str = "", tiny: bool = False) -> LoopReport:
    """Plan the sweep ``gap``'s prediction needs, run and store it, and check the result again (``tiny``: each
    kind's tiny configuration, for tests).

    Raises ValueError (nothing run, nothing stored) for bad arguments or a gap no experiment kind reaches."""
    from atlas_viz.checks.scope import RunTable
    from atlas_viz.checks.verdicts import check_result
    from atlas_viz.expeditions.experiments import run_planned
    from atlas_viz.expeditions.sweeps import check_sweep_args
    from atlas_viz.runs.store import load_runs

    check_sweep_args(budget, max_runs, workers, scheduler)
    if gap.kind not in PREDICTION_GAPS:
        raise ValueError(f"expedition {gap.id} tests no prediction (it is {gap.kind.replace('_', ' ')})")
    row = atlas.results.loc[atlas.results["id"] == gap.result]
    if row.empty or row.iloc[0].get("prediction") is None:
        raise ValueError(f"expedition {gap.id}: result {gap.result!r} has no prediction in this catalogue")
    row = row.iloc[0]
    found = reach(gap, row["prediction"], atlas.axes, atlas.terrain, max_runs, tiny=tiny)
    if found is None:
        raise ValueError(f"expedition {gap.id} is out of reach of the experiment kinds: none records "
                         f"{gap.metric} while sweeping {swept_quantity(row['prediction'].x)} in these cells")
    before = next((c for c in checks if c.id == gap.result), None)
    report = run_planned(data_dir, atlas.axes, found.kind, found.planned, budget, max_runs, workers, scheduler,
                         progress, gap.id, cancel, command)
    runset = load_runs(data_dir, atlas.axes)
    after = check_result(row, RunTable(runset.runs, runset.sources, atlas.axes))
    return LoopReport(found.kind, report, before, after)
