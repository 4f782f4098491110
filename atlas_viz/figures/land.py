"""The shape of the land: islands and continental shelves from the cells' pixels, and outlines of pixel masks.

Islands are the cells' pixels blurred and thresholded (a smoothed density, as datamapplot draws clusters);
the shelf is the same at a larger scale, so the islands of one continent sit on one shallow shape. Outlines
trace the boundary of a pixel mask into closed polygons that plotly can fill.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from atlas_viz.io.derived import DerivedStore

LAND_VERSION = 1
"""Bump when :func:`land_shape` draws differently, so kept shapes are never read."""
STORE = DerivedStore("land", LAND_VERSION)


@dataclass(frozen=True)
class LandShape:
    """Boolean images (rows top-down) of land, its coast and the shelf around it."""

    land: np.ndarray
    coast: np.ndarray
    shelf: np.ndarray


def land_shape(occupied: np.ndarray, island_px: float = 6.0, shelf_px: float = 22.0, scale: int = 2) -> LandShape:
    """Land, coast and shelf from the image of pixels holding a cell.

    Shapes are made on an image ``scale`` times smaller (the shelf on one twice smaller again) and enlarged:
    the same shapes for a fraction of the work, which the first map of a session waits for. ``island_px``
    and ``shelf_px`` are the blur radii in full-size pixels. Every pixel holding a cell is land.
    """
    from scipy import ndimage as ndi

    h, w = occupied.shape
    small = _shrink(occupied, scale)
    island = (ndi.gaussian_filter(small.astype(np.float32), island_px / scale, truncate=3.0) > 0.02) | small
    coast = island & ~ndi.binary_erosion(island)
    coarse = _shrink(island, 2)
    shelf = ndi.gaussian_filter(coarse.astype(np.float32), shelf_px / scale / 2, truncate=2.5) > 0.04
    land = _grow(island, scale, h, w)
    return LandShape(land, _grow(coast, scale, h, w), _grow(_grow(shelf, 2, *island.shape), scale, h, w) & ~land)


def kept_land_shape(occupied: np.ndarray) -> LandShape:
    """:func:`land_shape` of ``occupied``, kept on disk by a hash of the image: a new process (the first map a
    reader waits for) reads three bit-packed images instead of blurring them again, and does not import
    scipy. A damaged or missing entry is drawn again."""
    occupied = np.asarray(occupied, dtype=bool)
    digest = hashlib.sha256(np.packbits(occupied).tobytes() + repr(occupied.shape).encode()).hexdigest()
    key = STORE.key(None, digest)
    kept = STORE.load(key, arrays=True)
    if kept is not None:
        try:
            n = occupied.size
            return LandShape(*(np.unpackbits(kept[1][k], count=n).astype(bool).reshape(occupied.shape)
                               for k in ("land", "coast", "shelf")))
        except (KeyError, ValueError):
            pass
    shape = land_shape(occupied)
    STORE.keep(key, {"shape": list(occupied.shape)},
               {k: np.packbits(getattr(shape, k)) for k in ("land", "coast", "shelf")})
    return shape


def box_mean(img: np.ndarray, size: int) -> np.ndarray:
    """The mean over the ``size`` x ``size`` box (odd) around each pixel, edges mirrored: what
    ``scipy.ndimage.uniform_filter(img, size)`` gives, by running sums, without importing scipy."""
    r, (h, w) = size // 2, img.shape
    padded = np.pad(img, r, mode="symmetric")
    c = np.cumsum(padded, axis=0, dtype=np.float64)
    rows = c[size - 1:size - 1 + h].copy()
    rows[1:] -= c[:h - 1]
    c = np.cumsum(rows, axis=1)
    out = c[:, size - 1:size - 1 + w].copy()
    out[:, 1:] -= c[:, :w - 1]
    return (out / (size * size)).astype(np.float32)


def _shrink(img: np.ndarray, k: int) -> np.ndarray:
    """A boolean image ``k`` times smaller: a pixel is set when any pixel of its k x k block is."""
    h, w = img.shape
    out = np.zeros((-(-h // k), -(-w // k)), dtype=bool)
    for dy in range(k):
        for dx in range(k):
            part = img[dy::k, dx::k]
            out[: part.shape[0], : part.shape[1]] |= part
    return out


def _grow(img: np.ndarray, k: int, h: int, w: int) -> np.ndarray:
    """A boolean image ``k`` times larger, cut to ``h`` x ``w``."""
    return np.repeat(np.repeat(img, k, axis=0), k, axis=1)[:h, :w]


def mask_outlines(mask: np.ndarray, simplify: bool = True) -> list[np.ndarray]:
    """Closed polygons around the True pixels of a 2-D mask, in pixel-corner coordinates (col, row).

    Each boundary edge between a True pixel and a False one (or the border) is directed so that the True
    side lies on its left; edges are chained into loops. Holes come out as loops of their own, so a
    ``fill="toself"`` of all loops (separated by gaps) shows them. Collinear points are dropped.
    """
    m = np.pad(np.asarray(mask, dtype=bool), 1)
    nxt: dict[tuple[int, int], list[tuple[int, int]]] = {}
    # Horizontal edges: between rows r-1 and r (corner row r), columns c..c+1.
    for sign, (rr, cc) in ((1, np.nonzero(m[1:, :] & ~m[:-1, :])), (-1, np.nonzero(m[:-1, :] & ~m[1:, :]))):
        for r, c in zip((rr + 1).tolist(), cc.tolist()):  # pixel below True, above False: edge goes right->left
            a, b = ((r, c + 1), (r, c)) if sign == 1 else ((r, c), (r, c + 1))
            nxt.setdefault(a, []).append(b)
    for sign, (rr, cc) in ((1, np.nonzero(m[:, 1:] & ~m[:, :-1])), (-1, np.nonzero(m[:, :-1] & ~m[:, 1:]))):
        for r, c in zip(rr.tolist(), (cc + 1).tolist()):  # pixel right True, left False: edge goes top->bottom
            a, b = ((r, c), (r + 1, c)) if sign == 1 else ((r + 1, c), (r, c))
            nxt.setdefault(a, []).append(b)
    loops = []
    while nxt:
        start = next(iter(nxt))
        pts, cur = [start], start
        while True:
            outs = nxt.get(cur)
            if not outs:
                break
            step = outs.pop()
            if not outs:
                del nxt[cur]
            if step == start:
                break
            pts.append(step)
            cur = step
        arr = np.array(pts, dtype=float)[:, ::-1] - 1.0  # (col, row), undo the padding
        loops.append(_drop_collinear(arr) if simplify else arr)
    return [np.vstack([p, p[:1]]) for p in loops if len(p) >= 3]


def _drop_collinear(pts: np.ndarray) -> np.ndarray:
    """Points of a closed path where its direction changes."""
    if len(pts) < 4:
        return pts
    prev, nxt = np.roll(pts, 1, axis=0), np.roll(pts, -1, axis=0)
    cross = (pts[:, 0] - prev[:, 0]) * (nxt[:, 1] - pts[:, 1]) - (pts[:, 1] - prev[:, 1]) * (nxt[:, 0] - pts[:, 0])
    return pts[cross != 0]


def smooth_loop(loop: np.ndarray, rounds: int = 2) -> np.ndarray:
    """Chaikin corner cutting of a closed polygon (first point repeated at the end): pixel stairs become curves."""
    pts = loop[:-1]
    for _ in range(rounds):
        nxt = np.roll(pts, -1, axis=0)
        pts = np.column_stack([0.75 * pts + 0.25 * nxt, 0.25 * pts + 0.75 * nxt]).reshape(-1, 2)
    return np.vstack([pts, pts[:1]])
