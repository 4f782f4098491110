"""Values for the axes a run's table leaves unknown: the axis default, or the possible value nearest to it.

A run whose table does not say its depth is placed at depth's ``default``; but when that combination is
impossible in ``axes.yaml`` (a one-hidden-layer network at the default depth), the run takes the value of
its unknown axes nearest to their defaults (in the axis's order) that makes a cell of the terrain. The
import and the store call the same function, so a run is checked where it will be drawn.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from atlas_viz.terrain.axes import Axes

KEY_BLOCK = 1 << 16
"""Rows whose pattern keys are counted at once."""
MAX_CANDIDATES = 4096
"""Combinations of unknown values tried per distinct row pattern before giving up."""


def _by_distance(n: int, start: int) -> list[int]:
    """0..n-1 ordered by distance from ``start`` (ties: the lower value first)."""
    return sorted(range(n), key=lambda i: (abs(i - start), i))


def impute_codes(axes: Axes, codes: np.ndarray, lookup: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fill the unknown value codes (-1) of ``codes`` (rows x axes, a new array is returned).

    ``lookup`` maps a flat index over the product of the axes to a cell id (-1 where impossible). Unknown
    axes take their default; where that combination is impossible, the nearest possible values. Returns
    (filled codes, cell per row): a cell of -1 means no value works, or an unknown axis has no default.
    """
    filled, cell, inverse = impute_patterns(axes, [codes[:, j] for j in range(codes.shape[1])], lookup)
    rows = inverse()
    return filled[rows], cell[rows]


def impute_patterns(axes: Axes, columns: list[np.ndarray], lookup: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, Callable[[], np.ndarray]]:
    """:func:`impute_codes` on the distinct rows only: ``columns`` holds one code array per axis (-1 =
    unknown). Returns (filled codes per distinct row, cell per distinct row, a function giving each row's
    distinct row: an import asks for it only when some distinct row is impossible).

    A million runs rarely make more than a few thousand distinct combinations, so the search runs on
    those, and each row is one flat key (no sort when the keys' range is small: a count per key)."""
    ext = [len(a.values) + 1 for a in axes.axes]  # codes + 1, so that unknown (-1) is a value too
    n = len(columns[0]) if columns else 0
    total = int(np.prod(ext, dtype=np.float64))
    if total <= max(4 * n, 1 << 16):  # a count per key, block by block (small temporaries, in memory in use)
        counts = np.zeros(total, dtype=np.int64)
        for start in range(0, n, KEY_BLOCK):
            counts += np.bincount(_keys(columns, ext, total, start, start + KEY_BLOCK), minlength=total)
        keys = np.flatnonzero(counts)
        rank = np.zeros(total, dtype=np.int32 if len(keys) < 2 ** 31 else np.int64)
        rank[keys] = np.arange(len(keys))

        def inverse() -> np.ndarray:
            return rank[_keys(columns, ext, total, 0, n)]
    else:
        keys, found = np.unique(_keys(columns, ext, total, 0, n), return_inverse=True)

        def inverse() -> np.ndarray:
            return found.ravel()
    patterns = np.stack(np.unravel_index(keys, ext), axis=1).astype(np.int64) - 1
    filled, cell = _impute_rows(axes, patterns.reshape(len(keys), len(ext)), lookup)
    return filled, cell, inverse


def _keys(columns: list[np.ndarray], ext: list[int], total: int, start: int, end: int) -> np.ndarray:
    """The flat key of rows ``start:end``: the sum over axes of (code + 1) * stride (the codes' sum first, two
    passes per axis, then the ones' once)."""
    key = np.zeros(len(columns[0][start:end]), dtype=np.int32 if total < 2 ** 31 else np.int64)
    ones = 0
    for col, size in zip(columns, ext):
        key *= size
        key += col[start:end]
        ones = ones * size + 1
    key += ones
    return key


def _impute_rows(axes: Axes, codes: np.ndarray, lookup: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`impute_codes` row by row pattern (``codes`` may repeat rows; the search runs once per pattern)."""
    sizes = [len(a.values) for a in axes.axes]
    defaults = np.array([a.code(a.default) if a.default else -1 for a in axes.axes], dtype=np.int64)
    unknown = codes < 0
    filled = np.where(unknown, defaults[None, :], codes)
    cell = np.full(len(codes), -1, dtype=np.int64)
    ok = (filled >= 0).all(axis=1)
    if ok.any():
        cell[ok] = lookup[np.ravel_multi_index(filled[ok].T, sizes)]
    retry = ok & (cell < 0) & unknown.any(axis=1)
    if not retry.any():
        return filled, cell
    # Distinct row patterns, found on one flat key per row (np.unique over rows of a matrix sorts row by row in
    # Python objects' speed; a flat key is one int64 sort): codes + 1 so that unknown (-1) is a value too.
    ext = [s + 1 for s in sizes]
    keys, inverse = np.unique(np.ravel_multi_index((codes[retry] + 1).T, ext), return_inverse=True)
    patterns = np.stack(np.unravel_index(keys, ext), axis=1).astype(np.int64) - 1
    found_codes = np.full_like(patterns, -1)
    found_cell = np.full(len(patterns), -1, dtype=np.int64)
    for p, pattern in enumerate(patterns):
        free = np.flatnonzero(pattern < 0)
        options = [np.array(_by_distance(sizes[j], int(defaults[j])), dtype=np.int64) for j in free]
        # Every combination at once, in itertools.product's order (nearest to the defaults first), capped.
        grid = np.indices([len(o) for o in options]).reshape(len(options), -1)[:, :MAX_CANDIDATES]
        trials = np.repeat(pattern[None, :], grid.shape[1], axis=0)
        for k, (j, o) in enumerate(zip(free, options)):
            trials[:, j] = o[grid[k]]
        cells = lookup[np.ravel_multi_index(trials.T, sizes)]
        hit = np.flatnonzero(cells >= 0)
        if len(hit):
            found_codes[p], found_cell[p] = trials[hit[0]], cells[hit[0]]
    rows = np.flatnonzero(retry)
    hit = found_cell[inverse.ravel()] >= 0
    filled[rows[hit]] = found_codes[inverse.ravel()][hit]
    cell[rows] = found_cell[inverse.ravel()]
    return filled, cell
