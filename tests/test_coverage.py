"""Regions, coverage and fog on a hand-computed fixture."""
import numpy as np
import pandas as pd

from atlas_viz.coverage import cell_level, coverage_shares, coverage_table, phase_grid
from atlas_viz.names import CHARTED, MAPPED, OBSERVED, TERRA_INCOGNITA
from atlas_viz.regions import region_shapes


def frame(rows):
    return pd.DataFrame(rows, columns=["id", "map_type", "observables"])


def test_coverage_levels_by_hand():
    # 5 cells; theorem on cells 0-1 (generalization), law on 1-2 (generalization, scaling),
    # conjecture on 3 (lifts nothing), runs in cell 4 (generalization) and cell 0 (scaling).
    results = frame([("t", "theorem", ("generalization",)), ("l", "empirical_law", ("generalization", "scaling")),
                     ("c", "conjecture", ("generalization",))])
    masks = np.array([[1, 1, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 0, 1, 0]], dtype=bool)
    runs = pd.DataFrame({"cell": [4, 0], "observable": ["generalization", "scaling"]})
    table = coverage_table(results, masks, ("generalization", "scaling"), 5, runs)
    assert table["generalization"].tolist() == [CHARTED, CHARTED, MAPPED, TERRA_INCOGNITA, OBSERVED]
    assert table["scaling"].tolist() == [OBSERVED, MAPPED, MAPPED, TERRA_INCOGNITA, TERRA_INCOGNITA]
    # two observables: a majority (here both) must reach a level
    assert cell_level(table).tolist() == [OBSERVED, MAPPED, MAPPED, TERRA_INCOGNITA, TERRA_INCOGNITA]
    assert cell_level(table, ["scaling"]).tolist() == table["scaling"].tolist()
    three = table.assign(extra=[CHARTED] * 5)
    assert cell_level(three).tolist() == [CHARTED, CHARTED, MAPPED, TERRA_INCOGNITA, OBSERVED]
    shares = coverage_shares(cell_level(table))
    assert shares["cells"].tolist() == [2, 1, 2, 0]
    assert abs(shares["share"].sum() - 1) < 1e-12


def test_empty_catalogue_is_all_fog():
    table = coverage_table(frame([]), np.zeros((0, 4), bool), ("generalization",), 4)
    assert cell_level(table).tolist() == [0, 0, 0, 0]


def test_region_split_across_continents_draws_one_shape_each():
    terrain = pd.DataFrame({"x": [0, 0.1, 0, 10, 10.1, 10], "y": [0, 0, 0.1, 0, 0, 0.1],
                            "continent": [0, 0, 0, 1, 1, 1]})
    both = region_shapes(np.ones(6, bool), terrain)
    assert len(both) == 2
    assert all(np.allclose(s[0], s[-1]) for s in both)  # closed polygons
    assert max(s[:, 0].max() for s in both[:1]) < 5 < min(s[:, 0].min() for s in both[1:])  # none spans the ocean
    single = region_shapes(np.array([1, 0, 0, 0, 0, 0], bool), terrain)
    assert len(single) == 1 and len(single[0]) >= 4  # a point becomes a small closed shape


def test_phase_grid_marks_gaps():
    results = pd.DataFrame({
        "id": ["a", "b"], "map_type": ["theorem", "heuristic"], "rigor": [5, 2], "year": [2020, 2021],
        "region": [{"width": ("wide",), "depth": ("deep", "shallow")}, {"width": ("narrow", "wide"), "depth": ("deep",)}],
    })
    grid = phase_grid(results, "width", ("narrow", "wide"), "depth", ("shallow", "deep"))
    cell = grid.set_index(["x", "y"])
    assert cell.loc[("wide", "deep"), "n_results"] == 2 and cell.loc[("wide", "deep"), "best"] == "theorem"
    assert cell.loc[("narrow", "deep"), "best"] == "heuristic"
    assert cell.loc[("narrow", "shallow"), "n_results"] == 0  # a gap
