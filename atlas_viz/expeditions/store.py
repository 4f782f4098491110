"""The ranked expeditions kept on disk, keyed by the data's fingerprint, so every process reads them at once.

Ranking the gaps of the bundled data takes seconds; a Streamlit server, a second server process and the CLI
would each pay that again. The ranking is a pure function of the data (and of this code), so it is kept as a
:class:`~atlas_viz.io.derived.DerivedStore` entry: the gaps' fields and the expeditions frame as JSON, every
gap's cells (concatenated) as arrays.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from atlas_viz.expeditions.gaps import Gap
from atlas_viz.io.derived import DerivedStore

RANKING_VERSION = 7
"""Bump when the ranking's code changes what it computes, so old entries are never read."""
STORE = DerivedStore("expeditions", RANKING_VERSION)
TUPLE_COLUMNS = ("observables", "results", "neighbours")
_GAP_FIELDS = ("kind", "observables", "values", "parts", "score", "results", "neighbours", "runs", "n_runs",
               "stepped", "id", "result", "metric")


def _to_record(gaps: list[Gap], frame: pd.DataFrame) -> dict:
    records = [{f: getattr(g, f) for f in _GAP_FIELDS} for g in gaps]
    return {"gaps": records, "frame": json.loads(frame.to_json(orient="split", index=False))}


def _from_record(data: dict, cells: list[np.ndarray]) -> tuple[list[Gap], pd.DataFrame]:
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
    kept = STORE.load(STORE.key(data_dir, fingerprint, extra), arrays=True)
    if kept is None:
        return None
    record, arrays = kept
    try:
        flat, offsets = arrays["cells"].astype(np.int64), arrays["offsets"]
        cells = [flat[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]
        return _from_record(record, cells)
    except (ValueError, KeyError, TypeError, IndexError):
        return None


def keep_ranking(data_dir: Path | str, fingerprint: str, gaps: list[Gap], frame: pd.DataFrame,
                 extra: str = "") -> None:
    """Keep a ranking (never fails: a cache that cannot be written is only slower next time)."""
    lengths = np.array([len(g.cells) for g in gaps], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = np.concatenate([g.cells for g in gaps]).astype(np.int32) if gaps else np.zeros(0, np.int32)
    STORE.keep(STORE.key(data_dir, fingerprint, extra), _to_record(gaps, frame), {"cells": flat, "offsets": offsets})


def ranking(data_dir: Path | str, fingerprint: str, compute: Callable[[], tuple[list[Gap], pd.DataFrame]],
            extra: str = "") -> tuple[list[Gap], pd.DataFrame]:
    """The kept ranking of this data version, else ``compute()``'s, kept for next time."""
    kept = load_ranking(data_dir, fingerprint, extra)
    if kept is not None:
        return kept
    gaps, frame = compute()
    keep_ranking(data_dir, fingerprint, gaps, frame, extra)
    return gaps, frame
