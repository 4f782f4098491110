"""Which (cell, observable) pairs runs observe: a run's own ``observables`` column, else its source's list."""
import pandas as pd

from atlas_viz.runs.store import run_cells


def test_a_run_observes_its_own_observables_else_its_sources():
    placed = pd.DataFrame({"source": ["a", "a", "a", "b"], "cell": [1, 2, 2, 3],
                           "observables": [None, "transfer, stability", "transfer", ""]})
    pairs = run_cells(placed, {"a": {"observables": ["generalization"]}, "b": {"observables": ["scaling"]}})
    got = set(map(tuple, pairs[["cell", "observable"]].to_numpy().tolist()))
    assert got == {(1, "generalization"), (2, "transfer"), (2, "stability"), (3, "scaling")}


def test_without_the_column_every_run_counts_for_its_source():
    placed = pd.DataFrame({"source": ["a", "a"], "cell": [5, 5]})
    pairs = run_cells(placed, {"a": {"observables": ["generalization", "scaling"]}})
    assert sorted(pairs["observable"]) == ["generalization", "scaling"] and set(pairs["cell"]) == {5}


def test_imputation_takes_the_nearest_possible_values_as_the_plain_loop_does(axes):
    """The vectorised search over unknown values agrees with trying them one by one, nearest first."""
    import itertools

    import numpy as np

    from atlas_viz.runs.impute import _by_distance, impute_codes

    rng = np.random.default_rng(1)
    codes = np.stack([rng.integers(0, len(a.values), 400) for a in axes.axes], axis=1).astype(np.int64)
    codes[:, 3] = -1  # depth unknown everywhere: shallow nets must not land at the default depth
    codes[::2, 6] = -1
    filled, cell = impute_codes(axes, codes, axes.grid.ravel())
    sizes = [len(a.values) for a in axes.axes]
    defaults = [a.code(a.default) if a.default else -1 for a in axes.axes]
    for row, got_codes, got_cell in zip(codes, filled, cell):
        free = np.flatnonzero(row < 0)
        want = -1
        for combo in itertools.product(*[_by_distance(sizes[j], defaults[j]) for j in free]):
            trial = row.copy()
            trial[free] = combo
            c = axes.grid[tuple(trial)]
            if c >= 0:
                want = c
                break
        assert got_cell == want
        if want >= 0:
            assert axes.grid[tuple(got_codes)] == got_cell
