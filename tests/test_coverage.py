"""Regions, coverage and fog on a hand-computed fixture."""
import numpy as np
import pandas as pd
import pytest

from atlas_viz.coverage.levels import cell_level, coverage_shares, coverage_table, phase_grid
from atlas_viz.core.names import CHARTED, MAPPED, OBSERVED, TERRA_INCOGNITA
from atlas_viz.coverage.regions import region_shapes


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
    # two observables: a cell takes the best level any of them reaches
    assert cell_level(table).tolist() == [CHARTED, CHARTED, MAPPED, TERRA_INCOGNITA, OBSERVED]
    assert cell_level(table, ["scaling"]).tolist() == table["scaling"].tolist()
    shares = coverage_shares(cell_level(table))
    assert shares["cells"].tolist() == [1, 1, 1, 2]
    assert abs(shares["share"].sum() - 1) < 1e-12


def test_coverage_of_picked_rows_is_coverage_of_those_results():
    rng = np.random.default_rng(3)
    types = ["theorem", "empirical_law", "conjecture", "heuristic", "calculation"]
    obs = ("generalization", "scaling", "optimization")
    results = frame([(f"r{i}", types[i % 5], tuple(o for o in obs if rng.random() < 0.5)) for i in range(30)])
    masks = rng.random((30, 50)) < 0.2
    for rows in ([], [4], [0, 7, 7, 12, 29], list(range(0, 30, 3))):
        picked = coverage_table(results, masks, obs, 50, rows=np.array(rows, int))
        alone = coverage_table(results.iloc[rows], masks[rows], obs, 50)
        pd.testing.assert_frame_equal(picked, alone)


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


def test_region_masks_read_off_the_product_grid_match_a_cell_by_cell_test(axes):
    from atlas_viz.terrain.axes import cell_codes
    from atlas_viz.coverage.regions import region_mask, region_masks

    codes = cell_codes(axes)
    regions = [{}, {"task": ("tabular",)}, {"width": ("narrow", "infinite"), "depth": ("deep",)},
               {a.name: (a.value_names[-1],) for a in axes.axes},  # one cell (or none, if impossible)
               {"task": ("language_modeling",), "architecture": ("linear",), "optimizer": ("gd", "adaptive")}]
    frame = pd.DataFrame({"region": regions})
    masks = region_masks(axes, codes, frame)
    assert masks.shape == (len(regions), len(codes))
    assert masks[0].all() and 0 < masks[1].sum() < len(codes)
    for i, region in enumerate(regions):
        assert np.array_equal(masks[i], region_mask(axes, codes, region)), region


def test_run_hover_escapes_skips_blanks_and_keeps_the_limit():
    from atlas_viz.figures.maps import run_hover

    runs = pd.DataFrame({"id": ["s:<b>1", "s:2"], "x": [0.0, 1.0], "task": ["<img src=x>", None],
                         "loss": [0.123456, np.nan], "note": ["", "ok"], **{f"c{i}": [i, i] for i in range(20)}})
    first, second = run_hover(runs, limit=5)
    assert first.startswith("<b>run s:&lt;b&gt;1</b>") and "task: &lt;img src=x&gt;" in first
    assert "loss: 0.1235" in first and "note" not in first and "x:" not in first
    assert "task" not in second and "loss" not in second and "note: ok" in second
    assert first.count("<br>") == 5 and second.count("<br>") == 5


def test_a_result_being_written_is_previewed_inside_its_region(axes):
    from atlas_viz.terrain.axes import cell_codes
    from atlas_viz.coverage.preview import preview_result

    terrain = cell_codes(axes)
    terrain = terrain.assign(x=np.arange(len(terrain), dtype=float), y=0.0)
    entry = {"id": "new2024_x", "map_type": "theorm", "region": {"task": ["tabular"], "width": ["wide"]},
             "citation": {"authors": ["A B"], "year": 2024, "title": "T"}}
    mask, row = preview_result(axes, terrain, entry)
    assert mask.sum() > 0 and len(row) == 1 and row["map_type"].iloc[0] == "conjecture"  # unknown type: drawn faint
    assert mask[int(row["cell"].iloc[0])]  # the marker sits in its own region
    empty, none = preview_result(axes, terrain, {"region": {"architecture": ["shallow_net"], "depth": ["deep"]}})
    assert not empty.any() and none.empty  # an impossible region: nothing to place


def test_region_masks_as_cell_lists_answer_as_the_dense_matrix_does():
    from atlas_viz.coverage.masks import RegionMasks

    rng = np.random.default_rng(4)
    dense = rng.random((12, 40)) < 0.3
    dense[3] = dense[7]  # equal rows
    dense[5] = False  # an empty region
    m = RegionMasks.of(dense)
    assert m.shape == (12, 40) and len(m) == 12 and np.array_equal(m.toarray(), dense)
    assert np.array_equal(np.asarray(m), dense) and np.array_equal(m.sizes(), dense.sum(axis=1))
    for i in range(12):
        assert np.array_equal(m[i], dense[i]) and np.array_equal(m.cells(i), np.flatnonzero(dense[i]))
        assert all(m[i, c] == dense[i, c] for c in range(40))
    rows = [0, 3, 7, 11]
    assert np.array_equal(m.count(rows), dense[rows].sum(axis=0)) and np.array_equal(m.count(), dense.sum(axis=0))
    assert np.array_equal(m.any(rows), dense[rows].any(axis=0)) and not m.any([]).any()
    assert np.array_equal(m.common(0, 11), np.flatnonzero(dense[0] & dense[11]))
    assert np.array_equal(m[2:6].toarray(), dense[2:6]) and np.array_equal(m[[9, 1]].toarray(), dense[[9, 1]])
    assert np.array_equal(m[dense[:, 0]].toarray(), dense[dense[:, 0]])
    assert m.digest() == RegionMasks.of(dense.copy()).digest() != RegionMasks.of(~dense).digest()
    with pytest.raises(ValueError, match="read-only"):
        m.indices[0] = 1
    # rows given as one array share one stored list; counts still count every row
    everywhere = np.arange(40)
    shared = RegionMasks.from_lists([everywhere, np.array([3, 1]), everywhere], 40)
    assert len(shared.indices) == 42  # the first and third rows share one list of 40 cells
    assert np.array_equal(shared.count(), np.where(np.isin(np.arange(40), [1, 3]), 3, 2))
    assert np.array_equal(shared.cells(1), [1, 3]) and shared.toarray().sum() == 82
    # arrays made one by one and dropped (a generator) are never taken for one another by a reused id
    pairs = RegionMasks.from_lists((np.array([i, i + 1]) for i in range(0, 200, 2)), 300)
    assert len(np.unique(pairs.row_list)) == 100 and all(pairs.cells(k)[0] == 2 * k for k in range(100))


def test_the_atlas_keeps_each_distinct_region_once(axes):
    from atlas_viz.coverage.regions import region_masks
    from atlas_viz.terrain.axes import cell_codes

    codes = cell_codes(axes)
    regions = [{}, {"width": ("wide",)}, {}, {"width": ("wide",)}, {"task": ("tabular",), "width": ("narrow",)}]
    masks = region_masks(axes, codes, pd.DataFrame({"region": regions}))
    assert len(np.unique(masks.row_list)) == 3 and masks.shape == (5, len(codes))
    assert masks[0].all() and np.array_equal(masks[1], masks[3]) and 0 < masks[4].sum() < masks[1].sum()
