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
