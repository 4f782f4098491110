"""The terrain: deterministic, stable under new results, no overlapping continents."""
import numpy as np
import pytest

from atlas_viz.atlas import load_atlas
from atlas_viz.terrain.axes import parse_axes
from atlas_viz.terrain.layout import TerrainLayout, _separate, continent_labels, terrain_frame

from conftest import BUNDLED, GOOD, make_data

SMALL = {
    "axes": [
        {"name": "task", "kind": "nominal", "weight": 3,
         "values": [{"name": "a"}, {"name": "b"}, {"name": "c"}]},
        {"name": "width", "kind": "ordinal", "values": [{"name": "narrow"}, {"name": "wide"}, {"name": "infinite"}]},
        {"name": "optimizer", "kind": "nominal", "values": [{"name": "sgd"}, {"name": "adam"}]},
        {"name": "depth", "kind": "ordinal", "values": [{"name": "d1"}, {"name": "d2"}, {"name": "d3"}, {"name": "d4"}]},
    ],
    "impossible": [{"when": {"task": "c"}, "excludes": {"width": ["infinite"]}}],
    "observables": [{"name": "generalization"}],
    "map_types": [{"name": m} for m in ("theorem", "calculation", "empirical_law", "heuristic", "conjecture")],
}


@pytest.fixture(scope="module")
def small_axes():
    return parse_axes(SMALL, digest="small")


def test_layout_is_deterministic(small_axes):
    a = terrain_frame(small_axes, TerrainLayout().fit(small_axes))
    b = terrain_frame(small_axes, TerrainLayout().fit(small_axes))
    assert np.allclose(a[["x", "y"]], b[["x", "y"]])


def test_layout_round_trips_through_the_cache(small_axes, tmp_path):
    layout = TerrainLayout().fit(small_axes)
    layout.save(tmp_path / "t.npz")
    again = TerrainLayout.load(tmp_path / "t.npz")
    assert np.array_equal(terrain_frame(small_axes, layout)[["x", "y"]], terrain_frame(small_axes, again)[["x", "y"]])
    assert again.axes_digest_ == "small"


def test_every_cell_gets_a_distinct_position_and_continents_do_not_overlap(small_axes):
    layout = TerrainLayout().fit(small_axes)
    frame = terrain_frame(small_axes, layout)
    assert len(frame) == 3 * 3 * 2 * 4 - 2 * 4  # minus task c x infinite width
    assert frame[["x", "y"]].notna().all().all()
    centres = layout.continent_xy_
    d = np.hypot(*(centres[:, None] - centres[None]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert d.min() >= 2 * layout.island_radius  # islands never overlap
    assert layout.continent_axes_ == ["task"]


def test_separate_keeps_points_apart_even_when_identical():
    xy = _separate(np.zeros((6, 2)), min_gap=1.0)
    d = np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert d.min() > 0.95


def test_bundled_map_does_not_move_when_results_are_added(tmp_path):
    before = load_atlas(make_data(tmp_path / "a", {"good.yaml": GOOD}))
    more = GOOD + GOOD.replace("alpha2020_theorem", "gamma2022_x").replace("beta2021_law", "delta2023_y")
    after = load_atlas(make_data(tmp_path / "b", {"good.yaml": more}))
    assert len(after.results) == len(before.results) + 2
    assert np.array_equal(before.terrain[["x", "y"]].to_numpy(), after.terrain[["x", "y"]].to_numpy())
    pos_before = before.results.set_index("id")[["x", "y"]]
    pos_after = after.results.set_index("id").loc[pos_before.index, ["x", "y"]]
    assert np.allclose(pos_before, pos_after)


def test_results_sit_inside_their_region(data_dir):
    atlas = load_atlas(data_dir)
    for i, row in atlas.results.iterrows():
        assert atlas.masks[i][int(row["cell"])], row["id"]


def test_stale_cache_is_detected(tmp_path):
    data = make_data(tmp_path)
    text = (data / "axes.yaml").read_text().replace("weight: 4.0", "weight: 3.5")
    (data / "axes.yaml").write_text(text)
    assert load_atlas(data).stale


def test_labels_name_groups_and_continents(axes):
    layout = TerrainLayout.load(BUNDLED / "cache" / "terrain.npz")
    labels = continent_labels(axes, layout)
    assert "LANGUAGE MODELING" in {" ".join(t.split()) for t in labels["text"]}  # long names wrap onto 2 lines
    assert "transformer · language modeling" in " ".join(labels["hover"])
    big = labels[labels["size"] > 12]
    assert len(big) == len(axes["task"].values)


def test_island_labels_keep_clear_of_each_other_at_the_default_zoom(axes):
    from atlas_viz.core.names import MAP_PAD
    from atlas_viz.terrain.labels import (BIG_FONT_PX, DEFAULT_PLOT_PX, box_at, place_island_labels, text_size,
                                          units_per_px)

    layout = TerrainLayout.load(BUNDLED / "cache" / "terrain.npz")
    labels = continent_labels(axes, layout)
    xy = layout.continent_xy_ * [1, -1]
    r = layout.island_radius
    unit = units_per_px(*(np.ptp(xy, axis=0) + 2 * r + 2 * MAP_PAD), DEFAULT_PLOT_PX)
    boxes = [box_at(t.x, t.y, text_size(t.text, t.size, unit, caps=t.size >= BIG_FONT_PX)) for t in labels.itertuples()]
    clashes = [(labels["text"][i], labels["text"][j]) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
               if boxes[i].overlap(boxes[j]) > 0]
    assert not clashes  # the bundled map had 'shallow net' over 'ResNet' in image classification
    small = labels[labels["size"] < BIG_FONT_PX]
    dist = np.hypot(small["x"].to_numpy() - xy[:, 0], small["y"].to_numpy() - xy[:, 1])
    widths = np.array([text_size(t, 11, unit)[0] for t in small["text"]])
    assert (dist <= r + widths).all()  # each beside its own island
    below = np.isclose(small["y"].to_numpy(), xy[:, 1] - r - 0.13) & np.isclose(small["x"].to_numpy(), xy[:, 0])
    assert below.mean() >= 0.85  # only labels that would clash move

    # two islands side by side with long names: the second label leaves the first one's place
    centres = np.array([[0.0, 0.0], [1.0, 0.0]])
    at = place_island_labels(centres, 0.42, [(1.6, 0.2), (1.6, 0.2)])
    assert tuple(at[0]) == (0.0, -0.42 - 0.13) and tuple(at[1]) != (1.0, -0.42 - 0.13)
    assert box_at(*at[0], (1.6, 0.2)).overlap(box_at(*at[1], (1.6, 0.2))) == 0
