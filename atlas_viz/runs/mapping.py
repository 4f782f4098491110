"""Mapping files: how the columns of a run table become axis values, metrics and raw configuration.

A mapping is plain YAML (see ``data/runs/README.md``)::

    source: {name: HPO sweep, url: "https://...", license: MIT}
    id: run_id                      # column with a unique id (optional: the row number)
    axes:
      task: {value: tabular}        # a constant for the whole table
      width: {column: width}        # numeric -> binned with the bins in axes.yaml
      optimizer: {column: optimizer, values: {adam: adaptive, sgd: sgd}}   # categorical map
      learning_rate: {column: lr}   # divided by the optimizer's reference, then binned
      data_regime: {column: tokens, per: n_params}   # a ratio of two columns, then binned
    metrics: [val_acc, test_loss]
    config: [seed, batch_size]      # raw columns kept as config.<name> (default: every other column)
    observables: [generalization]   # what the runs observe (default: generalization, training_dynamics)

:func:`parse_mapping` checks all of it against the axes (and, when given, the table's columns) and
returns the problems it finds; a mapping is returned only when there are none.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from atlas_viz.terrain.axes import Axes, Axis
from atlas_viz.core.problems import Problem, expected_one_of, show_value
from atlas_viz.io.yamlio import read_yaml

RESERVED = ("id", "run_id", "source", "cell", "x", "y", "imputed")
"""Column names the run store uses itself: no metric may take them."""
AXIS_KEYS = ("value", "column", "values", "per", "relative")
TOP_KEYS = ("source", "id", "axes", "metrics", "config", "observables")


@dataclass(frozen=True)
class AxisMap:
    """How one axis is read: a constant ``value``, or a ``column`` (binned, or mapped through ``values``)."""

    axis: str
    value: str | None = None
    column: str | None = None
    values: dict[str, str] | None = None
    per: str | None = None
    relative: bool = False

    @property
    def columns(self) -> list[str]:
        return [c for c in (self.column, self.per) if c]

    def to_dict(self) -> dict:
        if self.value is not None:
            return {"value": self.value}
        out: dict = {"column": self.column}
        if self.values is not None:
            out["values"] = dict(self.values)
        if self.per:
            out["per"] = self.per
        if self.relative:
            out["relative"] = True
        return out


@dataclass(frozen=True)
class Mapping:
    """A checked mapping: ``metrics`` maps metric name -> column; ``config`` None means every other column."""

    source: dict[str, str]
    id: str | None
    axes: dict[str, AxisMap]
    metrics: dict[str, str]
    config: tuple[str, ...] | None = None
    observables: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """Every table column the mapping reads (id, axes, metrics, listed config), in order, once."""
        cols = [self.id] if self.id else []
        for am in self.axes.values():
            cols += am.columns
        cols += list(self.metrics.values())
        cols += list(self.config or ())
        return list(dict.fromkeys(cols))

    def to_dict(self) -> dict:
        """The mapping as plain data (what ``source.yaml`` stores and a mapping file holds)."""
        out: dict = {"source": dict(self.source)}
        if self.id:
            out["id"] = self.id
        out["axes"] = {ax: am.to_dict() for ax, am in self.axes.items()}
        out["metrics"] = [m if c == m else {m: c} for m, c in self.metrics.items()]
        if self.config is not None:
            out["config"] = list(self.config)
        if self.observables:
            out["observables"] = list(self.observables)
        return out


def _text(x: object) -> bool:
    return isinstance(x, str) and x.strip() != ""


def _key(x: object) -> str:
    """A category key as text: YAML may read `1`, `1.0`, `yes` as numbers or booleans."""
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x).strip()


def reference_axis(axes: Axes, axis: str) -> str | None:
    """The axis whose values key ``axis``'s ``reference`` (optimizer for learning_rate), if any."""
    ref = axes[axis].reference
    if not ref:
        return None
    for other in axes.axes:
        if other.name != axis and set(ref) <= set(other.value_names):
            return other.name
    return None


def parse_mapping(data: object, file: str, axes: Axes,
                  columns: list[str] | None = None) -> tuple[Mapping | None, list[Problem]]:
    """Check a mapping (plain data read from YAML) against the axes and, if given, the table's columns.

    Returns ``(mapping, [])`` when it is usable, else ``(None, problems)``; never raises on bad content.
    """
    check = _MappingCheck(file, axes, columns)
    if not isinstance(data, dict):
        check.bad("", f"a mapping must be a map with keys {', '.join(TOP_KEYS)}; got {show_value(data)}")
        return None, check.problems
    for k in data:
        if k not in TOP_KEYS:
            check.bad(str(k), expected_one_of("a top-level key", str(k), TOP_KEYS))
    source = check.source(data.get("source", {}))
    id_col = check.column(data["id"], "id") if data.get("id") is not None else None
    raw_axes = data.get("axes")
    axis_maps = check.axes(raw_axes if raw_axes is not None else {})
    metrics = check.metrics(data.get("metrics", []))
    config = check.config(data["config"]) if data.get("config") is not None else None
    observables = check.observables(data.get("observables"))
    if check.problems:
        return None, check.problems
    return Mapping(source, id_col, axis_maps, metrics, config, observables), []


class _MappingCheck:
    """The checks of each section of a mapping; ``problems`` collects what is wrong, located."""

    def __init__(self, file: str, axes: Axes, columns: list[str] | None):
        self.file, self.known_axes = file, axes
        self.known_cols = None if columns is None else [str(c) for c in columns]
        self.problems: list[Problem] = []

    def bad(self, fld: str, msg: str) -> None:
        self.problems.append(Problem(self.file, "", fld, msg))

    def column(self, col: object, fld: str) -> str | None:
        """The column name, or None (and a problem) when it is not text or not a column of the table."""
        if not _text(col):
            self.bad(fld, f"must name a column of the table; got {show_value(col)}")
            return None
        col = str(col)
        if self.known_cols is not None and col not in self.known_cols:
            shown = self.known_cols if len(self.known_cols) <= 30 else self.known_cols[:30] + ["..."]
            self.bad(fld, expected_one_of("a column of the table", col, shown))
            return None
        return col

    def source(self, raw: object) -> dict[str, str]:
        source: dict[str, str] = {}
        raw = {} if raw is None else raw
        if not isinstance(raw, dict):
            self.bad("source", f"must be a map with name, url and license; got {show_value(raw)}")
            return source
        keys = ("name", "url", "license", "citation", "notes")
        for k, v in raw.items():
            if k not in keys:
                self.bad(f"source.{k}", expected_one_of("a key of source", str(k), keys))
            elif v is not None and (not isinstance(v, (str, int, float)) or isinstance(v, bool)):
                self.bad(f"source.{k}", f"must be text; got {show_value(v)}")
            elif v is not None:
                source[str(k)] = str(v)
        return source

    def axes(self, raw: object) -> dict[str, AxisMap]:
        axis_maps: dict[str, AxisMap] = {}
        if not isinstance(raw, dict):
            self.bad("axes", f"must be a map of axis -> {{value: ...}} or {{column: ...}}; got {show_value(raw)}")
            raw = {}
        for ax_name, spec in raw.items():
            am = self.axis(ax_name, spec)
            if am is not None:
                axis_maps[ax_name] = am
        for ax in self.known_axes.axes:
            if ax.name not in raw and ax.default is None:
                self.bad(f"axes.{ax.name}", f"is required: {ax.name} has no default in axes.yaml, so runs without "
                                            f"it cannot be placed; give a column or a constant, e.g. "
                                            f"{{value: {ax.value_names[0]}}}")
        return axis_maps

    def axis(self, ax_name: object, spec: object) -> AxisMap | None:
        """One axis's mapping: a constant ``value``, or a ``column`` (binned, or through ``values``)."""
        fld = f"axes.{ax_name}"
        axes = self.known_axes
        if not isinstance(ax_name, str) or ax_name not in axes.names:
            self.bad(fld, expected_one_of("an axis of axes.yaml", ax_name, axes.names))
            return None
        axis = axes[ax_name]
        if isinstance(spec, str):  # shorthand: `width: d_model` means {column: d_model}
            spec = {"column": spec}
        if not isinstance(spec, dict):
            self.bad(fld, f"must be {{value: <a value of {ax_name}>}} or {{column: <column>}}; got {show_value(spec)}")
            return None
        for k in spec:
            if k not in AXIS_KEYS:
                self.bad(f"{fld}.{k}", expected_one_of("a key of an axis mapping", str(k), AXIS_KEYS))
        if (spec.get("value") is not None) == (spec.get("column") is not None):
            self.bad(fld, "needs exactly one of 'value' (a constant for the whole table) or 'column'")
            return None
        if spec.get("value") is not None:
            v = spec["value"]
            if not isinstance(v, str) or v not in axis.value_names:
                self.bad(f"{fld}.value", expected_one_of(f"a value of {ax_name}", v, axis.value_names))
                return None
            extra = [k for k in ("values", "per", "relative") if k in spec]
            if extra:
                self.bad(fld, f"a constant 'value' takes no {', '.join(extra)}")
                return None
            return AxisMap(ax_name, value=v)
        n_before = len(self.problems)
        col = self.column(spec["column"], f"{fld}.column")
        per = self.column(spec["per"], f"{fld}.per") if spec.get("per") is not None else None
        relative = spec.get("relative", False)
        if not isinstance(relative, bool):
            self.bad(f"{fld}.relative", f"must be true or false; got {show_value(relative)}")
        values = None
        if spec.get("values") is not None:
            values = self.values(spec["values"], fld, axis)
            if per:
                self.bad(f"{fld}.per", "a ratio ('per') is binned, so it cannot be combined with 'values'")
        elif (per or relative) and not axis.binned:
            self.bad(fld, f"'per' and 'relative' need numeric bins, and {ax_name} has none in axes.yaml")
        if len(self.problems) > n_before:
            return None
        return AxisMap(ax_name, column=col, values=values, per=per, relative=bool(relative))

    def values(self, raw: object, fld: str, axis: Axis) -> dict[str, str] | None:
        """A category map: table value -> value of the axis."""
        if not isinstance(raw, dict) or not raw:
            self.bad(f"{fld}.values", f"must be a map of table value -> value of {axis.name}; got {show_value(raw)}")
            return None
        values = {}
        for k, v in raw.items():
            if not isinstance(v, str) or v not in axis.value_names:
                self.bad(f"{fld}.values.{_key(k)}", expected_one_of(f"a value of {axis.name}", v, axis.value_names))
            else:
                values[_key(k)] = v
        return values

    def metrics(self, raw: object) -> dict[str, str]:
        metrics: dict[str, str] = {}
        raw = [] if raw is None else raw
        if isinstance(raw, dict):
            raw = [{k: v} for k, v in raw.items()]
        if not isinstance(raw, list):
            self.bad("metrics", f"must be a list of columns; got {show_value(raw)}")
            return metrics
        for i, m in enumerate(raw):
            fld = f"metrics[{i}]"
            name, col = next(iter(m.items())) if isinstance(m, dict) and len(m) == 1 else (m, m)
            if not _text(name):
                self.bad(fld, f"must be a column name or {{metric name: column}}; got {show_value(m)}")
                continue
            name = str(name)
            col = self.column(col, fld)
            if col is None:
                continue
            if name in RESERVED or name in self.known_axes.names or name.startswith("config."):
                self.bad(fld, f"metric name '{name}' is taken by the run store (an axis or one of "
                              f"{', '.join(RESERVED)}); rename it with {{new_name: {col}}}")
            elif name in metrics:
                self.bad(fld, f"metric '{name}' is listed twice")
            else:
                metrics[name] = col
        return metrics

    def config(self, raw: object) -> tuple[str, ...] | None:
        if not isinstance(raw, list):
            self.bad("config", f"must be a list of columns to keep as config.<name>; got {show_value(raw)}")
            return None
        kept = [self.column(c, f"config[{i}]") for i, c in enumerate(raw)]
        return tuple(dict.fromkeys(c for c in kept if c))

    def observables(self, raw: object) -> tuple[str, ...]:
        if raw is None:
            return ()
        raw = [raw] if isinstance(raw, str) else raw
        if not isinstance(raw, list):
            self.bad("observables", f"must be a list of observables; got {show_value(raw)}")
            return ()
        names = self.known_axes.observable_names
        for o in raw:
            if o not in names:
                self.bad("observables", expected_one_of("an observable", o, names))
        return tuple(dict.fromkeys(o for o in raw if o in names))


def read_mapping(path: Path | str, axes: Axes,
                 columns: list[str] | None = None) -> tuple[Mapping | None, list[Problem]]:
    """Read and check a mapping file (YAML, plain data only)."""
    path = Path(path)
    data, problems = read_yaml(path)
    if problems:
        return None, problems
    return parse_mapping(data, path.name, axes, columns)

