"""Regions of validity: which cells a result covers, where it sits, and its shapes on the map."""
from __future__ import annotations

import functools
import hashlib

import numpy as np
import pandas as pd

from atlas_viz.core.names import MARKER_GAP_SHARE
from atlas_viz.core.text import pretty
from atlas_viz.coverage.masks import RegionMasks
from atlas_viz.io.derived import DerivedStore
from atlas_viz.terrain.axes import Axes

SNAP = 0.7
"""A lattice point moves onto its nearest cell of the region within this many marker gaps."""
HOME_POINTS = 37
"""A result's home is one of this many lattice points nearest its region's central cell (three rings), chosen
by its id; it probes onward from there (open addressing), so a newcomer displaces few markers."""


def region_mask(axes: Axes, codes: pd.DataFrame, region: dict[str, tuple[str, ...]]) -> np.ndarray:
    """Boolean mask over the rows of ``codes``: the cells inside ``region``."""
    mask = np.ones(len(codes), dtype=bool)
    for ax in axes.axes:
        vals = region.get(ax.name, ax.value_names)
        if len(vals) == len(ax.values):
            continue
        inside = np.zeros(len(ax.values), dtype=bool)
        inside[[ax.code(v) for v in vals]] = True
        mask &= inside[codes[ax.name].to_numpy()]  # a lookup table per axis: much faster than np.isin
    return mask


def region_masks(axes: Axes, codes: pd.DataFrame, results: pd.DataFrame) -> RegionMasks:
    """The cells of every result's region, one row per result (see :class:`~atlas_viz.coverage.masks.RegionMasks`).

    A region is a box in the product of the axes: its cells are read off the terrain's grid index (one lookup
    per region, proportional to its size) instead of testing every cell of the terrain; results that claim the
    same region share the lookup.
    """
    dense = axes.grid  # the terrain's one grid index; ``codes`` is the terrain, a row per cell in id order
    seen: dict[tuple, np.ndarray] = {}
    rows = []
    for region in (results["region"] if len(results) else []):
        box = tuple(tuple(sorted(a.code(v) for v in region.get(a.name, a.value_names))) for a in axes.axes)
        if box not in seen:
            cells = dense[np.ix_(*[np.array(b, dtype=np.int64) for b in box])].ravel()
            seen[box] = cells[cells >= 0]  # ascending: the box's codes are sorted and cell ids follow the product
        rows.append(seen[box])
    return RegionMasks.from_lists(rows, len(codes))


def stable_jitter(ids: pd.Series | list[str], scale: float, salt: str = "") -> np.ndarray:
    """Small deterministic 2-D offsets from ids (the same id always moves the same way)."""
    out = np.empty((len(ids), 2))
    for i, key in enumerate(ids):
        h = hashlib.blake2b(f"{salt}{key}".encode(), digest_size=8).digest()
        a = int.from_bytes(h[:4], "little") / 2**32 * 2 * np.pi
        r = np.sqrt(int.from_bytes(h[4:], "little") / 2**32) * scale
        out[i] = (r * np.cos(a), r * np.sin(a))
    return out


def marker_gap(terrain: pd.DataFrame, share: float = MARKER_GAP_SHARE) -> float:
    """The least distance between two result markers: ``share`` of the diagonal of the terrain's box."""
    if not len(terrain):
        return 0.0
    x, y = terrain["x"].to_numpy(), terrain["y"].to_numpy()
    return float(share * np.hypot(np.ptp(x), np.ptp(y)))


class _Occupied:
    """Placed markers: which of some candidate points are at least ``gap`` from all of them?"""

    def __init__(self, gap: float, capacity: int):
        self.gap, self.n = gap, 0
        self.xy = np.empty((max(capacity, 1), 2))

    def first_clear(self, cx: np.ndarray, cy: np.ndarray) -> int:
        """Index of the first clear candidate, or -1."""
        if self.n == 0 or self.gap <= 0 or not len(cx):
            return 0 if len(cx) else -1
        px, py = self.xy[: self.n, 0], self.xy[: self.n, 1]
        d2 = (cx[:, None] - px[None, :]) ** 2 + (cy[:, None] - py[None, :]) ** 2
        ok = np.flatnonzero(d2.min(axis=1) >= self.gap * self.gap)
        return int(ok[0]) if len(ok) else -1

    def add(self, x: float, y: float) -> None:
        self.xy[self.n] = (x, y)
        self.n += 1


def _central_cell(idx: np.ndarray, x: np.ndarray, y: np.ndarray) -> int:
    """The cell of a region nearest its centre (ties: the lowest cell index)."""
    px, py = x[idx], y[idx]
    d2 = (px - px.mean()) ** 2 + (py - py.mean()) ** 2
    return int(idx[np.flatnonzero(d2 == d2.min())[0]])


def _place_one(rid: str, centre: int, idx: np.ndarray, x: np.ndarray, y: np.ndarray, taken: _Occupied,
               reach: int = 4, table: int = HOME_POINTS) -> tuple[float, float, int]:
    """The first clear point of a hexagonal lattice (spacing: the marker gap) around the region's central
    cell, nearest first; each lattice point is moved onto the region's cell nearest to it when one lies
    within ``SNAP`` gaps (so a marker sits on a cell of its region wherever the region has one close by).
    """
    gap = max(taken.gap, 1e-9)
    ring = np.vstack([[0.0, 0.0], _hex_ring_offsets(gap)])
    start = int.from_bytes(hashlib.blake2b(rid.encode(), digest_size=4).digest(), "little") % table
    ring = np.vstack([ring[start:table], ring[:start], ring[table:]])  # open addressing from the id's home
    cx, cy = x[centre], y[centre]
    px, py = x[idx], y[idx]
    near = np.flatnonzero((px - cx) ** 2 + (py - cy) ** 2 <= (gap * (reach + 1)) ** 2)
    for lo in range(0, len(ring), 64):
        pts = ring[lo:lo + 64] + (cx, cy)
        snapped, cells = pts.copy(), np.full(len(pts), centre)
        if len(near):
            d2 = (pts[:, 0:1] - px[near]) ** 2 + (pts[:, 1:2] - py[near]) ** 2
            best = d2.argmin(axis=1)
            close = d2[np.arange(len(pts)), best] <= (gap * SNAP) ** 2
            snapped[close] = np.column_stack([px[near[best[close]]], py[near[best[close]]]])
            cells[close] = idx[near[best[close]]]
        k = taken.first_clear(snapped[:, 0], snapped[:, 1])
        if k >= 0:
            return float(snapped[k, 0]), float(snapped[k, 1]), int(cells[k])
    return float(cx), float(cy), centre


@functools.lru_cache(maxsize=8)
def _hex_ring_offsets(gap: float, rings: int = 12) -> np.ndarray:
    """Points of a hexagonal lattice of spacing ``gap`` around the origin, nearest first (origin left out)."""
    i, j = np.meshgrid(np.arange(-rings, rings + 1), np.arange(-rings, rings + 1))
    pts = np.column_stack([(i + j / 2).ravel(), (j * np.sqrt(3) / 2).ravel()]) * gap
    d = np.round(np.hypot(pts[:, 0], pts[:, 1]) / gap, 6)
    angle = np.round(np.arctan2(pts[:, 1], pts[:, 0]), 6)
    order = np.lexsort((angle, d))
    return pts[order][d[order] > 0]


def result_positions(results: pd.DataFrame, masks: RegionMasks | np.ndarray, terrain: pd.DataFrame,
                     gap: float | None = None) -> pd.DataFrame:
    """Where each result sits: near its region's central cell, on a cell of its region, clear of the others.

    Each region has a central cell (its cell nearest the region's centre: on land even when the region spans
    continents). The results sharing a central cell form a crowd, placed in the order of their ids on a
    hexagonal lattice of spacing ``gap`` (default ``marker_gap(terrain)``) around it, each at the first point
    clear of every marker placed before (snapped to a cell of its region when one is close; see
    ``_place_one``). Crowds are placed in the order of their central cells, so the map depends on the
    catalogue alone, and adding a result moves only markers of its own crowd placed after it (one lattice
    step or a few) and, rarely, of a neighbouring crowd whose points it takes: never a marker far away.
    Columns: x, y, cell (the region's cell the marker stands on or beside; -1 for an empty region),
    n_cells, extent (share of the terrain).
    """
    x, y = terrain["x"].to_numpy(), terrain["y"].to_numpy()
    taken = _Occupied(marker_gap(terrain) if gap is None else gap, len(results))
    out = np.full((len(results), 4), np.nan)
    ids = results["id"].astype(str).to_numpy() if len(results) else np.array([], dtype=str)
    masks = RegionMasks.of(masks)
    regions = [masks.cells(i) for i in range(len(results))]
    centres = np.array([_central_cell(r, x, y) if len(r) else -1 for r in regions], dtype=np.int64)
    for i in np.lexsort((ids, centres)):
        if centres[i] < 0:
            out[i] = (np.nan, np.nan, -1, 0)
            continue
        px, py, cell = _place_one(ids[i], int(centres[i]), regions[i], x, y, taken)
        taken.add(px, py)
        out[i] = (px, py, cell, len(regions[i]))
    pos = pd.DataFrame(out, columns=["x", "y", "cell", "n_cells"], index=results.index)
    pos = pos.astype({"cell": np.int64, "n_cells": np.int64})
    return pos.assign(extent=pos["n_cells"] / max(len(terrain), 1))


POSITIONS_VERSION = 1
"""Bump when :func:`result_positions` places differently, so kept positions are never read."""
POSITIONS = DerivedStore("positions", POSITIONS_VERSION)


def kept_result_positions(results: pd.DataFrame, masks: RegionMasks | np.ndarray,
                          terrain: pd.DataFrame) -> pd.DataFrame:
    """:func:`result_positions`, kept on disk by a hash of what it reads (the ids, the regions' cells, the
    cells' coordinates and the markers' spacing): placing 400 results one by one is a tenth of a second every new
    process would pay before its first map. A damaged or missing entry is placed again."""
    ids = results["id"].astype(str).tolist() if len(results) else []
    h = hashlib.sha256("\x1f".join(ids).encode())
    masks = RegionMasks.of(masks)
    h.update(masks.digest())
    h.update(np.ascontiguousarray(terrain[["x", "y"]].to_numpy(np.float64)).tobytes())
    h.update(repr(marker_gap(terrain)).encode())  # the spacing too: a changed MARKER_GAP_SHARE places afresh
    key = POSITIONS.key(None, h.hexdigest())
    kept = POSITIONS.load(key, arrays=True)
    if kept is not None:
        try:
            a = kept[1]
            pos = pd.DataFrame({"x": a["x"], "y": a["y"], "cell": a["cell"], "n_cells": a["n_cells"]},
                               index=results.index)
            return pos.assign(extent=pos["n_cells"] / max(len(terrain), 1))
        except (KeyError, ValueError):
            pass
    pos = result_positions(results, masks, terrain)
    POSITIONS.keep(key, {"results": len(ids)}, {c: pos[c].to_numpy() for c in ("x", "y", "cell", "n_cells")})
    return pos


def claims_per_cell(results: pd.DataFrame, masks: RegionMasks | np.ndarray,
                    ids: pd.Series | list[str]) -> np.ndarray:
    """How many of the results ``ids`` claim each cell (``masks`` has one row per row of ``results``)."""
    masks = RegionMasks.of(masks)
    rows = np.flatnonzero(results["id"].isin(list(ids)).to_numpy()) if len(results) else np.array([], int)
    return masks.count(rows)


def zoom_box(results: pd.DataFrame, ids: list[str] | tuple[str, ...], pad: float = 0.8,
             least: float = 2.5) -> tuple[float, float, float, float] | None:
    """Axis ranges (x0, x1, y0, y1) framing the markers of ``ids`` with a margin; None when none is placed.

    The box is at least ``least`` wide and tall, so one hit is shown with its surroundings, not alone.
    """
    sub = results[results["id"].isin(list(ids))].dropna(subset=["x", "y"]) if len(results) else results
    if not len(sub):
        return None
    x0, x1 = float(sub["x"].min()) - pad, float(sub["x"].max()) + pad
    y0, y1 = float(sub["y"].min()) - pad, float(sub["y"].max()) + pad
    cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, least), max(y1 - y0, least)
    return (cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2)


def region_shapes(mask: np.ndarray, terrain: pd.DataFrame, pad: float = 0.05) -> list[np.ndarray]:
    """Outline(s) of a region: one convex hull per continent it touches.

    A region spanning several continents is drawn as several shapes, never as
    one hull across the ocean. Returns a list of closed (k, 2) polygons.
    """
    from scipy.spatial import ConvexHull, QhullError

    cells = terrain[mask]
    shapes = []
    for _, grp in cells.groupby("continent", sort=True):
        pts = grp[["x", "y"]].to_numpy()
        centre = pts.mean(axis=0)
        if len(pts) >= 3:
            try:
                hull = pts[ConvexHull(pts).vertices]
            except QhullError:  # all points on a line
                hull = pts[[np.argmin(pts[:, 0]), np.argmax(pts[:, 0])]]
        else:
            hull = pts
        if len(hull) < 3:  # a point or a segment: draw a small diamond around it
            hull = np.vstack([hull + d for d in ([pad, 0], [0, pad], [-pad, 0], [0, -pad])])
            hull = hull[ConvexHull(hull).vertices] if len(hull) >= 3 else hull
        vec = hull - centre
        norm = np.hypot(vec[:, 0], vec[:, 1])[:, None]
        hull = hull + vec / np.where(norm == 0, 1, norm) * pad
        shapes.append(np.vstack([hull, hull[:1]]))
    return shapes


def region_in_words(axes: Axes, region: dict[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    """(axis, values) pairs in human names (core.text.pretty) for every axis; 'any' where unrestricted."""
    out = []
    for ax in axes.axes:
        vals = region.get(ax.name, ax.value_names)
        out.append((pretty(ax.name), "any" if len(vals) == len(ax.values) else ", ".join(map(pretty, vals))))
    return out


def region_summary(axes: Axes, region: dict[str, tuple[str, ...]]) -> str:
    """One line for a table: the restricted axes only ('width: wide, infinite · optimizer: gradient flow')."""
    parts = [f"{axis}: {vals}" for axis, vals in region_in_words(axes, region) if vals != "any"]
    return " · ".join(parts) if parts else "anywhere (no axis restricted)"


def relation_segments(results: pd.DataFrame) -> pd.DataFrame:
    """Lines between related results that are both in ``results`` (which has x, y, relations)."""
    pos = {r.id: (r.x, r.y) for r in results[["id", "x", "y"]].itertuples()}
    rows = []
    for r in results[["id", "relations"]].itertuples():
        for kind, target in r.relations:
            if target in pos and r.id in pos:
                rows.append((*pos[r.id], *pos[target], kind, r.id, target))
    return pd.DataFrame(rows, columns=["x0", "y0", "x1", "y1", "type", "source", "target"])
