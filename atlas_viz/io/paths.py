"""Where the data directory is: --data DIR, else $ATLAS_DATA, else the bundled data/."""
from __future__ import annotations

import os
from pathlib import Path

BUNDLED_DATA = Path(__file__).resolve().parents[2] / "data"


def data_dir(explicit: str | Path | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("ATLAS_DATA")
    return Path(env) if env else BUNDLED_DATA
