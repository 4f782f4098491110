"""Predictions and their checks: neighbours on axes, the prediction block, verdicts on synthetic runs, the CLI."""
from __future__ import annotations

import pytest

from atlas_viz.core.problems import DataError
from atlas_viz.terrain.axes import parse_axes

SMALL_AXES = {
    "axes": [
        {"name": "arch", "kind": "nominal", "values": [{"name": "a"}, {"name": "b"}, {"name": "c"}],
         "neighbours": [{"values": ["a", "b"], "why": "b is a with one change."}]},
        {"name": "size", "kind": "ordinal", "values": [{"name": "s"}, {"name": "m"}, {"name": "l"}]},
    ],
    "observables": [{"name": "generalization"}],
    "map_types": [{"name": m} for m in ("theorem", "calculation", "empirical_law", "heuristic", "conjecture")],
}


def test_neighbours_are_symmetric_declared_or_adjacent(axes):
    small = parse_axes(SMALL_AXES)
    assert small.neighbours("arch", "a") == ("b",) and small.neighbours("arch", "b") == ("a",)
    assert small.neighbours("arch", "c") == ()  # nominal, no pair: nothing is one step away
    assert small.neighbours("size", "m") == ("s", "l") and small.neighbours("size", "l") == ("m",)
    assert small["arch"].why_near("b", "a") == "b is a with one change."
    # bundled: declared pairs, and data_regime follows its bins, not its list order
    assert set(axes.neighbours("architecture", "shallow_net")) == {"linear", "kernel", "mlp"}
    assert axes.neighbours("data_regime", "overparameterized") == ("interpolation",)
    for ax in axes.axes:
        for v in ax.value_names:
            for n in axes.neighbours(ax.name, v):
                assert v in axes.neighbours(ax.name, n)


@pytest.mark.parametrize("pairs, field, match", [
    ([{"values": ["a", "z"], "why": "w"}], "neighbours[0].values", "got 'z'"),
    ([{"values": ["a", "a"], "why": "w"}], "neighbours[0].values", "two different values"),
    ([{"values": ["a", "b"]}], "neighbours[0].why", "why the two values"),
    ([{"values": ["a", "b"], "why": "w"}, {"values": ["b", "a"], "why": "w"}], "neighbours[1].values", "twice"),
    ("a b", "neighbours", "must be a list"),
])
def test_bad_neighbours_are_located(pairs, field, match):
    data = {**SMALL_AXES, "axes": [{**SMALL_AXES["axes"][0], "neighbours": pairs}, SMALL_AXES["axes"][1]]}
    with pytest.raises(DataError, match=match) as err:
        parse_axes(data)
    assert err.value.problems[0].field == field and err.value.problems[0].entry == "arch"


def test_layout_digest_ignores_neighbours_and_descriptions():
    base = parse_axes(SMALL_AXES).digest
    from atlas_viz.terrain.axes import layout_digest

    assert layout_digest(SMALL_AXES) == layout_digest({**SMALL_AXES, "axes": [
        {**SMALL_AXES["axes"][0], "neighbours": [], "description": "new"}, SMALL_AXES["axes"][1]]})
    assert layout_digest({**SMALL_AXES, "axes": SMALL_AXES["axes"][::-1]}) != layout_digest(SMALL_AXES)
    assert base == ""  # parse_axes without a file keeps the digest it is given
