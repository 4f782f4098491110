"""The bundled catalogue: clean, large enough, every map type and observable, lineages, schema."""
import json

import jsonschema
import pytest

from atlas_viz.atlas import load_atlas
from atlas_viz.catalogue.schema import results_schema
from atlas_viz.io.yamlio import read_yaml

from conftest import BUNDLED


@pytest.fixture(scope="module")
def atlas():
    return load_atlas(BUNDLED)


def test_bundled_catalogue_has_no_problems(atlas):
    assert atlas.problems == []


def test_counts_per_map_type(atlas):
    counts = atlas.results["map_type"].value_counts()
    assert len(atlas.results) >= 150
    minimum = {"theorem": 20, "calculation": 20, "empirical_law": 30, "heuristic": 15, "conjecture": 5}
    for kind, n in minimum.items():
        assert counts.get(kind, 0) >= n, (kind, counts.get(kind, 0))


def test_every_observable_is_spoken_about(atlas):
    used = {o for obs in atlas.results["observables"] for o in obs}
    assert used == set(atlas.axes.observable_names)


def test_at_least_40_relations_of_every_kind(atlas):
    rels = [k for rs in atlas.results["relations"] for k, _ in rs]
    assert len(rels) >= 40
    assert set(rels) == {"extends", "tests", "contradicts", "inspired_by"}


@pytest.mark.parametrize("rid", [
    "jacot2018_ntk", "ghorbani2019_lazy_limitations", "abbe2022_merged_staircase", "abbe2021_staircase",
    "kaplan2020_scaling_laws", "power2022_grokking", "zhang2017_random_labels", "mei2019_random_features_double_descent",
    "hanin2020_finite_width_ntk", "pope2021_intrinsic_dimension", "cohen2021_edge_of_stability",
    "yang2021_feature_learning_infinite_width", "yang2022_mup_transfer", "bordelon2020_kernel_spectrum",
    "entezari2022_permutation_conjecture", "mei2018_mean_field", "gardner1988_perceptron_capacity",
])
def test_the_essays_examples_are_in_the_catalogue(atlas, rid):
    assert rid in set(atlas.results["id"])


def test_every_file_records_how_it_was_checked():
    for path in sorted((BUNDLED / "results").glob("*.yaml")):
        head = path.read_text(encoding="utf-8")[:3000].lower()
        assert "checked" in head, path.name


def test_catalogue_passes_the_committed_json_schema(axes):
    schema = results_schema(axes)
    committed = json.loads((BUNDLED / "results.schema.json").read_text())
    year = ["items", "properties", "citation", "properties", "year", "maximum"]

    def without_year_bound(s: dict) -> dict:  # next year's bound moves on 1 January; the rest must match
        s = json.loads(json.dumps(s))
        node = s
        for key in year[:-1]:
            node = node[key]
        node.pop(year[-1])
        return s

    assert without_year_bound(committed) == without_year_bound(schema), \
        "run `python -m atlas_viz schema` after changing axes.yaml or the loader's rules"
    for path in sorted((BUNDLED / "results").glob("*.yaml")):
        data, problems = read_yaml(path)
        assert not problems
        jsonschema.validate(data, schema)


def test_schema_rejects_what_the_loader_rejects(axes):
    schema = results_schema(axes)
    bad = [{"id": "x1", "claim": "c", "map_type": "theorm", "region": "any", "observables": ["generalization"],
            "citation": {"authors": ["A"], "year": 2020, "title": "T", "arxiv": "2001.00001"}}]
    with pytest.raises(jsonschema.ValidationError, match="theorm"):
        jsonschema.validate(bad, schema)


def test_arxiv_ids_are_unique_per_claim_source(atlas):
    # Several results may cite one paper, but one id must always carry the same title.
    seen = {}
    for r in atlas.results.itertuples():
        if r.arxiv:
            seen.setdefault(r.arxiv, set()).add(r.title.lower())
    assert {k: v for k, v in seen.items() if len(v) > 1} == {}


def test_an_id_whose_year_is_not_the_citations_is_named_in_its_file_header(atlas):
    import re

    for r in atlas.results.itertuples():
        year = re.match(r"[a-z_]+?(\d{4})", r.id)
        if year and int(year.group(1)) != r.year:
            header = (BUNDLED / "results" / r.file).read_text(encoding="utf-8").split("\n- id:")[0]
            assert r.id in header, f"{r.file}: {r.id} carries {year.group(1)}, its citation {r.year}; say so in the header"


def test_at_least_30_results_carry_predictions_of_every_kind(atlas):
    from atlas_viz.core.names import PREDICTION_KINDS

    preds = [p for p in atlas.results["prediction"] if p is not None]
    assert len(preds) >= 30
    assert {p.kind for p in preds} == set(PREDICTION_KINDS)
    assert all(p.basis for p in preds), "every bundled prediction says where its number comes from"


def test_at_least_10_bundled_predictions_get_a_verdict_from_the_bundled_runs(atlas):
    from atlas_viz.checks.scope import RunTable
    from atlas_viz.checks.verdicts import check_results
    from atlas_viz.runs.store import load_runs

    runset = load_runs(BUNDLED, atlas.axes)
    checks = check_results(atlas.results, RunTable(runset.runs, runset.sources, atlas.axes))
    decided = {c.id: c.verdict for c in checks if c.verdict in ("agrees", "disagrees")}
    assert len(decided) >= 10, decided
    # the scan-bench language models speak to the scaling laws: at least one of them is checked on real runs
    scaling = {"kaplan2020_scaling_laws", "kaplan2020_overfitting_sample_efficiency", "hoffmann2022_chinchilla",
               "rosenfeld2019_constructive_prediction"}
    assert any("scan_bench_llm" in c.inside.sources for c in checks if c.id in scaling)


def test_the_atlas_own_expedition_runs_decide_8_results_over_4_prediction_kinds(atlas):
    """Issue 12's bundled evidence: the runs the expeditions made give verdicts of their own."""
    from atlas_viz.checks.scope import RunTable
    from atlas_viz.checks.verdicts import check_results
    from atlas_viz.runs.store import load_runs

    runset = load_runs(BUNDLED, atlas.axes)
    own = runset.runs[runset.runs["source"] == "expeditions"]
    checks = check_results(atlas.results, RunTable(own, runset.sources, atlas.axes))
    decided = [c for c in checks if c.verdict in ("agrees", "disagrees") and c.inside.sources == ("expeditions",)]
    assert len(decided) >= 8, [c.id for c in decided]
    assert len({c.prediction.kind for c in decided}) >= 4, {c.id: c.prediction.kind for c in decided}
