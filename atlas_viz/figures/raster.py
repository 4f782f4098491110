"""The land and the fog as one image: cells painted by coverage level, laid under the map.

Sending a marker per cell (over 100,000) to the browser would be slow; a PNG of
the terrain is a few hundred kilobytes and zooms with the axes.
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

# RGB per coverage level: fog grey, sand, light green, green; then plain land (fog layer off), highlight.
LEVEL_RGB = np.array([
    [178, 182, 190],   # terra incognita: fog
    [236, 214, 150],   # observed: sand
    [160, 209, 150],   # mapped: light green
    [72, 150, 100],    # charted: green
], dtype=np.uint8)
LAND_RGB = np.array([214, 205, 180], dtype=np.uint8)
HIGHLIGHT_RGB = np.array([214, 40, 40], dtype=np.uint8)
_LAND, _HIGHLIGHT = len(LEVEL_RGB), len(LEVEL_RGB) + 1


@dataclass(frozen=True)
class Raster:
    """A PNG data URI and the data-space box it covers."""

    uri: str
    x0: float
    y1: float
    width: float
    height: float


class Painter:
    """Paints cells as small discs on a fixed pixel grid (pixel positions are computed once)."""

    def __init__(self, terrain: pd.DataFrame, pixels: int = 1400, dot: int = 3, pad: float = 0.6):
        x, y = terrain["x"].to_numpy(), terrain["y"].to_numpy()
        self.x0, x1 = x.min() - pad, x.max() + pad
        y0, self.y1 = y.min() - pad, y.max() + pad
        self.w = pixels
        self.h = max(1, int(round(pixels * (self.y1 - y0) / (x1 - self.x0))))
        self.width, self.height = x1 - self.x0, self.y1 - y0
        ix = np.clip(((x - self.x0) / self.width * (self.w - 1)).round().astype(np.int64), 0, self.w - 1)
        iy = np.clip(((self.y1 - y) / self.height * (self.h - 1)).round().astype(np.int64), 0, self.h - 1)
        offsets = [(dx, dy) for dx in range(-dot, dot + 1) for dy in range(-dot, dot + 1) if dx * dx + dy * dy <= dot * dot + 1]
        # (n_offsets, n_cells) flat pixel index of every disc pixel of every cell
        self.pix = np.empty((len(offsets), len(x)), dtype=np.int32)
        for k, (dx, dy) in enumerate(offsets):
            self.pix[k] = np.clip(iy + dy, 0, self.h - 1) * self.w + np.clip(ix + dx, 0, self.w - 1)

    def paint(self, level: np.ndarray | None, highlight: np.ndarray | None = None) -> Raster:
        """Colour cells by level (``None``: plain land); the best level wins where cells share a pixel."""
        from PIL import Image

        n = self.pix.shape[1]
        lv = np.full(n, _LAND, dtype=np.uint8) if level is None else np.asarray(level, dtype=np.uint8)
        order = np.argsort(lv, kind="stable")  # paint low levels first so higher ones overwrite them
        grid = np.zeros(self.w * self.h, dtype=np.uint8)  # 0 = sea (transparent)
        grid[self.pix[:, order].ravel()] = np.tile(lv[order] + 1, self.pix.shape[0])
        if highlight is not None and np.any(highlight):
            grid[self.pix[:, np.asarray(highlight, dtype=bool)].ravel()] = _HIGHLIGHT + 1
        img = Image.fromarray(grid.reshape(self.h, self.w), "P")
        palette = np.vstack([[0, 0, 0], LEVEL_RGB, LAND_RGB, HIGHLIGHT_RGB]).astype(np.uint8)
        img.putpalette(palette.ravel().tolist())
        buf = io.BytesIO()
        img.save(buf, format="PNG", transparency=0, compress_level=1)
        uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
        return Raster(uri, float(self.x0), float(self.y1), float(self.width), float(self.height))
