"""The cells each result claims, held as sorted cell lists (one flat array and row offsets), not a dense
results-by-cells matrix.

A catalogue's regions are small on average (about 3% of the terrain's 112,640 cells for the bundled one), so a
dense boolean matrix spends a byte per cell per result on cells no region holds: 52 MB for 462 results, 1.1 GB
at 10,000. The lists take 4 bytes per claimed cell, each distinct region once (4 MB for the bundled catalogue),
and answer what the atlas asks of its masks directly: one result's cells, how many of some results claim each
cell, which cells any of them claims. Indexing by a row still gives a dense boolean row, so code and tests that
read ``masks[i]`` as an array keep working.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np


class RegionMasks:
    """Read-only cell lists of ``n`` results over ``n_cells`` cells. The distinct lists are stored once: list
    ``k`` is ``indices[indptr[k]:indptr[k + 1]]`` (ascending) and row ``i`` holds list ``row_list[i]`` (results
    that claim the same region, such as the many that hold everywhere, share one list)."""

    ndim = 2

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, n_cells: int, row_list: np.ndarray | None = None):
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self.indices = np.asarray(indices, dtype=np.int32)
        self.n_cells = int(n_cells)
        n_lists = len(self.indptr) - 1
        self.row_list = np.arange(n_lists) if row_list is None else np.asarray(row_list, dtype=np.int64)
        for a in (self.indptr, self.indices, self.row_list):
            a.flags.writeable = False

    @classmethod
    def from_lists(cls, rows: Iterable[np.ndarray], n_cells: int) -> RegionMasks:
        """From each row's cells (any order, no repeats); rows given as the same array object share its list."""
        lists: list[np.ndarray] = []
        seen: dict[int, tuple[int, object]] = {}  # id -> (list, the object: kept alive, so no id is reused)
        row_list = []
        for r in rows:
            if id(r) not in seen:
                seen[id(r)] = (len(lists), r)
                lists.append(np.sort(np.asarray(r, dtype=np.int32)))
            row_list.append(seen[id(r)][0])
        indptr = np.zeros(len(lists) + 1, dtype=np.int64)
        np.cumsum([len(c) for c in lists], out=indptr[1:])
        return cls(indptr, np.concatenate(lists) if lists else np.zeros(0, np.int32), n_cells,
                   np.array(row_list, dtype=np.int64))

    @classmethod
    def of(cls, masks: RegionMasks | np.ndarray | Sequence) -> RegionMasks:
        """``masks`` itself, or a dense boolean matrix (results x cells) as cell lists."""
        if isinstance(masks, RegionMasks):
            return masks
        dense = np.asarray(masks, dtype=bool)
        if dense.ndim != 2:
            raise ValueError(f"masks must be 2-D (results x cells), got shape {dense.shape}")
        rows, cells = np.nonzero(dense)  # row-major: each row's cells ascending
        indptr = np.zeros(dense.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=dense.shape[0]), out=indptr[1:])
        return cls(indptr, cells, dense.shape[1])

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), self.n_cells

    def __len__(self) -> int:
        return len(self.row_list)

    def cells(self, i: int) -> np.ndarray:
        """Row ``i``'s cells, ascending (a read-only view)."""
        k = self.row_list[i]
        return self.indices[self.indptr[k]:self.indptr[k + 1]]

    def sizes(self) -> np.ndarray:
        """How many cells each row holds."""
        return np.diff(self.indptr)[self.row_list]

    def row(self, i: int) -> np.ndarray:
        """Row ``i`` as a dense boolean array over the cells."""
        out = np.zeros(self.n_cells, dtype=bool)
        out[self.cells(i)] = True
        return out

    def count(self, rows: Iterable[int] | None = None) -> np.ndarray:
        """How many of ``rows`` (all when None) claim each cell (int32): each distinct list counted once, times
        the rows that hold it."""
        picked = self.row_list if rows is None else self.row_list[np.asarray(list(rows), dtype=np.int64)]
        lists, times = np.unique(picked, return_counts=True)
        out = np.zeros(self.n_cells, dtype=np.int32)
        for k, t in zip(lists, times):
            out[self.indices[self.indptr[k]:self.indptr[k + 1]]] += t
        return out

    def any(self, rows: Iterable[int], out: np.ndarray | None = None) -> np.ndarray:
        """Which cells any of ``rows`` claims (written into ``out`` when given, which is cleared first)."""
        hit = np.zeros(self.n_cells, dtype=bool) if out is None else out
        hit[:] = False
        hit[self._gather(rows)] = True
        return hit

    def common(self, i: int, k: int) -> np.ndarray:
        """The cells rows ``i`` and ``k`` both claim, ascending."""
        return np.intersect1d(self.cells(i), self.cells(k), assume_unique=True)

    def digest(self) -> bytes:
        """A hash of every row's cells and the shape (equal masks stored alike, equal digests)."""
        h = hashlib.sha256(repr(self.shape).encode())
        for a in (self.indptr, self.indices, self.row_list):
            h.update(a.tobytes())
        return h.digest()

    def take(self, rows: Iterable[int]) -> RegionMasks:
        """The masks of ``rows``, in that order (sharing this one's lists)."""
        rows = np.asarray(list(rows) if not isinstance(rows, np.ndarray) else rows, dtype=np.int64)
        return RegionMasks(self.indptr, self.indices, self.n_cells, self.row_list[rows])

    def toarray(self) -> np.ndarray:
        """The dense boolean matrix (results x cells)."""
        out = np.zeros(self.shape, dtype=bool)
        for i in range(len(self)):
            out[i, self.cells(i)] = True
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        dense = self.toarray()
        return dense if dtype is None else dense.astype(dtype)

    def __getitem__(self, key):
        """``m[i]``: a dense row; ``m[i, c]``: whether row ``i`` claims cell ``c``; ``m[rows]`` or ``m[a:b]``: the
        masks of those rows."""
        if isinstance(key, tuple) and len(key) == 2:
            i, c = key
            cells = self.cells(int(i))
            at = np.searchsorted(cells, c)
            return bool(at < len(cells) and cells[at] == c)
        if isinstance(key, (int, np.integer)):
            return self.row(int(key) + (len(self) if key < 0 else 0))
        if isinstance(key, slice):
            return self.take(range(*key.indices(len(self))))
        return self.take(np.flatnonzero(key) if np.asarray(key).dtype == bool else key)

    def _gather(self, rows: Iterable[int]) -> np.ndarray:
        """The cells of ``rows``' distinct lists, concatenated (a cell may repeat across lists)."""
        lists = np.unique(self.row_list[np.asarray(list(rows), dtype=np.int64)])
        parts = [self.indices[self.indptr[k]:self.indptr[k + 1]] for k in lists]
        return np.concatenate(parts) if parts else np.zeros(0, np.int32)
