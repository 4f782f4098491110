"""The land and the fog as one image: islands coloured by coverage, laid under the map.

Sending a marker per cell (over 100,000) to the browser would be slow; an image of
the terrain is a few hundred kilobytes and zooms with the axes. The land is a
smoothed shape around the cells (see ``land.py``); each land pixel takes the most
common level of the cells near it, and every cell is a small darker dot on top.
"""
from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from atlas_viz.core.names import MAP_PAD
from atlas_viz.figures.land import box_mean, kept_land_shape, mask_outlines, smooth_loop
from atlas_viz.io.derived import DerivedStore

# RGB per coverage level: fog grey, sand, light green, green (the dots of cells; land is a lighter tint).
LEVEL_RGB = np.array([
    [170, 175, 184],   # terra incognita: fog
    [226, 196, 120],   # observed: sand
    [140, 196, 128],   # mapped: light green
    [52, 132, 84],     # charted: green
], dtype=np.uint8)
LAND_RGB = np.array([206, 196, 168], dtype=np.uint8)
HIGHLIGHT_RGB = np.array([214, 40, 40], dtype=np.uint8)
SEA_RGB = np.array([233, 241, 247], dtype=np.uint8)
SHELF_RGB = np.array([214, 228, 240], dtype=np.uint8)
COAST_RGB = np.array([96, 110, 124], dtype=np.uint8)
HEAT_RGB = np.array([  # results claiming a cell: none, then six classes of rising counts (YlOrRd-like)
    [226, 226, 220], [255, 237, 160], [254, 204, 92], [253, 141, 60], [240, 59, 32], [189, 0, 38], [110, 0, 40],
], dtype=np.uint8)
IMAGES = DerivedStore("fog_images", 1)
"""Painted images kept by a hash of the painter and its input (bump when painting changes)."""
KEEP_IMAGES = 400
"""At most this many kept images (40-80 KB each): the default map and the filter sets last used."""
FILL_PX = 23  # a land pixel takes the best level of the cells within this box (pixels, odd)

# Palette slots: 0 sea (transparent), then shelf, coast, plain land, highlight, 4 fills, 4 dots, heat classes.
_SHELF, _COAST, _LAND, _HIGHLIGHT = 1, 2, 3, 4
_FILL, _DOT = 5, 5 + len(LEVEL_RGB)
_HEAT = _DOT + len(LEVEL_RGB)


@dataclass(frozen=True)
class Raster:
    """An image (lossless WebP) data URI and the data-space box it covers."""

    uri: str
    x0: float
    y1: float
    width: float
    height: float


def _palette(dim: bool) -> np.ndarray:
    fills = (LEVEL_RGB.astype(float) * 0.55 + 255 * 0.45).astype(np.uint8)
    pal = np.vstack([[0, 0, 0], SHELF_RGB, COAST_RGB, LAND_RGB, HIGHLIGHT_RGB, fills, LEVEL_RGB, HEAT_RGB])
    if dim:  # washed towards white, so a drawn region stands out
        pal = (pal.astype(float) * 0.45 + 255 * 0.55).astype(np.uint8)
        pal[_HIGHLIGHT] = HIGHLIGHT_RGB
    return pal.astype(np.uint8)


def heat_edges(counts: np.ndarray, classes: int = len(HEAT_RGB) - 1) -> tuple[int, ...]:
    """Lower bounds of the heat classes after 'none': quantiles of the counts above zero, so that each class
    holds a similar share of the claimed land whatever the filters (1 is always the first bound)."""
    pos = np.asarray(counts)[np.asarray(counts) > 0]
    if not len(pos):
        return (1,)
    qs = np.quantile(pos, np.linspace(0, 1, classes + 1)[:-1], method="lower").astype(int)
    return tuple(sorted({1, *(int(q) for q in qs[1:] if q > 1)}))


def heat_class(counts: np.ndarray, edges: tuple[int, ...]) -> np.ndarray:
    """Heat class of each count: 0 = no result, k = at least ``edges[k-1]`` results (and fewer than the next)."""
    return np.searchsorted(np.asarray(edges), np.asarray(counts), side="right").astype(np.uint8)


class Painter:
    """Paints the terrain on a fixed pixel grid (the land's shape and pixel positions are computed once)."""

    def __init__(self, terrain: pd.DataFrame, pixels: int = 1400, dot: int = 1, pad: float = MAP_PAD):
        x, y = terrain["x"].to_numpy(), terrain["y"].to_numpy()
        self.x0, x1 = x.min() - pad, x.max() + pad
        y0, self.y1 = y.min() - pad, y.max() + pad
        self.w = pixels
        self.h = max(1, round(pixels * (self.y1 - y0) / (x1 - self.x0)))
        self.width, self.height = x1 - self.x0, self.y1 - y0
        ix = np.clip(((x - self.x0) / self.width * (self.w - 1)).round().astype(np.int64), 0, self.w - 1)
        iy = np.clip(((self.y1 - y) / self.height * (self.h - 1)).round().astype(np.int64), 0, self.h - 1)
        self.centre = (iy * self.w + ix).astype(np.int32)
        offsets = [(dx, dy) for dx in range(-dot, dot + 1) for dy in range(-dot, dot + 1) if dx * dx + dy * dy <= dot * dot]
        # (n_offsets, n_cells) flat pixel index of every dot pixel of every cell
        self.pix = np.empty((len(offsets), len(x)), dtype=np.int32)
        for k, (dx, dy) in enumerate(offsets):
            self.pix[k] = np.clip(iy + dy, 0, self.h - 1) * self.w + np.clip(ix + dx, 0, self.w - 1)
        occupied = np.zeros(self.w * self.h, dtype=bool)
        occupied[self.centre] = True
        self.shape = kept_land_shape(occupied.reshape(self.h, self.w))
        self._half = (iy // 2) * (-(-self.w // 2)) + ix // 2  # each cell's pixel on the half-size grid
        self._land = self.shape.land.ravel()
        self._signature = hashlib.sha256(self.centre.tobytes() + np.packbits(self._land).tobytes()
                                         + repr((self.w, self.h, self.x0, self.y1, dot)).encode()).hexdigest()

    def _base(self) -> np.ndarray:
        """Sea, shelf, plain land and coast."""
        grid = np.zeros(self.w * self.h, dtype=np.uint8)
        grid[self.shape.shelf.ravel()] = _SHELF
        grid[self._land] = _LAND
        return grid

    def _near(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Per pixel of a half-size grid: the sum of ``weights`` (1 per cell when None) over the cells within
        about ``FILL_PX`` full-size pixels (a box mean; the half-size grid does a quarter of the work)."""
        hs, ws = -(-self.h // 2), -(-self.w // 2)
        img = np.bincount(self._half, weights=weights, minlength=hs * ws).astype(np.float32)
        return box_mean(img.reshape(hs, ws), FILL_PX // 2)

    def _full(self, half: np.ndarray) -> np.ndarray:
        """A half-size image at full size, flat."""
        return np.repeat(np.repeat(half, 2, axis=0), 2, axis=1)[: self.h, : self.w].ravel()

    def _codes(self, codes: np.ndarray, first: int) -> np.ndarray:
        """Land filled with the code most of the cells near each pixel have (ties: the higher); dots of the
        cells are left to the caller. The most common code, not the highest, so the land's colour says what
        is typical there and a few charted cells do not paint their fogged neighbours green."""
        codes = np.asarray(codes)
        present = np.unique(codes)
        shares = np.stack([self._near((codes == c).astype(np.float32)) for c in present])
        mode = self._full(present[::-1][np.argmax(shares[::-1], axis=0)].astype(np.uint8))
        some = self._full(shares.sum(axis=0) > 1e-6)
        grid = self._base()
        fill = self._land & some
        grid[fill] = mode[fill] + first
        return grid

    def paint(self, level: np.ndarray | None, highlight: np.ndarray | None = None, dim: bool = False) -> Raster:
        """Colour the land by coverage ``level`` per cell (``None``: plain land): the most common level nearby,
        each cell's dot its own level (the best level wins where cells share a pixel).

        ``highlight``: cells drawn red on top. ``dim``: everything washed out, to lay a region over it.
        """
        key = self._image_key(level, highlight, dim)
        kept = IMAGES.load(key)
        if kept is not None:
            try:
                return Raster(**kept[0])
            except TypeError:
                pass
        raster = self._paint(level, highlight, dim)
        IMAGES.keep(key, asdict(raster), max_entries=KEEP_IMAGES)
        return raster

    def _image_key(self, level: np.ndarray | None, highlight: np.ndarray | None, dim: bool) -> str:
        """The kept image of this painter for these inputs (painting takes ~0.1 s: a new process's first map
        and every filter set seen before are read back instead)."""
        h = hashlib.sha256()
        for part in (None if level is None else np.asarray(level, dtype=np.uint8).tobytes(),
                     None if highlight is None else np.packbits(np.asarray(highlight, dtype=bool)).tobytes(),
                     bytes([bool(dim)])):
            h.update(b"none;" if part is None else f"{len(part)}:".encode() + part)
        return IMAGES.key(None, self._signature, h.hexdigest())

    def _paint(self, level: np.ndarray | None, highlight: np.ndarray | None, dim: bool) -> Raster:
        if level is None:
            grid = self._base()
        else:
            lv = np.asarray(level, dtype=np.uint8)
            grid = self._codes(lv, _FILL)
            grid[self.pix[:, np.argsort(lv, kind="stable")].ravel()] = np.tile(np.sort(lv) + _DOT, self.pix.shape[0])
        grid[self.shape.coast.ravel()] = _COAST
        if highlight is not None and np.any(highlight):
            grid[self.pix[:, np.asarray(highlight, dtype=bool)].ravel()] = _HIGHLIGHT
        return self._encode(grid, dim)

    def paint_heat(self, counts: np.ndarray, edges: tuple[int, ...]) -> Raster:
        """Colour the land by how many results claim each cell (classes from ``heat_edges``).

        A land pixel shows the mean count of the cells within ``FILL_PX`` (not the largest, which would paint
        every island in the top class), each cell's dot its own count.
        """
        total, cells = self._near(np.asarray(counts, dtype=np.float32)), self._near()
        mean = self._full(np.divide(total, cells, out=np.zeros_like(total), where=cells > 1e-6))
        grid = self._base()
        grid[self._land] = heat_class(np.rint(mean[self._land]), edges) + _HEAT
        cls = heat_class(counts, edges)
        grid[self.pix[:, np.argsort(cls, kind="stable")].ravel()] = np.tile(np.sort(cls) + _HEAT, self.pix.shape[0])
        grid[self.shape.coast.ravel()] = _COAST
        return self._encode(grid, False)

    def outlines(self, mask: np.ndarray, coarse: int = 4) -> list[np.ndarray]:
        """Smoothed closed polygons (data coordinates) around the land of the cells in ``mask``.

        Traced on an image ``coarse`` times smaller than the raster: a few hundred points per island.
        """
        from scipy import ndimage as ndi  # only once a region is drawn: the first map does not wait for scipy

        best = np.zeros(self.w * self.h, dtype=np.uint8)
        best[self.centre[np.asarray(mask, dtype=bool)]] = 1
        near = ndi.maximum_filter(best.reshape(self.h, self.w), size=FILL_PX) > 0
        region = near & self.shape.land
        hs, ws = -(-self.h // coarse), -(-self.w // coarse)
        pad = np.zeros((hs * coarse, ws * coarse), dtype=bool)
        pad[: self.h, : self.w] = region
        small = pad.reshape(hs, coarse, ws, coarse).mean(axis=(1, 3)) >= 0.5
        sx, sy = self.width / self.w * coarse, self.height / self.h * coarse
        return [np.column_stack([self.x0 + p[:, 0] * sx, self.y1 - p[:, 1] * sy])
                for p in (smooth_loop(q) for q in mask_outlines(small))]

    def _encode(self, grid: np.ndarray, dim: bool) -> Raster:
        from PIL import Image

        img = Image.fromarray(grid.reshape(self.h, self.w), "P")
        img.putpalette(_palette(dim).ravel().tolist())
        img.info["transparency"] = 0  # slot 0, the sea
        buf = io.BytesIO()
        # Lossless WebP (every browser since 2020): the same pixels as a PNG in a third fewer bytes, which every
        # filter change sends again (~55 ms to encode, then cached per filter set).
        img.convert("RGBA").save(buf, format="WEBP", lossless=True, quality=50, method=4)
        uri = "data:image/webp;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
        return Raster(uri, float(self.x0), float(self.y1), float(self.width), float(self.height))
