"""Sweeps: serial, joblib and Dask executors store every finished run; stops keep them; bad arguments store nothing."""
from __future__ import annotations

import pytest
import yaml

from atlas_viz.expeditions import sweeps
from atlas_viz.expeditions.experiments import SOURCE, Task, grid, run_experiments
from atlas_viz.runs.store import read_source_table, source_exists

TINY_DD = {"task": "teacher_student", "features": 16}


def tiny_tasks(n: int = 4) -> list[Task]:
    """Cheap numpy-only runs (no torch), so process workers start fast."""
    return grid("double_descent", seeds=range(n), **{k: [v] for k, v in TINY_DD.items()})


@pytest.mark.parametrize("kwargs, match", [
    ({"budget": 0}, "budget must be a positive number of seconds; got 0"),
    ({"budget": -5.0}, "budget must be a positive number"),
    ({"budget": float("nan")}, "budget must be a positive number of seconds; got nan"),
    ({"budget": float("inf")}, "budget must be a positive number"),
    ({"budget": "10"}, "budget must be a positive number"),
    ({"max_runs": 0}, "max runs must be a whole number of at least 1; got 0"),
    ({"max_runs": -3}, "max runs must be a whole number"),
    ({"workers": 0}, "workers must be a whole number of at least 1; got 0"),
    ({"workers": -2}, "workers must be a whole number"),
    ({"scheduler": " "}, "scheduler must be an address"),
    ({"workers": 2, "scheduler": "tcp://127.0.0.1:8786"}, "either workers .* or a scheduler"),
])
def test_bad_sweep_arguments_store_nothing(tmp_path, axes, kwargs, match):
    args = {"budget": 60.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        run_experiments(tmp_path, axes, tiny_tasks(2), **args)
    assert not source_exists(tmp_path, SOURCE)


def test_unreachable_scheduler_is_named_and_nothing_is_stored(tmp_path, axes, monkeypatch):
    monkeypatch.setattr(sweeps, "CONNECT_TIMEOUT", 0.5)
    with pytest.raises(ValueError, match=r"cannot reach the Dask scheduler at 'tcp://127.0.0.1:9' within 0.5 s"):
        run_experiments(tmp_path, axes, tiny_tasks(2), budget=60, scheduler="tcp://127.0.0.1:9")
    assert not source_exists(tmp_path, SOURCE)


def test_a_bad_task_stores_nothing(tmp_path, axes):
    with pytest.raises(ValueError, match="task 2 of 2"):
        run_experiments(tmp_path, axes, [Task("double_descent", TINY_DD), Task("double_descent", {"x": 1})])
    assert not source_exists(tmp_path, SOURCE)


def test_serial_sweep_stores_each_run_as_it_finishes(tmp_path, axes):
    seen = []

    def progress(done, total, text):
        seen.append((done, total, len(read_source_table(tmp_path, SOURCE))))   # stored before progress is told

    report = run_experiments(tmp_path, axes, tiny_tasks(3), budget=60, progress=progress)
    assert (report.done, report.planned, report.stopped, report.executor) == (3, 3, "finished", "serial")
    assert seen == [(1, 3, 1), (2, 3, 2), (3, 3, 3)]
    table = read_source_table(tmp_path, SOURCE)
    assert sorted(table["run_id"]) == sorted(report.run_ids) and table["test_error"].notna().all()
    assert (table["architecture"] == "kernel").all() and (table["data_regime"] == "interpolation").all()
    meta = yaml.safe_load((tmp_path / "runs" / SOURCE / "source.yaml").read_text())
    assert {"test_error", "sharpness_max", "grokking_delay", "ntk_change_rel", "seconds"} <= set(meta["metrics"])
    assert meta["provenance"]["kinds"] == ["double_descent"] and meta["quantities"]["samples"] == "config.samples"


def test_joblib_workers_store_every_run(tmp_path, axes):
    report = run_experiments(tmp_path, axes, tiny_tasks(4), budget=120, workers=2)
    assert (report.done, report.stopped, report.executor) == (4, "finished", "joblib")
    assert set(read_source_table(tmp_path, SOURCE)["run_id"]) == {t.run_id for t in tiny_tasks(4)}


def test_dask_local_cluster_stores_every_run(tmp_path, axes):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=1, dashboard_address=None) as c:
        report = run_experiments(tmp_path, axes, tiny_tasks(3), budget=120, scheduler=c.scheduler_address)
    assert (report.done, report.stopped, report.executor) == (3, "finished", "dask")
    assert set(read_source_table(tmp_path, SOURCE)["run_id"]) == {t.run_id for t in tiny_tasks(3)}


def test_max_runs_and_cancel_keep_what_finished(tmp_path, axes):
    report = run_experiments(tmp_path, axes, tiny_tasks(5), budget=60, max_runs=2)
    assert (report.planned, report.done, report.stopped) == (2, 2, "finished")
    stored = []
    report = run_experiments(tmp_path / "b", axes, tiny_tasks(5), budget=60, cancel=lambda: len(stored) >= 2,
                             progress=lambda d, t, text: stored.append(d))
    assert (report.done, report.stopped) == (2, "cancelled")
    assert len(read_source_table(tmp_path / "b", SOURCE)) == 2


class FakeClock:
    """A clock that moves only when a run does: one second per run."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


def test_budget_is_checked_before_each_run_starts(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(sweeps, "time", clock)
    got = []

    def one_second(item):
        clock.now += 1.0
        return item

    done, why, seconds, _ = sweeps.sweep(one_second, range(10), lambda item, r: got.append(r), budget=2.5)
    assert (done, why, got, seconds) == (3, "budget", [0, 1, 2], 3.0)


def test_an_interrupt_keeps_the_runs_finished_before_it():
    got = []

    def interrupted_at_three(item):
        if item == 3:
            raise KeyboardInterrupt
        return item

    done, why, _, _ = sweeps.sweep(interrupted_at_three, range(6), lambda item, r: got.append(r), budget=60)
    assert (done, why, got) == (3, "interrupted", [0, 1, 2])


def test_legacy_runner_takes_the_same_executor_arguments(tmp_path, axes):
    from atlas_viz.expeditions.runner import run_sweep

    with pytest.raises(ValueError, match="workers must be a whole number"):
        run_sweep(tmp_path, axes, [], budget=10, workers=0)
    report = run_sweep(tmp_path, axes, [], budget=10)
    assert (report.done, report.stopped) == (0, "nothing to run")


def test_process_workers_leave_ctrl_c_to_the_parent(monkeypatch):
    import os
    import signal

    calls = []
    monkeypatch.setattr(signal, "signal", lambda sig, handler: calls.append((sig, handler)))
    assert sweeps._indexed(str, 4, 7, parent=os.getpid()) == (4, "7") and calls == []     # the parent itself
    assert sweeps._indexed(str, 5, 8, parent=os.getpid() + 1) == (5, "8")                  # a worker process
    assert calls == [(signal.SIGINT, signal.SIG_IGN)]
