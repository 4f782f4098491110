"""A cheap fingerprint of a data directory, to key caches (changes when any data file changes)."""
from __future__ import annotations

import hashlib
from pathlib import Path


def data_fingerprint(data_dir: Path | str) -> str:
    """Hash of names, sizes and modification times of the data files (no file is read)."""
    root = Path(data_dir)
    h = hashlib.sha256()
    for pattern in ("axes.yaml", "results/*.yaml", "runs/*", "cache/terrain.npz"):
        for p in sorted(root.glob(pattern)):
            try:
                st = p.stat()
            except OSError:
                continue
            h.update(f"{p.relative_to(root)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()[:16]
