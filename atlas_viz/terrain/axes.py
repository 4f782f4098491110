"""The coordinate system: axes, their values, bins, and the cells of the terrain."""
from __future__ import annotations

from functools import cached_property

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from atlas_viz.core.names import MAP_TYPES
from atlas_viz.core.problems import DataError, Problem, expected_one_of, show_value
from atlas_viz.core.text import pretty
from atlas_viz.io.yamlio import read_yaml

if TYPE_CHECKING:  # pandas is imported where a frame is made: an import of runs needs none
    import pandas as pd

AXIS_KINDS = ("nominal", "ordinal")


@dataclass(frozen=True)
class AxisValue:
    name: str
    description: str
    relevance: float = 0.5
    bin: tuple[float, float] | None = None


@dataclass(frozen=True)
class Axis:
    name: str
    description: str
    kind: str
    values: tuple[AxisValue, ...]
    weight: float = 1.0
    unit: str = ""
    reference: dict[str, float] = field(default_factory=dict)
    default: str | None = None
    near: tuple[tuple[str, str, str], ...] = ()
    """Declared neighbour pairs (value, value, why); on an ordinal axis they replace adjacency in list order."""

    def neighbours(self, value: str) -> tuple[str, ...]:
        """Values one step from ``value``: the declared pairs, else (ordinal axes) the adjacent values in order."""
        if self.near:
            partners = {b if a == value else a for a, b, _ in self.near if value in (a, b)}
            return tuple(v for v in self.value_names if v in partners)
        if self.kind != "ordinal":
            return ()
        i = self.code(value)
        return self.value_names[max(i - 1, 0):i] + self.value_names[i + 1:i + 2]

    def why_near(self, a: str, b: str) -> str:
        """Why two values count as one step apart ('' when they are not declared neighbours)."""
        return next((why for x, y, why in self.near if {x, y} == {a, b}), "")

    @cached_property
    def value_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.values)

    @cached_property
    def _codes(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.value_names)}

    def code(self, value: str) -> int:
        """Position of ``value`` in this axis's list of values (ValueError if it has none)."""
        try:
            return self._codes[value]
        except (KeyError, TypeError):
            raise ValueError(f"{value!r} is not a value of axis {self.name}") from None

    @cached_property
    def relevance(self) -> np.ndarray:
        rel = np.array([v.relevance for v in self.values], dtype=float)
        rel.flags.writeable = False
        return rel

    @cached_property
    def code_dtype(self) -> np.dtype:
        """The smallest signed integer type holding every value code and -1 (unknown)."""
        return np.dtype(np.int8 if len(self.values) < 2 ** 7 else np.int16 if len(self.values) < 2 ** 15 else np.int32)

    @property
    def binned(self) -> bool:
        return any(v.bin is not None for v in self.values)

    def bin_codes(self, numbers: np.ndarray) -> np.ndarray:
        """Codes of the values whose ``bin`` holds each number (the first such value); -1 where none does."""
        edges, codes = self._bin_table
        x = np.asarray(numbers, dtype=float)
        if not len(edges):
            return np.full(x.shape, -1, dtype=self.code_dtype)
        # Interval k is [edges[k], edges[k+1]); below the first edge, at or past the last, or NaN: -1.
        if len(edges) < 255:  # k = how many edges are <= x (NaN: none), one pass per edge: 4x a searchsorted
            k = np.zeros(x.shape, dtype=np.uint8)
            for e in edges:
                np.add(k, x >= e, out=k, casting="unsafe")
            return codes[k]
        k = np.searchsorted(edges, x, side="right")
        k[np.isnan(x)] = 0
        return codes[k]

    @cached_property
    def _bin_table(self) -> tuple[np.ndarray, np.ndarray]:
        """The bins' edges, sorted, and the code of each interval between them, padded with -1 both ends."""
        bins = [(i, v.bin) for i, v in enumerate(self.values) if v.bin is not None]
        edges = np.array(sorted({float(e) for _, b in bins for e in b}), dtype=float)  # np.unique imports numpy.ma
        codes = np.full(len(edges) + 1, -1, dtype=self.code_dtype)
        for k in range(len(edges) - 1):
            codes[k + 1] = next((i for i, (lo, hi) in bins if lo <= edges[k] and edges[k + 1] <= hi), -1)
        return edges, codes


@dataclass(frozen=True)
class Rule:
    """An impossible combination: when ``when`` holds, values in ``excludes`` are not cells."""

    when: dict[str, tuple[str, ...]]
    excludes: dict[str, tuple[str, ...]]
    why: str = ""


@dataclass(frozen=True)
class Axes:
    axes: tuple[Axis, ...]
    observables: tuple[tuple[str, str], ...]
    map_types: tuple[tuple[str, str], ...]
    impossible: tuple[Rule, ...] = ()
    digest: str = ""

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.axes)

    @cached_property
    def grid(self) -> np.ndarray:
        """The one grid index of the terrain: the cell id of every combination of value codes, shaped like the
        product of the axes (-1 where impossible). Built once per loaded axes and read-only; masks, gaps, the
        placement of runs and the import all read cells off it."""
        possible = _possible(self).ravel()  # cells are the possible combinations in this (C) order
        index = np.cumsum(possible, dtype=np.int64) - 1
        index[~possible] = -1
        index = index.reshape([len(a.values) for a in self.axes])
        index.flags.writeable = False
        return index

    def cell_ids(self, codes: np.ndarray) -> np.ndarray:
        """Cell id of each row of value codes (n x axes; -1 for an impossible combination or a negative code)."""
        codes = np.asarray(codes, dtype=np.int64).reshape(-1, len(self.axes))
        ok = (codes >= 0).all(axis=1)
        out = np.full(len(codes), -1, dtype=np.int64)
        out[ok] = self.grid[tuple(codes[ok].T)]
        return out

    @property
    def observable_names(self) -> tuple[str, ...]:
        return tuple(o for o, _ in self.observables)

    def __getitem__(self, name: str) -> Axis:
        for a in self.axes:
            if a.name == name:
                return a
        raise KeyError(name)

    def neighbours(self, axis: str, value: str) -> tuple[str, ...]:
        """Values one step from ``value`` on ``axis`` (declared in axes.yaml, or adjacent on an ordinal axis)."""
        return self[axis].neighbours(value)


def load_axes(path: Path | str) -> Axes:
    """Load and check ``axes.yaml``; raise :class:`DataError` naming every problem."""
    path = Path(path)
    data, problems = read_yaml(path)
    if problems:
        raise DataError(problems)
    return parse_axes(data, path.name, layout_digest(data))


def layout_digest(data: dict) -> str:
    """Hash of what the terrain's layout depends on (axis names, kinds, weights, value order, impossible rules),
    so editing a description or a neighbour does not make the cached terrain stale."""
    shape = {
        "axes": [[a.get("name"), a.get("kind", "nominal"), a.get("weight", 1.0),
                  [v.get("name") if isinstance(v, dict) else v for v in a.get("values") or []]]
                 for a in data.get("axes") or [] if isinstance(a, dict)],
        "impossible": [[r.get("when"), r.get("excludes")] for r in data.get("impossible") or [] if isinstance(r, dict)],
    }
    return hashlib.sha256(json.dumps(shape, sort_keys=True, default=str).encode()).hexdigest()[:16]


def parse_axes(data: object, file: str = "axes.yaml", digest: str = "") -> Axes:
    problems: list[Problem] = []

    def bad(entry: str, fld: str, msg: str) -> None:
        problems.append(Problem(file, entry, fld, msg))

    if not isinstance(data, dict) or not isinstance(data.get("axes"), list) or not data["axes"]:
        raise DataError([Problem(file, "", "axes", "the file must be a map with a non-empty list 'axes'")])
    axes = [a for a in (_parse_axis(raw, i, bad) for i, raw in enumerate(data["axes"])) if a is not None]
    axis_names = [a.name for a in axes]
    for dup in sorted({n for n in axis_names if axis_names.count(n) > 1}):
        bad(dup, "name", "axis is defined twice")
    by_name = {a.name: a for a in axes}

    def value_map(raw: object, where: str, entry: str) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        if not isinstance(raw, dict):
            bad(entry, where, "must be a map of axis -> value or list of values")
            return out
        for ax, vals in raw.items():
            if ax not in by_name:
                bad(entry, f"{where}.{ax}", expected_one_of("axis", ax, axis_names))
                continue
            vals = tuple(vals) if isinstance(vals, list) else (vals,)
            for v in vals:
                if v not in by_name[ax].value_names:
                    bad(entry, f"{where}.{ax}", expected_one_of(f"a value of {ax}", v, by_name[ax].value_names))
            out[ax] = vals
        return out

    rules = []
    for i, r in enumerate(data.get("impossible") or []):
        entry = f"impossible #{i + 1}"
        if not isinstance(r, dict):
            bad(entry, "", "must be a map with 'when' and 'excludes'")
            continue
        rules.append(Rule(value_map(r.get("when"), "when", entry), value_map(r.get("excludes"), "excludes", entry),
                          str(r.get("why", ""))))

    def named_list(key: str) -> tuple[tuple[str, str], ...]:
        raw = data.get(key)
        if not isinstance(raw, list) or not raw:
            bad("", key, "must be a non-empty list of {name, description}")
            return ()
        out = []
        for j, o in enumerate(raw):
            if isinstance(o, dict) and isinstance(o.get("name"), str):
                out.append((o["name"], str(o.get("description", ""))))
            else:
                bad(f"#{j + 1}", key, "each entry needs a text 'name'")
        return tuple(out)

    observables = named_list("observables")
    map_types = named_list("map_types")
    if map_types and tuple(m for m, _ in map_types) != MAP_TYPES:
        bad("", "map_types", f"must list exactly {', '.join(MAP_TYPES)} in that order")
    if problems:
        raise DataError(problems)
    return Axes(tuple(axes), observables, map_types, tuple(rules), digest)


def _parse_axis(raw: object, i: int, bad) -> Axis | None:
    """One axis of axes.yaml, checked; problems go to ``bad(entry, field, message)``; None when unusable."""
    entry = raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else f"#{i + 1}"
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        bad(entry, "name", "each axis needs a text 'name'")
        return None
    kind = raw.get("kind", "nominal")
    if kind not in AXIS_KINDS:
        bad(entry, "kind", expected_one_of("kind", kind, AXIS_KINDS))
    values = []
    raw_values = raw.get("values")
    if not isinstance(raw_values, list) or not raw_values:
        bad(entry, "values", "must be a non-empty list")
        return None
    for j, v in enumerate(raw_values):
        if not isinstance(v, dict) or not isinstance(v.get("name"), str):
            bad(entry, f"values[{j}]", "each value needs a text 'name'")
            continue
        b = v.get("bin")
        if b is not None:
            ok = (isinstance(b, list) and len(b) == 2
                  and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in b)
                  and b[0] < b[1])
            if not ok:
                bad(entry, f"values.{v['name']}.bin", f"must be [low, high) with low < high; got {show_value(b)}")
                b = None
            else:
                b = (float(b[0]), float(b[1]))
        rel = v.get("relevance", 0.5)
        if not isinstance(rel, (int, float)) or not 0 <= rel <= 1:
            bad(entry, f"values.{v['name']}.relevance", f"must be a number from 0 to 1; got {show_value(rel)}")
            rel = 0.5
        values.append(AxisValue(v["name"], str(v.get("description", "")), float(rel), b))
    names = [v.name for v in values]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        bad(entry, "values", f"value '{dup}' is listed twice")
    weight = raw.get("weight", 1.0)
    if not isinstance(weight, (int, float)) or weight <= 0 or math.isinf(weight):
        bad(entry, "weight", f"must be a positive number; got {show_value(weight)}")
        weight = 1.0
    default = raw.get("default")
    if default is not None and default not in names:
        bad(entry, "default", expected_one_of("default", default, names))
        default = None
    reference = raw.get("reference") or {}
    if not isinstance(reference, dict):
        bad(entry, "reference", "must be a map of value -> number")
        reference = {}
    near = _parse_neighbours(raw.get("neighbours"), names, lambda fld, msg, e=entry: bad(e, fld, msg))
    return Axis(raw["name"], str(raw.get("description", "")), kind, tuple(values), float(weight),
                     str(raw.get("unit", "")), dict(reference), default, near)


def _parse_neighbours(raw: object, names: list[str], bad) -> tuple[tuple[str, str, str], ...]:
    """An axis's ``neighbours``: a list of ``{values: [a, b], why: ...}``, each pair symmetric by construction."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        bad("neighbours", f"must be a list of {{values: [a, b], why: ...}}; got {show_value(raw)}")
        return ()
    pairs: list[tuple[str, str, str]] = []
    for k, item in enumerate(raw):
        fld = f"neighbours[{k}]"
        if not isinstance(item, dict) or set(item) - {"values", "why"}:
            bad(fld, f"must be a map {{values: [a, b], why: ...}}; got {show_value(item)}")
            continue
        vals, why = item.get("values"), item.get("why")
        if not isinstance(vals, list) or len(vals) != 2 or vals[0] == vals[1]:
            bad(f"{fld}.values", f"must list two different values of the axis; got {show_value(vals)}")
            continue
        unknown = [v for v in vals if v not in names]
        for v in unknown:
            bad(f"{fld}.values", expected_one_of("each value", v, names))
        if not isinstance(why, str) or not why.strip():
            bad(f"{fld}.why", "must say in one sentence why the two values are one step apart")
            continue
        if unknown:
            continue
        if any({a, b} == set(vals) for a, b, _ in pairs):
            bad(f"{fld}.values", f"the pair {vals[0]}, {vals[1]} is declared twice")
            continue
        pairs.append((vals[0], vals[1], " ".join(why.split())))
    return tuple(pairs)


def cell_codes(axes: Axes) -> pd.DataFrame:
    """Every cell of the terrain as one row of value codes (uint8), in a fixed order.

    The order is the product of the axes in file order, minus impossible
    combinations; the row number is the cell's id.
    """
    import pandas as pd

    cells = _cell_code_array(axes)
    frame = pd.DataFrame({name: cells[:, i] for i, name in enumerate(axes.names)})
    frame.index.name = "cell"
    return frame


def _cell_code_array(axes: Axes) -> np.ndarray:
    """:func:`cell_codes` as an array (cells x axes, uint8), without pandas."""
    possible = _possible(axes)
    grids = np.indices(possible.shape, dtype=np.uint8).reshape(possible.ndim, -1)
    return np.ascontiguousarray(grids[:, possible.ravel()].T)


def _possible(axes: Axes) -> np.ndarray:
    """Which combinations of value codes are cells: a boolean array shaped like the product of the axes, False
    where a rule of ``impossible`` excludes the combination (each rule tested on the axes' values, broadcast)."""
    sizes = [len(a.values) for a in axes.axes]

    def on(name: str, vals) -> np.ndarray:  # the rule's values of one axis, shaped to broadcast along it
        hit = np.zeros(len(axes[name].values), dtype=bool)
        hit[[axes[name].code(v) for v in vals]] = True
        shape = [1] * len(sizes)
        shape[axes.names.index(name)] = -1
        return hit.reshape(shape)

    keep = np.ones(sizes, dtype=bool)
    for rule in axes.impossible:
        when = np.ones([1] * len(sizes), dtype=bool)
        for name, vals in rule.when.items():
            when = when & on(name, vals)
        excluded = np.zeros([1] * len(sizes), dtype=bool)
        for name, vals in rule.excludes.items():
            excluded = excluded | on(name, vals)
        keep &= ~(when & excluded)
    return keep


def decode(axes: Axes, codes: pd.DataFrame) -> pd.DataFrame:
    """Replace value codes by value names (as categoricals) in a frame of codes."""
    import pandas as pd

    out = codes.copy()
    for a in axes.axes:
        if a.name in out:
            out[a.name] = pd.Categorical.from_codes(out[a.name].astype(int), categories=list(a.value_names),
                                                    ordered=a.kind == "ordinal")
    return out


def describe_cells(axes: Axes, values: dict[str, list[str] | tuple[str, ...]]) -> str:
    """A region in words: 'task: image classification; width: wide or infinite; ...'."""
    parts = []
    for a in axes.axes:
        vals = values.get(a.name)
        if vals is None or len(vals) == len(a.values):
            continue
        parts.append(f"{pretty(a.name)}: {' or '.join(map(pretty, vals))}")
    return "; ".join(parts) if parts else "the whole terrain"
