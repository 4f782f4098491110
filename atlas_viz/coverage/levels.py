"""Coverage of the terrain per cell and observable, and the shares that make the fog."""
from __future__ import annotations

import numpy as np
import pandas as pd

from atlas_viz.core.text import pretty
from atlas_viz.core.names import CHARTED, COVERAGE_LEVELS, COVERAGE_OF_MAP_TYPE, MAPPED, OBSERVED
from atlas_viz.coverage.masks import RegionMasks


def coverage_table(results: pd.DataFrame, masks: RegionMasks | np.ndarray, observables: tuple[str, ...],
                   n_cells: int, run_cells: pd.DataFrame | None = None, rows: np.ndarray | None = None) -> pd.DataFrame:
    """Coverage level (0..3) of every cell for every observable.

    ``masks`` has one row per row of ``results`` (see ``regions.region_masks``); ``rows`` (positions) picks the
    results that count, all when None.
    ``run_cells`` has columns ``cell`` and ``observable``: where runs observed what.
    Levels: terra incognita < observed (runs only) < mapped (empirical law or
    heuristic) < charted (theorem or calculation). Conjectures lift no fog.
    """
    masks = RegionMasks.of(masks)
    table = np.zeros((n_cells, len(observables)), dtype=np.int8)
    picked = np.arange(len(results)) if rows is None else np.asarray(rows, dtype=np.intp)
    levels = results["map_type"].map(COVERAGE_OF_MAP_TYPE).to_numpy() if len(results) else np.array([], int)
    obs_sets = results["observables"].to_numpy() if len(results) else np.array([], object)
    hit = np.empty(n_cells, dtype=bool)
    for j, obs in enumerate(observables):
        if run_cells is not None and len(run_cells):
            cells = run_cells.loc[run_cells["observable"] == obs, "cell"].to_numpy()
            table[cells, j] = OBSERVED
        for level in (MAPPED, CHARTED):
            chosen = [i for i in picked if levels[i] == level and obs in obs_sets[i]]
            if chosen:
                masks.any(chosen, out=hit)
                table[hit, j] = np.maximum(table[hit, j], level)
    return pd.DataFrame(table, columns=list(observables))


def cell_level(table: pd.DataFrame, observables: list[str] | tuple[str, ...] | None = None) -> np.ndarray:
    """One level per cell for the chosen observables (all when none): the best any of them reaches.

    A cell is charted when a theorem or calculation about any chosen observable covers it, mapped when an
    empirical law or heuristic does, observed when runs measured any of them there. Choosing observables
    (the sidebar) narrows what counts.
    """
    cols = list(observables) if observables else list(table.columns)
    if not cols or not len(table):
        return np.zeros(len(table), dtype=np.int8)
    return table[cols].to_numpy().max(axis=1).astype(np.int8)


BROAD_EXTENT = 0.05
"""A result whose region covers more than this share of the terrain is broad (a uniform-convergence bound, a
theorem for any task): on the default map it is drawn but not counted in the fog, or it would chart nearly
every cell and hide what is specifically known."""


def fog_results(shown: pd.DataFrame, filtered: bool, include_broad: bool = False) -> pd.DataFrame:
    """The results the fog counts: every shown one while a search or filter is on (so there is never fog
    where a result is drawn) or when asked; else those whose region is specific (``extent`` <= BROAD_EXTENT)."""
    if filtered or include_broad or not len(shown) or "extent" not in shown:
        return shown
    return shown[shown["extent"] <= BROAD_EXTENT]


def fog_observables(shown: pd.DataFrame, chosen: tuple[str, ...] | list[str], filtered: bool,
                    all_observables: tuple[str, ...]) -> tuple[str, ...]:
    """The observables the fog counts: those chosen; else, with a search or filter on, those the shown results
    speak about (in the axes' order); else all of them."""
    if chosen:
        return tuple(o for o in all_observables if o in set(chosen))
    if filtered and len(shown):
        spoken = {o for obs in shown["observables"] for o in obs}
        return tuple(o for o in all_observables if o in spoken)
    return tuple(all_observables)


def coverage_note(observables: tuple[str, ...], all_observables: tuple[str, ...], shown: pd.DataFrame,
                  n_results: int, n_broad: int = 0) -> str:
    """One line saying what the coverage bar counts (plain text: the caller escapes it for Markdown).

    ``n_broad``: shown results left out of the fog because their region is broad (see ``fog_results``).
    """
    what = ("all observables" if set(observables) >= set(all_observables)
            else ", ".join(pretty(o) for o in observables) or "no observable")
    who = "all results" if len(shown) == n_results else f"the {len(shown)} filtered results"
    if n_broad:
        who = (f"the {len(shown) - n_broad} results with a specific region ({n_broad} broad ones, each claiming "
               f"over {BROAD_EXTENT:.0%} of the terrain, are drawn but not counted: layer 'Fog counts broad "
               "results' counts them)")
    parts = [f"Counted: {who} and the runs, for {what}; a cell takes the best level any of these reaches."]
    n_conj = int((shown["map_type"] == "conjecture").sum()) if len(shown) else 0
    if n_conj:
        parts.append(f"Conjectures ({n_conj} shown) lift no fog.")
    return " ".join(parts)


def share_label(share: float) -> str:
    """A share as a percentage that never rounds a partial share to 0% or 100%."""
    pct = share * 100
    if 0 < pct < 0.1:
        return "<0.1%"
    if 99.9 < pct < 100:
        return ">99.9%"
    return f"{pct:.1f}%"


def coverage_shares(level: np.ndarray) -> pd.DataFrame:
    """Number and share of cells at each coverage level."""
    counts = np.bincount(np.asarray(level, dtype=np.int64), minlength=len(COVERAGE_LEVELS))[: len(COVERAGE_LEVELS)]
    total = max(int(counts.sum()), 1)
    return pd.DataFrame({"level": COVERAGE_LEVELS, "cells": counts, "share": counts / total})


def phase_grid(results: pd.DataFrame, x_axis: str, x_values: tuple[str, ...], y_axis: str,
               y_values: tuple[str, ...]) -> pd.DataFrame:
    """For every pair of values of two axes: the results whose region holds it and the best rigor.

    Empty pairs (n_results == 0) are the gaps of this projection.
    """
    rows = []
    regions = list(results["region"]) if len(results) else []
    for yv in y_values:
        for xv in x_values:
            hit = [i for i, r in enumerate(regions) if xv in r.get(x_axis, ()) and yv in r.get(y_axis, ())]
            sub = results.iloc[hit]
            if len(sub):
                best = sub.sort_values(["rigor", "year"], ascending=[False, True]).iloc[0]
                rows.append((xv, yv, int(best["rigor"]), len(sub), best["map_type"], tuple(sub["id"])))
            else:
                rows.append((xv, yv, 0, 0, "", ()))
    return pd.DataFrame(rows, columns=["x", "y", "rigor", "n_results", "best", "ids"])
