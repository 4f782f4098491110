"""A large clean CSV is read, checked and stored with Arrow only; every other table through pandas. Both paths
run the same checks (atlas_viz.runs.columns answers each cell question for either) and must agree exactly."""
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from atlas_viz.runs import columns, tables
from atlas_viz.runs.disk import save_runs
from atlas_viz.runs.importer import import_table
from atlas_viz.runs.mapping import parse_mapping

MAPPING = {
    "source": {"name": "paths", "license": "MIT"},
    "id": "run_id",
    "axes": {"task": {"value": "tabular"}, "architecture": {"value": "mlp"}, "width": {"column": "width"},
             "optimizer": {"column": "optimizer", "values": {"adam": "adaptive", "sgd": "sgd", "1": "sgd"}},
             "learning_rate": {"column": "lr"}, "data_regime": {"column": "n", "per": "p"}},
    "metrics": ["val_acc", "test_loss"],
}
CELLS = {
    "run_id": ["r{i}", "r{i}", "r{i}", "r{i}", "NA", "007", "", " ", "r1", "dup"],
    "width": ["64", "128", "1024", "", "wide", "-3", "inf", "1e9", " 32", "nan"],
    "optimizer": ["adam", "sgd", "adam", "", "rmsprop", "NA", "1", " sgd ", "Adam", "null"],
    "lr": ["0.001", "0.1", "0.01", "", "fast", "-1", "1e-5", "inf", "0.003", "NA"],
    "n": ["1000", "50", "", "x", "0", "1e6", "10", "-5", "100", "7"],
    "p": ["100", "100", "10", "0", "", "y", "1e3", "5", "inf", "100"],
    "val_acc": ["0.9", "0.5", "", "high", "inf", "0.1", "NA", "0", "1", "-0.5"],
    "test_loss": ["0.3", "", "0.2", "0.1", "nan", "1e3", "x", "0.4", "0.5", "2"],
    "seed": ["1", "2", "", "x", "3", "NA", "4", "5", "6", "7"],
    "note": ["a", "", "NA", "b c", "null", "é", " ", "x", "y", "z"],
}


def random_table(seed: int, quoted: bool = False) -> bytes:
    """A small CSV of the cells above (with ``quoted``, some cells in quotes, and notes holding commas, quotes and
    line breaks)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    cols = list(CELLS)
    lines = [",".join(cols)]
    for i in range(n):
        row = [CELLS[c][0 if rng.random() < 0.5 else int(rng.integers(0, 10))].format(i=i) for c in cols]
        if quoted:
            row = [f'"{v}"' if rng.random() < 0.2 else v for v in row]
            if rng.random() < 0.3:
                row[-1] = rng.choice(['"a, b"', '"two\nlines"', '"say ""hi"""'])
        lines.append(",".join(row))
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def mapping(axes):
    m, problems = parse_mapping(MAPPING, "m.yaml", axes)
    assert not problems, problems
    return m


def both(data: bytes, mapping, axes, monkeypatch, categorical=True):
    monkeypatch.setattr(tables, "FAST_CSV_BYTES", 1 << 40)
    slow = import_table(data, mapping, axes, "t.csv", categorical=categorical)
    monkeypatch.setattr(tables, "FAST_CSV_BYTES", 0)
    fast = import_table(data, mapping, axes, "t.csv", categorical=categorical)
    return slow, fast


@pytest.mark.parametrize("seed", range(40))
def test_both_paths_report_and_keep_the_same_rows(seed, mapping, axes, monkeypatch):
    data = random_table(seed)
    slow, fast = both(data, mapping, axes, monkeypatch, categorical=seed % 2 == 0)
    assert columns.is_arrow(fast.stored) and not columns.is_arrow(slow.stored)
    assert [str(p) for p in fast.problems] == [str(p) for p in slow.problems]
    assert (fast.rows_read, fast.rows_imported) == (slow.rows_read, slow.rows_imported)
    pd.testing.assert_frame_equal(fast.table, slow.table, check_dtype=False)
    for a, b in zip(fast.table.dtypes, slow.table.dtypes):
        assert a.kind == b.kind or str(a) == str(b) or {a.kind, b.kind} <= {"i", "f"}, (a, b)


@pytest.mark.parametrize("seed", range(20))
def test_both_paths_agree_on_tables_with_quotes(seed, mapping, axes, monkeypatch):
    slow, fast = both(random_table(200 + seed, quoted=True), mapping, axes, monkeypatch, categorical=seed % 2 == 0)
    assert [str(p) for p in fast.problems] == [str(p) for p in slow.problems]
    assert (fast.rows_read, fast.rows_imported) == (slow.rows_read, slow.rows_imported)
    pd.testing.assert_frame_equal(fast.table, slow.table, check_dtype=False)


@pytest.mark.parametrize("seed", range(6))
def test_both_paths_store_tables_that_read_back_alike(seed, mapping, axes, monkeypatch, tmp_path):
    slow, fast = both(random_table(100 + seed), mapping, axes, monkeypatch)
    if not slow.rows_imported:
        return
    save_runs(tmp_path, "slow", slow.table, {"name": "slow"})
    save_runs(tmp_path, "fast", fast.stored, {"name": "fast"}, unique_ids=True)
    a = pd.read_parquet(tmp_path / "runs" / "fast" / "runs.parquet")
    b = pd.read_parquet(tmp_path / "runs" / "slow" / "runs.parquet")
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    schema = pq.read_schema(tmp_path / "runs" / "fast" / "runs.parquet")
    assert str(schema.field("width").type) == str(pq.read_schema(tmp_path / "runs" / "slow" / "runs.parquet")
                                                  .field("width").type)


def test_the_blank_pattern_holds_every_space_python_strips():
    assert columns.SPACE == "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())


def test_import_runs_loads_neither_the_catalogue_nor_the_run_store_nor_pandas_nor_pyarrow_compute(tmp_path, data_dir):
    import subprocess

    csv = tmp_path / "t.csv"
    csv.write_bytes(b"run_id,width,optimizer,lr,val_acc,test_loss\n" +
                    b"".join(b"r%d,64,adam,0.001,0.9,0.3\n" % i for i in range(20)))
    (tmp_path / "m.yaml").write_text(
        "source: {name: t}\nid: run_id\naxes:\n  task: {value: tabular}\n  architecture: {value: mlp}\n"
        "  width: {column: width}\n  optimizer: {column: optimizer, values: {adam: adaptive}}\n"
        "  learning_rate: {column: lr}\nmetrics: [val_acc, test_loss]\n")
    code = ("import sys; from atlas_viz.runs import tables; tables.FAST_CSV_BYTES = 0\n"
            "from atlas_viz.cli.main import main; rc = main(sys.argv[1:])\n"
            "extra = [m for m in ('atlas_viz.catalogue', 'atlas_viz.runs.store', 'atlas_viz.cli.export', 'pandas', "
            "'pyarrow.compute', 'numpy.ma') if m in sys.modules]\n"
            "print(extra or 'ok', rc)")
    out = subprocess.run([sys.executable, "-c", code, "import-runs", str(csv), "--mapping", str(tmp_path / "m.yaml"),
                          "--data", str(data_dir), "--name", "t"], capture_output=True, text=True)
    assert out.stdout.strip().endswith("ok 0"), out.stdout + out.stderr
    assert len(pd.read_parquet(data_dir / "runs" / "t" / "runs.parquet")) == 20


def test_each_subcommand_is_registered_by_the_module_the_cli_names_for_it():
    from atlas_viz.cli import main as cli

    class Parser:
        def __getattr__(self, name):  # add_argument, set_defaults, groups: all accepted
            return lambda *a, **k: self

    for module in set(cli.SUBCOMMANDS.values()):
        seen = []
        cli._register(module, lambda name, func, help_: seen.append(name) or Parser())
        assert sorted(seen) == sorted(c for c, m in cli.SUBCOMMANDS.items() if m == module)
    assert cli._wanted(["import-runs", "x.csv"]) == ["runs"] and len(cli._wanted(["--help"])) > 1


@pytest.mark.parametrize("kind", ["int8", "int32", "int64", "uint64", "float32", "float64", "bool"])
def test_arrow_numpy_conversions_without_pandas_match_pyarrows_own(kind):
    import pyarrow as pa

    rng = np.random.default_rng(0)
    x = (rng.random(37) > 0.5) if kind == "bool" else (rng.random(37) * 100).astype(kind)
    mask = rng.random(37) < 0.3
    arr = columns.from_numpy(x, mask)
    assert arr.equals(pa.array(x, mask=mask))
    assert columns.from_numpy(x).equals(pa.array(x))
    fill = False if kind == "bool" else 7
    for a in (arr, arr.slice(3, 20), arr.slice(9), pa.chunked_array([arr.slice(0, 5), arr.slice(5)]),
              pa.chunked_array([], type=arr.type)):
        want = a.to_numpy(zero_copy_only=False) if not a.null_count else \
            pc_fill(a, fill).to_numpy(zero_copy_only=False)
        got = columns.to_numpy(a, fill=fill)
        assert got.dtype == want.dtype and got.tolist() == want.tolist()
    if kind.startswith("float"):
        nan_filled = columns.to_numpy(arr)
        assert np.array_equal(np.isnan(nan_filled), mask | np.isnan(x))
    else:
        with pytest.raises(ValueError):
            columns.to_numpy(arr)


def pc_fill(a, fill):
    import pyarrow.compute as pc

    return pc.fill_null(a, fill)


def test_strings_builds_the_text_array_pyarrow_would():
    import pyarrow as pa

    values = ["a", None, "", "é ü", "NA", "x" * 300, None]
    assert columns.strings(values).equals(pa.array(values, pa.string()))
    assert columns.strings([]).equals(pa.array([], pa.string()))
    assert columns.strings(("r1", "r2")).to_pylist() == ["r1", "r2"]


def test_quotes_are_counted_in_a_file_and_in_bytes(tmp_path):
    f = tmp_path / "q.csv"
    for text in (b"a,b\n1,2\n", b'a,b\n"1,x",2\n', b'a,"b\n', b""):
        f.write_bytes(text)
        assert tables._quotes(f) == text.count(b'"') == tables._quotes(text)
    assert tables._quotes(tmp_path / "missing.csv") == -1


def below_zero(axes):
    """The axes with width's first bin reaching down to -100 (so a negative width has a bin)."""
    from dataclasses import replace

    width = axes["width"]
    values = (replace(width.values[0], bin=(-100.0, width.values[0].bin[1])), *width.values[1:])
    return replace(axes, axes=tuple(replace(a, values=values) if a is width else a for a in axes.axes))


@pytest.mark.parametrize("seed", range(20))
def test_binned_axes_look_at_every_row_that_holds_a_problem(seed, mapping, axes, monkeypatch):
    """A binned axis looks cell by cell only at rows with no bin, a number below 0, or a bad divisor; looking at
    every row instead finds the very same problems and keeps the same rows (also where a bin reaches below 0)."""
    from atlas_viz.runs import axischecks

    axes = below_zero(axes) if seed % 2 else axes
    data = random_table(300 + seed, quoted=seed % 3 == 0)
    for fast_bytes in (0, 1 << 40):
        monkeypatch.setattr(tables, "FAST_CSV_BYTES", fast_bytes)
        some = import_table(data, mapping, axes, "t.csv")
        with monkeypatch.context() as m:
            m.setattr(axischecks, "rows_to_check", lambda ok: np.arange(len(ok)))
            every = import_table(data, mapping, axes, "t.csv")
        assert [str(p) for p in some.problems] == [str(p) for p in every.problems]
        pd.testing.assert_frame_equal(some.table, every.table)


def test_blank_text_is_what_python_strips_to_nothing_over_chunks_slices_and_large_strings():
    import pyarrow as pa

    rng = np.random.default_rng(7)
    alphabet = [*columns.SPACE, "a", "é", "€", "𝔸", "0"]
    for _ in range(200):
        cells = [None if rng.random() < 0.1 else "".join(rng.choice(alphabet, int(rng.integers(0, 4))))
                 for _ in range(int(rng.integers(0, 25)))]
        for kind in (pa.string(), pa.large_string()):
            half = len(cells) // 2
            col = pa.chunked_array([pa.array(cells[:half], kind), pa.array(cells[half:], kind)], kind)
            want = [c is None or not c.strip() for c in cells]
            assert columns.blank(col).tolist() == want
            if len(cells) > 4:
                assert columns.blank(pa.array(cells, kind).slice(2, len(cells) - 3)).tolist() == want[2:-1]


def test_arrow_calls_answer_as_pyarrow_compute_does():
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.chunked_array([["b", "a", " ", None], ["a", "", "c"]])
    flat = text.combine_chunks()
    assert columns.arrow_call("sort_indices", flat).equals(pc.sort_indices(flat))
    assert columns.arrow_call("dictionary_encode", text).equals(pc.dictionary_encode(text))
    assert columns.arrow_call("take", text, pa.array([3, 0])).equals(pc.take(text, pa.array([3, 0])))
    assert columns.arrow_call("equal", flat[1:], flat[:-1]).equals(pc.equal(flat[1:], flat[:-1]))
    pattern = columns.arrow_options("MatchSubstringOptions", "^ *$")
    assert columns.arrow_call("match_substring_regex", text, options=pattern).equals(
        pc.match_substring_regex(text, "^ *$"))
    count = columns.arrow_options("CountOptions", mode="only_valid")
    assert columns.arrow_call("count_distinct", text, options=count).as_py() == pc.count_distinct(text).as_py() == 5
    ints = pa.array([1, None, 3])
    assert columns.arrow_call("cast", ints, options=columns.arrow_options("CastOptions", pa.string())).equals(
        pc.cast(ints, pa.string()))


def test_numbers_of_chunked_integer_columns_are_floats_with_missing_as_nan():
    import pyarrow as pa

    col = pa.chunked_array([pa.array([1, 2], pa.int64()), pa.array([None, 2 ** 53 + 1], pa.int64()),
                            pa.array([], pa.int64())])
    x = columns.numbers(col)
    assert x.dtype == np.float64 and np.isnan(x[2]) and x[:2].tolist() == [1.0, 2.0] and x[3] == float(2 ** 53)
    assert columns.to_numpy(pa.chunked_array([pa.array([1.5, None])]), dtype=np.float32).dtype == np.float32


def test_cells_are_converted_ahead_in_threads_as_they_would_be_inline_and_errors_reach_the_caller(monkeypatch):
    import pyarrow as pa

    from atlas_viz.runs import cells

    table = pa.table({"id": ["a", "b", "a"], "lab": ["x", None, "x"], "n": [1.0, None, 3.0]})
    plan = [("ids", "id"), ("blank", "lab"), ("codes", "lab"), ("numbers", "n"), ("numbers", "absent")]
    ahead = cells.Cells(table, plan)
    ids, first = ahead.get("ids", "id")
    assert ids.to_pylist() == ["a", "b", "a"] and first.tolist() == [0, 1, 0]
    assert ahead.get("blank", "lab").tolist() == [False, True, False]
    blocks, uniques = ahead.get("codes", "lab")
    assert np.concatenate(blocks).tolist() == [0, -1, 0] and uniques == ["x"]
    assert np.array_equal(ahead.get("numbers", "n"), [1.0, np.nan, 3.0], equal_nan=True)

    def broken(col):
        raise RuntimeError("conversion failed")

    monkeypatch.setitem(cells.KINDS, "numbers", broken)
    with pytest.raises(RuntimeError, match="conversion failed"):
        cells.Cells(table, [("numbers", "n")]).get("numbers", "n")


def test_a_table_read_in_many_chunks_is_checked_block_by_block_as_pandas_checks_it_whole(mapping, axes, monkeypatch):
    """Binned axes, label codes and pattern keys go block by block over Arrow's chunks; a table of several chunks
    (some rows bad, some cells empty) is judged exactly as the pandas path and the every-row check judge it."""
    from atlas_viz.runs import axischecks

    rng = np.random.default_rng(5)
    names = list(CELLS)
    lines = [",".join(names)] + [",".join(CELLS[c][0 if rng.random() < 0.97 else int(rng.integers(0, 10))]
                                          .format(i=i) for c in names) for i in range(40_000)]
    data = ("\n".join(lines) + "\n").encode()
    slow, fast = both(data, mapping, axes, monkeypatch)
    assert tables._arrow_table(data, ["run_id"], data[:100]).column("width").num_chunks > 1
    assert [str(p) for p in fast.problems] == [str(p) for p in slow.problems]
    pd.testing.assert_frame_equal(fast.table, slow.table, check_dtype=False)
    monkeypatch.setattr(axischecks, "rows_to_check", lambda ok: np.arange(len(ok)))
    every = import_table(data, mapping, axes, "t.csv")
    assert [str(p) for p in every.problems] == [str(p) for p in fast.problems]
