"""Import a run table: read CSV or Parquet robustly, apply a mapping, check every row, vectorised.

Bad rows never sink the table: each kind of problem is reported with the rows it hits (the first
:data:`MAX_REPORTED` of each kind one by one, then a count), and the good rows are returned ready for
:func:`atlas_viz.runs.save_runs`. Rows of a CSV are named by their line in the file (``line 7``; the
header is line 1), rows of a Parquet file by their position (``row 7``, from 1).
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from atlas_viz.terrain.axes import Axes, Axis
from atlas_viz.runs.mapping import AxisMap, Mapping, reference_axis
from atlas_viz.core.problems import Problem, show_value
from atlas_viz.runs import columns as cols
from atlas_viz.runs.columns import Table, first_rows as _first_rows
from atlas_viz.runs.impute import impute_patterns
from atlas_viz.runs.names import CONFIG_PREFIX, DEFAULT_OBSERVABLES
from atlas_viz.runs.tables import MAX_REPORTED, RawTable, read_table

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MAX_REPORTED", "RawTable", "read_table", "ImportResult", "import_table", "source_meta", "_first_rows"]
NESTED_VALUES = "holds nested values"


class ImportResult:
    """The rows that import, every problem met, and how many data rows were read.

    ``stored`` is the table as built (an Arrow table when the file was read by Arrow: stored without pandas);
    ``table`` is it as a pandas frame, made on first use."""

    def __init__(self, table: Table, problems: list[Problem] | None = None, rows_read: int = 0,
                 metrics: list[str] | None = None, categorical: bool = True):
        self.stored, self.problems, self.rows_read = table, list(problems or []), rows_read
        self.metrics, self._categorical, self._frame = list(metrics or []), categorical, None

    @property
    def table(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = _arrow_frame(self.stored, self._categorical) if cols.is_arrow(self.stored) else self.stored
        return self._frame

    @property
    def rows_imported(self) -> int:
        return len(self.stored)

    @property
    def rows_skipped(self) -> int:
        return self.rows_read - len(self.stored)


class _Reporter:
    """Collects per-row problems, capped at MAX_REPORTED rows per kind."""

    def __init__(self, raw: RawTable, file: str, problems: list[Problem]):
        self.raw, self.file, self.problems = raw, file, problems

    def rows(self, mask: np.ndarray, fld: str, reason: str, values: pd.Series | np.ndarray | None = None,
             show: bool = True) -> None:
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        for i in idx[:MAX_REPORTED]:
            shown = f"{show_value(_py(values[i]))}: " if values is not None and show else ""
            self.problems.append(Problem(self.file, self.raw.label(i), fld, shown + reason))
        if len(idx) > MAX_REPORTED:
            more = len(idx) - MAX_REPORTED
            self.problems.append(Problem(self.file, f"{more} more {self.raw.prefix}s", fld,
                                         f"... and {more:,} more {self.raw.prefix}s with the same problem: {reason}"))


def _py(v: object) -> object:
    """A numpy scalar or array as a plain Python value (for messages)."""
    return v.item() if isinstance(v, np.generic) else v.tolist() if isinstance(v, np.ndarray) else v


def import_table(source: Path | str | bytes | pd.DataFrame, mapping: Mapping, axes: Axes,
                 file_name: str, categorical: bool = False) -> ImportResult:
    """Read a table and apply ``mapping``; return the rows that import and every problem, never raise.

    The returned table has ``run_id`` (text), one column per axis (a value name, or None where the
    axis is unknown: the store places such runs at the axis default, or the possible value nearest it),
    the metric columns (float) and the raw configuration as ``config.<column>``. With ``categorical`` the
    axis columns are pandas categoricals (missing = null) instead: the same content, much faster to store
    at a million rows. The id column of a CSV is read as text ("007" and "NA" stay as written); other
    columns with pandas' own type inference (forcing text doubles the read time). A large clean CSV is
    read, checked and returned as an Arrow table (``ImportResult.stored``), never through pandas.
    """
    raw = _raw_table(source, mapping, file_name)
    problems = list(raw.problems)
    metric_names = list(mapping.metrics)
    df = raw.arrow if raw.arrow is not None else raw.frame
    if df is not None and raw.prefix == "row":  # Parquet or a frame: cells may hold lists, maps, bytes
        problems += _nested(df, mapping, file_name)
    if df is None or len(problems) > len(raw.problems):
        return ImportResult(_empty_table(axes, metric_names), problems, raw.lines_skipped + (
            len(df) if df is not None else 0), metric_names, categorical)
    n = len(df)
    rep = _Reporter(raw, file_name, problems)
    bad = np.zeros(n, dtype=bool)
    columns = cols.names(df)
    for c in (c for c in mapping.columns if c not in columns):
        shown = ", ".join(columns[:30]) + (", ..." if len(columns) > 30 else "")
        problems.append(Problem(file_name, "", c, f"column '{c}' named in the mapping is not in the table "
                                                  f"(its columns: {shown})"))
    codes = _axis_codes(df, mapping, axes, rep, bad)
    metrics = _metric_values(df, mapping, rep, bad)
    _check_placement(axes, codes, n, rep, bad)
    run_id = _run_ids(df, mapping, raw, rep, bad)
    build = _output_arrow if cols.is_arrow(df) else _output_table
    table = build(df, mapping, axes, codes, metrics, run_id, bad, categorical)
    if n and not len(table):
        problems.append(Problem(file_name, "", "", f"none of the {n:,} rows can be imported (see above)"))
    return ImportResult(table, problems, n + raw.lines_skipped, list(metrics), categorical)


def _raw_table(source: Path | str | bytes | pd.DataFrame, mapping: Mapping, file_name: str) -> RawTable:
    """The table as read (a frame is taken as it is, its rows named ``row N``)."""
    if not isinstance(source, (Path, str, bytes, bytearray, memoryview)):  # a pandas frame
        frame = source.copy()
        frame.columns = [str(c) for c in frame.columns]
        return RawTable(frame.reset_index(drop=True), np.arange(1, len(frame) + 1), "row", [])
    return read_table(source, file_name, [mapping.id] if mapping.id else [])


def _axis_codes(df: Table, mapping: Mapping, axes: Axes, rep: _Reporter,
                bad: np.ndarray) -> dict[str, np.ndarray]:
    """Value codes per mapped axis (-1 = unknown); rows that cannot be used are marked in ``bad``."""
    n = len(df)
    codes: dict[str, np.ndarray] = {}
    # axes read relative to another axis (learning rate per optimizer) come after the axis they need
    for am in sorted(mapping.axes.values(), key=lambda am: reference_axis(axes, am.axis) is not None):
        axis = axes[am.axis]
        fld = am.column or am.axis
        if am.value is not None:
            codes[am.axis] = np.full(n, axis.code(am.value), dtype=np.int64)
            continue
        if not cols.has(df, am.column) or (am.per and not cols.has(df, am.per)):
            codes[am.axis] = np.full(n, -1, dtype=np.int64)
            if axis.default is None and n:
                rep.rows(np.ones(n, bool), fld, f"{am.axis} has no default in axes.yaml, and its column is missing",
                         show=False)
                bad[:] = True
            continue
        if am.values is not None or not axis.binned:
            c, blank = _categorical_axis(cols.column(df, am.column), am, axis, rep, bad)
        else:
            c, blank = _binned_axis(df, am, axes, codes, rep, bad)
        if axis.default is None:
            rep.rows(blank & ~bad, fld, f"empty, and {am.axis} has no default in axes.yaml: the run cannot be "
                                        "placed", show=False)
            bad |= blank
        else:
            rep.rows(blank & ~bad, fld, f"empty: the run is kept with {am.axis} unknown (placed at the default "
                                        f"'{axis.default}' and listed in 'imputed')", show=False)
        codes[am.axis] = np.where(bad | blank, -1, c)
    return codes


def _categorical_axis(col, am: AxisMap, axis: Axis, rep: _Reporter,
                      bad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and blanks of a column of labels, mapped through ``values`` (or the axis's own value names)."""
    fld = am.column
    c, blank = _categories(col, am.values if am.values is not None else {v: v for v in axis.value_names},
                           axis.value_names)
    uncovered = (c < 0) & ~blank
    covered = sorted(am.values) if am.values is not None else list(axis.value_names)
    hint = (f"add it under axes.{am.axis}.values" if am.values is not None else
            f"map it with axes.{am.axis}.values: {{table value: value of {am.axis}}}")
    rep.rows(uncovered, fld, f"not covered by the mapping of {am.axis} (covered: "
                             f"{', '.join(map(str, covered[:15]))}{', ...' if len(covered) > 15 else ''}); "
                             f"{hint}", cols.values(col))
    bad |= uncovered
    return c, blank


def _binned_axis(df: Table, am: AxisMap, axes: Axes, codes: dict[str, np.ndarray], rep: _Reporter,
                 bad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and blanks of a numeric column (divided by ``per`` or the reference value), binned."""
    axis, fld, n = axes[am.axis], am.column, len(df)
    col = cols.column(df, am.column)
    blank = cols.blank(col)
    x = cols.numbers(col)
    shown = cols.values(col)
    nonnum = np.isnan(x) & ~blank
    rep.rows(nonnum, fld, f"not a number; {am.axis} needs a number in {axis.unit or 'its unit'}", shown)
    if am.per:
        den_col = cols.column(df, am.per)
        den = cols.numbers(den_col)
        den_blank = cols.blank(den_col)
        den_bad = ~den_blank & ~blank & ~nonnum & ~(np.isfinite(den) & (den > 0))
        rep.rows(den_bad, am.per, f"must be a positive finite number (it divides {am.column} to give "
                                  f"{axis.unit or am.axis})", cols.values(den_col))
        bad |= den_bad
        blank = blank | den_blank
        with np.errstate(divide="ignore", invalid="ignore"):
            x = x / np.where(den_bad, np.nan, den)
    inf = np.isinf(x) & ~blank & ~nonnum
    rep.rows(inf, fld, f"infinite; {am.axis} needs a finite number", shown)
    neg = (x < 0) & ~inf
    rep.rows(neg, fld, f"negative; {am.axis} ({axis.unit or 'a size'}) cannot be below 0", shown)
    bad |= nonnum | inf | neg
    ref_axis = None if am.relative else reference_axis(axes, am.axis)
    if ref_axis:
        ref = _references(axes, am.axis, ref_axis, codes.get(ref_axis, np.full(n, -1, np.int64)))
        no_ref = np.isnan(ref) & ~blank
        rep.rows(no_ref, fld, f"no reference {am.axis} for this {ref_axis} in axes.yaml", show=False)
        bad |= no_ref
        with np.errstate(invalid="ignore"):
            x = x / ref
    c = axis.bin_codes(x).astype(np.int64)
    outside = (c < 0) & ~blank & ~bad & np.isfinite(x)
    bins = "; ".join(f"{v.name} [{v.bin[0]:g}, {v.bin[1]:g})" for v in axis.values if v.bin)
    what = f"{am.column} / {am.per}" if am.per else (
        f"{am.column} / reference {am.axis} of the {ref_axis}" if ref_axis else am.column)
    rep.rows(outside, fld, f"outside every bin of {am.axis} ({what}; bins: {bins})",
             x if (am.per or ref_axis) else shown)
    bad |= outside
    return c, blank


def _metric_values(df: Table, mapping: Mapping, rep: _Reporter, bad: np.ndarray) -> dict[str, np.ndarray]:
    """Each metric as floats; an empty cell is a missing value, text or infinity makes the row bad."""
    metrics: dict[str, np.ndarray] = {}
    for name, colname in mapping.metrics.items():
        if not cols.has(df, colname):
            continue
        col = cols.column(df, colname)
        x = cols.numbers(col)
        blank = cols.blank(col)
        nonnum = np.isnan(x) & ~blank
        inf = np.isinf(x)
        rep.rows(nonnum, colname, f"not a number; metric {name} needs a number (leave the cell empty if it "
                                  "was not measured)", cols.values(col))
        rep.rows(inf, colname, f"infinite; metric {name} needs a finite number (leave the cell empty for a "
                               "diverged run)", cols.values(col))
        rep.rows(blank, colname, f"empty: the run is kept without metric {name}", show=False)
        bad |= nonnum | inf
        metrics[name] = x
    return metrics


def _check_placement(axes: Axes, codes: dict[str, np.ndarray], n: int, rep: _Reporter, bad: np.ndarray) -> None:
    """Mark rows whose combination is no cell of the terrain. Unknown values take the axis default, or the
    possible value nearest to it (the store places the run there too)."""
    unknown = np.full(n, -1, dtype=np.int64)
    filled, cell, row_pattern = impute_patterns(axes, [codes.get(ax.name, unknown) for ax in axes.axes],
                                                axes.grid.ravel())
    impossible = ((filled >= 0).all(axis=1) & (cell < 0))[row_pattern] & ~bad
    if impossible.any():
        whys = sorted({_why(axes, filled[row_pattern[i]]) for i in np.flatnonzero(impossible)[:MAX_REPORTED]})
        rep.rows(impossible, "", "this combination is not a point of the terrain (impossible in axes.yaml: "
                                 + "; ".join(whys) + ")", show=False)
        bad |= impossible


def _run_ids(df: Table, mapping: Mapping, raw: RawTable, rep: _Reporter, bad: np.ndarray):
    """Each row's id as text: present and unique among the good rows (else the row is bad); row numbers
    when the mapping names no id column."""
    n = len(df)
    if not (mapping.id and cols.has(df, mapping.id)):
        return np.arange(1, n + 1).astype(str)
    col = cols.column(df, mapping.id)
    blank = cols.blank(col)
    rep.rows(blank & ~bad, mapping.id, "empty id: every run needs one (or leave 'id' out of the mapping to "
                                       "number the rows)", show=False)
    bad |= blank
    ids = cols.id_text(col, blank)
    good = np.flatnonzero(~bad)
    first = _first_rows(ids, good)
    if (first != good).any():  # some id repeats: all but its first good row are duplicates
        dup = np.zeros(n, dtype=bool)
        dup[good[first != good]] = True
        for i in np.flatnonzero(dup)[:MAX_REPORTED]:
            j = int(first[np.searchsorted(good, i)])
            rep.problems.append(Problem(rep.file, raw.label(i), mapping.id,
                                        f"duplicate id {show_value(cols.id_at(ids, i))}: already used on "
                                        f"{raw.label(j)}; this row is skipped"))
        extra = int(dup.sum()) - MAX_REPORTED
        if extra > 0:
            rep.problems.append(Problem(rep.file, f"{extra} more {raw.prefix}s", mapping.id,
                                        f"... and {extra:,} more duplicate ids skipped"))
        bad |= dup
    return ids


def _config_names(df: Table, mapping: Mapping) -> list[str]:
    used = {mapping.id, *mapping.metrics.values()}
    present = cols.names(df)
    config = mapping.config if mapping.config is not None else [c for c in present if c not in used]
    return [c for c in config if c in present]


def _output_table(df: pd.DataFrame, mapping: Mapping, axes: Axes, codes: dict[str, np.ndarray],
                  metrics: dict[str, np.ndarray], run_id, bad: np.ndarray, categorical: bool) -> pd.DataFrame:
    """The good rows of a pandas frame: run_id, one column per axis, the metrics and the raw configuration."""
    import pandas as pd

    n = len(df)
    keep = np.flatnonzero(~bad)
    all_rows = len(keep) == n
    run_id = run_id if isinstance(run_id, pd.Series) else pd.Series(run_id)
    out: dict[str, object] = {"run_id": (run_id if all_rows else run_id.iloc[keep]).reset_index(drop=True)}
    for ax in axes.axes:
        c = codes.get(ax.name, np.full(n, -1, np.int64))
        c = c if all_rows else c[keep]
        if categorical:
            out[ax.name] = pd.Categorical.from_codes(np.where(c >= 0, c, -1), categories=list(ax.value_names))
        else:
            out[ax.name] = pd.Series(_names(ax)[np.where(c >= 0, c, len(ax.values))], dtype=object)
    for name, x in metrics.items():
        out[name] = x if all_rows else x[keep]
    for c in _config_names(df, mapping):
        out[CONFIG_PREFIX + c] = _config_values(df[c] if all_rows else df[c].iloc[keep])
    return pd.DataFrame(out)


def _output_arrow(df, mapping: Mapping, axes: Axes, codes: dict[str, np.ndarray], metrics: dict[str, np.ndarray],
                  run_id, bad: np.ndarray, categorical: bool):
    """The good rows of an Arrow table, as an Arrow table with the columns of :func:`_output_table` (axes
    dictionary encoded over every value name, as a pandas categorical is stored)."""
    import pyarrow as pa

    n = len(df)
    keep = np.flatnonzero(~bad)
    all_rows = len(keep) == n
    # arrays are made with columns.from_numpy and columns.strings: pa.array would import pandas
    take = (lambda a: a) if all_rows else (lambda a: a.take(cols.from_numpy(keep)))
    out: dict[str, object] = {"run_id": take(cols.strings(run_id.tolist()) if isinstance(run_id, np.ndarray)
                                             else run_id)}
    for ax in axes.axes:
        c = codes.get(ax.name, np.full(n, -1, np.int64))
        c = c if all_rows else c[keep]
        width = np.int8 if len(ax.values) < 2 ** 7 else np.int16 if len(ax.values) < 2 ** 15 else np.int32
        out[ax.name] = pa.DictionaryArray.from_arrays(cols.from_numpy(np.where(c >= 0, c, 0).astype(width), c < 0),
                                                      cols.strings(ax.value_names))
    for name, x in metrics.items():
        x = x if all_rows else x[keep]
        out[name] = cols.from_numpy(x, np.isnan(x))
    for c in _config_names(df, mapping):
        out[CONFIG_PREFIX + c] = take(df.column(c))
    return pa.table(out)


def _arrow_frame(table, categorical: bool) -> pd.DataFrame:
    """An Arrow table of :func:`_output_arrow` as the frame :func:`_output_table` makes of the same rows."""
    import pandas as pd

    frame = table.to_pandas()
    if not categorical:
        for c in frame.columns:
            if isinstance(frame[c].dtype, pd.CategoricalDtype):
                cat = frame[c].array
                names = np.array(list(cat.categories) + [None], dtype=object)
                frame[c] = pd.Series(names[np.where(cat.codes >= 0, cat.codes, len(cat.categories))], dtype=object)
    return frame


def _names(ax: Axis) -> np.ndarray:
    return np.array(list(ax.value_names) + [None], dtype=object)


def _nested(df: pd.DataFrame, mapping: Mapping, file_name: str) -> list[Problem]:
    """A problem per column the mapping reads (id, axes, metrics) whose cells are lists, maps or bytes."""
    problems = []
    for c in dict.fromkeys([mapping.id, *(col for am in mapping.axes.values() for col in am.columns),
                            *mapping.metrics.values()]):
        if c is None or c not in df or df[c].dtype != object:
            continue
        odd = next((v for v in df[c] if isinstance(v, (list, tuple, dict, set, np.ndarray, bytes, bytearray))), None)
        if odd is not None:
            kind = "bytes" if isinstance(odd, (bytes, bytearray)) else "lists or maps"
            problems.append(Problem(file_name, "", c, f"{NESTED_VALUES} ({kind}, e.g. {show_value(_py(odd))}): "
                                                      "a run table needs one plain value (text or a number) per "
                                                      "cell; flatten the column, or leave it out of the mapping"))
    return problems


def _categories(col, table: dict[str, str], value_names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Value codes of a categorical column through ``table`` (table value -> axis value; -1 if not
    covered), and which cells are blank: both judged once per distinct value, not per row."""
    codes, uniques = cols.factorize(col)
    keys = [cols.category_key(u) for u in uniques]
    lookup = {k: value_names.index(v) for k, v in table.items()}
    mapped = np.array([lookup.get(k, -1) if k is not None else -1 for k in keys] + [-1], dtype=np.int64)
    blank = np.array([k is None or k == "" for k in keys] + [True])
    at = np.where(codes >= 0, codes, len(keys))
    return mapped[at], blank[at]


def _references(axes: Axes, axis: str, ref_axis: str, ref_codes: np.ndarray) -> np.ndarray:
    """Per row, the reference value of ``axis`` for the row's ``ref_axis`` value (its default if unknown)."""
    ref = axes[axis].reference
    other = axes[ref_axis]
    table = np.array([float(ref[v]) if v in ref else np.nan for v in other.value_names] + [np.nan])
    default = other.code(other.default) if other.default else len(other.values)
    return table[np.where(ref_codes >= 0, ref_codes, default)]


def _why(axes: Axes, codes: np.ndarray) -> str:
    values = {ax.name: ax.value_names[c] for ax, c in zip(axes.axes, codes)}
    for rule in axes.impossible:
        if all(values[a] in vs for a, vs in rule.when.items()) and \
                any(values[a] in vs for a, vs in rule.excludes.items()):
            return rule.why or "an impossible combination"
    return "an impossible combination"


def _config_values(col: pd.Series) -> pd.Series:
    """Raw values kept as they are when Parquet can store them, as text otherwise."""
    col = col.reset_index(drop=True)
    if col.dtype == object:
        kinds = {type(v) for v in col.dropna().head(1000)}
        if kinds - {str}:
            return col.map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v))
    return col


def _empty_table(axes: Axes, metrics: list[str]) -> pd.DataFrame:
    import pandas as pd

    out = {"run_id": pd.Series(dtype=object)}
    out.update({a: pd.Series(dtype=object) for a in axes.names})
    out.update({m: pd.Series(dtype=float) for m in metrics})
    return pd.DataFrame(out)


def source_meta(mapping: Mapping, result: ImportResult, file_name: str, provenance: dict | None = None) -> dict:
    """The ``source.yaml`` content for an imported table."""
    src = mapping.source
    return {
        "name": src.get("name") or Path(file_name).stem,
        "url": src.get("url", ""),
        "license": src.get("license", "not stated"),
        **({"citation": src["citation"]} if src.get("citation") else {}),
        "metrics": list(result.metrics),
        "observables": list(mapping.observables or DEFAULT_OBSERVABLES),
        "imported": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "provenance": {"file": file_name, "rows_read": result.rows_read, "rows_imported": result.rows_imported,
                       **(provenance or {})},
        "mapping": mapping.to_dict(),
    }
