"""Run import: mapping validation, every kind of bad input, placement, storage, the CLI and aggregation."""
import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from atlas_viz.runs.mapping import parse_mapping, read_mapping
from atlas_viz.runs.importer import MAX_REPORTED, import_table
from atlas_viz.runs.store import load_runs, place_runs
from atlas_viz.terrain.layout import cached_layout, terrain_frame

from conftest import BUNDLED, ROOT

MAPPING = {
    "source": {"name": "HPO sweep", "url": "https://example.org", "license": "MIT"},
    "id": "run_id",
    "axes": {
        "task": {"value": "tabular"},
        "architecture": {"value": "mlp"},
        "width": {"column": "width"},
        "optimizer": {"column": "optimizer", "values": {"adam": "adaptive", "sgd": "sgd"}},
        "learning_rate": {"column": "lr"},
    },
    "metrics": ["val_acc", "test_loss"],
}
HEADER = "run_id,width,optimizer,lr,val_acc,test_loss,seed\n"
GOOD_ROWS = "r1,128,adam,0.001,0.9,0.3,1\nr2,32,sgd,0.5,0.8,0.4,2\n"


@pytest.fixture
def mapping(axes):
    m, problems = parse_mapping(MAPPING, "m.yaml", axes)
    assert not problems
    return m


def run(text: str | bytes, mapping, axes, name="t.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return import_table(data, mapping, axes, name)


def msgs(result) -> str:
    return "\n".join(str(p) for p in result.problems)


# --- mapping validation -------------------------------------------------------------------------------

def test_unknown_axis_is_reported_with_suggestion(axes):
    m, problems = parse_mapping({**MAPPING, "axes": {**MAPPING["axes"], "widht": {"column": "width"}}}, "m.yaml", axes)
    assert m is None
    assert any(p.field == "axes.widht" and "did you mean 'width'" in p.message for p in problems)


def test_unknown_column_is_reported_when_columns_are_known(axes):
    cols = ["run_id", "width", "optimizer", "lr", "val_acc"]
    m, problems = parse_mapping(MAPPING, "m.yaml", axes, columns=cols)
    assert m is None
    assert [p.field for p in problems] == ["metrics[1]"] and "test_loss" in problems[0].message
    assert parse_mapping(MAPPING, "m.yaml", axes, columns=cols + ["test_loss"])[1] == []


@pytest.mark.parametrize("change, field", [
    ({"axes": {"task": {"value": "tabular"}}}, "axes.architecture"),           # required axis left out
    ({"axes": {**MAPPING["axes"], "task": {"value": "tabularr"}}}, "axes.task.value"),
    ({"axes": {**MAPPING["axes"], "task": {"value": "tabular", "column": "x"}}}, "axes.task"),
    ({"axes": {**MAPPING["axes"], "optimizer": {"column": "o", "values": {"adam": "adamw"}}}},
     "axes.optimizer.values.adam"),
    ({"metrics": ["cell"]}, "metrics[0]"),
    ({"observables": ["accuracy"]}, "observables"),
    ({"colour": 1}, "colour"),
])
def test_bad_mappings_name_the_field(axes, change, field):
    m, problems = parse_mapping({**MAPPING, **change}, "m.yaml", axes)
    assert m is None and field in [p.field for p in problems], problems


@pytest.mark.parametrize("data", [None, [], "text", 3, {"axes": []}, {"metrics": "x"}])
def test_junk_mapping_never_raises(axes, data):
    m, problems = parse_mapping(data, "m.yaml", axes)
    assert m is None and problems


def test_read_mapping_file_and_bad_yaml(tmp_path, axes):
    p = tmp_path / "m.yaml"
    p.write_text("axes: [unclosed")
    m, problems = read_mapping(p, axes)
    assert m is None and "not valid YAML" in problems[0].message
    p.write_text("source: {name: x}\naxes: {task: {value: tabular}, architecture: {value: mlp}}\nmetrics: [a]\n")
    m, problems = read_mapping(p, axes)
    assert not problems and m.metrics == {"a": "a"}


# --- bad input, row by row ----------------------------------------------------------------------------

def test_good_table_imports_every_row(mapping, axes):
    r = run(HEADER + GOOD_ROWS, mapping, axes)
    assert not r.problems and len(r.table) == 2 and r.rows_read == 2
    t = r.table
    assert list(t["run_id"]) == ["r1", "r2"]
    assert list(t["width"]) == ["moderate", "narrow"]
    assert list(t["optimizer"]) == ["adaptive", "sgd"]
    assert list(t["learning_rate"]) == ["moderate", "large"]   # 0.001/1e-3 = 1; 0.5/0.1 = 5
    assert t["depth"].isna().all() and t["depth"].iloc[0] is None
    assert t["val_acc"].dtype == float and "config.seed" in t and "config.width" in t


@pytest.mark.parametrize("row, field, words", [
    ("r3,abc,adam,0.001,0.9,0.3,3", "width", "'abc': not a number"),
    ("r3,-5,adam,0.001,0.9,0.3,3", "width", "negative"),
    ("r3,inf,adam,0.001,0.9,0.3,3", "width", "infinite"),
    ("r3,0.5,adam,0.001,0.9,0.3,3", "width", "outside every bin"),
    ("r3,128,rmsprop,0.001,0.9,0.3,3", "optimizer", "'rmsprop': not covered by the mapping"),
    ("r3,128,adam,fast,0.9,0.3,3", "lr", "not a number"),
    ("r3,128,adam,0.001,high,0.3,3", "val_acc", "not a number"),
    ("r3,128,adam,0.001,0.9,-inf,3", "test_loss", "infinite"),
    ("r1,128,adam,0.001,0.9,0.3,3", "run_id", "duplicate id 'r1': already used on line 2"),
    (",128,adam,0.001,0.9,0.3,3", "run_id", "empty id"),
])
def test_each_bad_row_is_reported_and_the_good_rows_import(mapping, axes, row, field, words):
    r = run(HEADER + GOOD_ROWS + row + "\n", mapping, axes)
    assert list(r.table["run_id"]) == ["r1", "r2"], msgs(r)
    hits = [p for p in r.problems if p.entry == "line 4" and p.field == field and words in p.message]
    assert hits, msgs(r)


@pytest.mark.parametrize("storage", ["pyarrow", "python"])
def test_first_row_of_each_id(storage):
    from atlas_viz.runs.importer import _first_rows

    rng = np.random.default_rng(0)
    ids = pd.Series(rng.choice(["a", "b", "c", "d", "é", ""], 300), dtype=pd.StringDtype(storage))
    rows = np.sort(rng.choice(300, 200, replace=False))
    first = _first_rows(ids, rows)
    seen: dict[str, int] = {}
    expected = [seen.setdefault(ids[r], r) for r in rows]  # the definition: first of ``rows`` with that id
    assert list(first) == expected


def test_empty_cells_keep_the_run_with_the_axis_unknown(mapping, axes):
    r = run(HEADER + GOOD_ROWS + "r3,,adam,0.001,,0.3,3\n", mapping, axes)
    assert len(r.table) == 3
    row = r.table.iloc[2]
    assert row["width"] is None and np.isnan(row["val_acc"])
    assert any(p.entry == "line 4" and p.field == "width" and "placed at the default 'moderate'" in p.message
               for p in r.problems)
    assert any(p.entry == "line 4" and p.field == "val_acc" and "kept without metric" in p.message
               for p in r.problems)


def test_missing_mapped_column(axes):
    m, _ = parse_mapping({**MAPPING, "metrics": ["val_acc", "nope"]}, "m.yaml", axes)
    r = run(HEADER + GOOD_ROWS, m, axes)
    assert len(r.table) == 2 and "nope" not in r.table and r.metrics == ["val_acc"]
    assert any(p.field == "nope" and "not in the table" in p.message for p in r.problems)
    m, _ = parse_mapping({**MAPPING, "axes": {**MAPPING["axes"], "depth": {"column": "layers"}}}, "m.yaml", axes)
    r = run(HEADER + GOOD_ROWS, m, axes)
    assert len(r.table) == 2 and r.table["depth"].isna().all()


def test_ragged_and_badly_quoted_csv(mapping, axes):
    r = run(HEADER + GOOD_ROWS + "r3,128,adam,0.001,0.9,0.3,3,extra,more\nr4,128,adam,0.001,0.9,0.3,4\n",
            mapping, axes)
    assert list(r.table["run_id"]) == ["r1", "r2", "r4"] and r.rows_read == 4
    assert any(p.entry == "line 4" and "expected 7 fields, saw 9" in p.message for p in r.problems)
    r = run(HEADER + GOOD_ROWS + 'r3,128,"adam,0.001,0.9,0.3,3\nr4,128,adam,0.001,0.9,0.3,4\n', mapping, axes)
    assert list(r.table["run_id"]) == ["r1", "r2"]
    assert any(p.entry == "line 4" and "never closed" in p.message for p in r.problems)


def test_other_encodings(mapping, axes):
    text = HEADER + GOOD_ROWS + "r\u00e9sum\u00e9,128,adam,0.001,0.9,0.3,3\n"
    r = run(text.encode("cp1252"), mapping, axes)
    assert list(r.table["run_id"]) == ["r1", "r2", "r\u00e9sum\u00e9"]
    assert any("not UTF-8" in p.message for p in r.problems)
    r = run(text.encode("utf-16"), mapping, axes)
    assert list(r.table["run_id"])[-1] == "r\u00e9sum\u00e9" and not r.problems
    r = run(b"\xef\xbb\xbf" + text.encode("utf-8"), mapping, axes)
    assert len(r.table) == 3 and not r.problems


@pytest.mark.parametrize("data, words", [(b"", "is empty"), (b"\n\n", "is empty"), (HEADER, "no rows"),
                                         (b"PAR1garbage", "cannot be read as Parquet")])
def test_empty_and_corrupt_files(mapping, axes, data, words):
    r = run(data, mapping, axes)
    assert len(r.table) == 0 and "run_id" in r.table
    assert any(words in p.message for p in r.problems), msgs(r)


def test_repeated_problems_are_capped(mapping, axes):
    rows = "".join(f"x{i},abc,adam,0.001,0.9,0.3,1\n" for i in range(100))
    r = run(HEADER + GOOD_ROWS + rows, mapping, axes)
    width = [p for p in r.problems if p.field == "width"]
    assert len(width) == MAX_REPORTED + 1 and "80 more lines" in width[-1].message
    assert len(r.table) == 2


def test_parquet_input_and_rows_named_by_position(mapping, axes):
    df = pd.read_csv(io.StringIO(HEADER + GOOD_ROWS + "r3,-1,adam,0.001,0.9,0.3,3\n"))
    buf = io.BytesIO()
    df.to_parquet(buf)
    r = import_table(buf.getvalue(), mapping, axes, "t.parquet")
    assert len(r.table) == 2 and r.problems[0].entry == "row 3"


def test_impossible_combination_is_reported(axes):
    m, _ = parse_mapping({**MAPPING, "axes": {**MAPPING["axes"], "architecture": {"value": "shallow_net"},
                                              "depth": {"column": "layers"}}}, "m.yaml", axes)
    r = run("run_id,width,optimizer,lr,layers,val_acc,test_loss\nr1,128,adam,0.001,1,1,1\nr2,128,adam,0.001,5,1,1\n",
            m, axes)
    assert list(r.table["run_id"]) == ["r1"]
    assert any("one hidden layer" in p.message and p.entry == "line 3" for p in r.problems)


def test_ratio_column_and_no_id(axes):
    m, problems = parse_mapping({"axes": {"task": {"value": "language_modeling"},
                                          "architecture": {"value": "transformer"},
                                          "data_regime": {"column": "tokens", "per": "params"}},
                                 "metrics": ["loss"]}, "m.yaml", axes)
    assert not problems
    r = run("tokens,params,loss\n200,10,3\n10,10,2\n10,0,1\n", m, axes)
    assert list(r.table["data_regime"]) == ["infinite_data", "interpolation"]
    assert list(r.table["run_id"]) == ["1", "2"]
    assert any(p.field == "params" and p.entry == "line 4" for p in r.problems)


def test_junk_bytes_never_raise(mapping, axes):
    for data in (b"\x00\x01\x02", b"a\n\"", b",,,\n,,,\n", "\u2603,\u2603\n1,2\n".encode(), b"run_id\n" * 3):
        r = import_table(data, mapping, axes, "junk.csv")
        assert isinstance(r.problems, list)


# --- placement, storage, aggregation ------------------------------------------------------------------

@pytest.fixture(scope="module")
def terrain(axes):
    return terrain_frame(axes, cached_layout(BUNDLED, axes))


def test_a_run_lands_in_the_cell_its_values_bin_to(mapping, axes, terrain):
    r = run(HEADER + "r1,2048,sgd,0.01,0.9,0.3,1\n", mapping, axes)
    runs = r.table.assign(id="s:" + r.table["run_id"], source="s")
    placed, problems = place_runs(runs, axes, terrain)
    assert not problems
    cell = terrain.loc[placed["cell"].iloc[0]]
    expect = {"task": "tabular", "architecture": "mlp", "width": "wide", "optimizer": "sgd",
              "learning_rate": "small", "depth": "moderate", "parameterization": "standard",
              "data_regime": "overparameterized"}
    for ax, v in expect.items():
        assert axes[ax].value_names[int(cell[ax])] == v if not isinstance(cell[ax], str) else cell[ax] == v
    assert set(placed["imputed"].iloc[0].split(",")) == {"depth", "parameterization", "data_regime"}


def test_save_load_round_trip_and_cli(tmp_path, data_dir, axes):
    (tmp_path / "t.csv").write_text(HEADER + GOOD_ROWS + "r3,abc,adam,0.001,0.9,0.3,3\n")
    import yaml
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(MAPPING))
    out = subprocess.run([sys.executable, "-m", "atlas_viz", "import-runs", str(tmp_path / "t.csv"), "--mapping",
                          str(tmp_path / "m.yaml"), "--data", str(data_dir)], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "imported 2 of 3 runs" in out.stdout and "t.csv, entry line 4, field width" in out.stdout
    runset = load_runs(data_dir, axes)
    assert not runset.problems and len(runset.runs) == 2
    meta = runset.sources["hpo_sweep"]
    assert meta["license"] == "MIT" and meta["metrics"] == ["val_acc", "test_loss"]
    assert meta["mapping"]["id"] == "run_id"
    from atlas_viz.cli.main import main                # the same command in this process: a table as mapping
    assert main(["import-runs", str(tmp_path / "t.csv"), "--mapping", str(tmp_path / "t.csv"),
                 "--data", str(data_dir)]) == 1


def test_bundled_scan_bench_runs(axes):
    runset = load_runs(BUNDLED, axes)
    assert not runset.problems
    runs = runset.runs[runset.runs["source"] == "scan_bench_llm"]
    assert len(runs) == 1194 and runs["run_id"].is_unique
    assert set(runs["task"]) == {"language_modeling"} and set(runs["optimizer"]) == {"adaptive"}
    assert runs[["valid_loss", "test_loss"]].notna().all().all()
    meta = runset.sources["scan_bench_llm"]
    assert meta["license"].startswith("MIT")
    assert (BUNDLED / "runs" / "scan_bench_llm" / "LICENSE").read_text().startswith("MIT License")
    w = runs["config.d_model"]
    assert (runs.loc[w >= 1024, "width"] == "wide").all() and (runs.loc[w < 1024, "width"] == "moderate").all()


# --- reliability round 2: inputs named, ids kept, imputation possible, sources never replaced by accident --

def test_na_like_ids_are_kept_as_text(mapping, axes):
    r = run(HEADER + "NA,128,adam,0.001,0.9,0.3,1\nnull,32,sgd,0.5,NA,0.4,2\nNone,32,sgd,0.5,0.8,0.4,2\n"
                     "nan,32,sgd,0.5,0.8,0.4,2\n007,32,sgd,0.5,0.8,0.4,2\n", mapping, axes)
    assert list(r.table["run_id"]) == ["NA", "null", "None", "nan", "007"]
    assert np.isnan(r.table["val_acc"].iloc[1])          # in a metric column NA is still a missing value


def test_a_binary_file_named_csv_is_refused_by_name(mapping, axes):
    r = run(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50, mapping, axes, name="photo.csv")
    assert not len(r.table) and "photo.csv: is binary data, not a text table: a NUL byte at byte 8" in msgs(r)


def test_nested_or_binary_parquet_columns_are_refused_by_name(mapping, axes):
    base = {"run_id": ["a", "b"], "width": [128, 32], "optimizer": ["adam", "sgd"], "lr": [0.1, 0.1],
            "val_acc": [1.0, 1.0], "test_loss": [1.0, 1.0]}
    for col, values, kind in (("optimizer", [["adam"], ["sgd"]], "lists or maps"),
                              ("val_acc", [{"x": 1.0}, {"x": 2.0}], "lists or maps"),
                              ("run_id", [b"\x00a", b"b"], "bytes")):
        buf = io.BytesIO()
        pd.DataFrame({**base, col: values}).to_parquet(buf)
        r = run(buf.getvalue(), mapping, axes, name="t.parquet")
        assert not len(r.table) and r.rows_read == 2
        assert [(p.field, "holds nested values" in p.message and kind in p.message) for p in r.problems] == \
            [(col, True)]


def test_an_unclosed_quote_names_its_line_and_counts_every_line_it_swallows(mapping, axes):
    r = run(HEADER + "r1,128,adam,0.001,0.9,0.3,1\nr2,32,\"sgd,0.5,0.8,0.4,2\nr3,64,adam,0.001,0.9,0.3,1\n"
                     "r4,64,adam,0.001,0.9,0.3,1\n", mapping, axes)
    assert list(r.table["run_id"]) == ["r1"] and r.rows_read == 4 and r.rows_skipped == 3
    assert any(p.entry == "line 3" and "never closed" in p.message for p in r.problems)


def test_an_unknown_axis_takes_a_value_the_terrain_allows(axes, terrain):
    m, problems = parse_mapping({**MAPPING, "axes": {**MAPPING["axes"], "architecture": {"value": "shallow_net"}}},
                                "m.yaml", axes)
    assert not problems and "depth" not in m.axes and axes["depth"].default == "moderate"
    r = run(HEADER + GOOD_ROWS, m, axes)
    assert len(r.table) == 2 and not [p for p in r.problems if "not a point of the terrain" in p.message]
    placed, problems = place_runs(r.table.assign(id="s:" + r.table["run_id"], source="s"), axes, terrain)
    assert not problems and len(placed) == 2
    depth = terrain.loc[placed["cell"], "depth"]
    assert {axes["depth"].value_names[int(d)] if not isinstance(d, str) else d for d in depth} == {"shallow"}
    assert all("depth" in i.split(",") for i in placed["imputed"])


def test_cli_keeps_an_existing_source_unless_told_to_append_or_replace(tmp_path, data_dir, axes, capsys):
    import yaml

    from atlas_viz.cli.main import main
    from atlas_viz.runs.store import read_source_table

    (tmp_path / "t.csv").write_text(HEADER + GOOD_ROWS)
    (tmp_path / "u.csv").write_text(HEADER + "r9,64,adam,0.001,0.7,0.5,9\n")
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(MAPPING))
    args = ["--mapping", str(tmp_path / "m.yaml"), "--data", str(data_dir)]
    assert main(["import-runs", str(tmp_path / "t.csv"), *args]) == 0
    assert main(["import-runs", str(tmp_path / "u.csv"), *args]) == 1
    assert "a run source 'hpo_sweep' exists" in capsys.readouterr().err
    assert len(read_source_table(data_dir, "hpo_sweep")) == 2
    assert main(["import-runs", str(tmp_path / "u.csv"), *args, "--append"]) == 0
    assert sorted(read_source_table(data_dir, "hpo_sweep")["run_id"]) == ["r1", "r2", "r9"]
    assert main(["compact-runs", "hpo_sweep", "--data", str(data_dir)]) == 0
    assert main(["import-runs", str(tmp_path / "u.csv"), *args, "--replace"]) == 0
    assert list(read_source_table(data_dir, "hpo_sweep")["run_id"]) == ["r9"]
    assert main(["compact-runs", "nothing_here", "--data", str(data_dir)]) == 1


def test_bin_codes_count_edges_as_a_search_would(axes):
    from atlas_viz.terrain.axes import Axis, AxisValue

    rng = np.random.default_rng(3)
    wide = Axis("many", "", "ordinal", tuple(AxisValue(f"v{i}", "", bin=(float(i), float(i + 1))) for i in range(300)))
    for axis in [*(a for a in axes.axes if a.binned), wide]:
        edges, codes = axis._bin_table
        x = np.r_[np.exp(rng.normal(0, 6, 5000)), -rng.random(50), edges, edges - 1e-12, np.nan, np.inf, -np.inf, 0.0]
        k = np.searchsorted(edges, x, side="right")
        k[np.isnan(x)] = 0
        assert np.array_equal(axis.bin_codes(x), codes[k]), axis.name



def test_parquet_dictionaries_only_where_values_repeat(tmp_path):
    """Ids and other all-distinct text or numbers are stored plain; categories and repeating text or numbers are
    dictionary encoded (a dictionary over a million distinct ids costs time and saves nothing)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from atlas_viz.runs.disk import write_parquet

    n = 5000
    table = pa.table({"run_id": [f"run{i}" for i in range(n)], "task": ["lm", "img"] * (n // 2),
                      "loss": np.linspace(0, 1, n), "width": [64, 128] * (n // 2),
                      "axis": pa.array(["a", "b"] * (n // 2)).dictionary_encode(), "empty": pa.nulls(n)})
    write_parquet(table, tmp_path / "t.parquet")
    meta = pq.ParquetFile(tmp_path / "t.parquet").metadata.row_group(0)
    dictionary = {meta.column(i).path_in_schema for i in range(meta.num_columns)
                  if any("DICTIONARY" in e for e in meta.column(i).encodings)}
    assert dictionary == {"task", "width", "axis", "empty"}
    assert pq.read_table(tmp_path / "t.parquet").equals(table)


@pytest.mark.parametrize("arrow", [True, False])
def test_first_row_of_every_row_is_none_when_no_id_repeats(arrow):
    import pyarrow as pa

    from atlas_viz.runs.columns import first_rows

    def ids(values):
        return pa.chunked_array([values[:2], values[2:]]) if arrow else pd.Series(values, dtype=object)

    assert first_rows(ids(["a", "b", "c", "d"])) is None
    assert first_rows(ids(["a", "b", "a", "c", "b"])).tolist() == [0, 1, 0, 3, 1]
