import numpy as np
import pytest

from atlas_viz.terrain.axes import cell_codes, parse_axes
from atlas_viz.core.problems import DataError


def test_bundled_axes_have_the_issue_vocabulary(axes):
    assert axes.names == ("task", "architecture", "width", "depth", "optimizer", "learning_rate",
                          "parameterization", "data_regime")
    assert axes["width"].value_names == ("narrow", "moderate", "wide", "infinite")
    assert axes["width"].kind == "ordinal" and axes["task"].kind == "nominal"
    assert len(axes.observable_names) == 10
    for ax in axes.axes:
        assert all(v.description for v in ax.values), ax.name


def test_cells_drop_impossible_combinations(axes):
    cells = cell_codes(axes)
    full = int(np.prod([len(a.values) for a in axes.axes]))
    assert 100_000 < len(cells) < full
    gf = axes["optimizer"].code("gradient_flow")
    assert set(cells.loc[cells["optimizer"] == gf, "learning_rate"]) == {axes["learning_rate"].code("small")}
    shallow_net = axes["architecture"].code("shallow_net")
    assert set(cells.loc[cells["architecture"] == shallow_net, "depth"]) == {axes["depth"].code("shallow")}
    assert not cells.duplicated().any()


def test_bins_place_numbers(axes):
    width = axes["width"]
    codes = width.bin_codes(np.array([8, 64, 1023, 4096, np.nan, -1]))
    assert [width.value_names[c] if c >= 0 else None for c in codes] == \
        ["narrow", "moderate", "moderate", "wide", None, None]


def test_bin_codes_agree_with_the_first_bin_that_holds_each_number(axes):
    rng = np.random.default_rng(1)
    for axis in (a for a in axes.axes if a.binned):
        edges = np.array([e for v in axis.values if v.bin for e in v.bin], dtype=float)
        finite = edges[np.isfinite(edges)]
        x = np.concatenate([edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf),
                            rng.uniform(finite.min() - 1, finite.max() * 2, 2000), 10 ** rng.uniform(-9, 9, 2000),
                            [np.nan, -1.0, 0.0]])
        expected = np.full(len(x), -1)
        for i, v in enumerate(axis.values):  # the definition: the first value in file order whose bin holds x
            if v.bin:
                expected[(x >= v.bin[0]) & (x < v.bin[1]) & (expected < 0)] = i
        assert (axis.bin_codes(x) == expected).all(), axis.name


def test_bad_axes_name_the_field():
    data = {"axes": [{"name": "width", "kind": "ordinal", "values": [{"name": "a", "bin": [5, 1]}, {"name": "a"}]}],
            "observables": [{"name": "x"}], "map_types": [{"name": "theorem"}]}
    with pytest.raises(DataError, match=r"entry width, field values.a.bin: must be \[low, high\)") as err:
        parse_axes(data)
    text = str(err.value)
    assert "value 'a' is listed twice" in text
    assert "map_types: must list exactly theorem" in text


def test_the_one_grid_index_names_every_cell_once_and_refuses_impossible_ones(axes):
    from atlas_viz.terrain.axes import cell_codes

    codes = cell_codes(axes).to_numpy()
    grid = axes.grid
    assert grid.shape == tuple(len(a.values) for a in axes.axes) and not grid.flags.writeable
    assert np.array_equal(axes.cell_ids(codes), np.arange(len(codes)))  # row i of the terrain is cell i
    assert (grid >= 0).sum() == len(codes) and axes.grid is grid  # built once
    shallow = [axes[a.name].code(v) for a, v in zip(axes.axes, ["tabular", "shallow_net", "wide", "deep", "sgd",
                                                                  "moderate", "standard", "interpolation"])]
    assert axes.cell_ids(np.array([shallow]))[0] == -1  # a one-hidden-layer network is never deep
    assert axes.cell_ids(np.array([[-1] * len(axes.axes)]))[0] == -1


def test_the_grid_follows_rules_over_several_axes_as_a_loop_over_every_combination_would():
    import itertools

    import yaml
    from conftest import BUNDLED

    spec = yaml.safe_load((BUNDLED / "axes.yaml").read_text())
    spec["impossible"] = [
        {"when": {"optimizer": ["gradient_flow", "sgd"], "task": ["tabular"]},
         "excludes": {"learning_rate": ["large"], "depth": ["deep", "infinite"]}, "why": "a test rule"},
        {"when": {"architecture": ["kernel"]}, "excludes": {"width": ["narrow"]}, "why": "another"}]
    axes = parse_axes(spec)
    rules = [(r.when, r.excludes) for r in axes.impossible]
    names = [a.value_names for a in axes.axes]
    expected = np.full([len(n) for n in names], -1)
    cell = 0
    for combo in itertools.product(*(range(len(n)) for n in names)):
        values = {a.name: names[i][c] for i, (a, c) in enumerate(zip(axes.axes, combo))}
        if not any(all(values[k] in v for k, v in when.items()) and any(values[k] in v for k, v in ex.items())
                   for when, ex in rules):
            expected[combo] = cell
            cell += 1
    assert np.array_equal(axes.grid, expected)
    assert np.array_equal(axes.cell_ids(cell_codes(axes).to_numpy()), np.arange(cell))
