"""What every view receives: the loaded atlas, the runs and the current filters."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from atlas_viz.atlas import Atlas
from atlas_viz.filters import Filters
from atlas_viz.raster import Painter
from atlas_viz.runs import RunSet


@dataclass
class ViewContext:
    data_dir: Path
    fingerprint: str
    atlas: Atlas
    runset: RunSet
    runs: pd.DataFrame          # placed runs: id, source, axes..., metrics, cell, x, y, imputed
    shown: pd.DataFrame         # filtered results with positions
    filters: Filters
    painter: Painter

    def reload(self) -> None:
        """Forget cached data so the next run reads the data directory again (after a write)."""
        import streamlit as st

        st.cache_resource.clear()
        st.cache_data.clear()
