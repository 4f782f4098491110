"""Search in the field's language: abbreviations, synonyms, typos, µP vs uP, no false positives; the CLI."""
import json
import textwrap

import pytest
from conftest import make_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atlas_viz.catalogue.filters import Filters, apply_filters
from atlas_viz.catalogue.loader import parse_results_text
from atlas_viz.catalogue.search import SearchIndex, normalise, parse_query, rank_results, search_hits
from atlas_viz.cli.main import main


def entry(rid: str, claim: str, title: str, authors: str = "A. Author", aliases: str = "", notes: str = "") -> str:
    extra = (f"\n  aliases: {aliases}" if aliases else "") + (f"\n  notes: {json.dumps(notes)}" if notes else "")
    return textwrap.dedent(f"""\
        - id: {rid}
          claim: {json.dumps(claim)}
          map_type: heuristic
          region: any
          observables: [generalization]
          citation: {{authors: [{authors}], year: 2020, title: {json.dumps(title)}, arxiv: "2001.00001"}}""") + extra


FIXTURE = "\n".join([
    entry("cohen2021_sharpness", "Full-batch gradient descent drives the top Hessian eigenvalue to 2/eta and "
          "then hovers there.", "Gradient descent at the edge of stability"),
    entry("liu2020_wide_pl", "Wide networks satisfy the Polyak-Łojasiewicz inequality, so gradient descent "
          "converges linearly.", "Loss landscapes of over-parameterized systems"),
    entry("yang2021_features", "Under the maximal update parameterization features keep evolving as width "
          "grows without bound.", "Feature learning in infinite-width networks", aliases="[µP, muP]"),
    entry("jacot2018_kernel", "Training an infinitely wide network is kernel regression with a fixed kernel.",
          "Neural tangent kernel", authors="Arthur Jacot"),
    entry("power2022_delayed", "On small algorithmic datasets, validation accuracy jumps long after the "
          "training set is fit.", "Grokking: generalization beyond overfitting"),
    entry("nakkiran2020_peak", "Test error peaks where the model can just interpolate, then falls again.",
          "Deep double descent"),
    entry("chizat2019_lazy", "With a large output scale, training stays close to its linearisation.",
          "On lazy training in differentiable programming", notes="the rich regime is its opposite"),
    # Texts full of 'up' inside words (update, upper, setup, warmup, group), and one with 'up' as a word.
    entry("zhang2019_warmup", "A learning-rate warmup speeds up early training and lets larger updates be stable.",
          "Why warmup helps"),
    entry("upper2020_bounds", "An upper bound on the update size in group-equivariant setups.", "Upper bounds"),
    entry("sample2021_efficiency", "Sample efficiency of transformers grows with model size.", "Sample efficiency",
          authors="Sam Smith"),
])


@pytest.fixture(scope="module")
def results(axes):
    rows, problems = parse_results_text(FIXTURE, "fixture.yaml", axes)
    assert not problems, problems
    from atlas_viz.catalogue.loader import results_frame
    return results_frame(rows)


@pytest.fixture(scope="module")
def index(results):
    return SearchIndex().fit(results)


def ids(index, query):
    return list(index.search(query)["id"])


def test_normalise_unicode_case_and_micro():
    assert normalise("µP") == normalise("μP") == normalise("muP") == normalise("uP") == "mup"
    assert normalise("up") == "up"  # only the spelling 'uP' means µP
    assert normalise("Polyak-Łojasiewicz") == "polyak lojasiewicz"
    assert normalise("Scaling LAWS") == "scaling law"
    assert normalise("ＮＴＫ") == "ntk"  # full-width letters, NFKC


@pytest.mark.parametrize("query, first", [
    ("EoS", "cohen2021_sharpness"), ("edge of stability", "cohen2021_sharpness"),
    ("PL condition", "liu2020_wide_pl"), ("polyak lojasiewicz", "liu2020_wide_pl"),
    ("µP", "yang2021_features"), ("muP", "yang2021_features"), ("uP", "yang2021_features"),
    ("NTK", "jacot2018_kernel"), ("jacot", "jacot2018_kernel"),
    ("grokking", "power2022_delayed"), ("grokin", "power2022_delayed"),
    ("double descent", "nakkiran2020_peak"), ("doubel descent", "nakkiran2020_peak"), ("DD", "nakkiran2020_peak"),
    ("lazy regime", "chizat2019_lazy"),
])
def test_abbreviations_synonyms_and_typos_find_the_result(index, query, first):
    assert ids(index, query)[:1] == [first]


def test_short_tokens_match_whole_words_not_substrings(index):
    assert ids(index, "uP") == ["yang2021_features"]  # not update, upper, setup, warmup, group
    assert ids(index, "mup") == ["yang2021_features"]
    assert ids(index, "up") == ["zhang2019_warmup"]  # 'speeds up': the word, nowhere inside another
    assert ids(index, "SAM") == []  # sharpness-aware minimisation is not here; Sam Smith is a name


def test_synonym_and_one_way_expansion(index):
    assert "yang2021_features" in ids(index, "rich regime")  # feature learning <-> rich regime
    assert "chizat2019_lazy" in ids(index, "rich regime")  # notes are searched too
    hits = ids(index, "infinite-width feature learning")
    assert hits[0] == "yang2021_features"


def test_no_false_positives_and_empty_queries(index):
    for query in ("blockchain quantum", "xyzzy", "", "   ", "the of and", "!!!"):
        assert ids(index, query) == [], query
    assert ids(index, "grokking blockchain") == ["power2022_delayed"]  # one unknown word lowers, not drops


def test_scores_are_ranked_and_bounded(index):
    hits = index.search("gradient descent")
    assert len(hits) >= 2 and hits["score"].is_monotonic_decreasing
    assert ((hits["score"] > 0) & (hits["score"] <= 1)).all()
    assert len(index.search("gradient descent", top=1)) == 1


def test_query_parts_read_longest_phrase_first():
    parts, _ = parse_query(normalise("PL condition for wide nets"))
    assert parts[0][0] == "polyaklojasiewicz" and ("condition",) not in parts


def test_empty_catalogue_and_filters_rank(results):
    empty = SearchIndex().fit(results.iloc[:0])
    assert empty.search("ntk").empty
    ranked = apply_filters(results, Filters(text="gradient descent"))
    assert ranked["score"].is_monotonic_decreasing and "cohen2021_sharpness" in set(ranked["id"])
    narrowed = rank_results(results[results["id"] != "cohen2021_sharpness"], "EoS", SearchIndex().fit(results))
    assert narrowed.empty  # a hit outside the given rows is not returned


def test_aliases_are_validated(axes):
    bad = FIXTURE.split("\n- id: liu")[0] + "\n  aliases: [EoS, 12, '" + "x" * 60 + "']"
    rows, problems = parse_results_text(bad, "bad.yaml", axes)
    assert rows and rows[0]["aliases"] == ("EoS",)  # bad aliases dropped, the result kept
    assert [p.field for p in problems] == ["aliases[1]", "aliases[2]"]
    assert "bad.yaml" in str(problems[0]) and "cohen2021_sharpness" in str(problems[0])


def test_cli_json_and_md(tmp_path, capsys):
    data = make_data(tmp_path, {"f.yaml": FIXTURE})
    assert main(["search", "EoS", "--data", str(data), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out[0]["id"] == "cohen2021_sharpness" and 0 < out[0]["score"] <= 1
    assert main(["search", "gradient", "descent", "--top", "1", "--data", str(data), "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
    assert main(["search", "PL", "condition", "--data", str(data)]) == 0
    md = capsys.readouterr().out
    assert "| 1 | `liu2020_wide_pl` |" in md and "Polyak\\-Łojasiewicz" in md  # claim excerpt, escaped


def test_cli_no_hit_exits_1_with_an_empty_list(tmp_path, capsys):
    data = make_data(tmp_path, {"f.yaml": FIXTURE})
    assert main(["search", "xyzzy", "--data", str(data), "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out) == [] and "no result matches 'xyzzy'" in captured.err
    assert main(["search", "--data", str(data)]) == 1
    assert "the query is empty" in capsys.readouterr().err


def test_contribute_form_carries_aliases(axes):
    from atlas_viz.catalogue.contribute import build_entry, entry_to_form, entry_yaml

    entry = build_entry({"id": "x2020_y", "aliases": " EoS, edge  of stability,,EoS "}, axes)
    assert entry["aliases"] == ["EoS", "edge of stability"]
    assert entry_to_form(entry)["aliases"] == "EoS, edge of stability"
    assert "aliases:" in entry_yaml(entry) and "aliases" not in build_entry({"id": "x2020_y"}, axes)


def test_hostile_and_huge_queries_are_plain_text(index):
    assert ids(index, "(.*)[" * 50) == []
    assert ids(index, "<script>alert(1)</script> grokking")[:1] == ["power2022_delayed"]
    assert index.search("grokking " + "zzzz " * 10_000)["id"].tolist()[:1] == ["power2022_delayed"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=80))
def test_any_text_searches_without_error(index, query):
    hits = index.search(query)
    assert list(hits.columns) == ["id", "score"] and ((hits["score"] > 0) & (hits["score"] <= 1.0001)).all()


def test_the_issue_examples_on_the_bundled_catalogue():
    from conftest import BUNDLED

    from atlas_viz.catalogue.loader import load_catalog
    from atlas_viz.terrain.axes import load_axes

    results = load_catalog(BUNDLED, load_axes(BUNDLED / "axes.yaml")).results
    index = SearchIndex().fit(results)
    top = {q: list(index.search(q, top=3)["id"]) for q in ("EoS", "PL condition", "µP", "uP", "grokin",
                                                             "doubel descent", "infinite-width feature learning")}
    assert "cohen2021_edge_of_stability" in top["EoS"]
    assert top["PL condition"][0] == "liu2020_pl_overparameterized"
    assert top["µP"] == top["uP"] and all(rid.startswith("yang") for rid in top["µP"])
    assert len(index.search("uP")) < 30  # not the 46 claims that contain 'up' somewhere
    assert "power2022_grokking" in top["grokin"] and "nakkiran2020_deep_double_descent" in top["doubel descent"]
    assert "yang2021_feature_learning_infinite_width" in top["infinite-width feature learning"]


def test_aliases_are_exported(results):
    from atlas_viz.catalogue.export import results_csv, results_json

    one = results[results["id"] == "yang2021_features"]
    assert "µP;muP" in results_csv(one)
    assert json.loads(results_json(one))[0]["aliases"] == ["µP", "muP"]


def test_search_hits_keep_the_opened_result_in_view(results):
    ranked = apply_filters(results, Filters(text="gradient descent"))
    assert search_hits(ranked, top=2) == list(ranked["id"].iloc[:2])
    last = ranked["id"].iloc[-1]
    assert search_hits(ranked, last, top=1) == [ranked["id"].iloc[0], last]
    assert search_hits(ranked, "not_a_hit", top=1) == [ranked["id"].iloc[0]]
