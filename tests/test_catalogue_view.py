"""The catalogue table (ranked by a search, regions in words) and its AppTests: ?q= ranks and highlights,
a row click opens the result on the map."""
import base64

import numpy as np
import pytest
from conftest import BUNDLED
from test_app import map_spec, run_app

from atlas_viz.atlas import load_atlas
from atlas_viz.catalogue.filters import Filters, apply_filters
from atlas_viz.core.text import pretty
from atlas_viz.figures.tables import catalogue_table


@pytest.fixture(autouse=True)
def bundled(monkeypatch):
    monkeypatch.delenv("ATLAS_DATA", raising=False)


@pytest.fixture(scope="module")
def atlas():
    return load_atlas(BUNDLED)


def plotly_values(data) -> np.ndarray:
    """A trace's coordinates from the chart spec: a list, or plotly's typed array {dtype, bdata (base64)}."""
    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
    return np.asarray(data, dtype=float)


def test_pretty_names():
    assert [pretty(v) for v in ("gradient_flow", "mup", "ntk", "learning_rate", "empirical_law")] == [
        "gradient flow", "µP", "NTK", "learning rate", "empirical law"]


def test_catalogue_table_ranked_with_regions_in_words(atlas):
    some = atlas.results[atlas.results["id"].str.startswith(("c", "d", "j"))]  # a quicker index to fit
    ranked = apply_filters(some, Filters(text="edge of stability"))
    table = catalogue_table(ranked, atlas.axes)
    assert list(table.columns[:2]) == ["relevance", "id"] and table["relevance"].is_monotonic_decreasing
    assert "cohen2021_edge_of_stability" in set(table["id"].iloc[:3])
    plain = catalogue_table(atlas.results, atlas.axes)
    assert "relevance" not in plain and len(plain) == len(atlas.results)
    ntk = plain.set_index("id").loc["jacot2018_ntk"]
    assert "parameterization: NTK" in ntk["region of validity"] and "_" not in ntk["region of validity"]
    assert "task" not in ntk["region of validity"]  # unrestricted axes are left out
    assert "NTK" in ntk["short names"]


def test_search_link_ranks_highlights_and_zooms(atlas):
    at = run_app({"q": "grokking"})
    hits = at.session_state["search_hits"]
    assert 1 <= len(hits) <= 5 and "power2022_grokking" in hits
    spec = map_spec(at)
    ringed = [t for t in spec["data"] if t.get("name") == "search hits"]
    assert ringed and list(ringed[0]["customdata"]) == hits
    x0, x1 = spec["layout"]["xaxis"]["range"]
    xs = plotly_values(ringed[0]["x"])
    assert x0 < min(xs) and max(xs) < x1
    x = atlas.terrain["x"]
    assert x1 - x0 < 0.8 * (x.max() - x.min())  # zoomed in on the hits, not the whole terrain


def test_catalogue_row_click_opens_the_result_on_the_map():
    at = run_app({"view": "catalogue", "q": "EoS"})
    table = at.dataframe[0].value
    assert table.columns[0] == "relevance" and table["relevance"].is_monotonic_decreasing
    rid = table["id"].iloc[1]
    at.session_state["catalogue_table_0"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["view"] == "map" and at.session_state["result"] == rid
    assert any(rid in t.value for t in at.text) or any(rid in m.value for m in at.markdown)  # the detail panel
