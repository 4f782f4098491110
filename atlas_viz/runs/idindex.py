"""The run ids a source holds, indexed, so an append counts the runs it adds without reading the table.

``DATA/runs/<source>/ids.sqlite`` is a B-tree of the source's run ids (SQLite, from the standard library)
plus the *generation* it describes: the base table's token and the list of parts. Only writers touch it,
under the source's lock. An append inserts its ids and learns how many were new in time that grows with
its own rows (and the logarithm of the stored ones), never with a scan of what is stored. When the
generation does not match ``source.yaml`` (a replaced source, a killed writer, a source written before
the index existed) the index is rebuilt from the run_id columns once. It is a cache: deleting it is safe.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

INDEX_FILE = "ids.sqlite"
_BATCH = 50_000


def generation(meta: dict) -> str:
    """What the index must describe: the base table's token and the parts, as ``source.yaml`` lists them."""
    return json.dumps([meta.get("base"), list(meta.get("parts") or [])])


def _open(folder: Path) -> sqlite3.Connection:
    con = sqlite3.connect(folder / INDEX_FILE, isolation_level=None)
    con.execute("CREATE TABLE IF NOT EXISTS ids (run_id TEXT PRIMARY KEY) WITHOUT ROWID")
    con.execute("CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT)")
    return con


def _insert(con: sqlite3.Connection, ids: Iterable[str]) -> int:
    """Insert ids (in batches); returns how many were not there."""
    before = con.total_changes
    batch: list[tuple[str]] = []
    for rid in ids:
        batch.append((rid,))
        if len(batch) >= _BATCH:
            con.executemany("INSERT OR IGNORE INTO ids VALUES (?)", batch)
            batch = []
    if batch:
        con.executemany("INSERT OR IGNORE INTO ids VALUES (?)", batch)
    return con.total_changes - before


def add_ids(folder: Path, old_meta: dict, new_meta: dict, ids: Iterable[str],
            stored_ids: Callable[[], Iterable[str]]) -> int:
    """Record ``ids`` as stored, moving the index from ``old_meta``'s generation to ``new_meta``'s; returns
    how many of them were not stored before. ``stored_ids()`` yields every stored id of ``old_meta``'s
    generation (called only when the index must be rebuilt). The caller holds the source's lock."""
    con = _open(folder)
    try:
        con.execute("BEGIN IMMEDIATE")
        row = con.execute("SELECT value FROM state WHERE key = 'generation'").fetchone()
        if row is None or row[0] != generation(old_meta):
            con.execute("DELETE FROM ids")
            _insert(con, stored_ids())
        added = _insert(con, ids)
        con.execute("INSERT OR REPLACE INTO state VALUES ('generation', ?)", (generation(new_meta),))
        con.execute("COMMIT")
        return added
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()


def move_generation(folder: Path, old_meta: dict, new_meta: dict) -> None:
    """The same ids under a new generation (parts folded): kept when the index described ``old_meta``."""
    if not (folder / INDEX_FILE).is_file():
        return
    con = _open(folder)
    try:
        con.execute("UPDATE state SET value = ? WHERE key = 'generation' AND value = ?",
                    (generation(new_meta), generation(old_meta)))
    finally:
        con.close()


def drop(folder: Path) -> None:
    """Forget the index (the source was replaced): the next append rebuilds it."""
    (folder / INDEX_FILE).unlink(missing_ok=True)
    for extra in ("-journal", "-wal", "-shm"):
        (folder / (INDEX_FILE + extra)).unlink(missing_ok=True)
