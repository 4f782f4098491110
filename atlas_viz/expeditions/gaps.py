"""Gaps in the atlas: where coverage is missing, found per observable and ranked with visible score parts.

Five kinds of gap, each computed from the coverage table (one level per cell and observable):

* ``terra_incognita``: neither results nor runs;
* ``observed_unmapped``: runs exist, no result explains them (wanted: a theory or an empirical law);
* ``mapped_untested``: results claim the cells, no run checks them (wanted: experiments);
* ``frontier``: cells one step outside a theorem's or calculation's region along one axis, not charted
  and not yet observed there (wanted: a test of its predictions outside its assumptions);
* ``contested``: where two results that contradict each other overlap, or the region of a result
  marked contested.

The first three are grouped into *boxes*: a set of values per axis whose every cell is a gap cell. A box is
connected (each axis grows by the neighbours ``axes.yaml`` declares: adjacent values on an ordinal axis), reads as a sentence
("architecture: transformer; width: wide"), and is grown greedily from the most practice-relevant
uncovered gap cell, so the first boxes found are the ones a reader cares about most. Everything runs on
a dense array over the product of the axes (about 170,000 entries), never cell by cell in Python.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from atlas_viz.coverage.masks import RegionMasks
from atlas_viz.terrain.axes import Axes, describe_cells
from atlas_viz.core.names import CHARTED, MAPPED, OBSERVED, TERRA_INCOGNITA

PREDICTION_GAPS = ("untested_prediction", "inconclusive_prediction", "prediction_frontier")
"""Kinds made from checked predictions (``expeditions.predictions``): the places a run could change a verdict."""
KINDS = (*PREDICTION_GAPS, "terra_incognita", "observed_unmapped", "mapped_untested", "frontier", "contested")
KIND_LABELS = {
    "untested_prediction": "untested prediction",
    "inconclusive_prediction": "inconclusive prediction",
    "prediction_frontier": "frontier of an agreeing prediction",
    "terra_incognita": "terra incognita",
    "observed_unmapped": "observed but unmapped",
    "mapped_untested": "mapped but untested",
    "frontier": "frontier of a rigorous result",
    "contested": "contested ground",
}
KIND_WANTED = {
    "untested_prediction": "runs inside the result's region that record the metric its prediction reads",
    "inconclusive_prediction": "more runs, or a wider sweep, until the interval decides",
    "prediction_frontier": "runs one step outside the region, to see whether the prediction still holds there",
    "terra_incognita": "a first look: experiments, or a theory that reaches there",
    "observed_unmapped": "a theory or an empirical law that explains the runs",
    "mapped_untested": "experiments that check the claims",
    "frontier": "a test of the result's predictions outside its assumptions",
    "contested": "an experiment or argument that settles the disagreement",
}
KIND_WEIGHT = {"untested_prediction": 1.0, "inconclusive_prediction": 1.0, "prediction_frontier": 1.0,
               "frontier": 1.0, "contested": 0.9, "observed_unmapped": 0.8, "mapped_untested": 0.7,
               "terra_incognita": 0.5}
"""How valuable each kind of gap is by itself (the ``kind`` score part)."""
SCORE_WEIGHTS = {"proximity": 0.3, "size": 0.2, "relevance": 0.3, "kind": 0.2}
"""Score = sum of weight x part; every part is in [0, 1]."""
SCORE_HELP = {
    "proximity": "how close to charted ground: mean coverage level (0 fog .. 1 charted) of the cells one step "
                 "outside the gap",
    "size": "how large: log(1 + gap cells) / log(1 + terrain cells)",
    "relevance": "how relevant to practice: the per-value relevance in axes.yaml, averaged over the gap's values "
                 "(axes weighted by their weight)",
    "kind": "what kind of gap: " + ", ".join(f"{KIND_LABELS[k]} {w}" for k, w in KIND_WEIGHT.items()),
}
MAX_BOXES = 30
"""Boxes grown per kind and observable (the rest of a fragmented gap is left out, and counted)."""


@dataclass
class Gap:
    """One gap: a kind, the observables it concerns, a set of values per axis and the gap cells inside."""

    kind: str
    observables: tuple[str, ...]
    values: dict[str, tuple[str, ...]]
    cells: np.ndarray
    parts: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    results: tuple[str, ...] = ()      # results that make it a gap (claim it, border it, contradict there)
    neighbours: tuple[str, ...] = ()   # results touching the gap or one step outside it
    runs: tuple[str, ...] = ()         # run ids inside the gap (observed_unmapped, contested)
    n_runs: int = 0
    stepped: str = ""                  # frontier: the axis stepped across
    id: str = ""
    result: str = ""                   # prediction gaps: the result whose prediction a run would test
    metric: str = ""                   # prediction gaps: the metric that prediction reads

    @property
    def n_cells(self) -> int:
        return int(len(self.cells))


def gap_id(kind: str, observables: tuple[str, ...], values: dict[str, tuple[str, ...]],
           results: tuple[str, ...] = ()) -> str:
    """A short id derived from the gap's content, so it is the same on every run for the same data."""
    text = "|".join([kind, ",".join(sorted(observables)), ";".join(f"{a}={','.join(v)}" for a, v in values.items()),
                     ",".join(results)])
    return kind[:3] + "-" + hashlib.blake2b(text.encode(), digest_size=4).hexdigest()


describe_values = describe_cells
"""A gap's box in words: 'architecture: transformer; width: wide or infinite' (see ``terrain.axes``)."""


class Grid:
    """The terrain as a dense array over the product of the axes (missing entries are impossible cells)."""

    def __init__(self, axes: Axes, terrain: pd.DataFrame):
        self.axes = axes
        self.sizes = tuple(len(a.values) for a in axes.axes)
        self.n_cells = len(terrain)
        self.cell = axes.grid
        self.exists = self.cell >= 0
        self.ordinal = [a.kind == "ordinal" for a in axes.axes]
        # One step along an axis: its declared neighbours in axes.yaml (adjacent values on an ordinal axis).
        self.near = []
        for a in axes.axes:
            m = np.zeros((len(a.values), len(a.values)), dtype=bool)
            for i, v in enumerate(a.value_names):
                m[i, [a.code(n) for n in a.neighbours(v)]] = True
            self.near.append(m)
        weights = np.array([a.weight for a in axes.axes], dtype=float)
        self.axis_weights = weights / weights.sum()
        # Relevance of every entry: the weighted mean of its values' relevance (for seeding boxes).
        rel = np.zeros(self.sizes)
        for j, a in enumerate(axes.axes):
            shape = [1] * len(self.sizes)
            shape[j] = len(a.values)
            rel = rel + self.axis_weights[j] * a.relevance.reshape(shape)
        self.relevance = rel

    def dense(self, per_cell: np.ndarray, fill=0) -> np.ndarray:
        """A per-cell array spread over the dense grid (``fill`` at impossible entries)."""
        per_cell = np.asarray(per_cell)
        out = np.full(self.sizes, fill, dtype=per_cell.dtype)
        out[self.exists] = per_cell[self.cell[self.exists]]
        return out

    def cells_in(self, sets: list[np.ndarray]) -> np.ndarray:
        """Cell ids inside a box given as value codes per axis."""
        ids = self.cell[np.ix_(*sets)].ravel()
        return np.sort(ids[ids >= 0])

    def codes_of(self, values: dict[str, tuple[str, ...]]) -> list[np.ndarray]:
        return [np.array([a.code(v) for v in values.get(a.name, a.value_names)], dtype=np.int64)
                for a in self.axes.axes]

    def values_of(self, sets: list[np.ndarray]) -> dict[str, tuple[str, ...]]:
        return {a.name: tuple(a.value_names[i] for i in sorted(s)) for a, s in zip(self.axes.axes, sets)}

    def steps(self, j: int, codes: np.ndarray) -> np.ndarray:
        """Values one step outside ``codes`` along axis ``j``: the neighbours ``axes.yaml`` declares (adjacent
        values on an ordinal axis; on a nominal axis only values declared near, never every other value)."""
        inside = np.zeros(self.sizes[j], dtype=bool)
        inside[codes] = True
        return np.flatnonzero(self.near[j][codes].any(axis=0) & ~inside)

    def shell(self, sets: list[np.ndarray]) -> list[list[np.ndarray]]:
        """The boxes one step outside ``sets``, one per axis that has somewhere to step."""
        out = []
        for j in range(len(sets)):
            st = self.steps(j, sets[j])
            if len(st):
                out.append([st if i == j else s for i, s in enumerate(sets)])
        return out

    def relevance_of(self, sets: list[np.ndarray]) -> float:
        """Weighted mean over axes of the mean relevance of the box's values."""
        return float(sum(w * a.relevance[s].mean() for w, a, s in zip(self.axis_weights, self.axes.axes, sets)))


def grow_box(grid: Grid, allowed: np.ndarray, seed: tuple[int, ...], order: list[int]) -> list[np.ndarray]:
    """Grow a box from ``seed`` while every entry stays ``allowed`` (gap or impossible) and each added
    slab holds at least one real cell. Each axis grows by its declared neighbours (``Grid.steps``)."""
    sets = [[int(s)] for s in seed]
    every = [np.arange(k) for k in grid.sizes]
    changed = True
    while changed:
        changed = False
        for j in order:
            steps = grid.steps(j, np.array(sets[j]))
            if not len(steps):
                continue
            # One look at the box stretched over all of axis j answers for every value one step away.
            idx = np.ix_(*[every[j][steps] if i == j else np.array(sets[i]) for i in range(len(sets))])
            others = tuple(i for i in range(len(sets)) if i != j)
            fits = allowed[idx].all(axis=others) & grid.exists[idx].any(axis=others)
            if fits.any():
                sets[j] = sorted(sets[j] + [int(v) for v in steps[fits]])
                changed = True
    return [np.array(s, dtype=np.int64) for s in sets]


def cover_with_boxes(grid: Grid, gap: np.ndarray, max_boxes: int = MAX_BOXES) -> tuple[list[list[np.ndarray]], int]:
    """Boxes covering the dense gap mask, most relevant seed first; returns (boxes, gap entries left uncovered)."""
    allowed = gap | ~grid.exists
    todo = gap & grid.exists
    order = list(np.argsort([a.weight for a in grid.axes.axes], kind="stable"))
    boxes = []
    score = np.where(todo, grid.relevance, -1.0)
    while len(boxes) < max_boxes and todo.any():
        seed = np.unravel_index(int(np.argmax(score)), grid.sizes)
        sets = grow_box(grid, allowed, seed, order)
        slab = np.ix_(*sets)
        todo[slab] = False
        score[slab] = -1.0
        boxes.append(sets)
    return boxes, int(todo.sum())


class RegionIndex:
    """Result regions as one boolean matrix per axis, for fast box intersection tests and overlap counts."""

    def __init__(self, grid: Grid, results: pd.DataFrame):
        self.grid = grid
        self.ids = np.array(list(results["id"]) if len(results) else [], dtype=object)
        self.rigor = results["rigor"].to_numpy() if len(results) else np.array([], int)
        self.observables = list(results["observables"]) if len(results) else []
        self.mats = []
        for a in grid.axes.axes:
            m = np.zeros((len(self.ids), len(a.values)), dtype=bool)
            for i, region in enumerate(results["region"] if len(results) else []):
                m[i, [a.code(v) for v in region.get(a.name, a.value_names)]] = True
            self.mats.append(m)
        self.size = np.prod([m.sum(axis=1) for m in self.mats], axis=0) if len(self.ids) else np.zeros(0)

    def about(self, observables: tuple[str, ...]) -> np.ndarray:
        want = set(observables)
        return np.array([bool(want & set(o)) for o in self.observables], dtype=bool)

    def overlap(self, sets: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Per result: entries of its region inside the box, and one step outside it (impossible cells counted)."""
        counts = np.stack([m[:, s].sum(axis=1) for m, s in zip(self.mats, sets)]).astype(float)  # axes x results
        inside = counts.prod(axis=0)
        shell = np.zeros(len(self.ids))
        for j, m in enumerate(self.mats):
            step = self.grid.steps(j, sets[j])
            if len(step):
                shell += np.delete(counts, j, axis=0).prod(axis=0) * m[:, step].sum(axis=1)
        return inside, shell

    def neighbours(self, sets: list[np.ndarray], observables: tuple[str, ...], limit: int = 8) -> tuple[str, ...]:
        """Results about these observables whose region meets the box or borders it, most entangled first
        (overlap with box and shell, divided by the geometric mean of the region's and the box's sizes)."""
        if not len(self.ids):
            return ()
        inside, shell = self.overlap(sets)
        box = float(np.prod([len(s) for s in sets]))
        closeness = (inside + shell) / np.sqrt(np.maximum(self.size, 1) * box)
        keep = np.flatnonzero(((inside + shell) > 0) & self.about(observables))
        order = keep[np.lexsort((-self.rigor[keep], -closeness[keep]))]
        return tuple(self.ids[order[:limit]])

    def claiming(self, sets: list[np.ndarray], observables: tuple[str, ...], limit: int = 8) -> tuple[str, ...]:
        """Results about these observables (conjectures excepted) whose region covers part of the box."""
        if not len(self.ids):
            return ()
        inside, _ = self.overlap(sets)
        keep = np.flatnonzero((inside > 0) & self.about(observables) & (self.rigor > 1))
        order = keep[np.lexsort((-inside[keep], -self.rigor[keep]))]
        return tuple(self.ids[order[:limit]])


def find_gaps(axes: Axes, terrain: pd.DataFrame, results: pd.DataFrame, masks: RegionMasks | np.ndarray,
              table: pd.DataFrame, run_cells: pd.DataFrame | None = None, runs: pd.DataFrame | None = None,
              observables: tuple[str, ...] | list[str] | None = None, kinds: tuple[str, ...] = KINDS,
              max_boxes: int = MAX_BOXES) -> list[Gap]:
    """Every gap of the chosen kinds and observables, scored and sorted best first.

    ``table`` is ``coverage.coverage_table`` (cells x observables); ``run_cells`` the (cell, observable)
    pairs observed by runs; ``runs`` the placed runs (id, cell), used to name runs inside a gap.
    """
    grid = Grid(axes, terrain)
    index = RegionIndex(grid, results)
    observables = tuple(observables or table.columns)
    run_cells = run_cells if run_cells is not None else pd.DataFrame({"cell": [], "observable": []})
    gaps: list[Gap] = []
    for obs in observables:
        level = grid.dense(table[obs].to_numpy().astype(np.int8), fill=-1)
        seen = np.zeros(grid.n_cells, dtype=bool)
        seen[run_cells.loc[run_cells["observable"] == obs, "cell"].to_numpy().astype(np.int64)] = True
        seen_d = grid.dense(seen, fill=False)
        box_kinds = {"terra_incognita": level == TERRA_INCOGNITA, "observed_unmapped": level == OBSERVED,
                     "mapped_untested": (level >= MAPPED) & ~seen_d}
        for kind, mask in box_kinds.items():
            if kind not in kinds:
                continue
            boxes, _left = cover_with_boxes(grid, mask & grid.exists, max_boxes)
            for sets in boxes:
                gaps.append(_make(grid, index, level, kind, obs, sets, grid.cells_in(sets)))
        if "frontier" in kinds:
            gaps += _frontier(grid, index, results, level, seen_d, obs)
    if "contested" in kinds:
        gaps += _contested(grid, index, results, RegionMasks.of(masks), observables, table)
    gaps = _merge(gaps)
    if runs is not None and len(runs):
        count_runs(gaps, runs, grid.n_cells)
    for g in gaps:
        g.id = gap_id(g.kind, g.observables, g.values, g.results if g.kind in ("frontier", "contested") else ())
    gaps.sort(key=lambda g: (-g.score, g.id))
    return gaps


def count_runs(gaps: list[Gap], runs: pd.DataFrame, n_cells: int, named: int = 5) -> None:
    """Runs inside each gap, counted once for all gaps: a per-cell count, and run ids sorted by cell so the
    first ``named`` ids of a gap are read off contiguous slices (no scan of every run per gap)."""
    cell_of_run = runs["cell"].to_numpy().astype(np.int64)
    per_cell = np.bincount(cell_of_run, minlength=n_cells)
    order = np.argsort(cell_of_run, kind="stable")
    starts = np.concatenate([[0], np.cumsum(per_cell)])
    ids = runs["id"].to_numpy()[order]
    for g in gaps:
        g.n_runs = int(per_cell[g.cells].sum())
        if g.n_runs:
            picked: list[str] = []
            for c in g.cells[per_cell[g.cells] > 0]:
                picked += [str(i) for i in ids[starts[c]:starts[c + 1]][:named - len(picked)]]
                if len(picked) >= named:
                    break
            g.runs = tuple(picked)


def score_parts(grid: Grid, level: np.ndarray, kind: str, sets: list[np.ndarray], n_cells: int) -> dict[str, float]:
    """The visible parts of a gap's score (each in [0, 1]): see :data:`SCORE_WEIGHTS` and ``SCORE_HELP``."""
    total, count = 0.0, 0
    for box in grid.shell(sets):
        lv = level[np.ix_(*box)]
        real = lv >= 0
        total += float(lv[real].sum())
        count += int(real.sum())
    return {"proximity": round(total / count / CHARTED, 4) if count else 0.0,
            "size": round(float(np.log1p(n_cells) / np.log1p(max(grid.n_cells, 1))), 4),
            "relevance": round(grid.relevance_of(sets), 4),
            "kind": KIND_WEIGHT[kind]}


def _make(grid: Grid, index: RegionIndex, level: np.ndarray, kind: str, obs: str, sets: list[np.ndarray],
          cells: np.ndarray, named: tuple[str, ...] | None = None, stepped: str = "") -> Gap:
    parts = score_parts(grid, level, kind, sets, len(cells))
    if named is None:
        named = index.claiming(sets, (obs,)) if kind == "mapped_untested" else ()
    return Gap(kind, (obs,), grid.values_of(sets), cells, parts, _score(parts), named,
               index.neighbours(sets, (obs,)), stepped=stepped)


def _score(parts: dict[str, float]) -> float:
    return round(sum(SCORE_WEIGHTS[k] * parts[k] for k in SCORE_WEIGHTS), 4)


def _frontier(grid: Grid, index: RegionIndex, results: pd.DataFrame, level: np.ndarray, seen: np.ndarray,
              obs: str) -> list[Gap]:
    """For each theorem or calculation about ``obs``: per restricted axis, the cells one step outside."""
    out = []
    rigorous = results[results["map_type"].isin(["theorem", "calculation"])] if len(results) else results
    open_ = (level >= 0) & (level < CHARTED) & ~seen
    for r in rigorous.itertuples():
        if obs not in r.observables:
            continue
        sets = grid.codes_of(r.region)
        for j, a in enumerate(grid.axes.axes):
            if len(sets[j]) == len(a.values):
                continue
            found = []
            for v in grid.steps(j, sets[j]):
                box = [np.array([v]) if i == j else s for i, s in enumerate(sets)]
                slab = np.ix_(*box)
                keep = open_[slab]
                if keep.any():
                    cells = np.sort(grid.cell[slab][keep])
                    found.append(_make(grid, index, level, "frontier", obs, box, cells, named=(r.id,),
                                       stepped=a.name))
            out += found
    return out


def _contested(grid: Grid, index: RegionIndex, results: pd.DataFrame, masks: RegionMasks,
               observables: tuple[str, ...], table: pd.DataFrame) -> list[Gap]:
    """Overlaps of results that contradict each other, and regions of results marked contested."""
    out = []
    if not len(results):
        return out
    row = {rid: i for i, rid in enumerate(results["id"])}
    pairs = []
    for i, (rid, rels) in enumerate(zip(results["id"], results["relations"])):
        for kind, target in rels:
            if kind == "contradicts" and target in row:
                pairs.append((i, row[target]))
    for i, status in enumerate(results["status"]):
        if status == "contested":
            pairs.append((i, i))
    for i, k in pairs:
        a, b = results.iloc[i], results.iloc[k]
        common = [o for o in a["observables"] if o in b["observables"]] or list(dict.fromkeys(
            (*a["observables"], *b["observables"])))
        common = [o for o in common if o in observables]
        if not common:
            continue
        cells = masks.common(i, k)
        if not len(cells):
            continue
        sets = []
        for ax in grid.axes.axes:
            va, vb = a["region"].get(ax.name, ax.value_names), b["region"].get(ax.name, ax.value_names)
            sets.append(np.array(sorted(ax.code(v) for v in va if v in vb), dtype=np.int64))
        level = grid.dense(table[common[0]].to_numpy().astype(np.int8), fill=-1)
        named = (a["id"],) if i == k else (a["id"], b["id"])
        g = _make(grid, index, level, "contested", common[0], sets, cells, named=named)
        g.observables = tuple(common)
        out.append(g)
    return out


def _merge(gaps: list[Gap]) -> list[Gap]:
    """One gap per kind and place: gaps over the same cells are one expedition, naming all their results and
    holding for all their observables (two theorems whose frontiers meet in one place are tested together)."""
    merged: dict[tuple, Gap] = {}
    for g in gaps:
        key = (g.kind, hashlib.blake2b(g.cells.tobytes(), digest_size=8).hexdigest(), tuple(g.values.items()))
        if key in merged:
            m = merged[key]
            m.observables = tuple(dict.fromkeys(m.observables + g.observables))
            m.results = tuple(dict.fromkeys(m.results + g.results))
            m.neighbours = tuple(dict.fromkeys(m.neighbours + g.neighbours))
            if g.parts["proximity"] > m.parts["proximity"]:
                m.parts, m.score = g.parts, g.score
        else:
            merged[key] = g
    return list(merged.values())
