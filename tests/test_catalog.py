"""Every kind of bad catalogue input is reported with file, entry and field; the rest loads."""

import textwrap

import pytest

from atlas_viz.catalogue.loader import load_catalog, parse_results_text
from atlas_viz.io.yamlio import MAX_YAML_BYTES

from conftest import GOOD, make_data

ENTRY = """\
- id: {id}
  claim: {claim}
  map_type: {map_type}
  region: {region}
  observables: {observables}
  citation: {{authors: [A B], year: {year}, title: T, arxiv: {arxiv}}}
"""


def entry(**kw) -> str:
    base = dict(id="x2020_one", claim="A claim.", map_type="theorem", region="{width: [wide]}",
                observables="[generalization]", year=2020, arxiv='"2001.00001"')
    base.update(kw)
    return ENTRY.format(**base)


def problems_of(axes, text: str) -> list[str]:
    rows, problems = parse_results_text(text, "f.yaml", axes)
    return [str(p) for p in problems]


@pytest.mark.parametrize("kw, message", [
    ({"map_type": "theorm"}, r"entry x2020_one, field map_type: .*got 'theorm' \(did you mean 'theorem'\?\)"),
    ({"region": "{widht: [wide]}"}, r"field region.widht: each region axis must be one of task, .*did you mean 'width'"),
    ({"region": "{width: [huge]}"}, r"field region.width: a value of width must be one of narrow, moderate, wide, infinite; got 'huge'"),
    ({"region": "{width: []}"}, r"field region.width: is an empty list"),
    ({"observables": "[generalisation]"}, r"field observables: .*got 'generalisation' \(did you mean 'generalization'\?\)"),
    ({"year": "20x0"}, r"field citation.year: must be a whole year from 1900"),
    ({"year": "1850"}, r"field citation.year: must be a whole year"),
    ({"arxiv": '"arXiv:2001"'}, r"field citation.arxiv: must be an arXiv id like 2001.08361"),
    ({"arxiv": "2002.02560"}, r"field citation.arxiv: must be quoted text .* the number 2002.0256"),
    ({"claim": '""'}, r"field claim: must be a non-empty sentence"),
    ({"id": "Bad Id!"}, r"entry Bad Id!, field id: must be 2-80 lowercase letters"),
])
def test_bad_field_is_named(axes, kw, message):
    found = problems_of(axes, entry(**kw))
    assert any(__import__("re").search(message, p) for p in found), found
    assert all(p.startswith("f.yaml") for p in found)


def test_missing_id_uses_position(axes):
    text = entry().replace("- id: x2020_one\n  claim", "- claim")
    assert problems_of(axes, text) == ["f.yaml, entry #1, field id: is missing; every result needs id, claim, "
                                       "map_type, region, observables, citation"]


def test_unknown_field_and_non_map_entry(axes):
    found = problems_of(axes, entry() + "  claims: oops\n- just a string\n")
    assert any("field claims: field must be one of" in p and "did you mean 'claim'" in p for p in found)
    assert any("entry #2: each result must be a map" in p for p in found)


def test_top_level_must_be_a_list(axes):
    rows, problems = parse_results_text("id: x\nclaim: y\n", "f.yaml", axes)  # a single map is accepted
    assert problems and "field claim" not in str(problems[0])
    assert str(parse_results_text('"just text"', "f.yaml", axes)[1][0]).endswith(
        "the top level must be a list of results (lines starting with '- '); got a str")


def test_yaml_tags_that_build_objects_are_refused(axes):
    for tag in ("!!python/object/apply:os.system ['echo hi']", "!custom {a: 1}"):
        rows, problems = parse_results_text(f"- id: x\n  claim: {tag}\n", "f.yaml", axes)
        assert rows == [] and "not valid YAML" in str(problems[0]), problems


def test_bad_yaml_names_line(axes):
    rows, problems = parse_results_text("- id: [unclosed\n", "f.yaml", axes)
    assert rows == [] and "f.yaml: not valid YAML: line" in str(problems[0])


def test_files_load_independently(tmp_path, axes):
    data = make_data(tmp_path, {
        "good.yaml": GOOD,
        "bom_crlf.yaml": ("\ufeff" + entry(id="bom2020_x")).replace("\n", "\r\n"),
        "latin1.yaml": "- id: caf\xe9\n".encode("latin-1"),
        "big.yaml": b"#" * (MAX_YAML_BYTES + 1),
        "notalist.yaml": "a: 1\n",
        "zdup.yaml": entry(id="alpha2020_theorem"),
        "rel.yaml": entry(id="rel2020_x") + "  relations: [{type: extends, target: nowhere2020_x}]\n",
        "empty.yaml": "",
    })
    cat = load_catalog(data, axes)
    text = "\n".join(str(p) for p in cat.problems)
    assert set(cat.results["id"]) == {"alpha2020_theorem", "beta2021_law", "bom2020_x", "rel2020_x"}
    assert "latin1.yaml: is not UTF-8 text (byte 9: 0xe9); save it as UTF-8" in text
    assert f"big.yaml: is {MAX_YAML_BYTES + 1:,} bytes, more than the limit" in text
    assert "notalist.yaml: the top level must be a list of results" in text
    assert "zdup.yaml, entry alpha2020_theorem, field id: duplicate id: already used in good.yaml" in text
    assert "rel.yaml, entry rel2020_x, field relations[0].target: relates to unknown id 'nowhere2020_x'" in text
    rel = cat.results.set_index("id").loc["rel2020_x", "relations"]
    assert rel == ()  # the broken relation is dropped, the result kept
    assert cat.results.set_index("id").loc["beta2021_law", "relations"] == (("tests", "alpha2020_theorem"),)


def test_region_any_and_omitted_axes_mean_every_value(axes):
    rows, problems = parse_results_text(entry(region="any"), "f.yaml", axes)
    assert not problems
    assert rows[0]["region"]["task"] == axes["task"].value_names
    rows, _ = parse_results_text(entry(region="{task: any, width: [infinite, narrow]}"), "f.yaml", axes)
    assert rows[0]["region"]["width"] == ("narrow", "infinite")  # axis order, not file order


def test_parsed_yaml_is_kept_and_read_back_only_for_the_same_bytes(tmp_path, monkeypatch):
    from atlas_viz.io.yamlio import parse_cache_dir, read_checked_yaml

    def read_yaml(path):  # the cache keeps what the check passes (here: everything parsed)
        return read_checked_yaml(path, lambda data: (data, []))

    monkeypatch.setenv("ATLAS_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "r.yaml"
    path.write_text(GOOD)
    first, problems = read_yaml(path)
    assert not problems and len(list(parse_cache_dir().glob("*.json"))) == 1
    assert read_yaml(path) == (first, [])                      # read back from the cache, identical
    path.write_text(GOOD.replace("Ada Alpha", "Ada Beta"))     # new bytes: parsed again, never the old parse
    assert read_yaml(path)[0][0]["citation"]["authors"] == ["Ada Beta"]
    for entry in parse_cache_dir().glob("*.json"):             # a damaged cache entry is parsed again
        entry.write_text("{not json")
    assert read_yaml(path)[0][0]["citation"]["authors"] == ["Ada Beta"]
    path.write_text("- when: 2020-01-01\n")                    # a date is not JSON: parsed each time, not kept
    assert str(read_yaml(path)[0][0]["when"]) == "2020-01-01"
    assert len(list(parse_cache_dir().glob("*.json"))) == 2
    path.write_text("- id: [unclosed\n")                        # a broken file is reported, never cached
    assert read_yaml(path)[1] and len(list(parse_cache_dir().glob("*.json"))) == 2


# Consistency of trueness with the kind of map, and one entry per paper, kind and region.

@pytest.mark.parametrize("map_type, status, message", [
    ("calculation", "proven", r"entry x2020_one, field status: 'proven' is for theorems only; this result is a calculation"),
    ("empirical_law", "proven", r"'proven' is for theorems only; this result is an empirical_law\. Use 'replicated'"),
    ("conjecture", "replicated", r"field status: a conjecture is open, so it cannot be 'replicated'"),
    ("conjecture", "proven", r"field status: 'proven' is for theorems only; this result is a conjecture"),
])
def test_status_must_fit_the_kind_of_map(axes, map_type, status, message):
    found = problems_of(axes, entry(map_type=map_type) + f"  status: {status}\n")
    assert any(__import__("re").search(message, p) for p in found), found


@pytest.mark.parametrize("map_type, status", [("theorem", "proven"), ("calculation", "replicated"),
                                              ("conjecture", None), ("empirical_law", "replicated")])
def test_fitting_statuses_pass(axes, map_type, status):
    text = entry(map_type=map_type) + (f"  status: {status}\n" if status else "")
    assert problems_of(axes, text) == []


def _disputed(notes: str = "", relation: str = "") -> str:
    text = entry(id="d2020_disputed", map_type="heuristic") + "  status: contested\n"
    text += f"  notes: {notes}\n" if notes else ""
    return text + (f"  relations: [{relation}]\n" if relation else "")


@pytest.mark.parametrize("notes, relation, ok", [
    ("", "", False),
    ("Later work disagrees. Published at ICLR 2017.", "", False),      # a venue and a year name no paper
    ("Later work (Smith et al., 2021) disagrees.", "", True),
    ("Challenged by Smith and Jones (2019).", "", True),
    ("See arXiv 2101.00001 for a counterexample.", "", True),
    ("Contradicted by x2020_one.", "", True),                          # the id of another result
    ("", "{type: contradicts, target: x2020_one}", True),
])
def test_a_disputed_result_names_who_disputes_it(tmp_path, axes, notes, relation, ok):
    data = make_data(tmp_path, {"a.yaml": entry(arxiv='"2001.00002"') + _disputed(notes, relation)})
    found = [str(p) for p in load_catalog(data, axes).problems]
    expected = "a.yaml, entry d2020_disputed, field status: 'contested' must say who contests it"
    assert any(p.startswith(expected) for p in found) != ok, found


def test_a_contradicts_relation_pointing_at_a_disputed_result_names_its_critic(tmp_path, axes):
    critic = entry(arxiv='"2001.00002"') + "  relations: [{type: contradicts, target: d2020_disputed}]\n"
    data = make_data(tmp_path, {"a.yaml": critic + _disputed().replace("contested", "refuted")})
    assert load_catalog(data, axes).problems == []
    data = make_data(tmp_path / "b", {"a.yaml": entry(arxiv='"2001.00002"') + _disputed().replace("contested", "refuted")})
    assert "'refuted' must say who contests it" in str(load_catalog(data, axes).problems)


def test_one_paper_has_one_entry_per_kind_and_region(tmp_path, axes):
    twice = entry() + entry(id="x2020_two", arxiv='"2001.00001v2"')
    data = make_data(tmp_path, {"a.yaml": twice})
    found = [str(p) for p in load_catalog(data, axes).problems]
    assert found == [("a.yaml, entry x2020_two, field citation: x2020_one already records a theorem of the same "
                      "paper (arxiv:2001.00001) over the same region; merge the two claims into one entry, or narrow "
                      "the region each one holds in")]
    other_region = entry() + entry(id="x2020_two", region="{width: [infinite]}")
    other_kind = entry() + entry(id="x2020_two", map_type="calculation")
    for i, text in enumerate((other_region, other_kind)):
        assert load_catalog(make_data(tmp_path / str(i), {"a.yaml": text}), axes).problems == []


def test_lineage_reads_relations_both_ways():
    import pandas as pd

    from atlas_viz.catalogue.relations import lineage

    results = pd.DataFrame({"id": ["a", "b", "c"],
                            "relations": [(("extends", "b"),), (), (("contradicts", "a"), ("tests", "b"))]})
    assert lineage(results, "a") == [("extends", "b", "→"), ("contradicts", "c", "←")]
    assert lineage(results, "b") == [("extends", "a", "←"), ("tests", "c", "←")]
    assert lineage(results, "zzz") == []


def test_a_result_cannot_build_on_a_later_paper(tmp_path):
    from atlas_viz.atlas import load_atlas

    text = textwrap.dedent("""\
        - id: early2018_claim
          claim: An early claim.
          map_type: heuristic
          region: any
          observables: [generalization]
          citation: {authors: [A Early], year: 2018, title: Early, arxiv: "1801.00001"}
          relations: [{type: extends, target: late2021_claim}]
        - id: late2021_claim
          claim: A later claim.
          map_type: heuristic
          region: any
          observables: [generalization]
          citation: {authors: [B Late], year: 2021, title: Late, arxiv: "2101.00001"}
          relations: [{type: tests, target: early2018_claim}]
        """)
    atlas = load_atlas(make_data(tmp_path, {"t.yaml": text}), place_results=False)
    msgs = [str(p) for p in atlas.problems]
    assert len(msgs) == 1 and "t.yaml, entry early2018_claim, field relations[0].target" in msgs[0]
    assert "appeared in 2021, after this result (2018)" in msgs[0]
    assert len(atlas.results) == 2  # both still load
