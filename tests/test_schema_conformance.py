"""The JSON Schema and the loader agree: every entry one refuses the other refuses, field by field.

The schema is generated from the loader's own constants (patterns, vocabularies, year bounds, lengths); this test
feeds both the same entries. The one check a JSON Schema cannot express (a relation to the entry's own id) is
listed apart.
"""
import copy

import jsonschema
import pytest

from atlas_viz.catalogue.loader import parse_results
from atlas_viz.catalogue.schema import results_schema

GOOD = {"id": "alpha2020_claim", "claim": "Wide networks train as kernels.", "map_type": "theorem",
        "region": {"width": ["wide", "infinite"]}, "observables": ["training_dynamics"],
        "citation": {"authors": ["Ada Alpha", "Bo Beta"], "year": 2020, "title": "Alpha", "arxiv": "2001.00001"},
        "status": "proven", "relations": [{"type": "extends", "target": "beta2019_other"}],
        "prediction": {"kind": "monotone", "metric": "ntk_change_rel", "against": "width_units",
                       "direction": "decreasing", "basis": "Theorem 1."}}


def variant(path: str, value) -> dict:
    """GOOD with one field set (a dotted path; the value None deletes the field)."""
    entry = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    node = entry
    for key in parents:
        node = node[key]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return entry


REFUSED = {
    "year after next": ("citation.year", 2100),
    "year before 1900": ("citation.year", 1850),
    "blank author": ("citation.authors", ["Ada Alpha", "  "]),
    "blank title": ("citation.title", "   "),
    "no title": ("citation.title", None),
    "misspelt map type": ("map_type", "theorm"),
    "unknown field": ("colour", "red"),
    "unknown axis value": ("region", {"width": ["huge"]}),
    "unknown observable": ("observables", ["happiness"]),
    "bad arXiv id": ("citation.arxiv", "2001.1"),
    "claim too long": ("claim", "x" * 5000),
    "id with a space": ("id", "alpha 2020"),
    "id with a trailing newline": ("id", "alpha2020_claim\n"),
    "unknown prediction kind": ("prediction.kind", "spiral"),
    "unknown relation type": ("relations", [{"type": "likes", "target": "beta2019_other"}]),
}


def loader_accepts(entry: dict, axes) -> bool:
    rows, problems = parse_results([entry], "t.yaml", axes)
    return len(rows) == 1 and not problems


def schema_accepts(entry: dict, schema: dict) -> bool:
    try:
        jsonschema.validate([entry], schema)
    except jsonschema.ValidationError:
        return False
    return True


@pytest.fixture(scope="module")
def schema(axes):
    return results_schema(axes)


def test_both_accept_a_good_entry(axes, schema):
    assert loader_accepts(GOOD, axes) and schema_accepts(GOOD, schema)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_both_refuse_the_same_bad_entry(case, axes, schema):
    entry = variant(*REFUSED[case])
    assert not loader_accepts(entry, axes), f"the loader accepts: {case}"
    assert not schema_accepts(entry, schema), f"the schema accepts: {case}"


def test_a_relation_to_itself_is_the_loaders_to_refuse(axes, schema):
    entry = variant("relations", [{"type": "extends", "target": GOOD["id"]}])
    assert not loader_accepts(entry, axes)
    assert schema_accepts(entry, schema)  # a schema cannot compare a value with its sibling: documented there
    assert "own id" in schema["items"]["properties"]["relations"]["items"]["properties"]["target"]["description"]
