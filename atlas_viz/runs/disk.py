"""A run source on disk: locked writes of a base table and appended parts, compaction, lock-free reads.

See :mod:`atlas_viz.runs.store` for the layout of a source folder; this module writes and reads it.
Every writer holds the source's :class:`~atlas_viz.io.atomic.FolderLock`; ``source.yaml`` is written last,
as the commit record, so readers need no lock.
"""
from __future__ import annotations

import re
import secrets
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import yaml

from atlas_viz.core.problems import Problem
from atlas_viz.io.atomic import FolderLock, atomic_write, atomic_write_text, clean_temporaries
from atlas_viz.io.paths import PARTS_DIR, RUNS_DIR, SOURCE_FILE, TABLE_FILE
from atlas_viz.io.yamlio import read_yaml
from atlas_viz.runs import idindex

if TYPE_CHECKING:
    import pandas as pd

DICTIONARY_PROBE = 10_000
"""Rows looked at to decide whether a numeric column is dictionary encoded in Parquet."""
SLUG_RE = re.compile(r"[^a-z0-9_]+")
MAX_PARTS = 32
"""Parts a source may have before an append folds them (into one part, or into the base when they hold
as many rows as it does: so the base is rewritten only after as many rows again were appended)."""
BASE_KEY = b"atlas.base"
"""Parquet metadata key of a base table's token; ``source.yaml`` names the token of its base."""
READ_RETRIES = 3
"""Times a reader looks again when a compaction removed a part while it read."""


def slugify(name: str) -> str:
    """A safe folder name: lowercase letters, digits and _, never a path."""
    slug = SLUG_RE.sub("_", str(name).lower()).strip("_")[:60]
    return slug or "runs"


def source_dir(data_dir: Path | str, slug: str) -> Path:
    return Path(data_dir) / RUNS_DIR / slugify(slug)


def source_exists(data_dir: Path | str, slug: str) -> bool:
    """Whether a run source of this name is stored (its ``source.yaml`` exists)."""
    return (source_dir(data_dir, slug) / SOURCE_FILE).is_file()


def save_runs(data_dir: Path | str, slug: str, table: Any, meta: dict, append: bool = False,
              unique_ids: bool = False) -> Path:
    """Store runs under the source's lock: replace the source (a new base table), or with ``append`` add
    them as a new part (rows whose ``run_id`` is already stored are replaced). Returns the source folder.

    ``meta`` becomes ``source.yaml``; on append it updates the stored one, and ``metrics`` is the union of
    both (appending runs that measure other metrics keeps the old ones). ``rows`` is always the number of
    distinct runs stored. ``table`` is a pandas frame or a pyarrow Table (stored as it is, without pandas);
    ``unique_ids`` says its ``run_id`` is text, each id once (as an import returns it), so it is not checked.
    """
    folder = source_dir(data_dir, slug)
    table = table if unique_ids else _text_ids(table)
    with FolderLock(folder):
        old = _committed_meta(folder) if append else None
        if append and old is None and (folder / SOURCE_FILE).is_file():
            raise OSError(f"{folder / SOURCE_FILE}: cannot be read, so nothing is appended to it (that would "
                          "replace the source); fix the file or import without appending")
        _clean(folder, old)
        if old is None:
            idindex.drop(folder)
            token = secrets.token_hex(8)
            atomic_write(folder / TABLE_FILE, lambda fh: write_parquet(table, fh, token))
            new = {**_public(meta), "rows": int(len(table)), "parts": [], "base": token}
        else:
            name = f"{time.time_ns():020d}-{secrets.token_hex(4)}.parquet"
            atomic_write(folder / PARTS_DIR / name, lambda fh: write_parquet(table, fh))
            new = {**old, **_public(meta), "parts": [*(old.get("parts") or []), name]}
            added = idindex.add_ids(folder, old, new, _id_list(table), lambda: _stored_ids(folder, old))
            new["rows"] = int(old.get("rows", 0)) + added
            new["metrics"] = list(dict.fromkeys([*(old.get("metrics") or []), *(meta.get("metrics") or [])]))
        _commit(folder, new)
        if len(new["parts"]) > MAX_PARTS:
            try:
                _fold(folder, new)
            except Exception as err:  # the runs are committed; folding waits for the next append or compact-runs
                warnings.warn(f"{folder}: its parts could not be folded ({err}); they stay as they are", stacklevel=2)
    return folder


def compact_runs(data_dir: Path | str, slug: str) -> int:
    """Fold every part of a source into its base table, under its lock; returns the rows stored."""
    folder = source_dir(data_dir, slug)
    if not (folder / SOURCE_FILE).is_file():
        raise FileNotFoundError(f"{folder}: no run source here (no {SOURCE_FILE})")
    with FolderLock(folder):
        meta = _committed_meta(folder) or {}
        _clean(folder, meta)
        return _rewrite_base(folder, meta)


def _rewrite_base(folder: Path, meta: dict) -> int:
    """Write base and parts as one new base table, then commit it (the caller holds the lock)."""
    table = _read_committed(folder, meta)
    token = secrets.token_hex(8)
    atomic_write(folder / TABLE_FILE, lambda fh: write_parquet(table, fh, token))
    new = {**meta, "rows": int(len(table)), "parts": [], "base": token}
    _commit(folder, new)
    idindex.move_generation(folder, meta, new)
    _clean(folder, {"parts": []})
    return int(len(table))


def _text_ids(table: Any) -> Any:
    """``run_id`` as text, each id once (the last row of an id wins, as across parts)."""
    if _is_arrow(table):
        import pyarrow as pa
        import pyarrow.compute as pc

        ids = table.column("run_id")
        if not pa.types.is_string(ids.type):
            table = _text_ids(table.to_pandas())  # as the frame would be (str() of each id)
            return pa.Table.from_pandas(table, preserve_index=False)
        if pc.count_distinct(ids, mode="all").as_py() < len(ids):
            return pa.Table.from_pandas(_text_ids(table.to_pandas()), preserve_index=False)
        return table
    import pandas as pd

    if not pd.api.types.is_string_dtype(table["run_id"]):
        table = table.assign(run_id=table["run_id"].astype(str))
    if table["run_id"].duplicated().any():
        table = table.drop_duplicates("run_id", keep="last").reset_index(drop=True)
    return table


def _is_arrow(table: object) -> bool:
    return type(table).__module__.startswith("pyarrow")


def _id_list(table: Any) -> list:
    return table.column("run_id").to_pylist() if _is_arrow(table) else table["run_id"]


def _public(meta: dict) -> dict:
    """A caller's metadata without the keys the store keeps itself."""
    return {k: v for k, v in meta.items() if k not in ("parts", "base", "rows")}


def _committed_meta(folder: Path) -> dict | None:
    """The stored ``source.yaml`` (None when there is none or it is unusable)."""
    if not (folder / SOURCE_FILE).is_file():
        return None
    meta, problems = read_yaml(folder / SOURCE_FILE)
    return meta if isinstance(meta, dict) and not problems else None


def _commit(folder: Path, meta: dict) -> None:
    atomic_write_text(folder / SOURCE_FILE, yaml.safe_dump(meta, sort_keys=False, allow_unicode=True))


def _clean(folder: Path, meta: dict | None) -> None:
    """Remove what interrupted writers left: temporary files, and parts that no ``source.yaml`` lists.
    Only called under the source's lock, so no other writer is half-way."""
    clean_temporaries(folder, older_than=0)
    listed = set((meta or {}).get("parts") or [])
    parts = folder / PARTS_DIR
    if parts.is_dir():
        clean_temporaries(parts, older_than=0)
        for p in parts.glob("*.parquet"):
            if p.name not in listed:
                p.unlink(missing_ok=True)


def _base_current(folder: Path, meta: dict) -> bool:
    """Whether the base table is the one ``source.yaml`` names (a writer killed between writing a new base
    and its ``source.yaml`` leaves a newer base: its listed parts are then not the base's)."""
    import pyarrow.parquet as pq

    if "base" not in meta:
        return True  # written before bases had tokens
    stored = (pq.read_schema(folder / TABLE_FILE).metadata or {}).get(BASE_KEY, b"").decode()
    return stored == str(meta["base"])


def _read_committed(folder: Path, meta: dict, problems: list[Problem] | None = None) -> pd.DataFrame:
    """Base table plus the parts ``meta`` lists, later rows replacing earlier ones with the same run_id.

    With ``problems`` a part that cannot be read is reported there and skipped (the other runs still
    load); without, it raises (a compaction must not fold a source it cannot read whole).
    """
    import pandas as pd

    base = pd.read_parquet(folder / TABLE_FILE)
    parts = list(meta.get("parts") or []) if _base_current(folder, meta) else []
    if not parts:
        return base
    frames = [base]
    for p in parts:
        try:
            frames.append(pd.read_parquet(folder / PARTS_DIR / p))
        except FileNotFoundError:
            raise  # a compaction removed it meanwhile: the reader reads the source again
        except Exception as err:  # pyarrow raises many types on a damaged file
            if problems is None:
                raise
            problems.append(Problem(f"{RUNS_DIR}/{folder.name}/{PARTS_DIR}/{p}", "", "",
                                    f"cannot be read ({err}); its runs are left out: remove it from 'parts' in "
                                    f"{SOURCE_FILE}, or import them again"))
    table = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    return table.drop_duplicates("run_id", keep="last").reset_index(drop=True)


def _stored_ids(folder: Path, meta: dict) -> Iterator[str]:
    """Every stored run id of a source (base and parts): only the ``run_id`` columns are read."""
    import pyarrow.parquet as pq

    files = [folder / TABLE_FILE] if (folder / TABLE_FILE).is_file() else []
    if files and _base_current(folder, meta):
        files += [folder / PARTS_DIR / p for p in meta.get("parts") or []]
    for f in files:
        yield from (str(v) for v in pq.read_table(f, columns=["run_id"])["run_id"].to_pylist())


def _fold(folder: Path, meta: dict) -> None:
    """Fold the parts of a source (caller holds the lock): into one part while they hold fewer rows than
    the base, else into the base, so each stored row is rewritten a bounded number of times on average."""
    import pyarrow.parquet as pq

    parts = list(meta["parts"])
    in_parts = sum(pq.read_metadata(folder / PARTS_DIR / p).num_rows for p in parts)
    if in_parts >= pq.read_metadata(folder / TABLE_FILE).num_rows:
        _rewrite_base(folder, meta)
        return
    import pandas as pd

    frames = [pd.read_parquet(folder / PARTS_DIR / p) for p in parts]
    merged = pd.concat(frames, ignore_index=True).drop_duplicates("run_id", keep="last")
    name = f"{time.time_ns():020d}-{secrets.token_hex(4)}.parquet"
    atomic_write(folder / PARTS_DIR / name, lambda fh: write_parquet(merged, fh))
    _commit(folder, {**meta, "parts": [name]})
    idindex.move_generation(folder, meta, {**meta, "parts": [name]})
    _clean(folder, {"parts": [name]})


def write_parquet(table: Any, where: BinaryIO | Path, token: str | None = None) -> None:
    """Write a frame (or a pyarrow Table) as Parquet, fast: dictionary encoding only where it pays, no statistics.

    Categories are dictionary encoded; so are numbers with few distinct values and text that repeats (both
    judged on the first rows). A dictionary over a million distinct floats or ids (which Parquet gives up after
    its first megabyte, having hashed them), and per-page statistics, would cost time for nothing. ``token``
    marks a base table (see :data:`BASE_KEY`).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from atlas_viz.runs.columns import arrow_call, arrow_options

    if _is_arrow(table):
        arrow = table
    else:
        try:
            arrow = pa.Table.from_pandas(table, preserve_index=False)
        except (pa.ArrowTypeError, pa.ArrowInvalid):  # a column mixing kinds (text and numbers across parts)
            table = table.assign(**{c: table[c].map(_text_or_missing) for c in table.columns
                                    if table[c].dtype == object})
            arrow = pa.Table.from_pandas(table, preserve_index=False)
    head = arrow.slice(0, DICTIONARY_PROBE)
    valid = arrow_options("CountOptions", mode="only_valid")

    def pays(f) -> bool:
        numeric = pa.types.is_floating(f.type) or pa.types.is_integer(f.type)
        if not (numeric or pa.types.is_string(f.type) or pa.types.is_large_string(f.type)):
            return True  # categories, and anything else Parquet may hold
        distinct = arrow_call("count_distinct", head.column(f.name), options=valid).as_py()
        return distinct <= (DICTIONARY_PROBE / 100 if numeric else len(head) * 0.9)

    dictionary = [f.name for f in arrow.schema if pays(f)]
    if token:
        arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), BASE_KEY: token.encode()})
    pq.write_table(arrow, where, use_dictionary=dictionary or False, write_statistics=False)


def _text_or_missing(v: object) -> str | None:
    """A cell as text (None and NaN stay missing): for a column whose parts hold different kinds."""
    if v is None or (isinstance(v, float) and v != v):
        return None
    return v if isinstance(v, str) else str(v)


def read_source(folder: Path) -> tuple[dict, pd.DataFrame | None, list[Problem]]:
    """(metadata, table, problems) of one stored source; the table is None when the source cannot be read
    (a damaged part only leaves its own runs out, and is among the problems).

    Needs no lock: ``source.yaml`` names only complete files, and when a compaction removes a part while
    it is read the source is read again (up to :data:`READ_RETRIES` times).
    """
    slug = folder.name
    where = f"{RUNS_DIR}/{slug}/{SOURCE_FILE}"
    for attempt in range(READ_RETRIES):
        meta, meta_problems = read_yaml(folder / SOURCE_FILE)
        if meta_problems or not isinstance(meta, dict):
            msgs = [p.message for p in meta_problems] or ["must be a map with name, license and metrics"]
            return {}, None, [Problem(where, "", "", "; ".join(msgs))]
        problems: list[Problem] = []
        try:
            return meta, _read_committed(folder, meta, problems), problems
        except FileNotFoundError as err:
            if attempt + 1 < READ_RETRIES and (folder / TABLE_FILE).is_file():
                continue  # a writer folded the parts meanwhile: read its new source.yaml
            return {}, None, [Problem(f"{RUNS_DIR}/{slug}", "", "", f"cannot be read: {err}")]
        except Exception as err:  # a corrupt table must not sink the other sources; pyarrow raises many types
            return {}, None, [Problem(f"{RUNS_DIR}/{slug}/{TABLE_FILE}", "", "", f"cannot be read: {err}")]
    return {}, None, [Problem(f"{RUNS_DIR}/{slug}", "", "", "kept changing while it was read")]


def read_source_table(data_dir: Path | str, slug: str) -> pd.DataFrame:
    """Every stored run of one source as one table (base and parts); raises OSError when any is unreadable."""
    _meta, table, problems = read_source(source_dir(data_dir, slug))
    if problems:
        raise OSError("; ".join(map(str, problems)))
    return table
