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

from atlas_viz.core.problems import Problem, show_value
from atlas_viz.runs import columns as cols
from atlas_viz.runs.axischecks import axis_codes, metric_values, plan
from atlas_viz.runs.cells import Cells
from atlas_viz.runs.columns import Table, first_rows as _first_rows
from atlas_viz.runs.impute import impute_patterns
from atlas_viz.runs.mapping import Mapping
from atlas_viz.runs.names import CONFIG_PREFIX, DEFAULT_OBSERVABLES
from atlas_viz.runs.report import Reporter, plain
from atlas_viz.runs.tables import MAX_REPORTED, RawTable, read_table
from atlas_viz.terrain.axes import Axes, Axis

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
    rep = Reporter(raw, file_name, problems)
    bad = np.zeros(n, dtype=bool)
    columns = cols.names(df)
    for c in (c for c in mapping.columns if c not in columns):
        shown = ", ".join(columns[:30]) + (", ..." if len(columns) > 30 else "")
        problems.append(Problem(file_name, "", c, f"column '{c}' named in the mapping is not in the table "
                                                  f"(its columns: {shown})"))
    # every conversion the checks read is started now (an Arrow table's in threads), the ids' first
    cells = Cells(df, [*([("ids", mapping.id), ("blank", mapping.id)] if mapping.id else []), *plan(mapping, axes)])
    codes = axis_codes(cells, mapping, axes, rep, bad)
    metrics = metric_values(cells, mapping, rep, bad)
    _check_placement(axes, codes, n, rep, bad)
    run_id = _run_ids(cells, mapping, raw, rep, bad)
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
        return RawTable(frame.reset_index(drop=True), 1, "row", [])
    return read_table(source, file_name, [mapping.id] if mapping.id else [])


def _check_placement(axes: Axes, codes: dict[str, np.ndarray], n: int, rep: Reporter, bad: np.ndarray) -> None:
    """Mark rows whose combination is no cell of the terrain. Unknown values take the axis default, or the
    possible value nearest to it (the store places the run there too)."""
    unknown = np.full(n, -1, dtype=np.int8)
    filled, cell, patterns = impute_patterns(axes, [codes.get(ax.name, unknown) for ax in axes.axes],
                                             axes.grid.ravel())
    impossible_pattern = (filled >= 0).all(axis=1) & (cell < 0)
    if not impossible_pattern.any():
        return
    row_pattern = patterns()
    impossible = impossible_pattern[row_pattern] & ~bad
    if impossible.any():
        whys = sorted({_why(axes, filled[row_pattern[i]]) for i in np.flatnonzero(impossible)[:MAX_REPORTED]})
        rep.rows(impossible, "", "this combination is not a point of the terrain (impossible in axes.yaml: "
                                 + "; ".join(whys) + ")", show=False)
        bad |= impossible


def _run_ids(cells: Cells, mapping: Mapping, raw: RawTable, rep: Reporter, bad: np.ndarray):
    """Each row's id as text: present and unique among the good rows (else the row is bad); row numbers
    when the mapping names no id column."""
    n = len(cells.table)
    if not (mapping.id and cols.has(cells.table, mapping.id)):
        return np.arange(1, n + 1).astype(str)
    blank = cells.get("blank", mapping.id)
    ids, first_of_all = cells.get("ids", mapping.id)
    rep.rows(blank & ~bad, mapping.id, "empty id: every run needs one (or leave 'id' out of the mapping to "
                                       "number the rows)", show=False)
    bad |= blank
    if first_of_all is None:  # no id repeats at all, the usual case
        return ids
    good = np.flatnonzero(~bad)
    first = first_of_all if len(good) == n else _first_rows(ids, good)
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
    all_rows = not bad.any()
    keep = None if all_rows else np.flatnonzero(~bad)
    run_id = run_id if isinstance(run_id, pd.Series) else pd.Series(run_id)
    out: dict[str, object] = {"run_id": (run_id if all_rows else run_id.iloc[keep]).reset_index(drop=True)}
    for ax in axes.axes:
        c = codes.get(ax.name, np.full(n, -1, ax.code_dtype))
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
    all_rows = not bad.any()
    keep = None if all_rows else np.flatnonzero(~bad)
    # arrays are made with columns.from_numpy and columns.strings: pa.array would import pandas
    take = (lambda a: a) if all_rows else (lambda a: cols.take(a, keep))
    out: dict[str, object] = {"run_id": take(cols.strings(run_id.tolist()) if isinstance(run_id, np.ndarray)
                                             else run_id)}
    for ax in axes.axes:
        c = codes.get(ax.name, np.full(n, -1, ax.code_dtype))
        c = (c if all_rows else c[keep]).astype(ax.code_dtype, copy=False)
        unknown = c < 0
        if unknown.any():
            c = np.where(unknown, np.array(0, c.dtype), c)
        out[ax.name] = pa.DictionaryArray.from_arrays(cols.from_numpy(c, unknown), cols.strings(ax.value_names))
    for name, x in metrics.items():
        if cols.is_arrow(x):
            out[name] = take(x)
        else:
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
            problems.append(Problem(file_name, "", c, f"{NESTED_VALUES} ({kind}, e.g. {show_value(plain(odd))}): "
                                                      "a run table needs one plain value (text or a number) per "
                                                      "cell; flatten the column, or leave it out of the mapping"))
    return problems


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
