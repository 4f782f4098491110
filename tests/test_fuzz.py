"""Property-based tests: for any generated input, the readers either load it or name what is wrong, never raise.

Covered: the results loader (raw YAML text and structured entries), a form entry's save/load round trip,
the BibTeX reader, the mapping reader and the run importer (CSV bytes). ``N_CASES`` sums the examples run.
"""
from __future__ import annotations

import math

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from atlas_viz.terrain.axes import load_axes
from atlas_viz.catalogue.bibtex import parse_bibtex
from atlas_viz.catalogue.loader import parse_result, parse_results, parse_results_text
from atlas_viz.catalogue.contribute import build_entry, check_entry, entry_yaml
from atlas_viz.core.names import (METHODS, MAP_TYPES, OBJECTS, PRECISIONS, RELATION_TYPES,
                             STATUSES)
from atlas_viz.core.problems import Problem

from conftest import BUNDLED

AXES = load_axes(BUNDLED / "axes.yaml")
EXAMPLES = {"results_text": 120, "results_entries": 150, "form_round_trip": 80, "bibtex": 100, "mapping": 120,
            "import": 80}
N_CASES = sum(EXAMPLES.values())


def fuzz(name: str):
    return settings(max_examples=EXAMPLES[name], deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- building blocks -----------------------------------------------------------------------------------------

JUNK_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
NASTY = st.sampled_from(["", " ", "any", "null", "<script>alert(1)</script>", "[x](javascript:alert(1))", "../x",
                         "1e309", "NaN", "\u202e", "\x00", "é", "🙂", "- a", "{a: 1}", "2001.08361", "10.1/x"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                    JUNK_TEXT, NASTY)
PLAIN = st.recursive(SCALARS, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                     st.dictionaries(st.one_of(JUNK_TEXT, NASTY), kids, max_size=4)),
                     max_leaves=12)
AXIS_NAMES = st.sampled_from(AXES.names + ("widht", "colour"))


def maybe(valid, junk=PLAIN, p_valid: int = 4):
    """Mostly a valid value, sometimes junk: most entries get deep into validation."""
    return st.one_of(*([valid] * p_valid), junk)


ALL_VALUES = sum((a.value_names for a in AXES.axes), ())
REGION = st.one_of(st.just("any"), st.dictionaries(AXIS_NAMES, maybe(st.one_of(
    st.just("any"), st.sampled_from(ALL_VALUES), st.lists(st.sampled_from(ALL_VALUES + ("huge",)), max_size=4))),
    max_size=5))
ID = st.one_of(st.from_regex(r"[a-z0-9][a-z0-9_]{1,20}", fullmatch=True), NASTY)
CITATION = st.fixed_dictionaries(
    {"authors": maybe(st.lists(st.sampled_from(["Ada Alpha", "Bo Beta", "others", ""]), max_size=3)),
     "year": maybe(st.integers(1850, 2100)),
     "title": maybe(st.sampled_from(["A title", "<b>bold</b>", ""]))},
    optional={"arxiv": maybe(st.sampled_from(["2001.08361", "hep-th/9901001", "2001.0836", "1806.07572v2"])),
              "doi": maybe(st.sampled_from(["10.1038/nature14539", "doi:10.1/x", "https://doi.org/10.1000/x"])),
              "url": maybe(st.sampled_from(["https://example.org/p", "javascript:alert(1)", "http://a b"])),
              "venue": PLAIN, "pages": PLAIN})
ENTRY = st.fixed_dictionaries(
    {"id": maybe(ID), "claim": maybe(st.text(min_size=1, max_size=80)), "map_type": maybe(st.sampled_from(MAP_TYPES)),
     "region": maybe(REGION), "observables": maybe(st.lists(st.sampled_from(AXES.observable_names + ("accuracy",)),
                                                            max_size=3)),
     "citation": maybe(CITATION)},
    optional={"status": maybe(st.sampled_from(STATUSES)), "precision": maybe(st.sampled_from(PRECISIONS)),
              "method": maybe(st.sampled_from(METHODS)), "object": maybe(st.sampled_from(OBJECTS)),
              "relations": maybe(st.lists(st.fixed_dictionaries({"type": maybe(st.sampled_from(RELATION_TYPES)),
                                                                 "target": maybe(ID)}), max_size=3)),
              "notes": maybe(st.text(max_size=40)), "colour": PLAIN})


def located(problems: list[Problem], file: str) -> None:
    """Every problem names its file and says something; entry-level ones name the entry or field."""
    for p in problems:
        assert isinstance(p, Problem) and p.file == file and p.message.strip(), p
        assert isinstance(p.entry, str) and isinstance(p.field, str)


# ---- the results loader ---------------------------------------------------------------------------------------

YAMLISH = st.lists(st.one_of(st.sampled_from(["- ", "id: ", "claim: ", "region: ", "{", "}", "[", "]", ": ", "\n",
                                              "  ", "- id: a1\n", "!!python/object:os.system ", "&a ", "*a ", "!x ",
                                              "'", '"', "\t", "#", "---\n", "\ufeff", "any"]), JUNK_TEXT),
                   max_size=30).map("".join)


@fuzz("results_text")
@given(text=st.one_of(YAMLISH, JUNK_TEXT, st.lists(ENTRY, max_size=3).map(
    lambda es: yaml.safe_dump(es, allow_unicode=True))))
def test_results_text_loads_or_names_its_problems(text):
    rows, problems = parse_results_text(text, "fuzz.yaml", AXES)
    located(problems, "fuzz.yaml")
    event("some entries loaded" if rows else "no entry loaded")
    for row in rows:
        assert row["file"] == "fuzz.yaml" and row["map_type"] in MAP_TYPES
        assert set(row["region"]) == set(AXES.names)


@fuzz("results_entries")
@given(data=st.one_of(st.lists(ENTRY, max_size=4), PLAIN))
def test_results_entries_load_or_name_their_problems(data):
    rows, problems = parse_results(data, "fuzz.yaml", AXES)
    located(problems, "fuzz.yaml")
    event("some entries loaded" if rows else "no entry loaded")
    if isinstance(data, list):
        assert len(rows) <= len(data)
        for i, entry in enumerate(data):
            row, probs = parse_result(entry, "fuzz.yaml", i, AXES)
            # an entry that is refused always says why; one that loads is exactly what the file says
            assert row is not None or probs
            if row is not None:
                assert row["id"] == entry["id"] and row["map_type"] == entry["map_type"]
                assert all(v in AXES[a].value_names for a, vs in row["region"].items() for v in vs)
                assert set(row["observables"]) <= set(AXES.observable_names)
                assert isinstance(row["year"], int) and not isinstance(row["year"], bool)


FORM = st.fixed_dictionaries(
    {"id": st.one_of(st.text(max_size=30), NASTY), "claim": st.text(max_size=120),
     "map_type": st.one_of(st.none(), st.sampled_from(MAP_TYPES)),
     "region": st.dictionaries(st.sampled_from(AXES.names), st.lists(
         st.sampled_from(ALL_VALUES), max_size=3), max_size=8),
     "observables": st.lists(st.sampled_from(AXES.observable_names), max_size=3),
     "authors": st.one_of(st.text(max_size=40), st.lists(st.text(max_size=15), max_size=3)),
     "year": st.one_of(st.none(), st.integers(1800, 2100), st.text(max_size=5), st.floats()),
     "title": st.text(max_size=40), "arxiv": st.one_of(st.text(max_size=15), st.sampled_from(["2001.08361",
                                                                                             "arXiv:1806.07572"])),
     "doi": st.text(max_size=15), "url": st.one_of(st.text(max_size=15), st.just("https://example.org/x")),
     "status": st.one_of(st.none(), st.sampled_from(STATUSES)), "notes": st.text(max_size=60),
     "relations": st.lists(st.tuples(st.sampled_from(RELATION_TYPES), st.sampled_from(["known_2020", "x", ""])),
                           max_size=2)})


@fuzz("form_round_trip")
@given(form=FORM)
def test_a_form_entry_that_passes_the_check_loads_back_identically(form):
    entry = build_entry(form, AXES)
    row, problems = check_entry(entry, AXES, {"known_2020": "known.yaml"})
    located(problems, problems[0].file if problems else "")
    assert (row is None) == bool(problems)
    event("form entry saved" if row is not None else "form entry refused")
    if row is not None:
        rows, reread = parse_results_text(entry_yaml(entry), row["file"], AXES)
        assert reread == [] and rows == [row]


BIB_TOKENS = st.sampled_from(["@article{", "@misc(", "@comment{", "key,", "title", "author", "year", "eprint",
                              "doi", "url", "journal", " = ", "{", "}", '"', "#", ",", " and ", "\\'e", "\\\"{o}",
                              "\\emph{", "2001.08361", "arXiv:", "10.1038/x", "https://", "javascript:", "jan", "\n"])


@fuzz("bibtex")
@given(text=st.one_of(st.lists(st.one_of(BIB_TOKENS, JUNK_TEXT), max_size=40).map("".join), st.text(max_size=200)))
def test_bibtex_reader_never_raises(text):
    fields, notes = parse_bibtex(text)
    assert isinstance(notes, list) and all(isinstance(n, str) for n in notes)
    assert fields["year"] is None or isinstance(fields["year"], int)
    assert isinstance(fields["authors"], list) and all(isinstance(a, str) for a in fields["authors"])
    assert fields["url"] is None or fields["url"].startswith(("http://", "https://"))


# ---- the mapping reader and the run importer (atlas_viz.runs.mapping, atlas_viz.runs.importer) ----------------------

COLUMNS = ["run_id", "width", "optimizer", "lr", "val_acc", "test_loss", "seed"]
AXIS_MAP = st.one_of(
    st.fixed_dictionaries({"value": maybe(st.sampled_from(ALL_VALUES))}),
    st.fixed_dictionaries({"column": maybe(st.sampled_from(COLUMNS + ["nope"]))},
                          optional={"values": maybe(st.dictionaries(st.sampled_from(["adam", "sgd", "x"]),
                                                                    st.sampled_from(["adaptive", "sgd", "adamw"]),
                                                                    max_size=3)),
                                    "per": maybe(st.sampled_from(COLUMNS)), "relative": PLAIN}),
    PLAIN)
MAPPING = st.fixed_dictionaries(
    {"axes": maybe(st.dictionaries(AXIS_NAMES, AXIS_MAP, max_size=6)),
     "metrics": maybe(st.lists(st.one_of(st.sampled_from(COLUMNS + ["cell", "x"]),
                                         st.dictionaries(JUNK_TEXT, st.sampled_from(COLUMNS), max_size=1)),
                               max_size=3))},
    optional={"source": maybe(st.fixed_dictionaries({"name": maybe(st.text(max_size=10))})),
              "id": maybe(st.sampled_from(COLUMNS)), "config": PLAIN, "observables": PLAIN, "other": PLAIN})


@fuzz("mapping")
@given(data=st.one_of(MAPPING, PLAIN), columns=st.one_of(st.none(), st.just(COLUMNS)))
def test_mapping_reader_returns_a_mapping_or_named_problems(data, columns):
    from atlas_viz.runs.mapping import parse_mapping

    mapping, problems = parse_mapping(data, "m.yaml", AXES, columns=columns)
    located(problems, "m.yaml")
    assert (mapping is None) == bool(problems)
    event("mapping accepted" if mapping is not None else "mapping refused")


GOOD_MAPPING = {
    "source": {"name": "fuzz"}, "id": "run_id",
    "axes": {"task": {"value": "tabular"}, "architecture": {"value": "mlp"}, "width": {"column": "width"},
             "optimizer": {"column": "optimizer", "values": {"adam": "adaptive", "sgd": "sgd"}},
             "learning_rate": {"column": "lr"}},
    "metrics": ["val_acc", "test_loss"],
}
CELL = st.one_of(st.sampled_from(["", "r1", "128", "32", "-5", "0", "1e309", "nan", "inf", "adam", "sgd", "Adam",
                                  "0.001", "0.5", '"a,b"', '"', "=1+1", "<script>", "\u00e9"]),
                 st.floats(allow_nan=True).map(repr), st.integers(-10**6, 10**6).map(str), JUNK_TEXT)
ROW = st.lists(CELL, min_size=0, max_size=9).map(",".join)


@fuzz("import")
@given(header=st.one_of(st.just(",".join(COLUMNS)), st.lists(st.sampled_from(COLUMNS + ["", "x"]), max_size=8).map(
    ",".join)), rows=st.lists(ROW, max_size=8), sep=st.sampled_from(["\n", "\r\n"]),
    raw=st.one_of(st.none(), st.binary(max_size=60)))
def test_run_importer_imports_good_rows_and_names_bad_ones(header, rows, sep, raw):
    from atlas_viz.runs.mapping import parse_mapping
    from atlas_viz.runs.importer import import_table

    mapping, problems = parse_mapping(GOOD_MAPPING, "m.yaml", AXES)
    assert not problems
    data = raw if raw is not None else sep.join([header, *rows]).encode("utf-8")
    result = import_table(data, mapping, AXES, "runs.csv")
    located(result.problems, "runs.csv")
    table = result.table
    event("some rows imported" if len(table) else "no row imported")
    assert len(table) <= max(len(rows), result.rows_read)
    for ax in AXES.names:
        if ax in table:
            assert table[ax].dropna().isin(AXES[ax].value_names).all()
    for m in result.metrics:
        assert all(isinstance(v, float) and not math.isinf(v) or v != v for v in table[m])
    if len(table):
        assert table["run_id"].is_unique


# ---- exports: CSV and BibTeX read back by a standard reader with the same content, JSON identical ----------

import csv as _csv  # noqa: E402
import io as _io  # noqa: E402
import json as _json  # noqa: E402
import re as _re  # noqa: E402

import pandas as _pd  # noqa: E402
from pybtex.database import parse_string as _parse_bib  # noqa: E402

from atlas_viz.catalogue.export import BIB_ESCAPES, BIB_VERBATIM, results_bibtex, results_csv, results_json  # noqa: E402

EXAMPLES.update({"export_csv": 60, "export_bibtex": 60, "export_json": 25})
N_CASES = sum(EXAMPLES.values())
ANY_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
RISKY = st.sampled_from(["=1+1", " \t=cmd|' /C calc'!A0", "\r=2", "\n@SUM(A1)", "+1", "-1", "\x00=x", "a\rb",
                         "a\r\nb", "a\nb", '"', '","', "{", "}", "}{", "\\", "a { b", "Smith, John", "Smith and Wesson",
                         "de la Fontaine Jean", "%", "#1", "~^_&$", "\\}", "and", ",", "", " "])
TEXT = st.one_of(ANY_TEXT, RISKY, st.lists(st.one_of(RISKY, ANY_TEXT), max_size=4).map("".join))
RESULT_ROW = st.fixed_dictionaries({
    "id": st.one_of(ID, TEXT), "map_type": st.sampled_from(MAP_TYPES), "claim": TEXT, "title": TEXT,
    "author_list": st.lists(TEXT, max_size=4).map(tuple), "year": st.integers(1900, 2030),
    "observables": st.lists(TEXT, max_size=2).map(tuple), "region": st.dictionaries(TEXT, st.lists(TEXT, max_size=2)
                                                                                     .map(tuple), max_size=2),
    "arxiv": st.one_of(st.none(), TEXT), "doi": st.one_of(st.none(), TEXT), "url": st.one_of(st.none(), TEXT),
    "status": st.one_of(st.none(), TEXT), "notes": TEXT, "relations": st.lists(st.tuples(TEXT, TEXT), max_size=2)
    .map(tuple)})
SPREADSHEET_FORMULA = _re.compile(r"^(?:[\s\x00-\x1f\x7f]*[=+\-@]|[\t\r])")
CONTROL = _re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _results(rows: list[dict]) -> _pd.DataFrame:
    return _pd.DataFrame([{**r, "authors": ", ".join(r["author_list"])} for r in rows]) if rows else \
        _pd.DataFrame(columns=["id", "title", "authors", "author_list"])


@fuzz("export_csv")
@given(rows=st.lists(RESULT_ROW, max_size=4))
def test_csv_export_reads_back_one_row_per_result_with_every_formula_inert(rows):
    text = results_csv(_results(rows))
    back = list(_csv.reader(_io.StringIO(text, newline="")))
    assert len(back) == len(rows) + 1 and len({len(r) for r in back}) == 1     # no field started a row
    assert "\r" not in text.replace("\r\n", "")                                 # no bare CR at all
    for row, cells in zip(rows, back[1:]):
        for name in ("id", "claim", "title", "notes"):
            cell = cells[back[0].index(name)]
            value = row[name]
            assert not SPREADSHEET_FORMULA.match(cell) or cell.startswith("'")
            plain = CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
            formula = SPREADSHEET_FORMULA.match(value) or SPREADSHEET_FORMULA.match(plain)
            assert cell == ("'" + plain if formula else plain)


_BIB_INVERSE = {v: k for k, v in BIB_ESCAPES.items()}
_BIB_DECODE = _re.compile("|".join(_re.escape(v) for v in sorted(_BIB_INVERSE, key=len, reverse=True)) + r"|[{}]")
_VERBATIM_INVERSE = {v: k for k, v in BIB_VERBATIM.items()}


def bib_decode(value: str) -> str:
    """Plain text of a field this export wrote: its escapes undone, protective braces dropped."""
    return " ".join(_BIB_DECODE.sub(lambda m: _BIB_INVERSE.get(m.group(0), ""), value).split())


def one_line(text: str) -> str:
    return " ".join(CONTROL.sub(" ", text).split())


def person(name: str) -> str:
    """The person a name means in BibTeX: 'Smith, John' is John Smith; a name with more commas is kept whole."""
    parts = [p.strip() for p in one_line(name).split(",")]
    return f"{parts[1]} {parts[0]}" if len(parts) == 2 and all(parts) and not _re.search(
        r"(?:^|\s)and(?:\s|$)", one_line(name), _re.IGNORECASE) else one_line(name)


@fuzz("export_bibtex")
@given(rows=st.lists(RESULT_ROW, max_size=4))
def test_bibtex_export_is_read_back_by_pybtex_with_the_same_fields(rows):
    bib = results_bibtex(_results(rows))
    entries = list(_parse_bib(bib, "bibtex").entries.values())             # raises on unbalanced braces
    assert len(entries) == len(rows)
    for row, entry in zip(rows, entries):
        assert bib_decode(entry.fields["title"]) == one_line(row["title"])
        persons = entry.persons.get("author", [])
        names = [a for a in row["author_list"] if one_line(a)]
        assert len(persons) == len(names)
        for p, name in zip(persons, names):
            parts = p.first_names + p.middle_names + p.prelast_names + p.last_names + p.lineage_names
            assert bib_decode(" ".join(parts)) == " ".join(person(name).split())
        if row["doi"] and one_line(row["doi"]):
            assert _re.sub("|".join(map(_re.escape, _VERBATIM_INVERSE)), lambda m: _VERBATIM_INVERSE[m.group(0)],
                           entry.fields["doi"]) == one_line(row["doi"])


@fuzz("export_json")
@given(rows=st.lists(RESULT_ROW, max_size=4))
def test_json_export_round_trips(rows):
    back = _json.loads(results_json(_results(rows)))
    assert [r["title"] for r in back] == [r["title"] for r in rows]
    assert [r["author_list"] for r in back] == [list(r["author_list"]) for r in rows]


def test_smith_john_stays_one_author_and_unbalanced_braces_do_not_break_the_file():
    rows = [{"id": "a_1", "title": "On {things", "author_list": ("Smith, John", "Ada Lovelace", "Smith and Wesson"),
             "year": 2020, "arxiv": "2001.00001", "doi": None, "url": None}]
    bib = results_bibtex(_results(rows))
    entry = _parse_bib(bib, "bibtex").entries["a_1"]
    assert [str(p) for p in entry.persons["author"]] == ["Smith, John", "Lovelace, Ada", "{Smith and Wesson}"]
    assert bib_decode(entry.fields["title"]) == "On {things"
    assert "author = {Smith, John and Lovelace, Ada and {Smith and Wesson}}" in bib


# ---- loaders with limits: aliases, Parquet cells of any kind, stored sources with damaged files ------------

EXAMPLES.update({"aliases": 80, "parquet_import": 40, "stored_source": 12})
N_CASES = sum(EXAMPLES.values())
ALIAS_DOC = st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(1, 12), st.booleans()), min_size=1,
                     max_size=8).map(lambda levels: "".join(
                         f"{name}{i}: &{name}{i} " + ("{<<: *" + f"{name}{i - 1}, k: 1}}" if merge and i > 1 else
                                                      "[" + ", ".join([f"*{name}{i - 1}" if i > 1 else "x"] * n) + "]")
                         + "\n" for i, (name, n, merge) in enumerate(levels, 1)))


@fuzz("aliases")
@given(text=st.one_of(ALIAS_DOC, st.tuples(ALIAS_DOC, YAMLISH).map("".join)))
def test_aliases_and_merge_keys_load_within_bounds_or_are_named(text):
    from atlas_viz.io.yamlio import EXPANSION_FLOOR, EXPANSION_PER_BYTE, parse_yaml_text

    data, problems = parse_yaml_text(text, "a.yaml")
    located(problems, "a.yaml")
    if problems:
        event("refused")
        return
    stack, seen = [data], 0
    while stack:                                         # the tree as the loader's callers would walk it
        node = stack.pop()
        seen += 1
        stack += list(node.values()) + list(node) if isinstance(node, dict) else node if isinstance(node, list) else []
        assert seen <= 2 * max(EXPANSION_FLOOR, EXPANSION_PER_BYTE * len(text)) + 10
    event("loaded")


PARQUET_CELL = st.one_of(st.none(), st.integers(-10**6, 10**6), st.floats(allow_nan=True), JUNK_TEXT,
                         st.sampled_from(["adam", "sgd", "NA", "128"]))
PARQUET_COLUMN = st.one_of(st.lists(PARQUET_CELL, min_size=3, max_size=3),
                           st.lists(st.lists(st.integers(0, 3), max_size=2), min_size=3, max_size=3),
                           st.lists(st.binary(max_size=6), min_size=3, max_size=3),
                           st.lists(st.dictionaries(st.sampled_from(["k"]), st.integers(0, 2)), min_size=3, max_size=3))


@fuzz("parquet_import")
@given(columns=st.dictionaries(st.sampled_from(COLUMNS + ["x"]), PARQUET_COLUMN, max_size=6))
def test_run_importer_names_any_parquet_table_it_cannot_use(columns):
    import io

    import pandas as pd

    from atlas_viz.runs.importer import import_table
    from atlas_viz.runs.mapping import parse_mapping

    mapping, _ = parse_mapping(GOOD_MAPPING, "m.yaml", AXES)
    buf = io.BytesIO()
    try:
        pd.DataFrame(columns or {"x": [1, 2, 3]}).to_parquet(buf)
    except Exception:  # pyarrow refuses some mixes (text and numbers in one column): not a table to import
        event("not writable as Parquet")
        return
    result = import_table(buf.getvalue(), mapping, AXES, "runs.parquet")
    located(result.problems, "runs.parquet")
    event("some rows imported" if len(result.table) else "no row imported")


@fuzz("stored_source")
@given(damage=st.sampled_from(["table", "part", "source", "none"]), junk=st.binary(max_size=40),
       n_parts=st.integers(0, 2))
def test_a_damaged_stored_source_is_named_and_the_others_still_load(tmp_path_factory, damage, junk, n_parts):
    import pandas as pd

    from atlas_viz.runs.store import PARTS_DIR, SOURCE_FILE, TABLE_FILE, load_runs, save_runs

    data = tmp_path_factory.mktemp("d")
    meta = {"name": "s", "license": "CC0-1.0", "metrics": ["m"]}
    save_runs(data, "good", pd.DataFrame({"run_id": ["g"], "m": [1.0]}), meta)
    folder = save_runs(data, "hurt", pd.DataFrame({"run_id": ["a"], "m": [1.0]}), meta)
    for k in range(n_parts):
        save_runs(data, "hurt", pd.DataFrame({"run_id": [f"p{k}"], "m": [2.0]}), meta, append=True)
    parts = sorted((folder / PARTS_DIR).glob("*.parquet")) if (folder / PARTS_DIR).is_dir() else []
    target = {"table": folder / TABLE_FILE, "source": folder / SOURCE_FILE,
              "part": parts[0] if parts else None}.get(damage)
    if target is not None:
        target.write_bytes(junk)
    runset = load_runs(data, AXES)
    assert "good" in runset.sources and (runset.runs["source"] == "good").sum() == 1
    if damage == "none":
        assert not runset.problems and (runset.runs["source"] == "hurt").sum() == 1 + n_parts
    elif "hurt" not in runset.sources:                   # the table or source.yaml is damaged: named, skipped
        assert any("hurt" in p.file for p in runset.problems)
    else:                                                # a damaged part: named, its run left out, the rest kept
        assert (runset.runs["source"] == "hurt").sum() >= n_parts
        assert not any(p.file.endswith(".parquet") for p in runset.problems) or damage == "part"
