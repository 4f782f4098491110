"""Regions of validity: which cells a result covers, where it sits, and its shapes on the map."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from atlas_viz.terrain.axes import Axes, product_index


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


def region_masks(axes: Axes, codes: pd.DataFrame, results: pd.DataFrame) -> np.ndarray:
    """Masks of every result, one row per result (n_results x n_cells booleans).

    A region is a box in the product of the axes: its cells are read off a dense index of that product
    (one lookup per region, proportional to its size) instead of testing every cell of the terrain.
    """
    dense = product_index(axes, codes)
    out = np.zeros((len(results), len(codes)), dtype=bool)
    for i, region in enumerate(results["region"] if len(results) else []):
        box = np.ix_(*[np.array([a.code(v) for v in region.get(a.name, a.value_names)], dtype=np.int64)
                       for a in axes.axes])
        cells = dense[box].ravel()
        out[i, cells[cells >= 0]] = True
    return out


def stable_jitter(ids: pd.Series | list[str], scale: float, salt: str = "") -> np.ndarray:
    """Small deterministic 2-D offsets from ids (the same id always moves the same way)."""
    out = np.empty((len(ids), 2))
    for i, key in enumerate(ids):
        h = hashlib.blake2b(f"{salt}{key}".encode(), digest_size=8).digest()
        a = int.from_bytes(h[:4], "little") / 2**32 * 2 * np.pi
        r = np.sqrt(int.from_bytes(h[4:], "little") / 2**32) * scale
        out[i] = (r * np.cos(a), r * np.sin(a))
    return out


def result_positions(results: pd.DataFrame, masks: np.ndarray, terrain: pd.DataFrame,
                     jitter: float = 0.12) -> pd.DataFrame:
    """Where each result sits: the cell of its region nearest the region's centre, plus jitter.

    A region spread over several continents has its centre in the ocean; taking the
    nearest cell of the region keeps the marker on land, inside its own region.
    """
    x, y = terrain["x"].to_numpy(), terrain["y"].to_numpy()
    rows = []
    for mask in masks:
        idx = np.flatnonzero(mask)
        if not len(idx):
            rows.append((np.nan, np.nan, -1, 0))
            continue
        px, py = x[idx], y[idx]
        cell = int(idx[np.argmin((px - px.mean()) ** 2 + (py - py.mean()) ** 2)])
        rows.append((x[cell], y[cell], cell, len(idx)))
    out = pd.DataFrame(rows, columns=["x", "y", "cell", "n_cells"], index=results.index)
    out[["x", "y"]] += stable_jitter(results["id"], jitter, "result")
    out["extent"] = out["n_cells"] / max(len(terrain), 1)
    return out


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
    """(axis, values) pairs for the axes a region restricts; 'any' for the rest."""
    out = []
    for ax in axes.axes:
        vals = region.get(ax.name, ax.value_names)
        out.append((ax.name, "any" if len(vals) == len(ax.values) else ", ".join(vals)))
    return out


def relation_segments(results: pd.DataFrame) -> pd.DataFrame:
    """Lines between related results that are both in ``results`` (which has x, y, relations)."""
    pos = {r.id: (r.x, r.y) for r in results[["id", "x", "y"]].itertuples()}
    rows = []
    for r in results[["id", "relations"]].itertuples():
        for kind, target in r.relations:
            if target in pos and r.id in pos:
                rows.append((*pos[r.id], *pos[target], kind, r.id, target))
    return pd.DataFrame(rows, columns=["x0", "y0", "x1", "y1", "type", "source", "target"])
