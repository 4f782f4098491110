"""Experiment runs: the on-disk store, loading, and placement on the terrain.

A *run source* is one folder ``DATA/runs/<slug>/`` holding

* ``runs.parquet``: the base table, one row per run: ``run_id`` (text, unique in the source), one column
  per axis holding a value name or null (unknown), metric columns (floats, named in ``source.yaml``), and
  raw configuration columns named ``config.<name>``;
* ``parts/<time>-<random>.parquet``: rows appended since the base was written, same columns (any subset);
  a later part replaces the rows of earlier ones (and of the base) with the same ``run_id``;
* ``source.yaml``: ``name``, ``url``, ``license``, ``metrics`` (list), ``observables`` (default
  generalization and training_dynamics), ``imported`` (ISO time), ``rows``, ``provenance`` (free map),
  the ``mapping`` used, and ``parts``: the part files that belong to the source, in order.

Every writer (an import, an append, an expedition, a compaction) holds the source's lock
(:class:`atlas_viz.io.atomic.FolderLock`); readers never wait. ``source.yaml`` is the commit record: it is
written last, atomically, so a part or a base table appears in the source only once it is complete, and a
killed writer leaves files that the next writer removes. An append writes only its own rows (a new part)
and counts the runs it adds in an index of the source's ids (:mod:`atlas_viz.runs.idindex`), so its cost
does not grow with the rows stored and ``rows`` stays exact; beyond
:data:`MAX_PARTS` parts they are folded together (:func:`compact_runs`).
Runs whose table leaves an axis out are placed at that axis's ``default`` value from ``axes.yaml`` and list
the axis in ``imputed``.
"""
from __future__ import annotations

import re
import secrets
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import yaml

from atlas_viz.terrain.axes import Axes
from atlas_viz.core.problems import Problem
from atlas_viz.coverage.regions import stable_jitter
from atlas_viz.io.atomic import FolderLock, atomic_write, atomic_write_text, clean_temporaries
from atlas_viz.io.paths import PARTS_DIR, RUNS_DIR, SOURCE_FILE, TABLE_FILE
from atlas_viz.io.yamlio import read_yaml
from atlas_viz.runs import idindex
from atlas_viz.runs.impute import impute_codes

__all__ = ["RUNS_DIR", "TABLE_FILE", "SOURCE_FILE", "PARTS_DIR"]  # file names, re-exported for callers
DICTIONARY_PROBE = 10_000
"""Rows looked at to decide whether a numeric column is dictionary encoded in Parquet."""
CONFIG_PREFIX = "config."
DEFAULT_OBSERVABLES = ("generalization", "training_dynamics")
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


@dataclass
class RunSet:
    """All runs of a data directory: one frame, per-source metadata and the problems met."""

    runs: pd.DataFrame
    sources: dict[str, dict] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def metrics(self) -> list[str]:
        seen: dict[str, None] = {}
        for meta in self.sources.values():
            for m in meta.get("metrics", []):
                seen[m] = None
        return list(seen)


def source_dir(data_dir: Path | str, slug: str) -> Path:
    return Path(data_dir) / RUNS_DIR / slugify(slug)


def source_exists(data_dir: Path | str, slug: str) -> bool:
    """Whether a run source of this name is stored (its ``source.yaml`` exists)."""
    return (source_dir(data_dir, slug) / SOURCE_FILE).is_file()


def save_runs(data_dir: Path | str, slug: str, table: pd.DataFrame, meta: dict, append: bool = False) -> Path:
    """Store runs under the source's lock: replace the source (a new base table), or with ``append`` add
    them as a new part (rows whose ``run_id`` is already stored are replaced). Returns the source folder.

    ``meta`` becomes ``source.yaml``; on append it updates the stored one, and ``metrics`` is the union of
    both (appending runs that measure other metrics keeps the old ones). ``rows`` is always the number of
    distinct runs stored.
    """
    folder = source_dir(data_dir, slug)
    table = _text_ids(table)
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
            added = idindex.add_ids(folder, old, new, table["run_id"], lambda: _stored_ids(folder, old))
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


def _text_ids(table: pd.DataFrame) -> pd.DataFrame:
    """``run_id`` as text, each id once (the last row of an id wins, as across parts)."""
    if not pd.api.types.is_string_dtype(table["run_id"]):
        table = table.assign(run_id=table["run_id"].astype(str))
    if table["run_id"].duplicated().any():
        table = table.drop_duplicates("run_id", keep="last").reset_index(drop=True)
    return table


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
    frames = [pd.read_parquet(folder / PARTS_DIR / p) for p in parts]
    merged = pd.concat(frames, ignore_index=True).drop_duplicates("run_id", keep="last")
    name = f"{time.time_ns():020d}-{secrets.token_hex(4)}.parquet"
    atomic_write(folder / PARTS_DIR / name, lambda fh: write_parquet(merged, fh))
    _commit(folder, {**meta, "parts": [name]})
    idindex.move_generation(folder, meta, {**meta, "parts": [name]})
    _clean(folder, {"parts": [name]})


def write_parquet(table: pd.DataFrame, where: BinaryIO | Path, token: str | None = None) -> None:
    """Write a frame as Parquet, fast: dictionary encoding only where it pays, no statistics.

    Text, categories and numbers with few distinct values (judged on the first rows) are dictionary
    encoded; a dictionary over a million distinct floats, and per-page statistics, would cost half
    the write time for nothing. ``token`` marks a base table (see :data:`BASE_KEY`).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        arrow = pa.Table.from_pandas(table, preserve_index=False)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # a column mixing kinds (text and numbers across parts)
        table = table.assign(**{c: table[c].map(_text_or_missing) for c in table.columns if table[c].dtype == object})
        arrow = pa.Table.from_pandas(table, preserve_index=False)
    head = table.head(DICTIONARY_PROBE)
    dictionary = [f.name for f in arrow.schema
                  if not (pa.types.is_floating(f.type) or pa.types.is_integer(f.type))
                  or head[f.name].nunique() <= DICTIONARY_PROBE // 100]
    if token:
        arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), BASE_KEY: token.encode()})
    pq.write_table(arrow, where, use_dictionary=dictionary or False, write_statistics=False)


def _text_or_missing(v: object) -> str | None:
    """A cell as text (None and NaN stay missing): for a column whose parts hold different kinds."""
    if v is None or (isinstance(v, float) and v != v):
        return None
    return v if isinstance(v, str) else str(v)


def load_runs(data_dir: Path | str, axes: Axes) -> RunSet:
    """Read every run source (base table and its parts); a broken source is reported and skipped."""
    frames, sources, problems = [], {}, []
    root = Path(data_dir) / RUNS_DIR
    for meta_path in sorted(root.glob(f"*/{SOURCE_FILE}")):
        slug = meta_path.parent.name
        meta, table, source_problems = read_source(meta_path.parent)
        problems += source_problems
        if table is None:
            continue
        table = table.copy()
        table.insert(0, "source", slug)
        table.insert(0, "id", slug + ":" + table["run_id"].astype(str))
        frames.append(table)
        sources[slug] = meta
    if not frames:
        return RunSet(empty_runs(axes), sources, problems)
    runs = pd.concat(frames, ignore_index=True)
    for ax in axes.names:
        if ax not in runs:
            runs[ax] = None
    return RunSet(runs, sources, problems)


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


def empty_runs(axes: Axes) -> pd.DataFrame:
    cols = ["id", "source", "run_id", *axes.names]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})


def cell_lookup(axes: Axes) -> np.ndarray:
    """Array from a flat index of value codes (over the full product of axes) to cell id, -1 if impossible:
    the axes' one grid index (``Axes.grid``), flattened."""
    return axes.grid.ravel()


def run_codes(runs: pd.DataFrame, axes: Axes, lookup: np.ndarray | None = None) -> tuple[np.ndarray, pd.Series]:
    """Value codes of each run and the imputed axes per run: an unknown axis takes its default, or the
    possible value nearest to it when the default makes an impossible cell (:func:`impute_codes`)."""
    codes = np.empty((len(runs), len(axes.axes)), dtype=np.int64)
    imputed = pd.Series([""] * len(runs), index=runs.index, dtype=object)
    for j, ax in enumerate(axes.axes):
        col = runs[ax.name] if ax.name in runs else pd.Series([None] * len(runs), index=runs.index)
        cat = pd.Categorical(col, categories=list(ax.value_names))
        c = cat.codes.astype(np.int64)
        missing = c < 0
        if missing.any():
            imputed[missing] = imputed[missing] + (ax.name + ",")
        codes[:, j] = c
    if (codes < 0).any():
        codes, _ = impute_codes(axes, codes, cell_lookup(axes) if lookup is None else lookup)
    return codes, imputed.str.rstrip(",")


def place_runs(runs: pd.DataFrame, axes: Axes, terrain: pd.DataFrame, lookup: np.ndarray | None = None,
               jitter: float = 0.03) -> tuple[pd.DataFrame, list[Problem]]:
    """Add ``cell``, ``x``, ``y`` and ``imputed`` to runs (a new frame); unplaceable runs are reported and dropped."""
    if not len(runs):
        out = runs.copy()
        for c, dt in (("cell", np.int64), ("x", float), ("y", float), ("imputed", object)):
            out[c] = pd.Series(dtype=dt)
        return out, []
    lookup = cell_lookup(axes) if lookup is None else lookup
    codes, imputed = run_codes(runs, axes, lookup)
    sizes = [len(a.values) for a in axes.axes]
    ok = (codes >= 0).all(axis=1)
    cell = np.full(len(runs), -1, dtype=np.int64)
    cell[ok] = lookup[np.ravel_multi_index(codes[ok].T, sizes)]
    out = runs.copy()
    out["cell"] = cell
    out["imputed"] = imputed.to_numpy()
    problems = []
    bad = cell < 0
    if bad.any():
        for rid in out.loc[bad, "id"].head(20):
            problems.append(Problem(RUNS_DIR, str(rid), "", "cannot be placed: an axis with no default is unknown, "
                                                             "or the combination is impossible in axes.yaml"))
        if bad.sum() > 20:
            problems.append(Problem(RUNS_DIR, "", "", f"... and {int(bad.sum()) - 20} more runs that cannot be placed"))
        out = out[~bad].copy()
    xy = terrain[["x", "y"]].to_numpy()[out["cell"].to_numpy()]
    out["x"] = xy[:, 0] + stable_jitter(out["id"], jitter, "run")[:, 0] if len(out) < 200_000 else xy[:, 0]
    out["y"] = xy[:, 1] + stable_jitter(out["id"], jitter, "run")[:, 1] if len(out) < 200_000 else xy[:, 1]
    return out, problems


RUN_OBSERVABLES = "observables"
"""Optional run column: the observables this run observes, comma-separated (the source's list otherwise)."""


def run_cells(placed: pd.DataFrame, sources: dict[str, dict]) -> pd.DataFrame:
    """(cell, observable) pairs observed by runs, for coverage: each run counts for its own ``observables``
    column where it has one (an expedition's lr sweep observes transfer, its sharpness runs the landscape), else
    for its source's ``observables``."""
    if not len(placed):
        return pd.DataFrame({"cell": pd.Series(dtype=np.int64), "observable": pd.Series(dtype=object)})
    parts = []
    for slug, grp in placed.groupby("source"):
        own = grp[RUN_OBSERVABLES] if RUN_OBSERVABLES in grp else pd.Series(None, index=grp.index, dtype=object)
        has_own = own.notna().to_numpy() & (own.astype(str).str.strip() != "").to_numpy()
        cells = np.unique(grp["cell"].to_numpy()[~has_own])
        for obs in (sources.get(slug, {}).get("observables") or DEFAULT_OBSERVABLES) if len(cells) else ():
            parts.append(pd.DataFrame({"cell": cells, "observable": obs}))
        if has_own.any():
            pairs = pd.DataFrame({"cell": grp["cell"].to_numpy()[has_own], "observable": own[has_own].astype(str)})
            pairs = pairs.drop_duplicates()
            pairs["observable"] = pairs["observable"].str.split(",")
            pairs = pairs.explode("observable")
            pairs["observable"] = pairs["observable"].str.strip()
            parts.append(pairs[pairs["observable"] != ""])
    return pd.concat(parts, ignore_index=True).drop_duplicates() if parts else run_cells(placed.iloc[:0], {})


def load_observations(data_dir: Path | str, axes: Axes, terrain: pd.DataFrame) -> tuple[RunSet, pd.DataFrame, pd.DataFrame]:
    """Every stored run, placed on its cell, and the (cell, observable) pairs the runs observe.

    Returns (run set with load and placement problems, placed runs, observed pairs).
    """
    runset = load_runs(data_dir, axes)
    placed, problems = place_runs(runset.runs, axes, terrain)
    runset.problems += problems
    return runset, placed, run_cells(placed, runset.sources)


AGGREGATE_ABOVE = 5_000
"""Above this many visible runs the map draws one marker per cell instead of one per run."""


def aggregate_runs(placed: pd.DataFrame, metric: str | None = None) -> pd.DataFrame:
    """One row per occupied cell: x, y (cell centre), count and the mean of ``metric``."""
    if not len(placed):
        return pd.DataFrame(columns=["cell", "x", "y", "count", "mean"])
    grp = placed.groupby("cell", sort=True)
    out = grp.agg(x=("x", "mean"), y=("y", "mean"), count=("id", "size")).reset_index()
    if metric and metric in placed:
        out["mean"] = grp[metric].mean().to_numpy()
    return out


def metric_columns(runs: pd.DataFrame, sources: dict[str, dict]) -> list[str]:
    """Metric columns present in the runs frame, in source order."""
    out: dict[str, None] = {}
    for meta in sources.values():
        for m in meta.get("metrics", []):
            if m in runs:
                out[m] = None
    return list(out)


def config_columns(runs: pd.DataFrame) -> list[str]:
    return [c for c in runs.columns if c.startswith(CONFIG_PREFIX)]
