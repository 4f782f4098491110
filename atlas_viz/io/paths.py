"""Where the data directory is (--data DIR, else $ATLAS_DATA, else the bundled data/), and the names of
the files in it that more than one layer reads."""
from __future__ import annotations

import os
from pathlib import Path

BUNDLED_DATA = Path(__file__).resolve().parents[2] / "data"
RUNS_DIR = "runs"
"""DATA/runs/<source>/ holds one run source."""
TABLE_FILE = "runs.parquet"
"""A run source's base table."""
PARTS_DIR = "parts"
"""A run source's appended parts: DATA/runs/<source>/parts/<time>-<random>.parquet."""
SOURCE_FILE = "source.yaml"
"""A run source's metadata; it lists the parts that belong to the source."""


def data_dir(explicit: str | Path | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("ATLAS_DATA")
    return Path(env) if env else BUNDLED_DATA
