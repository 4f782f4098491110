import pandas as pd

from atlas_viz.catalogue.loader import citation_link
from atlas_viz.catalogue.export import results_bibtex, results_csv
from atlas_viz.catalogue.filters import Filters, apply_filters, filters_from_query, filters_to_query


def frame():
    return pd.DataFrame([
        {"id": "a2020_x", "map_type": "theorem", "claim": "=cmd|' /C calc'!A0 wide nets", "observables": ("generalization",),
         "region": {"width": ("wide",)}, "authors": "Ada Lovelace, Alan {Turing}", "year": 2020, "title": "On {things}",
         "arxiv": "2001.00001", "doi": None, "url": None, "status": "proven", "method": "theoretical",
         "object": "fundamental", "relations": (("tests", "b2021_y"),), "notes": ""},
        {"id": "b2021_y", "map_type": "heuristic", "claim": "Sharp minima", "observables": ("loss_landscape",),
         "region": {"width": ("narrow", "moderate")}, "authors": "Bo", "year": 2021, "title": "B", "arxiv": None,
         "doi": "10.1000/b", "url": None, "status": None, "method": None, "object": None, "relations": (), "notes": ""},
    ])


def test_filters_combine():
    f = frame()
    assert list(apply_filters(f, Filters(map_types=("theorem",)))["id"]) == ["a2020_x"]
    assert list(apply_filters(f, Filters(axes={"width": ("moderate",)}))["id"]) == ["b2021_y"]
    assert list(apply_filters(f, Filters(text="LOVELACE"))["id"]) == ["a2020_x"]
    assert list(apply_filters(f, Filters(text="(["))["id"]) == []  # plain text, not a regex
    assert list(apply_filters(f, Filters(years=(2021, 2030)))["id"]) == ["b2021_y"]
    assert apply_filters(f, Filters(observables=("transfer",))).empty


def test_query_round_trip_and_bad_values(axes):
    flt = Filters(map_types=("theorem", "heuristic"), axes={"width": ("wide",)}, years=(2015, 2020), text="ntk")
    q = filters_to_query(flt)
    assert q == {"type": "theorem,heuristic", "width": "wide", "years": "2015-2020", "q": "ntk"}
    back, notes = filters_from_query(q, axes)
    assert back == flt and notes == []
    back, notes = filters_from_query({"type": "theorm", "width": "huge", "years": "abc"}, axes)
    assert back.map_types == () and back.axes == {}
    assert len(notes) == 3 and "theorm" in notes[0]


def test_csv_neutralises_formulas_and_flattens_lists():
    text = results_csv(frame())
    assert "'=cmd" in text and "tests:b2021_y" in text and "width=wide" in text


def test_bibtex_escapes_braces_and_keys_by_id():
    bib = results_bibtex(frame())
    assert "@misc{a2020_x," in bib and "@article{b2021_y," in bib
    assert "author = {Lovelace, Ada and {\\textbraceleft}Turing{\\textbraceright}, Alan}" in bib
    assert "title = {On {\\textbraceleft}things{\\textbraceright}}" in bib
    assert "eprint = {2001.00001}" in bib and "doi = {10.1000/b}" in bib


def test_links_only_for_safe_targets():
    assert citation_link({"arxiv": "2001.00001"}) == "https://arxiv.org/abs/2001.00001"
    assert citation_link({"doi": "10.1/x"}) == "https://doi.org/10.1/x"
    assert citation_link({"url": "javascript:alert(1)"}) is None
    assert citation_link({"url": "https://example.org/p"}) == "https://example.org/p"
