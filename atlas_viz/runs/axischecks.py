"""The checks of an import that read the axis and metric columns: each cell becomes a value code of its axis
(or a number of its metric), and every row that cannot be used is reported and marked bad.

The columns' conversions come from :class:`atlas_viz.runs.cells.Cells` (so an Arrow table's are done ahead, in
threads); :func:`plan` says which conversions the checks ask for, in their order.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from atlas_viz.runs import columns as cols
from atlas_viz.runs.cells import Cells
from atlas_viz.runs.mapping import AxisMap, Mapping, reference_axis
from atlas_viz.runs.report import Reporter
from atlas_viz.terrain.axes import Axes, Axis


def _in_order(mapping: Mapping, axes: Axes) -> list[AxisMap]:
    """The mapped axes in the order they are checked: an axis read relative to another one (learning rate per
    optimizer) after the axis it needs."""
    return sorted(mapping.axes.values(), key=lambda am: reference_axis(axes, am.axis) is not None)


def _categorical(am: AxisMap, axis: Axis) -> bool:
    return am.values is not None or not axis.binned


def plan(mapping: Mapping, axes: Axes) -> Iterator[tuple[str, str]]:
    """The (kind, column) conversions :func:`axis_codes` and :func:`metric_values` ask for, in their order."""
    for am in _in_order(mapping, axes):
        if am.value is None and am.column:
            yield ("codes" if _categorical(am, axes[am.axis]) else "blocks"), am.column
            if am.per:
                yield "blocks", am.per
    for colname in mapping.metrics.values():
        yield "metric", colname
        yield "blank", colname


def axis_codes(cells: Cells, mapping: Mapping, axes: Axes, rep: Reporter, bad: np.ndarray) -> dict[str, np.ndarray]:
    """Value codes per mapped axis (-1 = unknown; the axis's ``code_dtype``); rows that cannot be used are
    marked in ``bad``."""
    df = cells.table
    n = len(df)
    codes: dict[str, np.ndarray] = {}
    for am in _in_order(mapping, axes):
        axis = axes[am.axis]
        fld = am.column or am.axis
        if am.value is not None:
            codes[am.axis] = np.full(n, axis.code(am.value), dtype=axis.code_dtype)
            continue
        if not cols.has(df, am.column) or (am.per and not cols.has(df, am.per)):
            codes[am.axis] = np.full(n, -1, dtype=axis.code_dtype)
            if axis.default is None and n:
                rep.rows(np.ones(n, bool), fld, f"{am.axis} has no default in axes.yaml, and its column is missing",
                         show=False)
                bad[:] = True
            continue
        if _categorical(am, axis):
            c, blank = _categorical_axis(cells, am, axis, rep, bad)
        else:
            c, blank = _binned_axis(cells, am, axes, codes, rep, bad)
        if axis.default is None:
            rep.rows(blank & ~bad, fld, f"empty, and {am.axis} has no default in axes.yaml: the run cannot be "
                                        "placed", show=False)
            bad |= blank
        else:
            rep.rows(blank & ~bad, fld, f"empty: the run is kept with {am.axis} unknown (placed at the default "
                                        f"'{axis.default}' and listed in 'imputed')", show=False)
        codes[am.axis] = np.where(bad | blank, np.array(-1, c.dtype), c)
    return codes


def _categorical_axis(cells: Cells, am: AxisMap, axis: Axis, rep: Reporter,
                      bad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and blanks of a column of labels, mapped through ``values`` (or the axis's own value names)."""
    fld = am.column
    c, blank = _categories(cells.get("codes", am.column),
                           am.values if am.values is not None else {v: v for v in axis.value_names},
                           axis.value_names, axis.code_dtype)
    uncovered = (c < 0) & ~blank if (c < 0).any() else np.zeros(len(c), dtype=bool)
    covered = sorted(am.values) if am.values is not None else list(axis.value_names)
    hint = (f"add it under axes.{am.axis}.values" if am.values is not None else
            f"map it with axes.{am.axis}.values: {{table value: value of {am.axis}}}")
    rep.rows(uncovered, fld, f"not covered by the mapping of {am.axis} (covered: "
                             f"{', '.join(map(str, covered[:15]))}{', ...' if len(covered) > 15 else ''}); "
                             f"{hint}", cols.values(cols.column(cells.table, am.column)))
    bad |= uncovered
    return c, blank


def _categories(factorized: tuple[list[np.ndarray], list], table: dict[str, str], value_names: tuple[str, ...],
                dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Value codes of a factorized column of labels through ``table`` (table value -> axis value; -1 if not
    covered), and which cells are blank: both judged once per distinct value, not per row."""
    blocks, uniques = factorized
    keys = [cols.category_key(u) for u in uniques]
    lookup = {k: value_names.index(v) for k, v in table.items()}
    # a missing cell has code -1, which picks the last entry: not covered, and blank
    mapped = np.array([lookup.get(k, -1) if k is not None else -1 for k in keys] + [-1], dtype=dtype)
    blank = np.array([k is None or k == "" for k in keys] + [True])
    some_blank = blank[:-1].any() or any(len(b) and b.min() < 0 for b in blocks)
    return _pick(mapped, blocks), _pick(blank, blocks) if some_blank else np.zeros(sum(map(len, blocks)), bool)


def _pick(table: np.ndarray, blocks: list[np.ndarray]) -> np.ndarray:
    """``table[codes]`` of the codes given block by block, as one array."""
    out = np.empty(sum(map(len, blocks)), dtype=table.dtype)
    start = 0
    for b in blocks:
        out[start:start + len(b)] = table[b]
        start += len(b)
    return out


def _binned_axis(cells: Cells, am: AxisMap, axes: Axes, codes: dict[str, np.ndarray], rep: Reporter,
                 bad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and blanks of a numeric column (divided by ``per`` or the reference value), binned.

    The rows are binned block by block (the column's chunks: no copy of the column, small temporaries); only rows
    that may hold a problem (no bin, a number below 0 before the reference divides it, a divisor that is not a
    positive finite number) are looked at cell by cell, in :func:`_binned_problems`: any other row has none."""
    axis, n = axes[am.axis], len(cells.table)
    xs = cells.get("blocks", am.column)
    dens = cells.get("blocks", am.per) if am.per else None
    if dens is not None and [len(d) for d in dens] != [len(x) for x in xs]:  # chunked differently: join them
        xs, dens = [np.concatenate(xs)] if xs else [], [np.concatenate(dens)] if dens else []
    ref_axis = None if am.relative else reference_axis(axes, am.axis)
    ref_codes = codes.get(ref_axis, np.full(n, -1, np.int8)) if ref_axis else None
    ref_table = _reference_table(axes, am.axis, ref_axis) if ref_axis else None
    c, ok = np.empty(n, dtype=axis.code_dtype), np.empty(n, dtype=bool)
    start = 0
    for k, x in enumerate(xs):
        end = start + len(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = x / dens[k] if dens is not None else x
            y = x / ref_table[ref_codes[start:end]] if ref_axis else x
        c[start:end] = axis.bin_codes(y)
        fine = (c[start:end] >= 0) & (x >= 0)
        if dens is not None:
            fine &= (dens[k] > 0) & (dens[k] < np.inf)
        ok[start:end] = fine
        start = end
    blank = np.zeros(n, dtype=bool)
    rows = rows_to_check(ok)
    if len(rows):
        ref = ref_table[ref_codes[rows]] if ref_axis else None
        blank[rows] = _binned_problems(cells, am, axes, rows, ref, ref_axis, rep, bad)
    return c, blank


def rows_to_check(ok: np.ndarray) -> np.ndarray:
    """The rows of a binned axis looked at cell by cell: those not ``ok`` (a test looks at every row instead, and
    finds the same problems)."""
    return np.flatnonzero(~ok)


def _binned_problems(cells: Cells, am: AxisMap, axes: Axes, rows: np.ndarray, ref: np.ndarray | None,
                     ref_axis: str | None, rep: Reporter, bad: np.ndarray) -> np.ndarray:
    """Report what is wrong with the cells of ``rows`` (ascending) of a binned axis (``ref``: their reference
    numbers), mark the rows that cannot be used in ``bad``, and return which of ``rows`` are blank."""
    axis, fld = axes[am.axis], am.column
    df = cells.table
    col = cols.column(df, am.column)
    sub = cols.take(col, rows)
    blank, x, shown = cols.blank(sub), cols.numbers(sub), cols.values(col)
    nonnum = np.isnan(x) & ~blank
    rep.at(rows[nonnum], fld, f"not a number; {am.axis} needs a number in {axis.unit or 'its unit'}", shown)
    if am.per:
        den_col = cols.column(df, am.per)
        den_sub = cols.take(den_col, rows)
        den, den_blank = cols.numbers(den_sub), cols.blank(den_sub)
        den_bad = ~den_blank & ~blank & ~nonnum & ~(np.isfinite(den) & (den > 0))
        rep.at(rows[den_bad], am.per, f"must be a positive finite number (it divides {am.column} to give "
                                      f"{axis.unit or am.axis})", cols.values(den_col))
        bad[rows[den_bad]] = True
        blank = blank | den_blank
        with np.errstate(divide="ignore", invalid="ignore"):
            x = x / np.where(den_bad, np.nan, den)
    inf = np.isinf(x) & ~blank & ~nonnum
    rep.at(rows[inf], fld, f"infinite; {am.axis} needs a finite number", shown)
    neg = (x < 0) & ~inf
    rep.at(rows[neg], fld, f"negative; {am.axis} ({axis.unit or 'a size'}) cannot be below 0", shown)
    bad[rows[nonnum | inf | neg]] = True
    if ref is not None:
        no_ref = np.isnan(ref) & ~blank
        rep.at(rows[no_ref], fld, f"no reference {am.axis} for this {ref_axis} in axes.yaml", show=False)
        bad[rows[no_ref]] = True
        with np.errstate(invalid="ignore"):
            x = x / ref
    outside = (axis.bin_codes(x) < 0) & ~blank & ~bad[rows] & np.isfinite(x)
    bins = "; ".join(f"{v.name} [{v.bin[0]:g}, {v.bin[1]:g})" for v in axis.values if v.bin)
    what = f"{am.column} / {am.per}" if am.per else (
        f"{am.column} / reference {am.axis} of the {ref_axis}" if ref_axis else am.column)
    rep.at(rows[outside], fld, f"outside every bin of {am.axis} ({what}; bins: {bins})",
           dict(zip(rows[outside].tolist(), x[outside].tolist())) if (am.per or ref_axis) else shown)
    bad[rows[outside]] = True
    return blank


def metric_values(cells: Cells, mapping: Mapping, rep: Reporter, bad: np.ndarray) -> dict[str, object]:
    """Each metric as floats (a numpy array, or an Arrow column of floats: see :func:`columns.metric_cells`); an
    empty cell is a missing value, text or infinity makes the row bad."""
    metrics: dict[str, object] = {}
    for name, colname in mapping.metrics.items():
        if not cols.has(cells.table, colname):
            continue
        col = cols.column(cells.table, colname)
        (x, nonnum, inf), blank = cells.get("metric", colname), cells.get("blank", colname)
        rep.rows(nonnum, colname, f"not a number; metric {name} needs a number (leave the cell empty if it "
                                  "was not measured)", cols.values(col))
        rep.rows(inf, colname, f"infinite; metric {name} needs a finite number (leave the cell empty for a "
                               "diverged run)", cols.values(col))
        rep.rows(blank, colname, f"empty: the run is kept without metric {name}", show=False)
        bad |= nonnum | inf
        metrics[name] = x
    return metrics


def _reference_table(axes: Axes, axis: str, ref_axis: str) -> np.ndarray:
    """The reference value of ``axis`` for each value of ``ref_axis``, indexed by its code; an unknown value (-1)
    picks the last entry, the default's reference (NaN without a default, or where no reference is given)."""
    ref = axes[axis].reference
    other = axes[ref_axis]
    table = np.array([float(ref[v]) if v in ref else np.nan for v in other.value_names] + [np.nan])
    table[-1] = table[other.code(other.default)] if other.default else np.nan
    return table
