"""A JSON Schema of a results file, generated from the axes (for editors and CI)."""
from __future__ import annotations

import re

from atlas_viz.terrain.axes import Axes
from atlas_viz.catalogue.predictions import prediction_schema
from atlas_viz.catalogue.loader import (ARXIV_NEW_RE, ARXIV_OLD_RE, DOI_RE, FIRST_YEAR, ID_RE, MAX_CLAIM_CHARS, URL_RE,
                                       last_year)
from atlas_viz.core.names import (MAP_TYPES, MAX_ALIAS_CHARS, MAX_ALIASES, METHODS, OBJECTS, PRECISIONS, RELATION_TYPES,
                                  STATUSES)


END = r"(?![\s\S])"
"""The very end of the text, in both Python's and ECMA-262's regular expressions ('$' also matches before a
final newline in Python, so a schema validated in Python would pass 'id\n', which the loader refuses)."""


def whole(regex: re.Pattern) -> str:
    """The loader's pattern for a whole value (it uses ``fullmatch``), written so a schema validator agrees."""
    pattern = regex.pattern
    return (pattern[:-1] if pattern.endswith("$") else pattern) + END


NAME = {"type": "string", "pattern": r"\S"}
"""A name or title: text that is not blank (as the loader requires)."""


def results_schema(axes: Axes) -> dict:
    """JSON Schema (draft 2020-12) for ``data/results/*.yaml``."""
    region_props = {
        a.name: {"description": a.description,
                 "oneOf": [{"const": "any"},
                           {"type": "array", "minItems": 1, "uniqueItems": True,
                            "items": {"enum": list(a.value_names)}}]}
        for a in axes.axes
    }
    arxiv = f"({whole(ARXIV_NEW_RE)})|({whole(ARXIV_OLD_RE)})"
    result = {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "claim", "map_type", "region", "observables", "citation"],
        "properties": {
            "id": {"type": "string", "pattern": whole(ID_RE)},
            "claim": {"type": "string", "minLength": 1, "maxLength": MAX_CLAIM_CHARS, "pattern": r"\S"},
            "map_type": {"enum": list(MAP_TYPES)},
            "region": {"oneOf": [{"const": "any"},
                                 {"type": "object", "additionalProperties": False, "properties": region_props}]},
            "observables": {"type": "array", "minItems": 1, "items": {"enum": list(axes.observable_names)}},
            "citation": {
                "type": "object", "additionalProperties": False, "required": ["authors", "year", "title"],
                "anyOf": [{"required": ["arxiv"]}, {"required": ["doi"]}, {"required": ["url"]}],
                "properties": {
                    "authors": {"oneOf": [NAME, {"type": "array", "minItems": 1, "items": NAME}]},
                    "year": {"type": "integer", "minimum": FIRST_YEAR, "maximum": last_year()},
                    "title": {"type": "string", "pattern": r"\S"},
                    "arxiv": {"type": "string", "pattern": arxiv},
                    "doi": {"type": "string", "pattern": whole(DOI_RE)},
                    "url": {"type": "string", "pattern": whole(URL_RE)},
                    "venue": {"type": "string"},
                },
            },
            "status": {"enum": list(STATUSES)},
            "precision": {"enum": list(PRECISIONS)},
            "method": {"enum": list(METHODS)},
            "object": {"enum": list(OBJECTS)},
            "relations": {"type": "array", "items": {
                "type": "object", "required": ["type", "target"], "additionalProperties": False,
                "properties": {"type": {"enum": list(RELATION_TYPES)},
                               "target": {"type": "string", "pattern": whole(ID_RE),
                                          "description": "the id of another result (the loader also refuses the "
                                                         "entry's own id, which a schema cannot compare)"},
                               "note": {"type": "string"}}}},
            "notes": {"type": "string"},
            "aliases": {"description": "Short names and abbreviations the result is known by (EoS, µP, NTK); "
                                       "the search reads them.",
                        "oneOf": [{"type": "string", "minLength": 1, "maxLength": MAX_ALIAS_CHARS},
                                  {"type": "array", "maxItems": MAX_ALIASES,
                                   "items": {"type": "string", "minLength": 1, "maxLength": MAX_ALIAS_CHARS}}]},
            "prediction": prediction_schema(axes),
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://atlas-of-deep-learning/results.schema.json",
        "title": "Atlas of deep learning: a results file",
        "description": "A list of results (maps of part of the terrain). Generated from data/axes.yaml by "
                       "`python -m atlas_viz schema`; do not edit by hand.",
        "type": "array",
        "items": result,
    }
