"""Where a result that is not saved yet would sit: its region's cells and its marker, for the add-a-result form."""
from __future__ import annotations

import numpy as np
import pandas as pd

from atlas_viz.core.names import MAP_TYPES
from atlas_viz.coverage.regions import region_mask, result_positions
from atlas_viz.terrain.axes import Axes

NEW_ID = "new_result"


def preview_region(axes: Axes, entry: dict) -> dict[str, tuple[str, ...]]:
    """The form's region with every axis filled in: the values it chose, in axis order, or all of them."""
    chosen = entry.get("region") or {}
    return {ax.name: tuple(v for v in ax.value_names if v in (chosen.get(ax.name) or ())) or ax.value_names
            for ax in axes.axes}


def preview_result(axes: Axes, terrain: pd.DataFrame, entry: dict) -> tuple[np.ndarray, pd.DataFrame]:
    """(cells of its region as a mask, a one-row results frame with its position) for an entry being written.

    An entry whose map type is not chosen yet is drawn as a conjecture; an empty region gives an empty frame."""
    mask = region_mask(axes, terrain, preview_region(axes, entry))
    cit = entry.get("citation") or {}
    mtype = entry.get("map_type") if entry.get("map_type") in MAP_TYPES else "conjecture"
    row = pd.DataFrame({"id": [entry.get("id") or NEW_ID], "map_type": [mtype], "claim": [entry.get("claim") or ""],
                        "authors": [", ".join(cit.get("authors") or [])], "year": [cit.get("year")],
                        "title": [cit.get("title") or ""]})
    if not mask.any():
        return mask, row.iloc[:0]
    return mask, pd.concat([row, result_positions(row, mask[None, :], terrain)], axis=1)
