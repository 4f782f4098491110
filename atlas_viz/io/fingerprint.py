"""A cheap fingerprint of a data directory, to key caches (changes when any data file changes)."""
from __future__ import annotations

import hashlib
from pathlib import Path

from atlas_viz.io.paths import PARTS_DIR, RUNS_DIR, SOURCE_FILE, TABLE_FILE

TERRAIN_PATTERNS = ("axes.yaml", "cache/terrain.npz")
CATALOGUE_PATTERNS = (*TERRAIN_PATTERNS, "results/*.yaml")
RUNS_PATTERNS = (f"{RUNS_DIR}/*/{SOURCE_FILE}", f"{RUNS_DIR}/*/{TABLE_FILE}", f"{RUNS_DIR}/*/{PARTS_DIR}/*.parquet")


def _digest(root: Path, patterns: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for pattern in patterns:
        for p in sorted(root.glob(pattern)):
            try:
                st = p.stat()
            except OSError:
                continue  # removed while we looked (a compaction): the next look sees the new state
            h.update(f"{p.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino};".encode())
    return h.hexdigest()[:16]


def terrain_fingerprint(data_dir: Path | str) -> str:
    """Hash of the axes and the terrain cache: what placing a run depends on."""
    return _digest(Path(data_dir), TERRAIN_PATTERNS)


def catalogue_fingerprint(data_dir: Path | str) -> str:
    """Hash of names, sizes, modification times and inodes of axes, results and the terrain cache."""
    return _digest(Path(data_dir), CATALOGUE_PATTERNS)


def runs_fingerprint(data_dir: Path | str) -> str:
    """Hash of names, sizes, modification times and inodes of every run file (tables, parts, metadata):
    an in-place overwrite of a table changes it, as does an atomic replace (a new inode)."""
    return _digest(Path(data_dir), RUNS_PATTERNS)


def combined_fingerprint(catalogue_fp: str, runs_fp: str) -> str:
    """The data fingerprint from the two it is made of (a caller that has them scans no folder again)."""
    return hashlib.sha256(f"{catalogue_fp}|{runs_fp}".encode()).hexdigest()[:16]


def data_fingerprint(data_dir: Path | str) -> str:
    """Hash of everything above: changes when any data file changes (no file is read)."""
    return combined_fingerprint(catalogue_fingerprint(data_dir), runs_fingerprint(data_dir))
