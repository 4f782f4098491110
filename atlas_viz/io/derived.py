"""Derived data kept on disk between processes, keyed by the fingerprint of the files it is computed from.

A Streamlit server process, a second one and the CLI would each compute the same checks, run summary or
ranking again; anything that is a pure function of the data (and of this code) is instead kept under the
user's cache folder, in a folder per kind, as ``<key>.json`` (a record) and, where there are arrays,
``<key>.npz``. The key hashes the kind's version, the data directory and its fingerprint, so a changed file
or a bumped version never reads an old entry. Both files are written atomically, the arrays first; a damaged
or missing entry is computed again. Nothing in them is executed (JSON and ``np.load(allow_pickle=False)``).
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from atlas_viz.io.atomic import atomic_write
from atlas_viz.io.yamlio import parse_cache_dir


@dataclass(frozen=True)
class DerivedStore:
    """One kind of derived data (``kind`` names its folder); bump ``version`` when its code changes what
    it computes."""

    kind: str
    version: int

    @property
    def folder(self) -> Path:
        return parse_cache_dir().parent / self.kind

    def key(self, data_dir: Path | str | None, fingerprint: str, extra: str = "") -> str:
        """The entry of ``fingerprint`` in ``data_dir`` (None: a content hash, valid in any folder)."""
        where = "" if data_dir is None else Path(data_dir).resolve()
        text = f"{self.kind}|{self.version}|{where}|{fingerprint}|{extra}"
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def load(self, key: str, arrays: bool = False) -> tuple[object, dict[str, np.ndarray]] | None:
        """The kept record (and arrays when ``arrays``), or None when there is none or it cannot be read."""
        try:
            record = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            if not arrays:
                return record, {}
            with np.load(self.folder / f"{key}.npz", allow_pickle=False) as z:
                return record, {name: z[name] for name in z.files}
        except (OSError, ValueError, KeyError, TypeError, EOFError):
            return None

    def keep(self, key: str, record: object, arrays: dict[str, np.ndarray] | None = None,
             max_entries: int | None = None) -> bool:
        """Keep a record (and arrays); never fails: a cache that cannot be written is only slower next time.
        With ``max_entries``, the least recently written entries beyond it are removed."""
        try:
            text = json.dumps(record, ensure_ascii=False, allow_nan=True).encode("utf-8")
            self.folder.mkdir(parents=True, exist_ok=True)
            if arrays is not None:
                buf = io.BytesIO()
                np.savez_compressed(buf, **arrays)
                atomic_write(self.folder / f"{key}.npz", lambda fh: fh.write(buf.getvalue()), durable=False)
            atomic_write(self.folder / f"{key}.json", lambda fh: fh.write(text), durable=False)
        except (OSError, TypeError, ValueError):
            return False
        if max_entries is not None:
            self.prune(max_entries)
        return True

    def prune(self, max_entries: int) -> None:
        """Remove the oldest entries beyond ``max_entries`` (by modification time); a file another process
        removed first is skipped."""
        entries = []
        for f in self.folder.glob("*.json"):
            try:
                entries.append((f.stat().st_mtime_ns, f))
            except OSError:
                continue
        for _, f in sorted(entries, reverse=True)[max_entries:]:
            for old in (f, f.with_suffix(".npz")):
                try:
                    old.unlink()
                except OSError:
                    pass
