"""Expeditions: the gaps of ``gaps.find_gaps`` as ranked, explained proposals, with exports.

An expedition is one gap plus what a reader needs to act on it: the sentence that says why it is a gap (naming
the results and runs involved), the score and its parts, and whether the CPU runner of
``expedition_runner`` can go there (``runnable``).
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from atlas_viz.terrain.axes import Axes
from atlas_viz.coverage.levels import coverage_table
from atlas_viz.core.text import md_escape
from atlas_viz.expeditions.gaps import (KIND_LABELS, KIND_WANTED, KINDS, PREDICTION_GAPS, SCORE_WEIGHTS, Gap,
                                       describe_values, find_gaps)

PART_COLUMNS = {k: f"score_{k}" for k in SCORE_WEIGHTS}
"""Column of each score part in the expeditions frame."""
COLUMNS = ("id", "kind", "observables", "where", "score", "change", *PART_COLUMNS.values(), "n_cells", "n_runs",
           "runnable", "n_runnable", "result", "metric", "results", "neighbours", "explanation")
"""Columns of the expeditions frame."""


def _names(ids: tuple[str, ...], limit: int = 3) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _obs(observables: tuple[str, ...]) -> str:
    return " and ".join(o.replace("_", " ") for o in observables)


def explain(gap: Gap, axes: Axes, results: pd.DataFrame) -> str:
    """One sentence (or two) saying why this is a gap, naming the results and runs that make it one."""
    where = describe_values(axes, gap.values)
    obs = _obs(gap.observables)
    cells = f"{gap.n_cells:,} cell{'s' if gap.n_cells != 1 else ''}"
    near = f" Nearest results: {_names(gap.neighbours)}." if gap.neighbours else ""
    if gap.kind == "terra_incognita":
        text = (f"No result speaks about {obs} in these {cells} ({where}) and no run has looked there.{near}")
    elif gap.kind == "observed_unmapped":
        runs = f" (for example {_names(gap.runs, 2)})" if gap.runs else ""
        text = (f"{gap.n_runs:,} runs{runs} observed {obs} in these {cells} ({where}), but no heuristic, law, "
                f"calculation or theorem explains what they saw.{near}")
    elif gap.kind == "mapped_untested":
        text = (f"{_names(gap.results)} claim{'s' if len(gap.results) == 1 else ''} something about {obs} in "
                f"these {cells} ({where}), but no run has checked it there.")
    elif gap.kind in ("untested_prediction", "inconclusive_prediction"):
        state = "no run inside its region has measured" if gap.kind == "untested_prediction" else \
            "the runs inside its region are too few, or too narrow a sweep, to decide on"
        text = (f"{gap.result} predicts how {gap.metric} behaves, and {state} it: {cells} ({where}), about {obs}.")
    elif gap.kind == "prediction_frontier":
        step = ", ".join(v.replace("_", " ") for v in gap.values.get(gap.stepped, ()))
        text = (f"{gap.result}'s prediction on {gap.metric} agrees with the runs inside its region; one step outside "
                f"it, at {gap.stepped.replace('_', ' ')} = {step} ({cells}), nobody has decided whether it still "
                "holds.")
    elif gap.kind == "frontier":
        rid = gap.results[0] if gap.results else "a rigorous result"
        kind = ""
        if gap.results and len(results):
            hit = results.loc[results["id"] == rid, "map_type"]
            kind = f" ({hit.iloc[0].replace('_', ' ')})" if len(hit) else ""
        step = ", ".join(v.replace("_", " ") for v in gap.values.get(gap.stepped, ()))
        text = (f"{rid}{kind} is proved or derived for a region that stops one step before "
                f"{gap.stepped.replace('_', ' ')} = {step}; there, in {cells} ({where}), nothing charts {obs} and "
                f"no run has tested whether its prediction still holds.")
    else:  # contested
        if len(gap.results) == 2:
            text = (f"{gap.results[0]} contradicts {gap.results[1]} about {obs} where their regions overlap: "
                    f"{cells} ({where}).")
        else:
            text = f"{_names(gap.results)} is marked contested; its region about {obs} covers {cells} ({where})."
    return f"{text} Wanted: {KIND_WANTED[gap.kind]}."


def expeditions_frame(gaps: list[Gap], axes: Axes, terrain: pd.DataFrame, results: pd.DataFrame,
                      reach_of: dict | None = None) -> pd.DataFrame:
    """One row per gap, best score first, with its explanation and whether the CPU runner can go there.

    ``reach_of``: gap id -> ``loop.Reach`` for the prediction expeditions an experiment kind can go on (their
    runnable cells are those its sweep lands in; the general runner's cells count for the other gaps)."""
    from atlas_viz.expeditions.runner import realisable_cells

    reachable = realisable_cells(axes, terrain) if gaps else np.zeros(0, dtype=bool)
    reach_of = reach_of or {}
    rows = []
    for g in gaps:
        if g.kind in PREDICTION_GAPS:
            n_ok = reach_of[g.id].n_cells if g.id in reach_of else 0
        else:
            n_ok = int(reachable[g.cells].sum())
        rows.append({"id": g.id, "kind": g.kind, "observables": g.observables, "where": describe_values(axes, g.values),
                     "score": g.score, "change": g.parts.get("change", 0.0),
                     **{col: g.parts[k] for k, col in PART_COLUMNS.items()},
                     "n_cells": g.n_cells, "n_runs": g.n_runs, "runnable": n_ok > 0, "n_runnable": n_ok,
                     "result": g.result, "metric": g.metric, "results": g.results, "neighbours": g.neighbours, "explanation": explain(g, axes, results)})
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return frame.astype({"runnable": bool}) if len(frame) else frame


def compute_expeditions(atlas, placed: pd.DataFrame, observed: pd.DataFrame,
                        observables: tuple[str, ...] | None = None, kinds: tuple[str, ...] = KINDS,
                        table: pd.DataFrame | None = None, checks: list | None = None) -> tuple[list[Gap], pd.DataFrame]:
    """Gaps and their expeditions frame for a loaded atlas and its placed runs (``runs.load_observations``).

    ``table``: the coverage of the whole catalogue (``coverage.coverage_table``), when the caller has it already.
    ``checks``: the results' checked predictions (``checks.verdicts.check_results``); the expeditions that could
    change one of their verdicts rank first (``expeditions.predictions``).
    """
    from atlas_viz.expeditions.loop import reaches
    from atlas_viz.expeditions.predictions import prediction_expeditions, rank_key

    if table is None:
        table = coverage_table(atlas.results, atlas.masks, atlas.axes.observable_names, len(atlas.terrain), observed)
    observables = observables or atlas.axes.observable_names
    gaps = find_gaps(atlas.axes, atlas.terrain, atlas.results, atlas.masks, table, observed, placed,
                     observables=observables, kinds=kinds)
    if checks and any(k in kinds for k in PREDICTION_GAPS):
        extra = prediction_expeditions(atlas.axes, atlas.terrain, atlas.results, table[list(observables)], checks,
                                       placed)
        gaps += [g for g in extra if g.kind in kinds]
    gaps.sort(key=rank_key)
    reach_of = reaches(gaps, atlas.results, atlas.axes, atlas.terrain) if checks else {}
    return gaps, expeditions_frame(gaps, atlas.axes, atlas.terrain, atlas.results, reach_of)


def select(frame: pd.DataFrame, kinds: tuple[str, ...] = (), observables: tuple[str, ...] = (),
           runnable_only: bool = False, top: int | None = None) -> pd.DataFrame:
    """Filter the expeditions frame (empty choices keep everything) and keep the best ``top``."""
    keep = np.ones(len(frame), dtype=bool)
    if kinds:
        keep &= frame["kind"].isin(kinds).to_numpy()
    if observables:
        want = set(observables)
        keep &= frame["observables"].map(lambda o: bool(want & set(o))).to_numpy(dtype=bool)
    if runnable_only:
        keep &= frame["runnable"].to_numpy(dtype=bool)
    out = frame[keep]
    return out.head(top) if top else out


def cells_as_values(gap: Gap, axes: Axes) -> dict[str, list[str]]:
    """The gap's box: per axis, the values it spans (every value where the axis is unconstrained)."""
    return {a.name: list(gap.values.get(a.name, a.value_names)) for a in axes.axes}


def to_records(frame: pd.DataFrame, gaps: list[Gap], axes: Axes) -> list[dict]:
    """Plain dicts for JSON: id, kind, cells (axis values), score and parts, runnable, explanation, ..."""
    by_id = {g.id: g for g in gaps}
    out = []
    for r in frame.itertuples(index=False):
        out.append({"id": r.id, "kind": r.kind, "kind_label": KIND_LABELS[r.kind], "observables": list(r.observables),
                    "result": r.result or None, "metric": r.metric or None,
                    "cells": cells_as_values(by_id[r.id], axes), "n_cells": int(r.n_cells), "score": float(r.score),
                    "score_parts": {**{k: float(getattr(r, col)) for k, col in PART_COLUMNS.items()},
                                    "change": float(r.change)}, "runnable": bool(r.runnable),
                    "n_runnable_cells": int(r.n_runnable), "n_runs": int(r.n_runs), "results": list(r.results),
                    "neighbours": list(r.neighbours), "explanation": r.explanation})
    return out


def to_json(frame: pd.DataFrame, gaps: list[Gap], axes: Axes) -> str:
    return json.dumps(to_records(frame, gaps, axes), indent=2, ensure_ascii=False) + "\n"


def to_csv(frame: pd.DataFrame) -> str:
    """CSV with list fields joined by ';' (and spreadsheet formulas neutralised, as in ``export``)."""
    from atlas_viz.catalogue.export import frame_csv

    out = frame.copy()
    for col in ("observables", "results", "neighbours"):
        out[col] = out[col].map(lambda v: ";".join(v))
    return frame_csv(out)


def to_markdown(frame: pd.DataFrame) -> str:
    """A readable list: one numbered section per expedition, with its score parts."""
    lines = ["# Expeditions: the atlas's ranked gaps", "",
             "Score = " + " + ".join(f"{w} x {k}" for k, w in SCORE_WEIGHTS.items()) + " (each part in [0, 1]).", ""]
    for i, r in enumerate(frame.itertuples(index=False), 1):
        lines += [f"## {i}. {KIND_LABELS[r.kind]}: {_obs(r.observables)} ({r.id})", "",
                  f"- where: {r.where}", f"- cells: {r.n_cells:,}; runs inside: {r.n_runs:,}",
                  f"- score {r.score:.3f} = " + ", ".join(f"{k} {getattr(r, col):.2f}" for k, col in PART_COLUMNS.items()),
                  f"- runnable on a CPU: {'yes, ' + format(r.n_runnable, ',') + ' cells' if r.runnable else 'no'}",
                  *([f"- tests the prediction of {r.result} on {r.metric} (what a run could change: {r.change:.1f})"]
                    if r.result else []),
                  "", md_escape(r.explanation), ""]
    if not len(frame):
        lines.append("No expedition matches the chosen kinds and observables.")
    return "\n".join(lines).rstrip() + "\n"

