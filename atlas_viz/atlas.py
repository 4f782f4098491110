"""Everything the views need, loaded from one data directory."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from atlas_viz.terrain.axes import Axes, load_axes
from atlas_viz.catalogue.loader import Catalog, load_catalog
from atlas_viz.core.problems import Problem
from atlas_viz.coverage.regions import region_masks, result_positions
from atlas_viz.terrain.layout import TerrainLayout, cached_layout, terrain_frame


@dataclass
class Atlas:
    """Axes, catalogue and (when the terrain is built) positions of cells and results."""

    data_dir: Path
    axes: Axes
    catalog: Catalog
    layout: TerrainLayout | None
    terrain: pd.DataFrame | None = None
    masks: np.ndarray | None = None
    results: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def problems(self) -> list[Problem]:
        return self.catalog.problems

    @property
    def stale(self) -> bool:
        return self.layout is None


def load_atlas(data_dir: Path | str, layout: TerrainLayout | None = None, place_results: bool = True) -> Atlas:
    """Load axes and catalogue; place results if a terrain layout matching the axes exists (and
    ``place_results``: checking a catalogue needs no positions, and its cost stays linear in its size).

    Raises ``DataError`` only when ``axes.yaml`` itself is unusable.
    """
    data_dir = Path(data_dir)
    axes = load_axes(data_dir / "axes.yaml")
    catalog = load_catalog(data_dir, axes)
    layout = layout if layout is not None else cached_layout(data_dir, axes)
    atlas = Atlas(data_dir, axes, catalog, layout, results=catalog.results.copy())
    if layout is not None and place_results:
        place(atlas)
    return atlas


def place(atlas: Atlas) -> Atlas:
    """Compute cell positions, region masks and result positions (no UMAP: lookups only)."""
    atlas.terrain = terrain_frame(atlas.axes, atlas.layout)
    atlas.masks = region_masks(atlas.axes, atlas.terrain, atlas.catalog.results)
    pos = result_positions(atlas.catalog.results, atlas.masks, atlas.terrain)
    atlas.results = pd.concat([atlas.catalog.results, pos], axis=1)
    return atlas
