"""Gaps of every kind on hand-built fixtures, their ranking and explanations, a real short expedition,
the CLI and the Expeditions view."""
import json
import textwrap

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from atlas_viz.atlas import load_atlas
from atlas_viz.cli.main import main
from atlas_viz.coverage.levels import coverage_table
from atlas_viz.expeditions.runner import SOURCE, plan_sweep, realisable_cells, realise, run_sweep
from atlas_viz.expeditions.ranking import compute_expeditions, select, to_csv, to_markdown, to_records
from atlas_viz.expeditions.gaps import SCORE_WEIGHTS, find_gaps
from atlas_viz.core.names import OBSERVED, TERRA_INCOGNITA
from atlas_viz.runs.store import load_observations, read_source_table, save_runs

from conftest import ROOT, make_data

# A theorem about deep linear nets on linear-Gaussian data at wide width; an empirical law about shallow nets on
# teacher-student data; two heuristics that contradict each other on sparse features.
RESULTS = textwrap.dedent("""\
    - id: thm2020_linear
      claim: Wide deep linear networks trained by gradient descent on Gaussian data generalise as predicted.
      map_type: theorem
      region: {task: [linear_gaussian], architecture: [linear], width: [wide], depth: [moderate],
               optimizer: [gd], learning_rate: [small], parameterization: [standard], data_regime: [overparameterized]}
      observables: [generalization]
      citation: {authors: [Ada Alpha], year: 2020, title: Alpha, arxiv: "2001.00001"}
    - id: law2021_teacher
      claim: Shallow nets on teacher-student data follow a power law in width.
      map_type: empirical_law
      region: {task: [teacher_student], architecture: [shallow_net], width: [narrow, moderate], depth: [shallow],
               optimizer: [sgd], learning_rate: [moderate], parameterization: [standard],
               data_regime: [overparameterized]}
      observables: [generalization]
      citation: {authors: [Bo Beta], year: 2021, title: Beta, arxiv: "2101.00001"}
    - id: heur2022_sparse_yes
      claim: Sparse features are learned by wide MLPs.
      map_type: heuristic
      region: {task: [sparse_features], architecture: [mlp], width: [wide]}
      observables: [representations]
      citation: {authors: [Cy Gamma], year: 2022, title: Gamma, arxiv: "2201.00001"}
    - id: heur2023_sparse_no
      claim: Sparse features are not learned by MLPs of any width trained with SGD.
      map_type: heuristic
      region: {task: [sparse_features], architecture: [mlp], optimizer: [sgd]}
      observables: [representations]
      citation: {authors: [Di Delta], year: 2023, title: Delta, arxiv: "2301.00001"}
      relations: [{type: contradicts, target: heur2022_sparse_yes}]
    """)
RUN = {"run_id": "r1", "task": "tabular", "architecture": "mlp", "width": "moderate", "depth": "shallow",
       "optimizer": "adaptive", "learning_rate": "moderate", "parameterization": "standard",
       "data_regime": "underparameterized", "test_error": 0.2}


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory):
    data = make_data(tmp_path_factory.mktemp("gaps"), {"gaps.yaml": RESULTS})
    save_runs(data, "tab", pd.DataFrame([RUN]), {"name": "tab", "license": "CC0-1.0", "metrics": ["test_error"],
                                                   "observables": ["generalization"]})
    return data


@pytest.fixture(scope="module")
def loaded(fixture_dir):
    atlas = load_atlas(fixture_dir)
    runset, placed, observed = load_observations(fixture_dir, atlas.axes, atlas.terrain)
    assert not atlas.problems and not runset.problems
    table = coverage_table(atlas.results, atlas.masks, atlas.axes.observable_names, len(atlas.terrain), observed)
    return atlas, placed, observed, table


def gaps_of(loaded, kinds, observables=("generalization", "representations")):
    atlas, placed, observed, table = loaded
    return find_gaps(atlas.axes, atlas.terrain, atlas.results, atlas.masks, table, observed, placed,
                     observables=observables, kinds=kinds)


def values_of_cells(atlas, cells, axis):
    return set(atlas.terrain[axis].to_numpy()[cells])


def test_frontier_is_one_step_outside_a_theorem_along_one_axis(loaded):
    atlas = loaded[0]
    gaps = [g for g in gaps_of(loaded, ("frontier",)) if g.results == ("thm2020_linear",)]
    steps = {(g.stepped, g.values[g.stepped]) for g in gaps}
    # ordinal axes step to both neighbours; the theorem's other axes stay inside its region
    assert ("width", ("moderate",)) in steps and ("width", ("infinite",)) in steps
    assert ("depth", ("shallow",)) in steps and ("depth", ("deep",)) in steps
    width_gap = next(g for g in gaps if g.stepped == "width" and g.values["width"] == ("moderate",))
    assert values_of_cells(atlas, width_gap.cells, "width") == {atlas.axes["width"].code("moderate")}
    assert values_of_cells(atlas, width_gap.cells, "task") == {atlas.axes["task"].code("linear_gaussian")}
    theorem_mask = atlas.masks[list(atlas.results["id"]).index("thm2020_linear")]
    assert not theorem_mask[width_gap.cells].any()


def test_runs_with_no_result_are_observed_but_unmapped(loaded):
    placed = loaded[1]
    run_cell = int(placed["cell"].iloc[0])
    gaps = gaps_of(loaded, ("observed_unmapped",), ("generalization",))
    hit = [g for g in gaps if run_cell in set(g.cells)]
    assert len(hit) == 1 and hit[0].n_runs == 1 and hit[0].runs == ("tab:r1",)
    assert not gaps_of(loaded, ("observed_unmapped",), ("representations",))  # the runs observe generalization only


def test_overlapping_contradictory_results_are_contested(loaded):
    atlas = loaded[0]
    gaps = gaps_of(loaded, ("contested",))
    assert len(gaps) == 1
    g = gaps[0]
    ids = list(atlas.results["id"])
    both = atlas.masks[ids.index("heur2023_sparse_no")] & atlas.masks[ids.index("heur2022_sparse_yes")]
    assert g.results == ("heur2023_sparse_no", "heur2022_sparse_yes") and g.observables == ("representations",)
    assert np.array_equal(np.sort(g.cells), np.flatnonzero(both))


def test_mapped_but_untested_names_the_claim_and_holds_no_run(loaded):
    atlas, placed = loaded[0], loaded[1]
    gaps = [g for g in gaps_of(loaded, ("mapped_untested",), ("generalization",)) if "law2021_teacher" in g.results]
    assert gaps
    law = atlas.masks[list(atlas.results["id"]).index("law2021_teacher")]
    covered = np.concatenate([g.cells for g in gaps])
    assert law[covered].all() and set(covered) == set(np.flatnonzero(law))
    assert not set(covered) & set(placed["cell"])


def test_terra_incognita_boxes_are_unclaimed_and_unobserved(loaded):
    table = loaded[3]
    gaps = gaps_of(loaded, ("terra_incognita",), ("generalization",))
    assert gaps and all((table["generalization"].to_numpy()[g.cells] == TERRA_INCOGNITA).all() for g in gaps)
    assert all(g.n_runs == 0 for g in gaps)


def test_ranking_follows_the_visible_score_parts(loaded):
    gaps = gaps_of(loaded, ("terra_incognita", "observed_unmapped", "mapped_untested", "frontier", "contested"))
    scores = [g.score for g in gaps]
    assert scores == sorted(scores, reverse=True)
    for g in gaps:
        assert set(g.parts) == set(SCORE_WEIGHTS) and all(0 <= v <= 1 for v in g.parts.values())
        assert g.score == pytest.approx(sum(SCORE_WEIGHTS[k] * g.parts[k] for k in SCORE_WEIGHTS), abs=1e-3)
    # With equal other parts, the kind decides: a frontier gap outranks terra incognita.
    from atlas_viz.expeditions.gaps import _score
    base = {"proximity": 0.5, "size": 0.5, "relevance": 0.5}
    assert _score({**base, "kind": 1.0}) > _score({**base, "kind": 0.5})


def test_expeditions_frame_explains_each_gap(loaded):
    atlas, placed, observed, _ = loaded
    gaps, frame = compute_expeditions(atlas, placed, observed)
    assert len(frame) == len(gaps) and frame["id"].is_unique
    row = frame[frame["kind"] == "contested"].iloc[0]
    assert "heur2023_sparse_no contradicts heur2022_sparse_yes" in row["explanation"]
    frontier = frame[(frame["kind"] == "frontier") & frame["results"].map(lambda r: r == ("thm2020_linear",))]
    assert frontier["explanation"].str.contains("thm2020_linear (theorem)", regex=False).all()
    unmapped = frame[frame["kind"] == "observed_unmapped"].iloc[0]
    assert "tab:r1" in unmapped["explanation"]
    # the runner reaches linear-Gaussian deep linear nets, not transformers
    assert frontier["runnable"].any()
    assert set(select(frame, kinds=("contested",))["kind"]) == {"contested"}
    assert select(frame, observables=("transfer",))["observables"].map(lambda o: "transfer" in o).all()
    records = to_records(frame.head(3), gaps, atlas.axes)
    assert {"id", "kind", "cells", "score", "score_parts", "runnable", "explanation"} <= set(records[0])
    assert set(records[0]["cells"]) == set(atlas.axes.names)
    md, csv = to_markdown(frame.head(3)), to_csv(frame.head(3))
    assert md.count("\n## ") == 3 and csv.splitlines()[0].startswith("id,kind,observables")


def test_realisable_cells_agree_with_realise_cell_by_cell():
    atlas = load_atlas(ROOT / "data")
    cells = np.random.default_rng(3).choice(len(atlas.terrain), 3000, replace=False)
    rows = atlas.terrain[list(atlas.axes.names)].to_numpy()[cells]
    reference = atlas.axes["learning_rate"].reference
    expected = [realise({a.name: a.value_names[c] for a, c in zip(atlas.axes.axes, row)}, reference) is not None
                for row in rows]
    assert list(realisable_cells(atlas.axes, atlas.terrain, cells)) == expected and any(expected)


def test_a_short_real_expedition_lands_in_the_gap_and_lifts_the_fog(tmp_path):
    data = make_data(tmp_path, {"gaps.yaml": RESULTS})
    atlas = load_atlas(data)
    _, placed, observed = load_observations(data, atlas.axes, atlas.terrain)
    gaps, frame = compute_expeditions(atlas, placed, observed, observables=("generalization",), kinds=("frontier",))
    gap = next(g for g in gaps if g.results == ("thm2020_linear",) and g.stepped == "width"
               and g.values["width"] == ("moderate",))
    plan = plan_sweep(atlas.axes, atlas.terrain, gap.cells, gap.id, max_runs=4)
    assert plan
    seen = []
    report = run_sweep(data, atlas.axes, plan, budget=60, progress=lambda d, t, text: seen.append((d, t)))
    assert report.done == len(plan) and seen[-1] == (len(plan), len(plan))
    runset, placed, observed = load_observations(data, atlas.axes, atlas.terrain)
    mine = placed[placed["source"] == SOURCE]
    assert len(mine) == len(plan) and set(mine["cell"]) <= set(gap.cells)
    assert mine["test_error"].notna().all() and (mine["config.seed"] >= 0).all()
    assert runset.sources[SOURCE]["provenance"]["code_version"]
    table = coverage_table(atlas.results, atlas.masks, atlas.axes.observable_names, len(atlas.terrain), observed)
    assert (table["generalization"].to_numpy()[mine["cell"].to_numpy()] == OBSERVED).all()
    again, _ = compute_expeditions(atlas, placed, observed, observables=("generalization",), kinds=("frontier",))
    same = [g for g in again if g.results == gap.results and g.stepped == "width" and g.values["width"] == ("moderate",)]
    assert not same or same[0].n_cells < gap.n_cells  # the gap shrank or closed: the list re-ranked


def test_a_stopped_expedition_keeps_what_finished(tmp_path):
    data = make_data(tmp_path, {"gaps.yaml": RESULTS})
    atlas = load_atlas(data)
    cells = np.flatnonzero(atlas.masks[list(atlas.results["id"]).index("law2021_teacher")])
    plan = plan_sweep(atlas.axes, atlas.terrain, cells, "stop-test", max_runs=5)
    seen = []
    report = run_sweep(data, atlas.axes, plan, budget=60, cancel=lambda: len(seen) >= 2,
                       progress=lambda d, t, text: seen.append(d))
    assert report.stopped == "cancelled" and report.done == 2
    assert len(read_source_table(data, SOURCE)) == 2


def test_cli_lists_expeditions_as_json_and_refuses_unknown_ids(fixture_dir, capsys):
    assert main(["expeditions", "--data", str(fixture_dir), "--top", "5", "--format", "json",
                 "--kind", "contested", "--kind", "frontier"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert 0 < len(records) <= 5 and {r["kind"] for r in records} <= {"contested", "frontier"}
    assert records[0]["score"] >= records[-1]["score"]
    assert main(["expeditions", "--data", str(fixture_dir), "--observable", "vibes"]) == 1
    assert "unknown observable" in capsys.readouterr().err
    assert main(["expedition", "run", "nope-123", "--data", str(fixture_dir)]) == 1
    assert "no expedition 'nope-123'" in capsys.readouterr().err


def test_expeditions_view_lists_filters_and_opens_one(fixture_dir, monkeypatch):
    monkeypatch.setenv("ATLAS_DATA", str(fixture_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["view"] = "expeditions"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    head = next(m.value for m in at.markdown if "expeditions:" in m.value and "of" in m.value)
    total = int(head.split("**")[1].replace(",", ""))
    assert total > 0
    assert [d.label for d in at.get("download_button")][:2] == ["Download this list (Markdown)",
                                                                "Download this list (CSV)"]
    assert any("the expedition's" in c.value and "cells" in c.value for c in at.caption)  # the first is on the map
    at.multiselect(key="x_kinds").set_value(["contested"]).run()
    head = next(m.value for m in at.markdown if "expeditions:" in m.value and "of" in m.value)
    assert int(head.split("**")[1]) == 1
    assert any("contradicts" in t.value for t in at.text)
    at.multiselect(key="x_obs").set_value(["transfer"]).run()
    assert any("No expedition matches" in w.value for w in at.warning)


def test_running_an_expedition_from_the_app_stores_runs_and_reranks(tmp_path, monkeypatch):
    data = make_data(tmp_path, {"gaps.yaml": RESULTS})
    monkeypatch.setenv("ATLAS_DATA", str(data))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["view"] = "expeditions"
    at.run()
    at.checkbox(key="x_runnable").check().run()
    at.number_input(key="x_max_runs").set_value(3).run()
    at.number_input(key="x_budget").set_value(30).run()
    at.button(key="x_run").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("runs finished" in s.value and "ranked again" in s.value for s in at.success)
    stored = read_source_table(data, SOURCE)
    assert len(stored) == 3 and stored["test_error"].notna().any()


def test_the_ranking_is_kept_on_disk_by_fingerprint_and_read_back_whole(loaded, fixture_dir):
    from atlas_viz.expeditions.store import load_ranking, ranking

    atlas, placed, observed, table = loaded
    calls = []

    def compute():
        calls.append(1)
        return compute_expeditions(atlas, placed, observed, table=table)

    gaps, frame = ranking(fixture_dir, "fp-1", compute)
    again, frame2 = ranking(fixture_dir, "fp-1", compute)
    assert len(calls) == 1  # the second call read the disk
    assert [g.id for g in again] == [g.id for g in gaps] and len(gaps) > 3
    assert all(np.array_equal(a.cells, b.cells) and a.values == b.values and a.parts == b.parts
               for a, b in zip(gaps, again))
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), frame2)
    assert load_ranking(fixture_dir, "fp-2") is None  # another data version is computed afresh


def test_one_step_along_a_nominal_axis_goes_only_to_declared_neighbours(loaded):
    from atlas_viz.expeditions.gaps import Grid

    atlas = loaded[0]
    grid = Grid(atlas.axes, atlas.terrain)
    arch = atlas.axes["architecture"]
    j = atlas.axes.names.index("architecture")
    assert {arch.value_names[i] for i in grid.steps(j, np.array([arch.code("linear")]))} == {"kernel", "shallow_net"}
    # the theorem's optimizer is gd: its frontier steps to gradient flow and SGD, never straight to Adam
    gaps = [g for g in gaps_of(loaded, ("frontier",)) if "thm2020_linear" in g.results and g.stepped == "optimizer"]
    assert {v for g in gaps for v in g.values["optimizer"]} == {"gradient_flow", "sgd"}


def test_gaps_over_the_same_place_merge_and_name_all_their_results():
    from atlas_viz.expeditions.gaps import Gap, _merge

    cells = np.array([3, 4, 5])
    parts = {"proximity": 0.2, "size": 0.1, "relevance": 0.5, "kind": 1.0}
    a = Gap("frontier", ("generalization",), {"width": ("wide",)}, cells, dict(parts), 0.4, ("thm_a",), ("n1",))
    b = Gap("frontier", ("stability",), {"width": ("wide",)}, cells.copy(), {**parts, "proximity": 0.6}, 0.5,
            ("thm_b",), ("n2",))
    c = Gap("frontier", ("generalization",), {"width": ("infinite",)}, np.array([6]), dict(parts), 0.3, ("thm_a",))
    merged = _merge([a, b, c])
    assert len(merged) == 2
    one = next(g for g in merged if g.n_cells == 3)
    assert one.results == ("thm_a", "thm_b") and one.observables == ("generalization", "stability")
    assert one.parts["proximity"] == 0.6 and one.score == 0.5
