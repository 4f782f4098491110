"""Reading a run table: CSV (any common text encoding) or Parquet, told apart by content; never raises.

Each row keeps its label for messages: ``line N`` of a CSV (the header is line 1), ``row N`` of a Parquet
file (from 1). Binary data that is not Parquet is refused by name; ragged lines and an unclosed quote are
reported with the line where the damage starts, and every line they cost is counted as read, not imported.
"""
from __future__ import annotations

import io
import mmap
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from atlas_viz.core.problems import Problem

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

FAST_CSV_BYTES = 8 * 1024 * 1024
"""CSV files from this size on are tried with pyarrow's reader first (5-10x faster on 2 cores); smaller ones, and
any file pyarrow finds unusual, are read by pandas, which names each damaged line."""
MAX_REPORTED = 20
"""Rows reported one by one per kind of problem; the rest are counted."""
PARQUET_MAGIC = b"PAR1"
BINARY_PROBE = 64 * 1024
"""Bytes looked at to tell a text table from binary data."""
BINARY_DATA = "is binary data, not a text table"
NA_TEXT = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
           "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
"""Cells pandas reads as missing by default; an id column keeps them as text (a run may be called 'NA')."""
_SKIP_RE = re.compile(r"Skipping line (\d+): (.*)")
_EOF_RE = re.compile(r"EOF inside string starting at row (\d+)")


class RawTable:
    """A table as read, with the label of each row (``line N`` or ``row N``): ``labels`` holds each row's number,
    or is the first row's when they count up from it (no array of a million numbers for a clean table).

    A large clean CSV is held as read by Arrow (``arrow``); ``frame`` is then made from it on first use."""

    def __init__(self, frame: pd.DataFrame | None, labels: np.ndarray | int, prefix: str, problems: list[Problem],
                 lines_skipped: int = 0, arrow: pa.Table | None = None):
        self._frame, self.labels, self.prefix, self.problems = frame, labels, prefix, problems
        self.lines_skipped, self.arrow = lines_skipped, arrow

    @property
    def frame(self) -> pd.DataFrame | None:
        if self._frame is None and self.arrow is not None:
            self._frame = self.arrow.to_pandas()
        return self._frame

    def label(self, i: int) -> str:
        return f"{self.prefix} {self.labels + int(i) if isinstance(self.labels, int) else int(self.labels[i])}"

def is_parquet(head: bytes) -> bool:
    return head[:4] == PARQUET_MAGIC


def read_table(source: Path | str | bytes, file_name: str, str_columns: list[str] | tuple[str, ...] = ()) -> RawTable:
    """Read a CSV or Parquet table (told apart by content); never raises on bad content.

    ``str_columns`` are read as text (ids and categories keep leading zeros and exact spelling).
    """
    problems: list[Problem] = []
    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            data: Path | bytes = bytes(source)
            head = data[:BINARY_PROBE]
        else:
            data = Path(source)
            with open(data, "rb") as fh:
                head = fh.read(BINARY_PROBE)
    except OSError as err:
        return RawTable(None, np.zeros(0, np.int64), "row", [Problem(file_name, "", "", f"cannot be read: {err}")])
    if is_parquet(head):
        return _read_parquet(data, file_name)
    if not head:
        return RawTable(None, np.zeros(0, np.int64), "line",
                        [Problem(file_name, "", "", "is empty: expected a CSV with a header line, or a Parquet file")])
    if head[:2] not in (b"\xff\xfe", b"\xfe\xff") and b"\x00" in head:
        at = head.index(b"\x00")
        return RawTable(None, np.zeros(0, np.int64), "line", [Problem(
            file_name, "", "", f"{BINARY_DATA}: a NUL byte at byte {at:,}; expected a CSV (text) or a Parquet "
                               "file (an image, spreadsheet or archive renamed .csv does not import)")])
    fast = _arrow_table(data, list(str_columns), head) if _size(data) >= FAST_CSV_BYTES else None
    if fast is not None:
        return RawTable(None, 2, "line", problems, arrow=fast)
    return _read_csv(data, file_name, head, list(str_columns), problems)


def _size(data: Path | bytes) -> int:
    try:
        return len(data) if isinstance(data, bytes) else Path(data).stat().st_size
    except OSError:
        return 0


def _quotes(data: Path | bytes) -> int:
    """How many double quotes the text holds; -1 if unreadable. A file is mapped, not read: most large tables
    hold no quote at all, which one search in C finds (~0.01 s for 80 MB), and only then are they counted."""
    if isinstance(data, bytes):
        return data.count(b'"')
    try:
        with open(data, "rb") as fh:
            try:
                view = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            except (ValueError, OSError):  # an empty file, or one that cannot be mapped: read it in chunks
                return sum(chunk.count(b'"') for chunk in iter(lambda: fh.read(16 * 1024 * 1024), b""))
            with view:
                if view.find(b'"') < 0:
                    return 0
                text = np.frombuffer(view, dtype=np.uint8)
                count = int(np.count_nonzero(text == ord('"')))
                del text  # the map closes only when no array holds it
                return count
    except OSError:
        return -1


def _arrow_csv(data: Path | bytes, str_columns: list[str], head: bytes) -> pd.DataFrame | None:
    """:func:`_arrow_table` as a pandas frame: the frame pandas would read, or None."""
    table = _arrow_table(data, str_columns, head)
    return None if table is None else table.to_pandas()


def _arrow_table(data: Path | bytes, str_columns: list[str], head: bytes) -> pa.Table | None:
    """The fast path for a large, clean UTF-8 CSV: pyarrow's multi-threaded reader, giving the table whose
    frame is the one pandas would read.

    None whenever the file is anything but plain (not UTF-8, a byte-order mark, a ragged row, an unclosed quote,
    a column pyarrow reads as dates or times): then pandas reads it and names every damaged line."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    quotes = -1 if head.startswith(b"\xef\xbb\xbf") or head[:2] in (b"\xff\xfe", b"\xfe\xff") else _quotes(data)
    if quotes < 0 or quotes % 2:
        return None  # an odd number of quotes: one is never closed, which pyarrow would read to the end
    # The reader reads NA words as missing itself, quoted or not, as pandas does: in text columns too
    # (strings_can_be_null), which the id columns must not do (they keep 'NA' as text), so those are read again,
    # alone, in the rare table where one holds an NA word or an empty cell.
    try:
        table = _arrow_read(pacsv, data, str_columns, newlines=quotes > 0, text_nulls=True)
        again = [c for c in str_columns if c in table.column_names and table.column(c).null_count]
        if again:
            ids = _arrow_read(pacsv, data, str_columns, newlines=quotes > 0, text_nulls=False, columns=again)
            for c in again:
                table = table.set_column(table.column_names.index(c), c, ids.column(c))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, UnicodeDecodeError, OSError):
        return None
    names = table.column_names
    if len(set(names)) != len(names) or any(not n for n in names):
        return None  # pandas renames duplicate and blank headers; let it
    plain = (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean, pa.types.is_string, pa.types.is_null)
    if not all(any(test(f.type) for test in plain) for f in table.schema):
        return None
    for i, f in enumerate(table.schema):
        if pa.types.is_null(f.type):
            table = table.set_column(i, f.name, pa.nulls(len(table), pa.float64()))
    return table


def _arrow_read(pacsv, data: Path | bytes, str_columns: list[str], newlines: bool, text_nulls: bool,
                columns: list[str] | None = None) -> pa.Table:
    """One read by pyarrow: ``str_columns`` as text, NA words missing (quoted too; in text columns only with
    ``text_nulls``), no dates or times; only ``columns`` when given."""
    import pyarrow as pa

    return pacsv.read_csv(  # without quotes no value holds a line break: blocks are then cut faster
        io.BytesIO(data) if isinstance(data, bytes) else str(data),
        parse_options=pacsv.ParseOptions(newlines_in_values=newlines),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in str_columns}, null_values=list(NA_TEXT),
            strings_can_be_null=text_nulls, quoted_strings_can_be_null=True, timestamp_parsers=[],
            include_columns=columns or []))


def _read_parquet(data: Path | bytes, file_name: str) -> RawTable:
    import pandas as pd

    try:
        frame = pd.read_parquet(io.BytesIO(data) if isinstance(data, bytes) else data)
    except Exception as err:  # pyarrow raises many types on corrupt files; report, never crash
        return RawTable(None, np.zeros(0, np.int64), "row",
                        [Problem(file_name, "", "", f"cannot be read as Parquet: {err}")])
    frame.columns = [str(c) for c in frame.columns]
    frame = frame.reset_index(drop=True)
    return RawTable(frame, 1, "row", [])


def _read_csv(data: Path | bytes, file_name: str, head: bytes, str_columns: list[str],
              problems: list[Problem]) -> RawTable:
    import pandas as pd

    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8", "cp1252", "latin-1"]
    empty = RawTable(None, np.zeros(0, np.int64), "line", problems)
    frame, skipped, nrows, lost = None, [], None, 0
    for enc in encodings:
        try:
            frame, skipped = _parse_csv(data, enc, str_columns, nrows)
        except UnicodeDecodeError as err:
            if enc == "utf-8":
                problems.append(Problem(file_name, "", "", f"is not UTF-8 text (byte {err.start}: "
                                                           f"{err.object[err.start]:#04x}); read it as Windows-1252 "
                                                           "(Western European): check accented text, or save the "
                                                           "file as UTF-8"))
            continue
        except pd.errors.EmptyDataError:
            problems.append(Problem(file_name, "", "", "is empty: expected a header line with column names"))
            return empty
        except pd.errors.ParserError as err:
            m = _EOF_RE.search(str(err))
            if m and nrows is None:
                row = int(m.group(1))  # 0-based line index of the opening quote
                problems.append(Problem(file_name, f"line {row + 1}", "",
                                        "a quote (\") opens here and is never closed: this line and every "
                                        "line after it are skipped; close or remove the quote"))
                nrows = max(row - 1, 0)
                try:
                    frame, skipped = _parse_csv(data, enc, str_columns, nrows)
                except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err2:
                    problems.append(Problem(file_name, "", "", f"cannot be read as CSV: {err2}"))
                    return empty
                lost = max(_data_lines(data) - len(frame) - len(skipped), 0)  # counted as read, not imported
            else:
                problems.append(Problem(file_name, "", "", f"cannot be read as CSV: {err}"))
                return empty
        break
    if frame is None:
        problems.append(Problem(file_name, "", "", "cannot be decoded as text (tried UTF-8, Windows-1252)"))
        return empty
    frame.columns = [str(c) for c in frame.columns]
    bad_lines = np.array(sorted(int(n) for n, _ in skipped), dtype=np.int64)
    for n, why in sorted(skipped, key=lambda s: int(s[0]))[:MAX_REPORTED]:
        problems.append(Problem(file_name, f"line {n}", "", f"skipped: {why.strip()} (a ragged row: check "
                                                            "commas and quotes)"))
    if len(skipped) > MAX_REPORTED:
        problems.append(Problem(file_name, f"{len(skipped) - MAX_REPORTED} more lines", "",
                                f"... and {len(skipped) - MAX_REPORTED} more ragged lines skipped"))
    n = len(frame)
    lines = np.arange(2, n + len(bad_lines) + 2, dtype=np.int64)
    if len(bad_lines):
        lines = np.setdiff1d(lines, bad_lines, assume_unique=True)
    if n == 0:
        problems.append(Problem(file_name, "", "", "has a header but no rows"))
    return RawTable(frame.reset_index(drop=True), lines[:n], "line", problems, len(skipped) + lost)


def _data_lines(data: Path | bytes) -> int:
    """Lines after the header in a text file (a last line without a newline counts)."""
    raw = data if isinstance(data, bytes) else Path(data).read_bytes()
    lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
    return max(lines - 1, 0)


def _parse_csv(data: Path | bytes, encoding: str, str_columns: list[str],
               nrows: int | None) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """One pandas read; ragged lines are skipped and returned as (line number, pandas' reason)."""
    import pandas as pd

    source = (lambda: io.BytesIO(data)) if isinstance(data, bytes) else (lambda: data)
    na: dict = {}
    if str_columns:  # text columns keep 'NA', 'null', 'None', 'nan' as text; the others read them as missing
        header = pd.read_csv(source(), encoding=encoding, nrows=0).columns
        na = {"keep_default_na": False, "na_values": {c: list(NA_TEXT) for c in header if c not in str_columns}}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = pd.read_csv(source(), encoding=encoding, on_bad_lines="warn", dtype={c: str for c in str_columns},
                            nrows=nrows, **na)
    return frame, [m for w in caught for m in _SKIP_RE.findall(str(w.message))]


