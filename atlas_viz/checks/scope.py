"""Which runs a prediction is checked on, and the numbers it reads from them.

*Inside*: runs whose cell lies in the prediction's scope, the result's region narrowed by the prediction's
``where``. *Outside*: runs exactly one step outside the scope along exactly one axis (on that axis a value not in
the scope that is a neighbour, per :meth:`Axes.neighbours`, of a value in it; on every other axis a value in it).
So a prediction narrowed to muP by ``where`` meets the standard-parameterization runs one step outside it.
Runs that leave an axis unknown sit at its default, as on the map.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from atlas_viz.core.names import QUANTITIES, QUANTITIES_KEY
from atlas_viz.runs.store import CONFIG_PREFIX, run_codes
from atlas_viz.terrain.axes import Axes


@dataclass
class RunTable:
    """The runs a check reads: the frame, its sources' metadata, value codes per axis, and resolved columns."""

    runs: pd.DataFrame
    sources: dict[str, dict]
    axes: Axes
    codes: np.ndarray = field(init=False)
    _columns: dict[str, pd.Series] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.runs = self.runs.reset_index(drop=True)
        self.codes = run_codes(self.runs, self.axes)[0] if len(self.runs) else np.zeros((0, len(self.axes.axes)),
                                                                                        dtype=np.int64)

    def column(self, name: str) -> pd.Series:
        """Numbers of an axis (value order), a canonical quantity (each source's declared column, else
        ``config.<name>``), a ``config.<column>`` or a metric column; NaN where a run has none."""
        if name not in self._columns:
            self._columns[name] = self._resolve(name)
        return self._columns[name]

    def _resolve(self, name: str) -> pd.Series:
        nan = pd.Series(np.nan, index=self.runs.index, dtype=float)
        if name in self.axes.names:
            codes = self.codes[:, self.axes.names.index(name)].astype(float)
            return pd.Series(np.where(codes < 0, np.nan, codes), index=self.runs.index)
        if name in QUANTITIES and "source" in self.runs:
            out = nan.copy()
            for slug, meta in self.sources.items():
                col = (meta.get(QUANTITIES_KEY) or {}).get(name) or CONFIG_PREFIX + name
                if col in self.runs:
                    rows = self.runs["source"] == slug
                    out[rows] = pd.to_numeric(self.runs.loc[rows, col], errors="coerce")
            return out
        if name in self.runs:
            return pd.to_numeric(self.runs[name], errors="coerce").astype(float)
        return nan

    def labels(self, name: str) -> pd.Series:
        """Group labels for ``across``: value names of an axis, else the resolved numbers."""
        if name in self.axes.names:
            names = np.array(self.axes[name].value_names + ("unknown",), dtype=object)
            return pd.Series(names[self.codes[:, self.axes.names.index(name)]], index=self.runs.index)
        return self.column(name)


def scope_masks(table: RunTable, scope: dict[str, tuple[str, ...]]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(inside, {axis: outside along that axis}) as boolean masks over the table's runs."""
    axes, codes = table.axes, table.codes
    n = len(codes)
    ok = np.zeros((n, len(axes.axes)), dtype=bool)
    step = {}
    for j, ax in enumerate(axes.axes):
        in_scope = np.isin(np.arange(len(ax.values)), [ax.code(v) for v in scope[ax.name]])
        near = {nb for v in scope[ax.name] for nb in ax.neighbours(v)} - set(scope[ax.name])
        one_step = np.isin(np.arange(len(ax.values)), [ax.code(v) for v in near])
        c = codes[:, j]
        known = c >= 0
        ok[known, j] = in_scope[c[known]]
        step[ax.name] = np.zeros(n, dtype=bool)
        step[ax.name][known] = one_step[c[known]]
    misses = (~ok).sum(axis=1)
    inside = misses == 0
    outside = {ax.name: (misses == 1) & ~ok[:, j] & step[ax.name] for j, ax in enumerate(axes.axes)}
    return inside, {a: m for a, m in outside.items() if m.any()}
