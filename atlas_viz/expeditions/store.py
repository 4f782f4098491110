"""The ranked expeditions kept on disk, keyed by the data's fingerprint, so every process reads them at once.

Ranking the gaps of the bundled data takes seconds; a Streamlit server, a second server process and the CLI
would each pay that again. The ranking is a pure function of the data (and of this code), so it is kept under
the user's cache folder as two files named by a key of the data directory, its fingerprint and
:data:`RANKING_VERSION`: ``<key>.json`` (the gaps' fields and the expeditions frame) and ``<key>.npz`` (every
gap's cells, concatenated). Both are written atomically, the cells first; a damaged or missing entry is simply
computed again. Nothing in them is executed (no pickle).
"""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from atlas_viz.expeditions.gaps import Gap
from atlas_viz.io.yamlio import atomic_write_bytes, atomic_write_text, parse_cache_dir

RANKING_VERSION = 7
"""Bump when the ranking's code changes what it computes, so old entries are never read."""
TUPLE_COLUMNS = ("observables", "results", "neighbours")
_GAP_FIELDS = ("kind", "observables", "values", "parts", "score", "results", "neighbours", "runs", "n_runs",
               "stepped", "id", "result", "metric")


def ranking_cache_dir() -> Path:
    return parse_cache_dir().parent / "expeditions"


def _key(data_dir: Path | str, fingerprint: str, extra: str) -> str:
    text = f"{RANKING_VERSION}|{Path(data_dir).resolve()}|{fingerprint}|{extra}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _to_json(gaps: list[Gap], frame: pd.DataFrame) -> str:
    records = [{f: getattr(g, f) for f in _GAP_FIELDS} for g in gaps]
    return json.dumps({"gaps": records, "frame": json.loads(frame.to_json(orient="split", index=False))},
                      ensure_ascii=False)


def _from_json(text: str, cells: list[np.ndarray]) -> tuple[list[Gap], pd.DataFrame]:
    data = json.loads(text)
    gaps = []
    for rec, c in zip(data["gaps"], cells, strict=True):
        g = Gap(rec["kind"], tuple(rec["observables"]), {a: tuple(v) for a, v in rec["values"].items()}, c,
                rec["parts"], rec["score"], tuple(rec["results"]), tuple(rec["neighbours"]), tuple(rec["runs"]),
                rec["n_runs"], rec["stepped"], rec["id"], rec["result"], rec["metric"])
        gaps.append(g)
    f = data["frame"]
    frame = pd.DataFrame(f["data"], columns=f["columns"])
    for col in TUPLE_COLUMNS:
        if col in frame:
            frame[col] = frame[col].map(tuple)
    if "runnable" in frame:
        frame["runnable"] = frame["runnable"].astype(bool)
    return gaps, frame


def load_ranking(data_dir: Path | str, fingerprint: str, extra: str = "") -> tuple[list[Gap], pd.DataFrame] | None:
    """The kept ranking of this data version, or None when there is none (or it cannot be read)."""
    key = _key(data_dir, fingerprint, extra)
    folder = ranking_cache_dir()
    try:
        text = (folder / f"{key}.json").read_text(encoding="utf-8")
        with np.load(folder / f"{key}.npz", allow_pickle=False) as z:
            flat, offsets = z["cells"], z["offsets"]
        flat = flat.astype(np.int64)
        cells = [flat[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]
        return _from_json(text, cells)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def keep_ranking(data_dir: Path | str, fingerprint: str, gaps: list[Gap], frame: pd.DataFrame,
                 extra: str = "") -> None:
    """Keep a ranking (never fails: a cache that cannot be written is only slower next time)."""
    key = _key(data_dir, fingerprint, extra)
    folder = ranking_cache_dir()
    lengths = np.array([len(g.cells) for g in gaps], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = np.concatenate([g.cells for g in gaps]).astype(np.int32) if gaps else np.zeros(0, np.int32)
    buf = io.BytesIO()
    np.savez_compressed(buf, cells=flat, offsets=offsets)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(folder / f"{key}.npz", buf.getvalue())
        atomic_write_text(folder / f"{key}.json", _to_json(gaps, frame), durable=False)
    except (OSError, TypeError, ValueError):
        pass


def ranking(data_dir: Path | str, fingerprint: str, compute: Callable[[], tuple[list[Gap], pd.DataFrame]],
            extra: str = "") -> tuple[list[Gap], pd.DataFrame]:
    """The kept ranking of this data version, else ``compute()``'s, kept for next time."""
    kept = load_ranking(data_dir, fingerprint, extra)
    if kept is not None:
        return kept
    gaps, frame = compute()
    keep_ranking(data_dir, fingerprint, gaps, frame, extra)
    return gaps, frame
