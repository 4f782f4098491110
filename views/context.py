"""What every view receives: the loaded atlas, the runs and the current filters."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from atlas_viz.atlas import Atlas
from atlas_viz.catalogue.filters import Filters
from atlas_viz.figures.raster import Painter
from atlas_viz.runs.store import RunSet
from atlas_viz.checks.scope import RunTable


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
    shape_store: dict = field(default_factory=dict)  # result id -> outlines; shared across reruns by app.py
    checks: dict = field(default_factory=dict)  # result id -> checks.verdicts.Check (results with a prediction)
    run_table: RunTable | None = None  # the runs as the checks read them (for the evidence plot)

    def shapes(self, rid: str) -> list:
        """Outlines of a result's region (computed once per data version, then looked up)."""
        if rid not in self.shape_store:
            row = int(self.atlas.results.index[self.atlas.results["id"] == rid][0])
            self.shape_store[rid] = self.painter.outlines(self.atlas.masks[row])  # the land its cells hold
        return self.shape_store[rid]

    def reload(self) -> None:
        """Nothing to forget after a write: app.py keys every cache by the fingerprint of the files it reads
        (names, sizes, modification times), so the next run reads what changed and only that, and other
        sessions keep their caches. Kept so views can say where they wrote."""
