"""Cell positions: a stable 2-D map of the terrain, laid out with UMAP, built once and cached.

The layout is hierarchical, because one UMAP fit of every cell (about 110,000)
does not fit in the time a build may take on a laptop:

1. *Continents.* The axes with the largest weights (``weight >= continent_weight``
   in ``axes.yaml``; task and architecture) define continents. Their value
   combinations are embedded with UMAP, then spread apart just enough that no
   two continents overlap; groups UMAP puts together stay together.
2. *Inside a continent.* The remaining axes' combinations are embedded once with
   UMAP into a disc; every continent uses this same inner layout, so a
   direction means the same thing everywhere on the map.

A cell's position is its continent's centre plus its inner offset. Positions
depend only on the axes (and the fixed parameters), never on results or runs.
"""
from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from atlas_viz.core.names import MAP_PAD
from atlas_viz.core.text import pretty
from atlas_viz.terrain.axes import Axes, cell_codes
from atlas_viz.terrain.labels import (BIG_FONT_PX, DEFAULT_PLOT_PX, SMALL_FONT_PX, box_at,
                                      place_island_labels_kept, text_size, units_per_px)
from atlas_viz.io.yamlio import atomic_write_bytes

TERRAIN_FILE = "terrain.npz"
FORMAT_VERSION = 1


def encode(axes: Axes, names: list[str], codes: np.ndarray) -> np.ndarray:
    """Numeric encoding of value combinations for UMAP.

    Ordinal axes become one column, the value's rank scaled to [0, weight];
    nominal axes become a one-hot block scaled so two different values are
    ``weight`` apart, plus a weak rank column (values are listed from idealised
    to practical, so the map keeps a drift from toy models to practice).
    """
    cols = []
    for j, name in enumerate(names):
        ax = axes[name]
        k = len(ax.values)
        rank = codes[:, j].astype(float) / max(k - 1, 1)
        if ax.kind == "ordinal":
            cols.append((rank * ax.weight)[:, None])
        else:
            cols.append(np.eye(k)[codes[:, j]] * ax.weight / np.sqrt(2))
            cols.append((rank * ax.weight * 0.35)[:, None])
    return np.hstack(cols)


def _umap_2d(x: np.ndarray, n_neighbors: int, min_dist: float, seed: int) -> np.ndarray:
    """UMAP to 2-D with a fixed seed; clamps n_neighbors for tiny inputs."""
    import umap  # heavy import: only when the terrain is (re)built

    n = len(x)
    if n < 4:
        return np.c_[np.arange(n, dtype=float), np.zeros(n)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "n_jobs overridden by random_state" and friends
        reducer = umap.UMAP(n_neighbors=min(n_neighbors, n - 1), min_dist=min_dist, random_state=seed,
                            init="spectral" if n > 20 else "random", n_components=2)
        return reducer.fit_transform(x).astype(float)


def _push_apart(xy: np.ndarray, min_gap: float, iterations: int) -> np.ndarray:
    """Push pairs closer than ``min_gap`` apart, symmetrically, until none is (or iterations run out)."""
    rng = np.random.default_rng(0)
    for _ in range(iterations):
        diff = xy[:, None, :] - xy[None, :, :]
        dist = np.hypot(diff[..., 0], diff[..., 1])
        np.fill_diagonal(dist, np.inf)
        overlap = np.clip(min_gap * 1.02 - dist, 0, None)
        if not overlap.any():
            break
        same = dist < 1e-9
        if same.any():  # identical points: nudge them apart deterministically
            xy = xy + rng.normal(scale=1e-3, size=xy.shape) * same.any(axis=1)[:, None]
            continue
        xy = xy + (diff / dist[..., None] * overlap[..., None] / 2).sum(axis=1)
    return xy


def _separate(xy: np.ndarray, min_gap: float = 1.0) -> np.ndarray:
    """Pack points as tightly as ``min_gap`` allows while keeping their arrangement.

    UMAP leaves tight clusters far apart; here the layout is scaled to a
    generous area, overlaps are pushed apart, and then it is shrunk step by step
    (re-separating each time) so the ocean between groups stays narrow.
    Deterministic.
    """
    xy = np.asarray(xy, dtype=float).copy()
    n = len(xy)
    if n < 2:
        return xy
    xy -= xy.mean(axis=0)
    rms = np.sqrt((xy ** 2).sum(axis=1).mean())
    xy *= (np.sqrt(n) * min_gap / rms) if rms > 0 else 1.0
    xy = _push_apart(xy, min_gap, 400)
    for _ in range(40):
        xy = _push_apart(xy * 0.95, min_gap, 60)
    return xy


def _group_layout(xy: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Separate points at two levels: groups (values of the heaviest axis) become
    archipelagos that do not interleave, and points inside a group do not overlap.
    Both levels keep UMAP's arrangement (group centres and in-group offsets)."""
    out = np.zeros_like(xy, dtype=float)
    ids = np.unique(group)
    centres = np.array([xy[group == g].mean(axis=0) for g in ids])
    radii = []
    for g in ids:
        local = _separate(xy[group == g] - xy[group == g].mean(axis=0))
        out[group == g] = local
        radii.append(np.hypot(local[:, 0], local[:, 1]).max() + 0.5 if len(local) else 0.5)
    centres = _separate(centres, min_gap=2 * max(radii) + 0.2)
    for g, c in zip(ids, centres):
        out[group == g] += c
    return out


def _to_disc(xy: np.ndarray) -> np.ndarray:
    """Centre a layout and scale it so that 98% of points fall inside the unit disc."""
    xy = xy - np.median(xy, axis=0)
    r = np.hypot(xy[:, 0], xy[:, 1])
    scale = np.quantile(r, 0.98) if len(r) > 1 and np.quantile(r, 0.98) > 0 else 1.0
    xy = xy / scale
    r = np.hypot(xy[:, 0], xy[:, 1])
    squash = np.where(r > 1, (1 + np.tanh(r - 1) * 0.1) / np.maximum(r, 1e-9), 1.0)
    return xy * squash[:, None]


def _rows_index(keys: np.ndarray, table: np.ndarray, sizes: list[int]) -> np.ndarray:
    """Row of ``table`` holding each row of ``keys`` (both code arrays over the same axes)."""
    if not sizes:
        return np.zeros(len(keys), dtype=np.int64)
    flat_table = np.ravel_multi_index(table.T.astype(np.int64), sizes)
    lookup = np.full(int(np.prod(sizes)), -1, dtype=np.int64)
    lookup[flat_table] = np.arange(len(table))
    return lookup[np.ravel_multi_index(keys.T.astype(np.int64), sizes)]


@dataclass
class TerrainLayout:
    """Hierarchical UMAP layout of the terrain (fit on the axes, then look up cells).

    Parameters follow scikit-learn conventions: set in ``__init__``; learned
    attributes end in ``_``.
    """

    continent_weight: float = 2.0
    n_neighbors: int = 15
    continent_neighbors: int = 6
    min_dist: float = 0.25
    seed: int = 42
    island_radius: float = 0.42

    def params(self) -> dict:
        return {k: getattr(self, k) for k in ("continent_weight", "n_neighbors", "continent_neighbors", "min_dist", "seed", "island_radius")}

    def fit(self, axes: Axes, progress=None) -> "TerrainLayout":
        """Lay out continents and the inner map. ``progress(fraction, text)`` is called along the way."""
        say = progress or (lambda f, t: None)
        cells = cell_codes(axes).to_numpy()
        names = list(axes.names)
        heavy = sorted((n for n in names if axes[n].weight >= self.continent_weight), key=lambda n: -axes[n].weight)
        if not heavy:
            heavy = [max(names, key=lambda n: axes[n].weight)]
        self.continent_axes_ = heavy
        self.inner_axes_ = [n for n in names if n not in heavy]
        ci = [names.index(n) for n in self.continent_axes_]
        li = [names.index(n) for n in self.inner_axes_]
        say(0.05, "laying out continents")
        self.continent_keys_ = np.unique(cells[:, ci], axis=0)
        cont = _umap_2d(encode(axes, self.continent_axes_, self.continent_keys_), self.continent_neighbors, 0.5,
                        self.seed)
        self.continent_xy_ = _group_layout(cont, self.continent_keys_[:, 0])
        say(0.25, f"laying out the inside of continents ({len(np.unique(cells[:, li], axis=0)):,} combinations)")
        self.inner_keys_ = np.unique(cells[:, li], axis=0) if li else np.zeros((1, 0), dtype=np.uint8)
        inner = (_umap_2d(encode(axes, self.inner_axes_, self.inner_keys_), self.n_neighbors, self.min_dist, self.seed)
                 if li else np.zeros((1, 2)))
        self.inner_xy_ = _to_disc(inner)
        self.axes_digest_ = axes.digest
        say(1.0, "done")
        return self

    def positions(self, axes: Axes, codes: pd.DataFrame) -> pd.DataFrame:
        """x, y and continent number of cells given as a frame of value codes."""
        names = list(axes.names)
        arr = codes[names].to_numpy()
        ci = [names.index(n) for n in self.continent_axes_]
        li = [names.index(n) for n in self.inner_axes_]
        cont = _rows_index(arr[:, ci], self.continent_keys_, [len(axes[n].values) for n in self.continent_axes_])
        inner = _rows_index(arr[:, li], self.inner_keys_, [len(axes[n].values) for n in self.inner_axes_])
        xy = self.continent_xy_[cont] + self.inner_xy_[inner] * self.island_radius
        return pd.DataFrame({"x": xy[:, 0], "y": -xy[:, 1], "continent": cont.astype(np.int16)}, index=codes.index)

    def save(self, path: Path) -> None:
        import io

        buf = io.BytesIO()
        np.savez_compressed(
            buf, continent_keys=self.continent_keys_, continent_xy=self.continent_xy_,
            inner_keys=self.inner_keys_, inner_xy=self.inner_xy_,
            meta=np.array(json.dumps({"version": FORMAT_VERSION, "axes_digest": self.axes_digest_,
                                      "continent_axes": self.continent_axes_, "inner_axes": self.inner_axes_,
                                      "params": self.params()})))
        atomic_write_bytes(Path(path), buf.getvalue())

    @classmethod
    def load(cls, path: Path) -> "TerrainLayout":
        with np.load(Path(path), allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("version") != FORMAT_VERSION:
                raise ValueError(f"{path}: terrain cache format {meta.get('version')}, expected {FORMAT_VERSION}")
            self = cls(**meta["params"])
            self.continent_keys_, self.continent_xy_ = z["continent_keys"], z["continent_xy"]
            self.inner_keys_, self.inner_xy_ = z["inner_keys"], z["inner_xy"]
        self.continent_axes_, self.inner_axes_ = meta["continent_axes"], meta["inner_axes"]
        self.axes_digest_ = meta["axes_digest"]
        return self


def terrain_path(data_dir: Path) -> Path:
    return Path(data_dir) / "cache" / TERRAIN_FILE


def cached_layout(data_dir: Path, axes: Axes) -> TerrainLayout | None:
    """The cached layout if it exists and matches the axes; None when stale or missing."""
    path = terrain_path(data_dir)
    if not path.exists():
        return None
    try:
        layout = TerrainLayout.load(path)
    except (ValueError, KeyError, OSError):
        return None
    return layout if layout.axes_digest_ == axes.digest else None


def build_layout(data_dir: Path, axes: Axes, progress=None) -> tuple[TerrainLayout, float]:
    """Fit the layout and write it to the cache; returns it and the seconds taken."""
    t0 = time.perf_counter()
    layout = TerrainLayout().fit(axes, progress)
    layout.save(terrain_path(data_dir))
    return layout, time.perf_counter() - t0


def terrain_frame(axes: Axes, layout: TerrainLayout) -> pd.DataFrame:
    """Every cell: value codes, x, y, continent."""
    codes = cell_codes(axes)
    return pd.concat([codes, layout.positions(axes, codes)], axis=1)


def continent_names(axes: Axes, layout: TerrainLayout) -> list[str]:
    """A readable name per continent from its values, e.g. 'transformer · language modeling'."""
    out = []
    for key in layout.continent_keys_:
        parts = [pretty(axes[n].value_names[k]) for n, k in zip(layout.continent_axes_, key)]
        out.append(" · ".join(reversed(parts)))
    return out


def continent_labels(axes: Axes, layout: TerrainLayout, counts: np.ndarray | None = None,
                     plot_px: tuple[int, int] = DEFAULT_PLOT_PX) -> pd.DataFrame:
    """Map labels: a large one per group of continents (first continent axis) and a small one per continent.

    Large labels sit above their group; small ones beside their island, where no other label is at the default
    zoom (``plot_px``, see :mod:`atlas_viz.terrain.labels`). ``size`` is the font size in pixels; ``counts``
    (results per continent) goes into the hover text.
    """
    names = continent_names(axes, layout)
    keys, xy = layout.continent_keys_, layout.continent_xy_.copy()
    xy[:, 1] = -xy[:, 1]  # positions() flips y so that the map reads top-down
    r = layout.island_radius
    unit = units_per_px(*(np.ptp(xy, axis=0) + 2 * r + 2 * MAP_PAD), plot_px) if len(xy) else 1.0
    rows = []
    first = axes[layout.continent_axes_[0]]
    for code in np.unique(keys[:, 0]):
        sel = keys[:, 0] == code
        centre_x = xy[sel, 0].mean()
        top = xy[sel, 1].max() + r + 0.35
        name = pretty(first.value_names[code]).upper()
        name = name.replace(" ", "\n", 1) if len(name) > 14 else name  # two short lines stay clear of neighbours
        rows.append((centre_x, top + (0.25 if "\n" in name else 0), name, first.values[code].description,
                     BIG_FONT_PX, "#1d2b3a"))
    fixed = tuple(box_at(x, y, text_size(text, BIG_FONT_PX, unit, caps=True)) for x, y, text, *_ in rows)
    texts = [" · ".join(pretty(axes[n].value_names[k]) for n, k in zip(layout.continent_axes_[1:], key[1:]))
             or names[i] for i, key in enumerate(keys)]
    sizes = tuple(text_size(t, SMALL_FONT_PX, unit) for t in texts)
    at = place_island_labels_kept(np.ascontiguousarray(xy, dtype=float).tobytes(), float(r), sizes, fixed)
    for i, ((x, y), text) in enumerate(zip(at, texts)):
        n = "" if counts is None else f" · {int(counts[i])} results"
        rows.append((x, y, text, names[i] + n, SMALL_FONT_PX, "#3b4a5a"))
    return pd.DataFrame(rows, columns=["x", "y", "text", "hover", "size", "color"])
