"""Everything the views need, loaded from one data directory."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from atlas_viz.terrain.axes import Axes, load_axes
from atlas_viz.catalogue.loader import Catalog, load_catalog
from atlas_viz.core.problems import Problem
from atlas_viz.coverage.masks import RegionMasks
from atlas_viz.coverage.regions import kept_result_positions, region_masks
from atlas_viz.terrain.layout import TerrainLayout, cached_layout, terrain_frame


@dataclass(frozen=True)
class Atlas:
    """Axes, catalogue and (when the terrain is built) positions of cells and results: built once by
    :func:`load_atlas`, never changed afterwards (a stage that adds columns makes a new one with
    :func:`with_results`)."""

    data_dir: Path
    axes: Axes
    catalog: Catalog
    layout: TerrainLayout | None
    terrain: pd.DataFrame | None = None
    masks: RegionMasks | None = None
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
    if layout is None or not place_results:
        return Atlas(data_dir, axes, catalog, layout, results=catalog.results.copy())
    terrain = terrain_frame(axes, layout)
    masks = region_masks(axes, terrain, catalog.results)
    pos = kept_result_positions(catalog.results, masks, terrain)
    return Atlas(data_dir, axes, catalog, layout, terrain, masks, pd.concat([catalog.results, pos], axis=1))


def with_results(atlas: Atlas, results: pd.DataFrame) -> Atlas:
    """The same atlas with a results frame that has columns added (same rows, same order)."""
    if len(results) != len(atlas.results) or not results["id"].equals(atlas.results["id"]):
        raise ValueError("with_results: the new frame must hold the same results in the same order")
    return replace(atlas, results=results)
