"""Reliability: concurrent writers lose no run, files are written atomically and inertly, inputs are bounded."""
from __future__ import annotations

import multiprocessing as mp
import os
import stat
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from atlas_viz.io.atomic import STALE_TMP_SECONDS, FolderLock, atomic_write_text, temporaries
from atlas_viz.io.fingerprint import data_fingerprint, runs_fingerprint
from atlas_viz.runs.store import (PARTS_DIR, SOURCE_FILE, TABLE_FILE, compact_runs, load_runs,
                                  read_source_table, save_runs, source_dir)

META = {"name": "sweep", "license": "CC0-1.0", "metrics": ["loss"]}


def rows(prefix: str, n: int, metric: str = "loss") -> pd.DataFrame:
    return pd.DataFrame({"run_id": [f"{prefix}{i}" for i in range(n)], metric: [float(i) for i in range(n)]})


def meta_of(data: Path, slug: str = "sweep") -> dict:
    return yaml.safe_load((source_dir(data, slug) / SOURCE_FILE).read_text())


# --- run storage: parts, one lock, no lost rows --------------------------------------------------------

def _append_many(data: str, prefix: str, n: int, times: int, start) -> None:
    start.wait()
    for k in range(times):
        save_runs(data, "sweep", rows(f"{prefix}{k}-", n), META, append=True)


def _concurrently(data: Path, jobs: list[tuple[str, int, int]]) -> None:
    ctx = mp.get_context("fork")
    start = ctx.Barrier(len(jobs))
    procs = [ctx.Process(target=_append_many, args=(str(data), p, n, times, start)) for p, n, times in jobs]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)


def test_three_concurrent_appends_of_many_rows_keep_every_row(tmp_path):
    save_runs(tmp_path, "sweep", rows("base", 10), META)
    _concurrently(tmp_path, [("a", 20_000, 1), ("b", 20_000, 1), ("c", 20_000, 1)])
    table = read_source_table(tmp_path, "sweep")
    assert len(table) == 60_010 and table["run_id"].is_unique
    assert meta_of(tmp_path)["rows"] == 60_010
    assert len(load_runs(tmp_path, _axes()).runs) == 60_010


def test_two_concurrent_expedition_style_appends_lose_nothing(tmp_path):
    _concurrently(tmp_path, [("x", 1, 12), ("y", 1, 12)])  # one run per append, as a sweep saves them
    table = read_source_table(tmp_path, "sweep")
    assert sorted(table["run_id"]) == sorted([f"x{k}-0" for k in range(12)] + [f"y{k}-0" for k in range(12)])
    assert meta_of(tmp_path)["rows"] == 24


def test_an_append_writes_only_its_rows_and_never_rewrites_the_base(tmp_path):
    folder = save_runs(tmp_path, "sweep", rows("base", 50_000), META)
    before = (folder / TABLE_FILE).stat()
    save_runs(tmp_path, "sweep", rows("new", 3), META, append=True)
    after = (folder / TABLE_FILE).stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    parts = list((folder / PARTS_DIR).glob("*.parquet"))
    assert len(parts) == 1 and len(pd.read_parquet(parts[0])) == 3
    assert meta_of(tmp_path)["rows"] == 50_003


def test_appended_rows_replace_stored_ones_and_rows_counts_each_run_once(tmp_path):
    save_runs(tmp_path, "sweep", rows("r", 5), META)
    save_runs(tmp_path, "sweep", pd.DataFrame({"run_id": ["r1", "r9"], "loss": [10.0, 9.0]}), META, append=True)
    table = read_source_table(tmp_path, "sweep").set_index("run_id")
    assert len(table) == 6 and table.loc["r1", "loss"] == 10.0 and meta_of(tmp_path)["rows"] == 6


def test_appending_other_metrics_keeps_the_old_ones(tmp_path):
    save_runs(tmp_path, "sweep", rows("r", 3), META)
    save_runs(tmp_path, "sweep", rows("s", 2, "acc"), {**META, "metrics": ["acc"]}, append=True)
    assert meta_of(tmp_path)["metrics"] == ["loss", "acc"]
    table = read_source_table(tmp_path, "sweep")
    assert table["loss"].notna().sum() == 3 and table["acc"].notna().sum() == 2


def test_parts_are_folded_beyond_the_limit_and_compaction_keeps_every_row(tmp_path, monkeypatch):
    import atlas_viz.runs.disk as store

    monkeypatch.setattr(store, "MAX_PARTS", 4)
    MAX_PARTS = store.MAX_PARTS
    save_runs(tmp_path, "sweep", rows("base", 4), META)
    for k in range(MAX_PARTS + 3):
        save_runs(tmp_path, "sweep", rows(f"p{k}-", 1), META, append=True)
    folder = source_dir(tmp_path, "sweep")
    assert len(list((folder / PARTS_DIR).glob("*.parquet"))) <= MAX_PARTS
    assert len(meta_of(tmp_path)["parts"]) <= MAX_PARTS
    assert len(read_source_table(tmp_path, "sweep")) == 4 + MAX_PARTS + 3
    assert compact_runs(tmp_path, "sweep") == 4 + MAX_PARTS + 3
    assert meta_of(tmp_path)["parts"] == [] and not list((folder / PARTS_DIR).glob("*"))
    assert len(pd.read_parquet(folder / TABLE_FILE)) == 4 + MAX_PARTS + 3


def test_files_of_an_interrupted_write_are_never_read_and_are_removed_by_the_next(tmp_path):
    folder = save_runs(tmp_path, "sweep", rows("r", 3), META)
    (folder / PARTS_DIR).mkdir(exist_ok=True)
    rows("ghost", 2).to_parquet(folder / PARTS_DIR / "00000000000000000001-dead.parquet")  # killed before commit
    (folder / f".{TABLE_FILE}.abc123.tmp").write_bytes(b"half a table")
    assert len(read_source_table(tmp_path, "sweep")) == 3
    save_runs(tmp_path, "sweep", rows("s", 1), META, append=True)
    assert not (folder / PARTS_DIR / "00000000000000000001-dead.parquet").exists()
    assert not list(folder.glob(".*.tmp"))
    assert len(read_source_table(tmp_path, "sweep")) == 4


def test_a_base_newer_than_its_source_yaml_is_read_without_the_old_parts(tmp_path):
    save_runs(tmp_path, "sweep", rows("old", 3), META)
    save_runs(tmp_path, "sweep", rows("part", 2), META, append=True)
    stale = (source_dir(tmp_path, "sweep") / SOURCE_FILE).read_text()
    save_runs(tmp_path, "sweep", rows("new", 4), META)                   # a replace ...
    (source_dir(tmp_path, "sweep") / SOURCE_FILE).write_text(stale)    # ... killed before its source.yaml
    assert sorted(read_source_table(tmp_path, "sweep")["run_id"]) == [f"new{i}" for i in range(4)]


def test_append_refuses_an_unreadable_source_yaml_instead_of_replacing_the_source(tmp_path):
    folder = save_runs(tmp_path, "sweep", rows("r", 3), META)
    (folder / SOURCE_FILE).write_text("name: [unclosed\n")
    with pytest.raises(OSError, match="cannot be read, so nothing is appended"):
        save_runs(tmp_path, "sweep", rows("s", 1), META, append=True)
    assert len(pd.read_parquet(folder / TABLE_FILE)) == 3


def test_the_lock_is_exclusive_across_threads_and_times_out_with_the_folder_named(tmp_path):
    with FolderLock(tmp_path / "src"):
        with pytest.raises(TimeoutError, match="src"):
            with FolderLock(tmp_path / "src", timeout=0.05):
                pass


def _axes():
    from atlas_viz.terrain.axes import load_axes
    from conftest import BUNDLED

    return load_axes(BUNDLED / "axes.yaml")


# --- YAML with limits; a parse cache of validated files only ----------------------------------------

def alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{j}: &a{j} [" + ", ".join([f"*a{j - 1}"] * 10) + "]" for j in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def merge_bomb(levels: int = 12) -> str:
    lines = ["m0: &m0 {k0: [x, x, x, x, x, x, x, x]}"]
    lines += [f"m{j}: &m{j} {{<<: *m{j - 1}, " + ", ".join(f"k{j}_{i}: *m{j - 1}" for i in range(4)) + "}"
              for j in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text,named", [(alias_bomb(), "too many aliases"), (merge_bomb(), "too many aliases"),
                                        ("- &a [1, *a]\n", "a recursive alias"),
                                        ("a: &a {b: *a}\n", "a recursive alias")])
def test_alias_bombs_are_refused_by_name_before_any_value_is_built(text, named, tmp_path, monkeypatch, axes):
    from atlas_viz.catalogue.loader import load_catalog
    from atlas_viz.io.yamlio import parse_cache_dir
    from atlas_viz.runs.mapping import read_mapping
    from conftest import make_data

    monkeypatch.setenv("ATLAS_CACHE", str(tmp_path / "cache"))
    data = make_data(tmp_path, {"bomb.yaml": text}, with_terrain=False)
    catalog = load_catalog(data, axes)
    assert [p.file for p in catalog.problems] == ["bomb.yaml"] and named in catalog.problems[0].message
    assert "line " in catalog.problems[0].message
    assert not parse_cache_dir().exists() or not list(parse_cache_dir().iterdir())
    (tmp_path / "m.yaml").write_text(text)
    mapping, problems = read_mapping(tmp_path / "m.yaml", axes)
    assert mapping is None and named in problems[0].message


def test_a_few_aliases_are_still_fine():
    from atlas_viz.io.yamlio import parse_yaml_text

    data, problems = parse_yaml_text("base: &b {x: 1, y: [1, 2]}\nc: {<<: *b, z: 3}\nd: *b\n", "ok.yaml")
    assert not problems and data["c"] == {"x": 1, "y": [1, 2], "z": 3} and data["d"]["y"] == [1, 2]


def test_the_parse_cache_keeps_only_files_that_validated(tmp_path, monkeypatch, axes):
    from atlas_viz.catalogue.loader import load_catalog
    from atlas_viz.io.yamlio import parse_cache_dir
    from conftest import GOOD, make_data

    monkeypatch.setenv("ATLAS_CACHE", str(tmp_path / "cache"))
    data = make_data(tmp_path, {"bad.yaml": GOOD.replace("map_type: theorem", "map_type: theorm")})
    assert load_catalog(data, axes).problems
    assert not parse_cache_dir().exists() or not list(parse_cache_dir().glob("*.json"))
    (data / "results" / "bad.yaml").write_text(GOOD)
    first = load_catalog(data, axes)
    assert not first.problems and len(list(parse_cache_dir().glob("*.json"))) == 1
    again = load_catalog(data, axes)                     # read back from the cache: the same catalogue
    assert again.results.equals(first.results)


@pytest.mark.parametrize("rid", ["alpha2020_theorem\n", "alpha2020_theorem\r\n", " alpha2020_theorem"])
def test_an_id_with_a_trailing_newline_or_space_is_refused_not_a_second_result(rid, axes):
    from atlas_viz.catalogue.loader import parse_results

    entry = {"id": rid, "claim": "c", "map_type": "theorem", "region": "any", "observables": ["generalization"],
             "citation": {"authors": ["A B"], "year": 2020, "title": "T", "arxiv": "2001.00001\n"}}
    rows, problems = parse_results([entry], "f.yaml", axes)
    assert rows == [] and any(p.field == "id" for p in problems) and any(p.field == "citation.arxiv" for p in problems)


# --- exports: one code path for the CLI and the app; inert, readable ----------------------------------

HOSTILE = """\
- id: hostile2020_x
  claim: "\\t=HYPERLINK(\\"http://x\\")\\rsecond line starts =1+1"
  map_type: theorem
  region: any
  observables: [generalization]
  citation: {authors: ["Smith, John", Ada Lovelace], year: 2020, title: "Unbalanced { brace and 100% of $x_1$",
             arxiv: "2001.00001"}
"""


@pytest.mark.parametrize("fmt", ["csv", "bibtex", "json"])
def test_cli_export_writes_the_same_text_as_the_app_functions(fmt, tmp_path, axes, capsysbinary):
    import csv
    import io
    import json

    from pybtex.database import parse_string

    from atlas_viz.catalogue.export import export_results
    from atlas_viz.catalogue.loader import load_catalog
    from atlas_viz.cli.main import main
    from conftest import make_data

    data = make_data(tmp_path, {"h.yaml": HOSTILE}, with_terrain=False)
    out = tmp_path / f"out.{fmt}"
    assert main(["export", "--format", fmt, "--data", str(data), "--out", str(out)]) == 0
    text = out.read_bytes().decode("utf-8")
    assert text == export_results(load_catalog(data, axes).results, fmt)
    assert main(["export", "--format", fmt, "--data", str(data)]) == 0
    assert capsysbinary.readouterr().out.decode("utf-8") == text
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert len(rows) == 2 and rows[1][rows[0].index("claim")].startswith("'=HYPERLINK")
    elif fmt == "bibtex":
        entry = parse_string(text, "bibtex").entries["hostile2020_x"]
        assert [str(p) for p in entry.persons["author"]] == ["Smith, John", "Lovelace, Ada"]
        assert "\\%" in entry.fields["title"] and "{\\textbraceleft}" in entry.fields["title"]
    else:
        assert json.loads(text)[0]["author_list"] == ["Smith, John", "Ada Lovelace"]


def test_expedition_csv_uses_the_same_inert_writer():
    from atlas_viz.catalogue.export import frame_csv

    text = frame_csv(pd.DataFrame({"where": ["a\rb", " =1"], "n": [1, -2]}))
    assert text == 'where,n\r\n"a\nb",1\r\n\' =1,-2\r\n'


# --- state: atomic writes, stale temporaries, fingerprints --------------------------------------------

def test_atomic_write_keeps_the_umask_and_the_replaced_files_mode_and_syncs_the_folder(tmp_path, monkeypatch):
    import atlas_viz.io.atomic as atomic

    synced = []
    monkeypatch.setattr(atomic, "fsync_dir", lambda folder: synced.append(folder))
    monkeypatch.setattr(os, "umask", lambda *a: pytest.fail("atomic_write must not touch the process umask"))
    path = tmp_path / "f.txt"
    atomic_write_text(path, "one")
    assert path.read_text() == "one" and synced == [tmp_path]
    os.chmod(path, 0o640)
    atomic_write_text(path, "two")
    assert path.read_text() == "two" and stat.S_IMODE(path.stat().st_mode) == 0o640
    atomic_write_text(tmp_path / "cache.json", "{}", durable=False)
    assert synced == [tmp_path, tmp_path]                       # a cache write is not synced


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    from atlas_viz.io.atomic import atomic_write

    path = tmp_path / "f.txt"
    atomic_write_text(path, "old")

    def boom(fh):
        fh.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(path, boom)
    assert path.read_text() == "old" and not temporaries(path)


def test_a_stale_temporary_of_an_interrupted_write_is_removed_by_the_next_write(tmp_path):
    path = tmp_path / "f.txt"
    stale, fresh = tmp_path / ".f.txt.dead01.tmp", tmp_path / ".f.txt.live02.tmp"
    stale.write_bytes(b"killed mid-write")
    fresh.write_bytes(b"another writer, now")
    old = time.time() - STALE_TMP_SECONDS - 60
    os.utime(stale, (old, old))
    atomic_write_text(path, "new")
    assert not stale.exists() and fresh.exists() and path.read_text() == "new"


def test_fingerprints_see_an_in_place_overwrite_and_every_part(tmp_path):
    folder = save_runs(tmp_path, "sweep", rows("r", 3), META)
    fp, runs_fp = data_fingerprint(tmp_path), runs_fingerprint(tmp_path)
    table = folder / TABLE_FILE
    st_before = table.stat()
    with open(table, "r+b") as fh:                       # same size, same inode, new bytes
        fh.write(b"PAR1")
    os.utime(table, ns=(st_before.st_atime_ns, st_before.st_mtime_ns + 1_000_000))
    assert runs_fingerprint(tmp_path) != runs_fp and data_fingerprint(tmp_path) != fp
    runs_fp = runs_fingerprint(tmp_path)
    save_runs(tmp_path, "sweep", rows("s", 1), META, append=True)
    assert runs_fingerprint(tmp_path) != runs_fp
    lock_fp = runs_fingerprint(tmp_path)
    with FolderLock(folder):                             # taking the lock is not a change of the data
        pass
    assert runs_fingerprint(tmp_path) == lock_fp


def test_each_cache_key_changes_only_with_the_files_it_reads(tmp_path):
    from atlas_viz.io.fingerprint import catalogue_fingerprint, terrain_fingerprint
    from conftest import GOOD, make_data

    data = make_data(tmp_path)
    save_runs(data, "sweep", rows("r", 3), META)
    keys = lambda: (terrain_fingerprint(data), catalogue_fingerprint(data), runs_fingerprint(data))  # noqa: E731
    terrain, catalogue, runs = keys()
    (data / "results" / "more.yaml").write_text(GOOD.replace("alpha2020", "gamma2022").replace("beta2021", "delta"))
    assert keys()[0] == terrain and keys()[1] != catalogue and keys()[2] == runs   # placed runs are kept
    catalogue = keys()[1]
    save_runs(data, "sweep", rows("s", 1), META, append=True)
    assert keys() == (terrain, catalogue, keys()[2]) and keys()[2] != runs         # the atlas is kept


def test_the_app_keys_its_caches_by_fingerprint_instead_of_clearing_them():
    from conftest import ROOT

    app = (ROOT / "app.py").read_text()
    context = (ROOT / "views" / "context.py").read_text()
    assert ".clear()" not in context and "cache_data.clear" not in app
    assert "get_atlas(str(DATA), catalogue_fp)" in app and 'run_key = f"{terrain_fp}-{runs_fp}"' in app
    assert "get_runs(str(DATA), run_key, atlas)" in app


# --- expedition arguments: one validation, before anything runs ----------------------------------------

@pytest.mark.parametrize("flag,value,named", [("--budget", "0", "budget"), ("--budget", "-5", "budget"),
                                              ("--budget", "nan", "budget"), ("--budget", "inf", "budget"),
                                              ("--max-runs", "0", "max runs"), ("--max-runs", "-3", "max runs")])
def test_expedition_arguments_are_refused_before_anything_runs(flag, value, named, tmp_path, capsys):
    from atlas_viz.cli.main import main

    assert main(["expedition", "run", "any_id", flag, value, "--data", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"error: {named} must be" in err and repr(float(value) if flag == "--budget" else int(value)) in err
    assert not (tmp_path / "runs").exists()


# --- more storage cases ---------------------------------------------------------------------------------

def test_a_damaged_part_leaves_only_its_runs_out_and_is_named(tmp_path):
    folder = save_runs(tmp_path, "sweep", rows("r", 3), META)
    save_runs(tmp_path, "sweep", rows("p", 2), META, append=True)
    save_runs(tmp_path, "sweep", rows("q", 1), META, append=True)
    first = sorted((folder / PARTS_DIR).glob("*.parquet"))[0]
    first.write_bytes(b"not parquet")
    runset = load_runs(tmp_path, _axes())
    assert sorted(runset.runs["run_id"]) == ["q0", "r0", "r1", "r2"]
    assert [p.file for p in runset.problems] == [f"runs/sweep/parts/{first.name}"]
    with pytest.raises(Exception):
        compact_runs(tmp_path, "sweep")                  # never folds a source it cannot read whole
    assert first.exists()


def test_small_parts_are_merged_into_one_part_while_the_base_is_larger(tmp_path, monkeypatch):
    import atlas_viz.runs.disk as store

    monkeypatch.setattr(store, "MAX_PARTS", 4)
    folder = save_runs(tmp_path, "sweep", rows("base", 100), META)
    base = (folder / TABLE_FILE).stat()
    for k in range(5):
        save_runs(tmp_path, "sweep", rows(f"p{k}-", 2), META, append=True)
    assert (folder / TABLE_FILE).stat().st_ino == base.st_ino          # the base was not rewritten
    assert len(meta_of(tmp_path)["parts"]) == 1 and meta_of(tmp_path)["rows"] == 110
    assert len(read_source_table(tmp_path, "sweep")) == 110


def test_an_append_counts_its_new_runs_from_the_id_index_without_reading_the_stored_table(tmp_path, monkeypatch):
    import atlas_viz.runs.disk as store
    from atlas_viz.runs.idindex import INDEX_FILE

    folder = save_runs(tmp_path, "sweep", rows("r", 1000), META)
    save_runs(tmp_path, "sweep", rows("a", 2), META, append=True)            # builds the index once
    monkeypatch.setattr(store, "_stored_ids", lambda *a: pytest.fail("an append must not scan the stored ids"))
    save_runs(tmp_path, "sweep", rows("r", 3), META, append=True)            # 3 stored ids again: replaced
    save_runs(tmp_path, "sweep", rows("b", 4), META, append=True)
    assert meta_of(tmp_path)["rows"] == 1006
    monkeypatch.undo()
    (folder / INDEX_FILE).unlink()                                           # a lost index is rebuilt, exactly
    save_runs(tmp_path, "sweep", rows("c", 1), META, append=True)
    assert meta_of(tmp_path)["rows"] == 1007 == len(read_source_table(tmp_path, "sweep"))


def test_folding_parts_whose_columns_hold_different_kinds_keeps_every_run(tmp_path):
    save_runs(tmp_path, "sweep", pd.DataFrame({"run_id": ["a"], "config.seed": [1]}), META)
    save_runs(tmp_path, "sweep", pd.DataFrame({"run_id": ["b"], "config.seed": ["s2"]}), META, append=True)
    assert compact_runs(tmp_path, "sweep") == 2
    assert sorted(read_source_table(tmp_path, "sweep")["config.seed"]) == ["1", "s2"]


# --- the app's upload: a stored source is kept unless asked, nested tables never a traceback ------------

def test_the_app_never_replaces_a_stored_source_and_reads_a_nested_parquet_upload(tmp_path, monkeypatch):
    import io

    from streamlit.testing.v1 import AppTest

    from conftest import ROOT, make_data

    data = make_data(tmp_path)
    save_runs(data, "example_sweep", rows("old", 2), META)
    monkeypatch.setenv("ATLAS_DATA", str(data))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["view"] = "runs"
    at.run()
    at.button[0].click().run()                                          # "Use an example table"
    for ax, value in (("task", "tabular"), ("architecture", "mlp")):
        at.selectbox(key=f"rm_ax_{ax}").set_value("(one value for the whole table)").run()
        at.selectbox(key=f"rm_val_{ax}").set_value(value).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.button(key="rm_import").disabled                          # neither append nor replace chosen
    at.radio(key="rm_how").set_value(at.radio(key="rm_how").options[0]).run()   # add these runs to it
    at.button(key="rm_import").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert sorted(read_source_table(data, "example_sweep")["run_id"]) == ["a1", "a2", "a3", "a4", "a7", "old0", "old1"]
    assert any("7 runs" in str(m.value) for m in at.markdown)   # the next run read the new runs, no cache cleared
    buf = io.BytesIO()
    pd.DataFrame({"run_id": ["a", "b"], "optimizer": [["adam"], ["sgd"]], "width": [64, 128]}).to_parquet(buf)
    at.session_state["_runs_data"] = ("nested.parquet", buf.getvalue())     # a list column gave a traceback
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert "nested.parquet: 3 columns, 2 rows" in " ".join(str(c.value) for c in at.caption)


def test_the_json_export_carries_each_prediction_in_its_yaml_form():
    import json

    from atlas_viz.catalogue.export import results_json

    class Prediction:                                   # what the results frame holds: an object with to_dict
        def to_dict(self) -> dict:
            return {"kind": "monotone", "metric": "test_loss", "against": "width"}

    frame = pd.DataFrame([{"id": "a", "title": "T", "author_list": ("A B",), "prediction": Prediction()},
                          {"id": "b", "title": "U", "author_list": (), "prediction": None}])
    back = json.loads(results_json(frame))
    assert back[0]["prediction"] == {"kind": "monotone", "metric": "test_loss", "against": "width"}
    assert back[1]["prediction"] is None


def _append_forever(data: str, started) -> None:
    k = 0
    while True:
        save_runs(data, "sweep", rows(f"k{k}-", 2_000), META, append=True)
        k += 1
        started.set()


def test_a_writer_killed_mid_append_leaves_a_readable_source_and_the_next_append_works(tmp_path):
    import signal

    save_runs(tmp_path, "sweep", rows("base", 10), META)
    ctx = mp.get_context("fork")
    started = ctx.Event()
    proc = ctx.Process(target=_append_forever, args=(str(tmp_path), started))
    proc.start()
    assert started.wait(30)
    time.sleep(0.05)                                     # somewhere inside a later append
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(10)
    stored = read_source_table(tmp_path, "sweep")
    assert len(stored) == meta_of(tmp_path)["rows"] and stored["run_id"].is_unique
    save_runs(tmp_path, "sweep", rows("after", 3), META, append=True)    # the lock died with the writer
    assert len(read_source_table(tmp_path, "sweep")) == len(stored) + 3 == meta_of(tmp_path)["rows"]
    assert not list(source_dir(tmp_path, "sweep").rglob(".*.tmp"))


def test_a_control_character_before_a_tab_still_gets_the_cell_neutralised():
    """Found by the fuzz run: '\\x1f\\t' lost its control character and became a cell starting with a tab."""
    from atlas_viz.catalogue.export import csv_cell

    assert csv_cell("\x1f\t") == "'\t" and csv_cell("\x01=1+1") == "'=1+1" and csv_cell("\x02plain") == "plain"


def test_the_app_and_the_cli_key_the_ranking_by_the_same_fingerprint(data_dir):
    from atlas_viz.io.fingerprint import catalogue_fingerprint, combined_fingerprint

    assert combined_fingerprint(catalogue_fingerprint(data_dir), runs_fingerprint(data_dir)) == \
        data_fingerprint(data_dir)
