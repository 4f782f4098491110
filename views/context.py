"""What every view receives: the loaded atlas, the runs (read when a view first asks) and the current filters."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

import pandas as pd

from atlas_viz.atlas import Atlas
from atlas_viz.catalogue.filters import Filters, filter_runs
from atlas_viz.checks.scope import RunTable
from atlas_viz.figures.raster import Painter
from atlas_viz.runs.store import RunSet
from atlas_viz.runs.summary import RunSummary


@dataclass
class ViewContext:
    data_dir: Path
    fingerprint: str
    atlas: Atlas
    summary: RunSummary         # how many runs, the (cell, observable) pairs they observe, problems reading them
    load_runs: Callable[[], tuple[RunSet, pd.DataFrame]]  # every run, placed (cached by app.py)
    load_run_table: Callable[[], RunTable]                # the runs as the checks read them (cached by app.py)
    shown: pd.DataFrame         # filtered results with positions
    filters: Filters
    painter: Painter
    shape_store: dict = field(default_factory=dict)  # result id -> outlines; shared across reruns by app.py
    checks: dict = field(default_factory=dict)  # result id -> checks.verdicts.Check (results with a prediction)

    @cached_property
    def runset(self) -> RunSet:
        """Every stored run: read only by a view that shows runs (the Expeditions view needs the summary)."""
        return self.load_runs()[0]

    @cached_property
    def runs(self) -> pd.DataFrame:
        """Placed runs passing the sidebar's axis filters: id, source, axes..., metrics, cell, x, y, imputed."""
        return filter_runs(self.load_runs()[1], self.filters)

    @cached_property
    def run_table(self) -> RunTable:
        return self.load_run_table()

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
