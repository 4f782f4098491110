"""The fast CSV path (pyarrow, for large files) reads exactly the frame the pandas path reads, or declines."""
import numpy as np
import pandas as pd
import pytest

from atlas_viz.runs import tables

WORDS = ["adam", "sgd", "NA", "null", "None", "nan", "", "n/a", "x y", "é", "007", "1e3", "-2", "3.5", "true",
         "false", '"quoted, comma"', '"two\nlines"', "inf", " 5"]


def random_csv(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    n_cols, n_rows = rng.integers(1, 6), rng.integers(1, 40)
    cols = ["run_id"] + [f"c{j}" for j in range(n_cols)]
    kinds = rng.choice(["int", "float", "text", "mixed"], n_cols)
    lines = [",".join(cols)]
    for i in range(n_rows):
        cells = [str(rng.choice(["a", "NA", "null", "007", f"r{i}"]))]
        for k in kinds:
            if k == "int":
                cells.append(str(rng.integers(-5, 5)) if rng.random() > 0.1 else "")
            elif k == "float":
                cells.append(f"{rng.normal():.4g}" if rng.random() > 0.1 else str(rng.choice(["NA", "", "nan"])))
            elif k == "text":
                cells.append(str(rng.choice(["adam", "sgd", "NA", "", "x y", "é"])))
            else:
                cells.append(str(rng.choice(WORDS)))
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode("utf-8")


def same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    for c in a.columns:
        if a[c].dtype.kind != b[c].dtype.kind and str(a[c].dtype) != str(b[c].dtype):
            return False
        left = a[c].astype(object).where(a[c].notna(), None).tolist()
        right = b[c].astype(object).where(b[c].notna(), None).tolist()
        if left != right:
            return False
    return True


@pytest.mark.parametrize("seed", range(60))
def test_the_fast_path_reads_what_pandas_reads_or_declines(seed):
    data = random_csv(seed)
    fast = tables._arrow_csv(data, ["run_id"], data[:100])
    slow, skipped = tables._parse_csv(data, "utf-8", ["run_id"], None)
    if fast is not None:
        assert not skipped and same(fast, slow), (data.decode(), fast, slow)


def test_damaged_files_are_left_to_pandas_which_names_the_lines():
    ragged = b"run_id,a\n1,2\n2,3,4\n3,4\n"
    unclosed = b'run_id,a\n1,"open\n2,3\n'
    bom = b"\xef\xbb\xbfrun_id,a\n1,2\n"
    latin = "run_id,a\n1,caf\xe9\n".encode("latin-1")
    for data in (ragged, unclosed, bom, latin):
        assert tables._arrow_csv(data, ["run_id"], data[:100]) is None


def test_large_files_take_the_fast_path(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "FAST_CSV_BYTES", 10)
    calls = []
    real = tables._arrow_table
    monkeypatch.setattr(tables, "_arrow_table", lambda *a: calls.append(1) or real(*a))
    path = tmp_path / "t.csv"
    path.write_bytes(b"run_id,loss\nNA,0.5\nb,0.25\n")
    raw = tables.read_table(path, "t.csv", ["run_id"])
    assert calls and raw.arrow is not None  # held as Arrow; the frame is made when asked for
    assert list(raw.frame["run_id"]) == ["NA", "b"] and raw.label(1) == "line 3"
