"""The cell-level questions the import asks of a column, for a pandas column or an Arrow one, as numpy arrays.

:mod:`atlas_viz.runs.importer` checks a table through these functions only, so one implementation of every
check serves both a pandas frame (small or odd files, Parquet, frames) and an Arrow table (a large clean CSV,
read and stored without pandas). Each question is answered by Arrow where its answer is the same as
pandas'; anything else (text in a numeric column, unusual types) is handed to the pandas version, so the two
never disagree: the tests import the same tables both ways and compare.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

Table = Any
"""A pandas DataFrame or a pyarrow Table."""
SPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
         "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
"""Every character for which ``str.isspace()`` is true (a test checks it against Python's own)."""
_BLANK_RE = "^[" + "".join(f"\\x{{{ord(c):x}}}" for c in SPACE) + "]*$"
"""Text that Python's ``str.strip()`` empties, as an RE2 pattern (Arrow's own trim knows other spaces)."""


def is_arrow(obj: object) -> bool:
    return type(obj).__module__.startswith("pyarrow")


def arrow_call(name: str, *args, options: Any = None) -> Any:
    """Arrow's compute function ``name`` (as ``pyarrow.compute.<name>``) without importing ``pyarrow.compute``:
    that module builds a Python wrapper for each of its hundreds of functions when imported, ~25 ms of every
    process that imports a table, which a worker thread would wait for before its first call."""
    from pyarrow._compute import call_function

    return call_function(name, list(args), options)


def arrow_options(kind: str, *args, **kwargs) -> Any:
    """An options object of Arrow's compute functions (``MatchSubstringOptions``, ``CountOptions``, ...)."""
    import pyarrow._compute

    return getattr(pyarrow._compute, kind)(*args, **kwargs)


# pyarrow's own numpy conversions (Array.to_numpy, pa.array of a numpy array or a list, pa.scalar) ask its pandas
# shim first, which imports pandas (~0.3 s); an import of a large clean CSV needs none of it, so the Arrow path
# moves fixed-width columns between Arrow and numpy over their buffers with the three functions below.

def to_numpy(arr, fill: object = None, dtype: np.dtype | type | None = None) -> np.ndarray:
    """A fixed-width Arrow column (integers, floats, booleans; an Array or a ChunkedArray) as a numpy array,
    without pandas, of ``dtype`` if given (the chunks are cast as they are joined: one pass). Missing cells
    become ``fill`` (NaN for floats when not given); read-only when no copy was needed."""
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        if arr.num_chunks == 1:
            return to_numpy(arr.chunk(0), fill, dtype)
        parts = [to_numpy(c, fill, dtype) if c.null_count else _values(c) for c in arr.chunks]
        dtype = dtype or _np_dtype(arr.type)
        return np.concatenate(parts, dtype=dtype) if parts else np.zeros(0, dtype)
    out = _values(arr)
    if dtype is not None:
        out = out.astype(dtype, copy=False)
    if arr.null_count:
        if fill is None:
            if out.dtype.kind != "f":
                raise ValueError(f"a {arr.type} column with missing cells needs a fill value")
            fill = np.nan
        out = np.where(_bits(arr.buffers()[0], arr.offset, len(arr)), out, np.asarray(fill).astype(out.dtype))
    return out


def _values(arr) -> np.ndarray:
    """The values of a fixed-width Arrow array over its buffer (missing cells hold whatever the buffer does)."""
    import pyarrow as pa

    n, t = len(arr), arr.type
    buffers = arr.buffers()
    if pa.types.is_boolean(t):
        return _bits(buffers[1], arr.offset, n)
    dtype = _np_dtype(t)
    return np.frombuffer(buffers[1], dtype=dtype, count=n, offset=arr.offset * dtype.itemsize) if n else \
        np.zeros(0, dtype)


def _np_dtype(t) -> np.dtype:
    import pyarrow as pa

    if pa.types.is_boolean(t):
        return np.dtype(bool)
    if pa.types.is_integer(t):
        return np.dtype(f"{'u' if pa.types.is_unsigned_integer(t) else ''}int{t.bit_width}")
    if pa.types.is_floating(t):
        return np.dtype(f"float{t.bit_width}")
    raise TypeError(f"not a fixed-width numeric type: {t}")


def _bits(buf, offset: int, n: int) -> np.ndarray:
    """``n`` bits of an Arrow bitmap from bit ``offset``, as booleans."""
    raw = np.frombuffer(buf, dtype=np.uint8, count=(offset + n + 7) // 8)
    return np.unpackbits(raw, bitorder="little", count=offset + n)[offset:].astype(bool)


def from_numpy(x: np.ndarray, mask: np.ndarray | None = None):
    """A numeric (or boolean) numpy array as an Arrow array, ``mask`` marking missing cells; without pandas."""
    import pyarrow as pa

    x = np.ascontiguousarray(x)
    validity = None
    if mask is not None and mask.any():
        validity = pa.py_buffer(np.packbits(~np.asarray(mask, dtype=bool), bitorder="little"))
    if x.dtype == bool:
        data = pa.py_buffer(np.packbits(x, bitorder="little"))
        return pa.Array.from_buffers(pa.bool_(), len(x), [validity, data])
    return pa.Array.from_buffers(pa.from_numpy_dtype(x.dtype), len(x), [validity, pa.py_buffer(x)])


def strings(values) -> Any:
    """An Arrow text array of Python strings (None is missing), without pandas."""
    import pyarrow as pa

    values = list(values)
    missing = np.array([v is None for v in values], dtype=bool)
    encoded = [b"" if v is None else str(v).encode("utf-8") for v in values]
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    large = offsets[-1] >= 2 ** 31
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little")) if missing.any() else None
    return pa.Array.from_buffers(pa.large_string() if large else pa.string(), len(values),
                                 [validity, pa.py_buffer(offsets if large else offsets.astype(np.int32)),
                                  pa.py_buffer(b"".join(encoded))])


def names(table: Table) -> list[str]:
    return list(table.column_names) if is_arrow(table) else [str(c) for c in table.columns]


def has(table: Table, name: str | None) -> bool:
    return name is not None and name in names(table)


def column(table: Table, name: str):
    return table.column(name) if is_arrow(table) else table[name]


def _kind(col) -> str:
    """'text', 'int', 'float', 'bool', 'null' for an Arrow column of that type, else 'other'."""
    import pyarrow as pa

    t = col.type
    for kind, test in (("text", pa.types.is_string), ("text", pa.types.is_large_string), ("int", pa.types.is_integer),
                       ("float", pa.types.is_floating), ("bool", pa.types.is_boolean), ("null", pa.types.is_null)):
        if test(t):
            return kind
    return "other"


def blank(col) -> np.ndarray:
    """Cells that are empty: missing, or text of only spaces."""
    if not is_arrow(col):
        return _blank_pandas(col)
    kind = _kind(col)
    if kind == "text":  # the pattern only where a cell may be blank (rarely any): a tenth of the time
        out = _maybe_blank(col)
        rows = np.flatnonzero(out)
        if len(rows):
            pattern = arrow_options("MatchSubstringOptions", _BLANK_RE)
            out[rows] = to_numpy(arrow_call("match_substring_regex", take(col, rows), options=pattern), fill=True)
        return out
    if kind == "float":
        return to_numpy(arrow_call("is_nan", col), fill=True)
    if kind in ("int", "bool", "null"):
        return to_numpy(arrow_call("is_null", col))
    return _blank_pandas(col.to_pandas())


SPACE_LEAD_BYTES = np.zeros(256, dtype=bool)
SPACE_LEAD_BYTES[list({c.encode("utf-8")[0] for c in SPACE})] = True
"""The bytes a space character's UTF-8 encoding starts with."""


def _maybe_blank(col) -> np.ndarray:
    """Cells of an Arrow text column that may be blank: missing, empty, or starting with a byte that a space
    character starts with (every blank cell is among them). Read off the column's buffers, not its text."""
    import pyarrow as pa

    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if not len(arr):
        return np.zeros(0, dtype=bool)
    validity, offsets, data = arr.buffers()
    off = np.frombuffer(offsets, dtype=np.int64 if pa.types.is_large_string(arr.type) else np.int32,
                        count=len(arr) + 1, offset=arr.offset * (8 if pa.types.is_large_string(arr.type) else 4))
    starts = off[:-1]
    text = np.frombuffer(data, dtype=np.uint8) if data is not None and data.size else np.zeros(1, np.uint8)
    out = (off[1:] == starts) | SPACE_LEAD_BYTES[text[np.minimum(starts, len(text) - 1)]]
    if arr.null_count:
        out |= ~_bits(validity, arr.offset, len(arr))
    return out


def _blank_pandas(col: pd.Series) -> np.ndarray:
    import pandas as pd

    out = col.isna().to_numpy().copy()
    if not pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        text = col[~out]
        if len(text):
            stripped = text.astype(str).str.strip()
            out[np.flatnonzero(~out)[(stripped == "").to_numpy()]] = True
    return out


def numbers(col) -> np.ndarray:
    """Each cell as a float: NaN where empty or not a number (booleans are not numbers)."""
    if is_arrow(col):
        kind = _kind(col)
        if kind in ("bool", "null"):
            return np.full(len(col), np.nan)
        if kind in ("int", "float"):
            return to_numpy(col, dtype=np.float64)
        col = col.to_pandas()
    import pandas as pd

    if pd.api.types.is_bool_dtype(col):
        return np.full(len(col), np.nan)
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(col.astype(str).str.strip(), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def number_blocks(col) -> list[np.ndarray]:
    """:func:`numbers` block by block: an Arrow column of numbers chunk by chunk, each chunk with no missing cell
    as it is stored (no copy: integers stay integers), others as floats with NaN; any other column as one block.
    Checks that go block by block keep their temporary arrays small, in memory already in use."""
    if is_arrow(col) and _kind(col) in ("int", "float"):
        import pyarrow as pa

        chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
        return [to_numpy(c, dtype=np.float64) if c.null_count else _values(c) for c in chunks]
    return [numbers(col)]


def metric_cells(col) -> tuple[Any, np.ndarray, np.ndarray]:
    """A metric column as it is stored (floats, missing where empty), and which of its cells are not numbers and
    which are infinite. An Arrow column of floats holding no NaN is passed on as it is (no copy): each of its
    cells is a number or missing, so only infinities are looked for."""
    if is_arrow(col) and _kind(col) == "float" and not int(
            np.count_nonzero(to_numpy(arrow_call("is_nan", col), fill=False))):
        return col, np.zeros(len(col), dtype=bool), to_numpy(arrow_call("is_inf", col), fill=False)
    x = numbers(col)
    return x, np.isnan(x) & ~blank(col), np.isinf(x)


def factorize(col) -> tuple[list[np.ndarray], list]:
    """(the code of each cell, block by block, -1 where missing; the distinct values as Python objects). An Arrow
    column's blocks are its chunks' dictionary indices (no copy where no cell is missing); a pandas column is one
    block."""
    if is_arrow(col) and _kind(col) in ("text", "int", "float", "bool"):
        import pyarrow as pa

        enc = arrow_call("dictionary_encode", col)  # the chunks of a chunked column share one dictionary
        chunks = enc.chunks if isinstance(enc, pa.ChunkedArray) else [enc]
        return [to_numpy(c.indices, fill=-1) for c in chunks], (chunks[-1].dictionary.to_pylist() if chunks else [])
    import pandas as pd

    codes, uniques = pd.factorize(col.to_pandas() if is_arrow(col) else col, use_na_sentinel=True)
    return [np.asarray(codes)], list(uniques)


def take(col, rows: np.ndarray):
    """The cells of ``rows`` of a column, as a column of the same kind."""
    return arrow_call("take", col, from_numpy(rows)) if is_arrow(col) else col.iloc[rows]


def values(col):
    """Something indexable by row giving each cell as a plain Python value (for messages)."""
    return _ArrowValues(col) if is_arrow(col) else col


class _ArrowValues:
    def __init__(self, col):
        self.col = col

    def __getitem__(self, i: int) -> object:
        return self.col[int(i)].as_py()


def id_text(col, empty: np.ndarray | None = None):
    """Ids as text: text as it is, integers (also floats that are all integers) without a decimal point.
    ``empty`` is :func:`blank` of the column (found here when not given and needed)."""
    if is_arrow(col):
        import pyarrow as pa

        kind = _kind(col)
        if kind == "text":
            return col
        if kind == "int":
            return arrow_call("cast", col, options=arrow_options("CastOptions", pa.string()))
        return pa.array(id_text(col.to_pandas(), empty), type=pa.string())
    import pandas as pd

    if empty is None:
        empty = blank(col)
    if pd.api.types.is_float_dtype(col) and _integral(col.to_numpy()[~empty]):
        col = col.where(~empty, 0).astype(np.int64)  # integer ids with an empty cell were read as floats
    return col if pd.api.types.is_string_dtype(col) else col.astype(str)


def _integral(x: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(x)) and np.all(np.mod(x, 1) == 0))


def id_at(ids, i: int) -> object:
    return ids[int(i)].as_py() if is_arrow(ids) else ids.iloc[int(i)]


def first_rows(ids, rows: np.ndarray | None = None) -> np.ndarray | None:
    """For each of ``rows`` (ascending; every row when None), the first of ``rows`` holding the same id: ``rows``
    itself when no id repeats (None for every row).

    Text held by Arrow is sorted by Arrow (a third of the time of hashing a million distinct strings);
    anything else is factorized.
    """
    import pyarrow as pa

    if rows is None:
        first = first_rows(ids, np.arange(len(ids))) if not is_arrow(ids) else _first_of_arrow(ids, None)
        return None if first is None or (not is_arrow(ids) and np.array_equal(first, np.arange(len(ids)))) else first
    if is_arrow(ids):
        arr = take(ids, rows) if len(rows) < len(ids) else ids
    else:
        import pandas as pd

        sub = ids.iloc[rows] if len(rows) < len(ids) else ids
        arrow_text = isinstance(sub.dtype, pd.StringDtype) and sub.dtype.storage == "pyarrow"
        arr = pa.array(sub.array) if arrow_text else None
        if arr is None:
            codes, _ = pd.factorize(sub)
            _, first_of_code = np.unique(codes, return_index=True)
            return rows[first_of_code[codes]]
    return _first_of_arrow(arr, rows)


def _first_of_arrow(arr, rows: np.ndarray | None) -> np.ndarray | None:
    """:func:`first_rows` of the Arrow text ``arr`` (the ids of ``rows``; of every row when None)."""
    if not len(arr):
        return rows
    arr = arr.combine_chunks() if hasattr(arr, "combine_chunks") else arr
    order_arrow = arrow_call("sort_indices", arr)
    ordered = arrow_call("take", arr, order_arrow)
    repeats = to_numpy(arrow_call("equal", ordered[1:], ordered[:-1]), fill=False)
    if not repeats.any():  # unique ids, the usual case
        return rows
    rows = np.arange(len(arr)) if rows is None else rows
    order = to_numpy(order_arrow).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, ~repeats])
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(order)]))
    first_pos = np.empty(len(order), dtype=np.int64)
    first_pos[order] = np.minimum.reduceat(order, starts)[group]
    return rows[first_pos]


def category_key(u: object) -> str | None:
    """A distinct cell value as the text a mapping's ``values`` keys it by; None for a missing value."""
    if u is None or (isinstance(u, (float, np.floating)) and u != u):
        return None
    if isinstance(u, (bool, np.bool_)):
        return str(bool(u)).lower()
    if isinstance(u, (float, np.floating)) and float(u).is_integer():
        return str(int(u))
    return str(u).strip()

