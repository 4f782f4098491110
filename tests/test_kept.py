"""Derived data kept on disk between processes: checks, the run summary, the land's shape, and the app reading
them instead of the runs."""
import numpy as np
import pandas as pd
import pytest
from conftest import GOOD, LAW, ROOT, make_data
from streamlit.testing.v1 import AppTest

from atlas_viz.atlas import load_atlas
from atlas_viz.checks.kept import STORE as CHECK_STORE, checks_from_record, checks_record, kept_checks
from atlas_viz.checks.scope import RunTable
from atlas_viz.checks.verdicts import check_results
from atlas_viz.core.problems import Problem
from atlas_viz.figures.land import STORE as LAND_STORE, box_mean, kept_land_shape, land_shape
from atlas_viz.io.derived import DerivedStore
from atlas_viz.runs.store import load_observations, save_runs
from atlas_viz.runs.summary import RunSummary, kept_summary, summarise


@pytest.fixture
def data(tmp_path):
    data = make_data(tmp_path, {"good.yaml": GOOD, "law.yaml": LAW})
    rng = np.random.default_rng(0)
    params = np.exp(rng.uniform(np.log(1e6), np.log(1e9), 30))
    runs = pd.DataFrame({"run_id": [f"r{i}" for i in range(30)], "task": "language_modeling",
                         "architecture": "transformer", "width": "wide",
                         "test_loss": 10 * params ** -0.076 * np.exp(rng.normal(0, 0.01, 30)),
                         "config.n_params": params})
    save_runs(data, "lm", runs, {"name": "lm", "metrics": ["test_loss"], "quantities": {"params": "config.n_params"}})
    return data


def test_a_derived_store_keys_by_folder_fingerprint_and_version_and_survives_damage(tmp_path):
    store = DerivedStore("test_kind", 1)
    key = store.key(tmp_path, "fp")
    assert key != store.key(tmp_path, "fp2") and key != DerivedStore("test_kind", 2).key(tmp_path, "fp")
    assert key != store.key(tmp_path / "other", "fp") and store.key(None, "fp") != key
    assert store.load(key) is None
    assert store.keep(key, {"a": [1, 2.5, None]}, {"x": np.arange(5)})
    record, arrays = store.load(key, arrays=True)
    assert record == {"a": [1, 2.5, None]} and arrays["x"].tolist() == [0, 1, 2, 3, 4]
    (store.folder / f"{key}.npz").write_bytes(b"not a zip")
    assert store.load(key, arrays=True) is None          # damaged arrays: computed again by the caller
    (store.folder / f"{key}.json").write_text("{broken")
    assert store.load(key) is None
    assert not store.keep(key, {"not json": object()})   # unwritable record: reported, never raised


def test_checks_are_kept_exactly_and_computed_once_per_data_version(data):
    atlas = load_atlas(data)
    runset, _, _ = load_observations(data, atlas.axes, atlas.terrain)
    computed = check_results(atlas.results, RunTable(runset.runs, runset.sources, atlas.axes))
    assert computed and computed[0].inside.statistic is not None
    calls = []

    def compute():
        calls.append(1)
        return computed
    first = kept_checks(data, "fp-1", atlas.results, compute)
    again = kept_checks(data, "fp-1", atlas.results, compute)
    assert calls == [1] and first == computed and again == computed   # read back field for field, unrounded
    kept_checks(data, "fp-2", atlas.results, compute)
    assert calls == [1, 1]                                             # another data version is checked afresh
    # a record whose result left the catalogue is not trusted: the checks are computed again
    with pytest.raises(ValueError, match="gamma2022_law"):
        checks_from_record(checks_record(computed), atlas.results[atlas.results["id"] != "gamma2022_law"])
    (CHECK_STORE.folder / f"{CHECK_STORE.key(data, 'fp-1')}.json").write_text('[{"id": 1}]')
    assert kept_checks(data, "fp-1", atlas.results, compute) == computed and calls == [1, 1, 1]


def test_the_run_summary_round_trips_pairs_counts_and_problems(data):
    atlas = load_atlas(data)
    runset, placed, observed = load_observations(data, atlas.axes, atlas.terrain)
    problem = Problem("runs/lm/runs.parquet", "row 3", "width", "unknown value 'huge'")
    summary = summarise(placed, observed, [problem], ["test_loss", "not_a_column"])
    calls = []

    def compute() -> RunSummary:
        calls.append(1)
        return summary
    kept_summary(data, "t-r", compute)
    back = kept_summary(data, "t-r", compute)
    assert calls == [1] and back.runs == 30 and back.problems == (problem,)
    pd.testing.assert_frame_equal(back.observed, summary.observed, check_dtype=False)
    assert back.metrics == ("test_loss",) and back.groups["count"].sum() == 30
    pd.testing.assert_frame_equal(back.groups, summary.groups, check_dtype=False)
    empty = summarise(placed.iloc[:0], observed.iloc[:0], [])
    assert kept_summary(data, "none", lambda: empty).observed.empty
    assert kept_summary(data, "none", lambda: pytest.fail("read from disk")).runs == 0


def test_the_land_shape_is_kept_by_its_image_and_box_means_match_scipy():
    from scipy import ndimage as ndi

    rng = np.random.default_rng(1)
    occupied = rng.random((90, 140)) < 0.02
    drawn = land_shape(occupied)
    kept = kept_land_shape(occupied)
    again = kept_land_shape(occupied)
    for name in ("land", "coast", "shelf"):
        assert np.array_equal(getattr(kept, name), getattr(drawn, name))
        assert np.array_equal(getattr(again, name), getattr(drawn, name))
    for f in LAND_STORE.folder.glob("*.npz"):
        f.write_bytes(b"damaged")
    assert np.array_equal(kept_land_shape(occupied).land, drawn.land)
    for shape, size in (((37, 51), 11), ((3, 4), 11), ((1, 1), 5), ((60, 8), 3)):
        img = (rng.random(shape) * (rng.random(shape) < 0.2) * 7).astype(np.float32)
        assert np.allclose(box_mean(img, size), ndi.uniform_filter(img, size=size), atol=1e-5)


def test_a_new_process_opens_the_expeditions_view_from_kept_data_without_reading_runs(data, monkeypatch):
    """The first run keeps the summary, the checks and the ranking; a new process (caches cleared) draws the
    Expeditions view and the map's verdicts from them, and reads runs only when a view shows them."""
    import streamlit as st

    import atlas_viz.runs.store as store

    monkeypatch.setenv("ATLAS_DATA", str(data))

    def run(view: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.query_params["view"] = view
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        return at
    run("expeditions")
    st.cache_resource.clear()
    st.cache_data.clear()
    reads = []
    real = store.load_observations
    monkeypatch.setattr(store, "load_observations", lambda *a, **k: reads.append(1) or real(*a, **k))
    at = run("expeditions")
    assert reads == [] and at.get("plotly_chart")              # drawn from the kept summary, checks and ranking
    assert "gamma2022_law" in at.dataframe[0].value.to_string()  # the ranking names the checked prediction
    run("runs")
    assert reads == [1]                                        # the runs view reads them, once


def test_result_positions_are_kept_by_what_they_read(data):
    from atlas_viz.coverage.regions import POSITIONS, kept_result_positions, result_positions

    atlas = load_atlas(data)
    res, masks, terrain = atlas.catalog.results, atlas.masks, atlas.terrain
    placed = result_positions(res, masks, terrain)
    before = len(list(POSITIONS.folder.glob("*.json")))  # load_atlas kept these positions already
    pd.testing.assert_frame_equal(kept_result_positions(res, masks, terrain), placed)
    fewer = masks.toarray()  # the atlas's masks are read-only cell lists; a dense copy can be changed
    fewer[0, np.flatnonzero(fewer[0])[1:]] = False                       # a region shrinks: placed afresh
    pd.testing.assert_frame_equal(kept_result_positions(res, fewer, terrain), result_positions(res, fewer, terrain))
    assert len(list(POSITIONS.folder.glob("*.json"))) == before + 1


def test_painted_images_are_kept_per_input_and_pruned(data):
    from atlas_viz.figures.raster import IMAGES, Painter

    terrain = load_atlas(data).terrain
    painter = Painter(terrain, pixels=200)
    level = np.random.default_rng(2).integers(0, 4, len(terrain)).astype(np.uint8)
    mask = np.zeros(len(terrain), dtype=bool)
    mask[:50] = True
    fresh = [painter._paint(level, None, False), painter._paint(level, mask, True), painter._paint(None, None, False)]
    kept = [painter.paint(level), painter.paint(level, highlight=mask, dim=True), painter.paint(None)]
    again = [painter.paint(level), painter.paint(level, highlight=mask, dim=True), painter.paint(None)]
    assert kept == fresh and again == fresh and len({r.uri for r in fresh}) == 3
    other = level.copy()
    other[0] = (other[0] + 1) % 4
    assert painter.paint(other) == painter._paint(other, None, False)   # one cell's level differs: a new image
    IMAGES.prune(2)
    assert len(list(IMAGES.folder.glob("*.json"))) == 2


def test_cells_counted_from_the_summary_match_the_runs_filtered_one_by_one():
    """The map's runs layer from the kept summary equals filtering the placed runs (unknown values pass) and
    counting them per cell, for random axis filters over the bundled runs."""
    from conftest import BUNDLED

    from atlas_viz.catalogue.filters import Filters, filter_runs
    from atlas_viz.runs.store import metric_columns
    from atlas_viz.runs.summary import aggregate_cells

    atlas = load_atlas(BUNDLED)
    runset, placed, observed = load_observations(BUNDLED, atlas.axes, atlas.terrain)
    assert (placed["imputed"] != "").any()                     # some runs have unknown axes: the hard case
    metrics = metric_columns(placed, runset.sources)
    summary = summarise(placed, observed, runset.problems, metrics)
    rng = np.random.default_rng(3)
    for trial in range(12):
        flt = Filters()
        for ax in rng.choice(atlas.axes.names, size=rng.integers(0, 3), replace=False):
            names = atlas.axes[ax].value_names
            flt.axes[ax] = tuple(rng.choice(names, size=rng.integers(1, len(names) + 1), replace=False))
        metric = metrics[trial % len(metrics)]
        cells = aggregate_cells(summary, atlas.axes, atlas.terrain, flt.axes, metric)
        visible = filter_runs(placed, flt)
        grp = visible.groupby("cell")
        assert cells["cell"].tolist() == sorted(grp.groups) and cells["count"].tolist() == grp.size().tolist()
        assert np.allclose(cells["mean"], pd.to_numeric(grp[metric].mean()), equal_nan=True)
        assert np.allclose(cells[["x", "y"]], atlas.terrain[["x", "y"]].to_numpy()[cells["cell"]])
