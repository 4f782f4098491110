"""Expeditions that test predictions: the places where a run could change what the atlas believes.

From each result's check (``atlas_viz.checks``) come up to three kinds of expedition:

* ``untested_prediction``: no run inside the result's region (narrowed by its ``where``) measures the metric;
* ``inconclusive_prediction``: runs inside measure it, but too few, over too narrow a sweep, or with an interval
  that does not decide;
* ``prediction_frontier``: the prediction agrees inside, and one step outside along an axis (its declared
  neighbours) nobody has decided whether it still holds: the boundary where a claim may stop holding.

They rank above every gap that no prediction speaks to (their ``change`` score part says how much a run could
change: 1.0 untested, 0.8 inconclusive, 0.6 frontier); among themselves, by score. Each names the result and
the metric a run must record, so ``expedition run`` can plan the sweep the prediction needs.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from atlas_viz.checks.verdicts import Check, check_scope
from atlas_viz.expeditions.gaps import SCORE_WEIGHTS, Gap, Grid, RegionIndex, count_runs, gap_id, score_parts

CHANGE = {"untested_prediction": 1.0, "inconclusive_prediction": 0.8, "prediction_frontier": 0.6}
"""What a run could change, per kind (the ``change`` score part; 0 for gaps no prediction speaks to)."""
UNDECIDED = ("untested", "inconclusive")


def _gap(grid: Grid, index: RegionIndex, level: np.ndarray, kind: str, check: Check, observables: tuple[str, ...],
         sets: list[np.ndarray], stepped: str = "") -> Gap | None:
    cells = grid.cells_in(sets)
    if not len(cells):
        return None
    parts = {**score_parts(grid, level, kind, sets, len(cells)), "change": CHANGE[kind]}
    score = round(sum(w * parts[k] for k, w in SCORE_WEIGHTS.items()), 4)  # change ranks, it does not add
    g = Gap(kind, observables, grid.values_of(sets), cells, parts, score, (check.id,),
            index.neighbours(sets, observables), stepped=stepped, result=check.id, metric=check.prediction.metric)
    g.id = gap_id(kind, observables, g.values, (check.id,) + ((stepped,) if stepped else ()))
    return g


def prediction_gaps(grid: Grid, index: RegionIndex, results: pd.DataFrame, checks: list[Check],
                    level_of: dict[str, np.ndarray]) -> list[Gap]:
    """The expeditions that could change a verdict, one per undecided place of each checked result.

    ``level_of``: the dense coverage level per observable (as in ``find_gaps``), for the score's proximity.
    """
    rows = {rid: i for i, rid in enumerate(results["id"])} if len(results) else {}
    out: list[Gap] = []
    for c in checks:
        if c.id not in rows:
            continue
        r = results.iloc[rows[c.id]]
        observables = tuple(o for o in r["observables"] if o in level_of) or tuple(level_of)[:1]
        level = level_of[observables[0]]
        sets = grid.codes_of(check_scope(c.prediction, r["region"], grid.axes))  # the cells the check reads
        if c.inside.verdict in UNDECIDED:
            kind = "untested_prediction" if c.inside.verdict == "untested" else "inconclusive_prediction"
            g = _gap(grid, index, level, kind, c, observables, sets)
            out += [g] if g else []
            continue
        if c.inside.verdict != "agrees":
            continue  # a disagreement inside is a finding, not a place to look
        for j, a in enumerate(grid.axes.axes):
            if len(sets[j]) == len(a.values):
                continue
            done = c.by_axis.get(a.name)
            if done is not None and done.verdict not in UNDECIDED:
                continue
            step = grid.steps(j, sets[j])  # one step outside the scope, as the check's by_axis measures it
            if not len(step):
                continue
            box = [step if i == j else s for i, s in enumerate(sets)]
            g = _gap(grid, index, level, "prediction_frontier", c, observables, box, stepped=a.name)
            out += [g] if g else []
    return out


def rank_key(g: Gap) -> tuple:
    """Expeditions that could change a verdict first (untested, inconclusive, frontier), then by score."""
    return (-g.parts.get("change", 0.0), -g.score, g.id)


def prediction_expeditions(axes, terrain: pd.DataFrame, results: pd.DataFrame, table: pd.DataFrame,
                           checks: list[Check], runs: pd.DataFrame | None = None) -> list[Gap]:
    """``prediction_gaps`` for a loaded atlas: ``table`` is the coverage table (cells x observables)."""
    grid = Grid(axes, terrain)
    index = RegionIndex(grid, results)
    level_of = {obs: grid.dense(table[obs].to_numpy().astype(np.int8), fill=-1) for obs in table.columns}
    gaps = prediction_gaps(grid, index, results, checks, level_of)
    if runs is not None and len(runs):
        count_runs(gaps, runs, grid.n_cells)
    return gaps
