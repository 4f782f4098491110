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

from atlas_viz.terrain.axes import Axes
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
    problems: list[Problem] = []

    def bad(entry: str, fld: str, msg: str) -> None:
        problems.append(Problem(file, entry, fld, msg))

    if not isinstance(data, dict):
        bad("", "", f"a mapping must be a map with keys {', '.join(TOP_KEYS)}; got {show_value(data)}")
        return None, problems
    for k in data:
        if k not in TOP_KEYS:
            bad("", str(k), expected_one_of("a top-level key", str(k), TOP_KEYS))
    known_cols = None if columns is None else [str(c) for c in columns]

    def check_column(col: object, fld: str, entry: str = "") -> str | None:
        if not _text(col):
            bad(entry, fld, f"must name a column of the table; got {show_value(col)}")
            return None
        col = str(col)
        if known_cols is not None and col not in known_cols:
            shown = known_cols if len(known_cols) <= 30 else known_cols[:30] + ["..."]
            bad(entry, fld, expected_one_of("a column of the table", col, shown))
            return None
        return col

    # source
    raw_source = data.get("source", {})
    source: dict[str, str] = {}
    if raw_source is None:
        raw_source = {}
    if not isinstance(raw_source, dict):
        bad("", "source", f"must be a map with name, url and license; got {show_value(raw_source)}")
    else:
        for k, v in raw_source.items():
            if k not in ("name", "url", "license", "citation", "notes"):
                bad("", f"source.{k}", expected_one_of("a key of source", str(k),
                                                       ("name", "url", "license", "citation", "notes")))
            elif v is not None and (not isinstance(v, (str, int, float)) or isinstance(v, bool)):
                bad("", f"source.{k}", f"must be text; got {show_value(v)}")
            elif v is not None:
                source[str(k)] = str(v)

    # id
    id_col = None
    if data.get("id") is not None:
        id_col = check_column(data["id"], "id")

    # axes
    axis_maps: dict[str, AxisMap] = {}
    raw_axes = data.get("axes")
    if raw_axes is None:
        raw_axes = {}
    if not isinstance(raw_axes, dict):
        bad("", "axes", f"must be a map of axis -> {{value: ...}} or {{column: ...}}; got {show_value(raw_axes)}")
        raw_axes = {}
    for ax_name, spec in raw_axes.items():
        fld = f"axes.{ax_name}"
        if not isinstance(ax_name, str) or ax_name not in axes.names:
            bad("", fld, expected_one_of("an axis of axes.yaml", ax_name, axes.names))
            continue
        axis = axes[ax_name]
        if isinstance(spec, str):  # shorthand: `width: d_model` means {column: d_model}
            spec = {"column": spec}
        if not isinstance(spec, dict):
            bad("", fld, f"must be {{value: <a value of {ax_name}>}} or {{column: <column>}}; got {show_value(spec)}")
            continue
        for k in spec:
            if k not in AXIS_KEYS:
                bad("", f"{fld}.{k}", expected_one_of("a key of an axis mapping", str(k), AXIS_KEYS))
        has_value, has_column = spec.get("value") is not None, spec.get("column") is not None
        if has_value == has_column:
            bad("", fld, "needs exactly one of 'value' (a constant for the whole table) or 'column'")
            continue
        if has_value:
            v = spec["value"]
            if not isinstance(v, str) or v not in axis.value_names:
                bad("", f"{fld}.value", expected_one_of(f"a value of {ax_name}", v, axis.value_names))
                continue
            extra = [k for k in ("values", "per", "relative") if k in spec]
            if extra:
                bad("", fld, f"a constant 'value' takes no {', '.join(extra)}")
                continue
            axis_maps[ax_name] = AxisMap(ax_name, value=v)
            continue
        n_before = len(problems)
        col = check_column(spec["column"], f"{fld}.column")
        per = check_column(spec["per"], f"{fld}.per") if spec.get("per") is not None else None
        relative = spec.get("relative", False)
        if not isinstance(relative, bool):
            bad("", f"{fld}.relative", f"must be true or false; got {show_value(relative)}")
        values = None
        if spec.get("values") is not None:
            raw_vals = spec["values"]
            if not isinstance(raw_vals, dict) or not raw_vals:
                bad("", f"{fld}.values", f"must be a map of table value -> value of {ax_name}; "
                                         f"got {show_value(raw_vals)}")
            else:
                values = {}
                for k, v in raw_vals.items():
                    if not isinstance(v, str) or v not in axis.value_names:
                        bad("", f"{fld}.values.{_key(k)}", expected_one_of(f"a value of {ax_name}", v,
                                                                           axis.value_names))
                    else:
                        values[_key(k)] = v
            if per:
                bad("", f"{fld}.per", "a ratio ('per') is binned, so it cannot be combined with 'values'")
        elif (per or relative) and not axis.binned:
            bad("", fld, f"'per' and 'relative' need numeric bins, and {ax_name} has none in axes.yaml")
        if len(problems) == n_before:
            axis_maps[ax_name] = AxisMap(ax_name, column=col, values=values, per=per, relative=bool(relative))
    for ax in axes.axes:
        if ax.name not in raw_axes and ax.default is None:
            bad("", f"axes.{ax.name}", f"is required: {ax.name} has no default in axes.yaml, so runs without it "
                                       f"cannot be placed; give a column or a constant, e.g. "
                                       f"{{value: {ax.value_names[0]}}}")

    # metrics
    metrics: dict[str, str] = {}
    raw_metrics = data.get("metrics", [])
    if raw_metrics is None:
        raw_metrics = []
    if isinstance(raw_metrics, dict):
        raw_metrics = [{k: v} for k, v in raw_metrics.items()]
    if not isinstance(raw_metrics, list):
        bad("", "metrics", f"must be a list of columns; got {show_value(raw_metrics)}")
        raw_metrics = []
    for i, m in enumerate(raw_metrics):
        fld = f"metrics[{i}]"
        if isinstance(m, dict) and len(m) == 1:
            name, col = next(iter(m.items()))
        else:
            name, col = m, m
        if not _text(name):
            bad("", fld, f"must be a column name or {{metric name: column}}; got {show_value(m)}")
            continue
        name = str(name)
        col = check_column(col, fld)
        if col is None:
            continue
        if name in RESERVED or name in axes.names or name.startswith("config."):
            bad("", fld, f"metric name '{name}' is taken by the run store (an axis or one of "
                         f"{', '.join(RESERVED)}); rename it with {{new_name: {col}}}")
            continue
        if name in metrics:
            bad("", fld, f"metric '{name}' is listed twice")
            continue
        metrics[name] = col

    # config
    config = None
    if data.get("config") is not None:
        raw_config = data["config"]
        if not isinstance(raw_config, list):
            bad("", "config", f"must be a list of columns to keep as config.<name>; got {show_value(raw_config)}")
        else:
            kept = [check_column(c, f"config[{i}]") for i, c in enumerate(raw_config)]
            config = tuple(dict.fromkeys(c for c in kept if c))

    # observables
    observables: tuple[str, ...] = ()
    raw_obs = data.get("observables")
    if raw_obs is not None:
        if isinstance(raw_obs, str):
            raw_obs = [raw_obs]
        if not isinstance(raw_obs, list):
            bad("", "observables", f"must be a list of observables; got {show_value(raw_obs)}")
        else:
            for o in raw_obs:
                if o not in axes.observable_names:
                    bad("", "observables", expected_one_of("an observable", o, axes.observable_names))
            observables = tuple(dict.fromkeys(o for o in raw_obs if o in axes.observable_names))

    if problems:
        return None, problems
    return Mapping(source, id_col, axis_maps, metrics, config, observables), []


def read_mapping(path: Path | str, axes: Axes,
                 columns: list[str] | None = None) -> tuple[Mapping | None, list[Problem]]:
    """Read and check a mapping file (YAML, plain data only)."""
    path = Path(path)
    data, problems = read_yaml(path)
    if problems:
        return None, problems
    return parse_mapping(data, path.name, axes, columns)

