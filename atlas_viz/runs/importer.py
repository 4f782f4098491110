"""Import a run table: read CSV or Parquet robustly, apply a mapping, check every row, vectorised.

Bad rows never sink the table: each kind of problem is reported with the rows it hits (the first
:data:`MAX_REPORTED` of each kind one by one, then a count), and the good rows are returned ready for
:func:`atlas_viz.runs.save_runs`. Rows of a CSV are named by their line in the file (``line 7``; the
header is line 1), rows of a Parquet file by their position (``row 7``, from 1).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from atlas_viz.terrain.axes import Axes, Axis
from atlas_viz.runs.mapping import AxisMap, Mapping, reference_axis
from atlas_viz.core.problems import Problem, show_value
from atlas_viz.runs.impute import impute_codes
from atlas_viz.runs.store import CONFIG_PREFIX, DEFAULT_OBSERVABLES, cell_lookup
from atlas_viz.runs.tables import MAX_REPORTED, RawTable, read_table

__all__ = ["MAX_REPORTED", "RawTable", "read_table", "ImportResult", "import_table", "source_meta"]
NESTED_VALUES = "holds nested values"


@dataclass
class ImportResult:
    """The rows that import (``table``), every problem met, and how many data rows were read."""

    table: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    rows_read: int = 0
    metrics: list[str] = field(default_factory=list)

    @property
    def rows_skipped(self) -> int:
        return self.rows_read - len(self.table)


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
    return v.item() if isinstance(v, np.generic) else v


def _blank(col: pd.Series) -> np.ndarray:
    """Cells that are empty: missing, or text of only spaces."""
    blank = col.isna().to_numpy().copy()
    if not pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        text = col[~blank]
        if len(text):
            stripped = text.astype(str).str.strip()
            blank[np.flatnonzero(~blank)[(stripped == "").to_numpy()]] = True
    return blank


def _numbers(col: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(col):
        return np.full(len(col), np.nan)
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(col.astype(str).str.strip(), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def import_table(source: Path | str | bytes | pd.DataFrame, mapping: Mapping, axes: Axes,
                 file_name: str, categorical: bool = False) -> ImportResult:
    """Read a table and apply ``mapping``; return the rows that import and every problem, never raise.

    The returned table has ``run_id`` (text), one column per axis (a value name, or None where the
    axis is unknown: the store places such runs at the axis default, or the possible value nearest it),
    the metric columns (float) and the raw configuration as ``config.<column>``. With ``categorical`` the
    axis columns are pandas categoricals (missing = null) instead: the same content, much faster to store
    at a million rows. The id column of a CSV is read as text ("007" and "NA" stay as written); other
    columns with pandas' own type inference (forcing text doubles the read time).
    """
    raw = _raw_table(source, mapping, file_name)
    problems = list(raw.problems)
    metric_names = list(mapping.metrics)
    if raw.frame is not None and raw.prefix == "row":  # Parquet or a frame: cells may hold lists, maps, bytes
        problems += _nested(raw.frame, mapping, file_name)
    if raw.frame is None or len(problems) > len(raw.problems):
        return ImportResult(_empty_table(axes, metric_names), problems, raw.lines_skipped + (
            len(raw.frame) if raw.frame is not None else 0), metric_names)
    df = raw.frame
    n = len(df)
    rep = _Reporter(raw, file_name, problems)
    bad = np.zeros(n, dtype=bool)
    columns = list(df.columns)
    for c in (c for c in mapping.columns if c not in df):
        shown = ", ".join(columns[:30]) + (", ..." if len(columns) > 30 else "")
        problems.append(Problem(file_name, "", c, f"column '{c}' named in the mapping is not in the table "
                                                  f"(its columns: {shown})"))
    codes = _axis_codes(df, mapping, axes, rep, bad)
    metrics = _metric_values(df, mapping, rep, bad)
    _check_placement(axes, codes, n, rep, bad)
    run_id = _run_ids(df, mapping, raw, rep, bad)
    table = _output_table(df, mapping, axes, codes, metrics, run_id, bad, categorical)
    if n and not len(table):
        problems.append(Problem(file_name, "", "", f"none of the {n:,} rows can be imported (see above)"))
    return ImportResult(table, problems, n + raw.lines_skipped, list(metrics))


def _raw_table(source: Path | str | bytes | pd.DataFrame, mapping: Mapping, file_name: str) -> RawTable:
    """The table as read (a frame is taken as it is, its rows named ``row N``)."""
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        frame.columns = [str(c) for c in frame.columns]
        return RawTable(frame.reset_index(drop=True), np.arange(1, len(frame) + 1), "row", [])
    return read_table(source, file_name, [mapping.id] if mapping.id else [])


def _axis_codes(df: pd.DataFrame, mapping: Mapping, axes: Axes, rep: _Reporter,
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
        if am.column not in df or (am.per and am.per not in df):
            codes[am.axis] = np.full(n, -1, dtype=np.int64)
            if axis.default is None and n:
                rep.rows(np.ones(n, bool), fld, f"{am.axis} has no default in axes.yaml, and its column is missing",
                         show=False)
                bad[:] = True
            continue
        if am.values is not None or not axis.binned:
            c, blank = _categorical_axis(df[am.column], am, axis, rep, bad)
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


def _categorical_axis(col: pd.Series, am: AxisMap, axis: Axis, rep: _Reporter,
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
                             f"{hint}", col)
    bad |= uncovered
    return c, blank


def _binned_axis(df: pd.DataFrame, am: AxisMap, axes: Axes, codes: dict[str, np.ndarray], rep: _Reporter,
                 bad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and blanks of a numeric column (divided by ``per`` or the reference value), binned."""
    axis, fld, n = axes[am.axis], am.column, len(df)
    col = df[am.column]
    blank = _blank(col)
    x = _numbers(col)
    nonnum = np.isnan(x) & ~blank
    rep.rows(nonnum, fld, f"not a number; {am.axis} needs a number in {axis.unit or 'its unit'}", col)
    if am.per:
        den_col = df[am.per]
        den = _numbers(den_col)
        den_blank = _blank(den_col)
        den_bad = ~den_blank & ~blank & ~nonnum & ~(np.isfinite(den) & (den > 0))
        rep.rows(den_bad, am.per, f"must be a positive finite number (it divides {am.column} to give "
                                  f"{axis.unit or am.axis})", den_col)
        bad |= den_bad
        blank = blank | den_blank
        with np.errstate(divide="ignore", invalid="ignore"):
            x = x / np.where(den_bad, np.nan, den)
    inf = np.isinf(x) & ~blank & ~nonnum
    rep.rows(inf, fld, f"infinite; {am.axis} needs a finite number", col)
    neg = (x < 0) & ~inf
    rep.rows(neg, fld, f"negative; {am.axis} ({axis.unit or 'a size'}) cannot be below 0", col)
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
             pd.Series(x) if (am.per or ref_axis) else col)
    bad |= outside
    return c, blank


def _metric_values(df: pd.DataFrame, mapping: Mapping, rep: _Reporter, bad: np.ndarray) -> dict[str, np.ndarray]:
    """Each metric as floats; an empty cell is a missing value, text or infinity makes the row bad."""
    metrics: dict[str, np.ndarray] = {}
    for name, colname in mapping.metrics.items():
        if colname not in df:
            continue
        col = df[colname]
        x = _numbers(col)
        blank = _blank(col)
        nonnum = np.isnan(x) & ~blank
        inf = np.isinf(x)
        rep.rows(nonnum, colname, f"not a number; metric {name} needs a number (leave the cell empty if it "
                                  "was not measured)", col)
        rep.rows(inf, colname, f"infinite; metric {name} needs a finite number (leave the cell empty for a "
                               "diverged run)", col)
        rep.rows(blank, colname, f"empty: the run is kept without metric {name}", show=False)
        bad |= nonnum | inf
        metrics[name] = x
    return metrics


def _check_placement(axes: Axes, codes: dict[str, np.ndarray], n: int, rep: _Reporter, bad: np.ndarray) -> None:
    """Mark rows whose combination is no cell of the terrain. Unknown values take the axis default, or the
    possible value nearest to it (the store places the run there too)."""
    matrix = np.full((n, len(axes.axes)), -1, dtype=np.int64)
    for j, ax in enumerate(axes.axes):
        if ax.name in codes:
            matrix[:, j] = codes[ax.name]
    filled, cell = impute_codes(axes, matrix, cell_lookup(axes))
    impossible = (filled >= 0).all(axis=1) & (cell < 0) & ~bad
    if impossible.any():
        whys = sorted({_why(axes, filled[i]) for i in np.flatnonzero(impossible)[:MAX_REPORTED]})
        rep.rows(impossible, "", "this combination is not a point of the terrain (impossible in axes.yaml: "
                                 + "; ".join(whys) + ")", show=False)
        bad |= impossible


def _run_ids(df: pd.DataFrame, mapping: Mapping, raw: RawTable, rep: _Reporter, bad: np.ndarray) -> pd.Series:
    """Each row's id as text: present and unique among the good rows (else the row is bad); row numbers
    when the mapping names no id column."""
    n = len(df)
    if not (mapping.id and mapping.id in df):
        return pd.Series(np.arange(1, n + 1).astype(str))
    col = df[mapping.id]
    blank = _blank(col)
    rep.rows(blank & ~bad, mapping.id, "empty id: every run needs one (or leave 'id' out of the mapping to "
                                       "number the rows)", show=False)
    bad |= blank
    if pd.api.types.is_float_dtype(col) and _integral(col.to_numpy()[~blank]):
        col = col.where(~blank, 0).astype(np.int64)  # integer ids with an empty cell were read as floats
    ids = col if pd.api.types.is_string_dtype(col) else col.astype(str)
    good = np.flatnonzero(~bad)
    first = _first_rows(ids, good)
    if (first != good).any():  # some id repeats: all but its first good row are duplicates
        dup = np.zeros(n, dtype=bool)
        dup[good[first != good]] = True
        for i in np.flatnonzero(dup)[:MAX_REPORTED]:
            j = int(first[np.searchsorted(good, i)])
            rep.problems.append(Problem(rep.file, raw.label(i), mapping.id,
                                        f"duplicate id {show_value(ids.iloc[i])}: already used on "
                                        f"{raw.label(j)}; this row is skipped"))
        extra = int(dup.sum()) - MAX_REPORTED
        if extra > 0:
            rep.problems.append(Problem(rep.file, f"{extra} more {raw.prefix}s", mapping.id,
                                        f"... and {extra:,} more duplicate ids skipped"))
        bad |= dup
    return ids


def _output_table(df: pd.DataFrame, mapping: Mapping, axes: Axes, codes: dict[str, np.ndarray],
                  metrics: dict[str, np.ndarray], run_id: pd.Series, bad: np.ndarray,
                  categorical: bool) -> pd.DataFrame:
    """The good rows: run_id, one column per axis, the metrics and the raw configuration."""
    n = len(df)
    keep = np.flatnonzero(~bad)
    all_rows = len(keep) == n
    out: dict[str, object] = {"run_id": (run_id if all_rows else run_id.iloc[keep]).reset_index(drop=True)}
    for ax in axes.axes:
        c = codes.get(ax.name, np.full(n, -1, np.int64))
        c = c if all_rows else c[keep]
        if categorical:
            out[ax.name] = pd.Categorical.from_codes(np.where(c >= 0, c, -1), categories=list(ax.value_names))
        else:
            names = np.array(list(ax.value_names) + [None], dtype=object)
            out[ax.name] = pd.Series(names[np.where(c >= 0, c, len(ax.values))], dtype=object)
    for name, x in metrics.items():
        out[name] = x if all_rows else x[keep]
    used = {mapping.id, *mapping.metrics.values()}
    config = mapping.config if mapping.config is not None else [c for c in df.columns if c not in used]
    for c in config:
        if c in df:
            out[CONFIG_PREFIX + c] = _config_values(df[c] if all_rows else df[c].iloc[keep])
    return pd.DataFrame(out)


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
            problems.append(Problem(file_name, "", c, f"{NESTED_VALUES} ({kind}, e.g. {show_value(_py_value(odd))}): "
                                                      "a run table needs one plain value (text or a number) per "
                                                      "cell; flatten the column, or leave it out of the mapping"))
    return problems


def _py_value(v: object) -> object:
    return v.tolist() if isinstance(v, np.ndarray) else v


def _categories(col: pd.Series, table: dict[str, str], value_names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Value codes of a categorical column through ``table`` (table value -> axis value; -1 if not
    covered), and which cells are blank: both judged once per distinct value, not per row."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    keys = [_cat_key(u) for u in uniques]
    lookup = {k: value_names.index(v) for k, v in table.items()}
    mapped = np.array([lookup.get(k, -1) for k in keys] + [-1], dtype=np.int64)
    blank = np.array([k == "" for k in keys] + [True])
    at = np.where(codes >= 0, codes, len(keys))
    return mapped[at], blank[at]


def _integral(x: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(x)) and np.all(np.mod(x, 1) == 0))


def _first_rows(ids: pd.Series, rows: np.ndarray) -> np.ndarray:
    """For each of ``rows`` (ascending), the first of ``rows`` holding the same id.

    Text held by Arrow is sorted by Arrow (a third of the time of hashing a million distinct strings);
    anything else is factorized.
    """
    sub = ids.iloc[rows] if len(rows) < len(ids) else ids
    if isinstance(sub.dtype, pd.StringDtype) and sub.dtype.storage == "pyarrow" and len(sub):
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(sub.array)
        order = pc.sort_indices(arr).to_numpy()
        ordered = arr.take(order)
        starts = np.flatnonzero(np.r_[True, ~pc.equal(ordered[1:], ordered[:-1]).to_numpy(zero_copy_only=False)])
        group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(order)]))
        first_pos = np.empty(len(order), dtype=np.int64)
        first_pos[order] = np.minimum.reduceat(order, starts)[group]
    else:
        codes, _ = pd.factorize(sub)
        _, first_of_code = np.unique(codes, return_index=True)
        first_pos = first_of_code[codes]
    return rows[first_pos]


def _cat_key(u: object) -> str:
    if isinstance(u, (bool, np.bool_)):
        return str(bool(u)).lower()
    if isinstance(u, (float, np.floating)) and float(u).is_integer():
        return str(int(u))
    return str(u).strip()


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
    cols = {"run_id": pd.Series(dtype=object)}
    cols.update({a: pd.Series(dtype=object) for a in axes.names})
    cols.update({m: pd.Series(dtype=float) for m in metrics})
    return pd.DataFrame(cols)


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
        "provenance": {"file": file_name, "rows_read": result.rows_read, "rows_imported": len(result.table),
                       **(provenance or {})},
        "mapping": mapping.to_dict(),
    }
