"""Sweeps: run many experiments one by one, on local processes (joblib) or on a Dask cluster.

Whatever the executor, every finished run is handed back at once (so the caller stores it as it arrives), no
new run starts once the budget is spent, ``max_runs`` is reached or a cancel is asked for (runs already started
finish and are kept), and a KeyboardInterrupt keeps every run that finished before it. Arguments are checked
before anything runs: a bad budget, run count, worker count or an unreachable scheduler is a ``ValueError``
whose message says what was expected, and nothing is stored.
"""
from __future__ import annotations

import math
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

CONNECT_TIMEOUT = 5.0
"""Seconds to wait for a Dask scheduler before giving up."""
EXECUTORS = ("serial", "joblib", "dask")


@dataclass
class RunReport:
    """What a sweep did: runs planned and finished, wall time, why it stopped, where the runs are stored."""

    planned: int
    done: int
    seconds: float
    stopped: str            # "finished", "budget", "cancelled", "interrupted" (Ctrl-C) or "nothing to run"
    folder: Path | None
    rows: list[dict] = field(default_factory=list)
    executor: str = "serial"

    @property
    def run_ids(self) -> list[str]:
        """The ``run_id`` of every stored run, in the order they finished."""
        return [str(r["run_id"]) for r in self.rows]


def check_sweep_args(budget: float, max_runs: int | None = None, workers: int = 1,
                     scheduler: str | None = None) -> None:
    """Raise ValueError naming the bad argument and what was expected; nothing has run yet."""
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not math.isfinite(budget) or budget <= 0:
        raise ValueError(f"budget must be a positive number of seconds; got {budget!r}")
    if max_runs is not None and (isinstance(max_runs, bool) or not isinstance(max_runs, int) or max_runs < 1):
        raise ValueError(f"max runs must be a whole number of at least 1; got {max_runs!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number of at least 1; got {workers!r}")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise ValueError(f"scheduler must be an address such as tcp://host:8786; got {scheduler!r}")
    if scheduler is not None and workers != 1:
        raise ValueError("give either workers (local processes) or a scheduler (a Dask cluster), not both")


def connect(scheduler: str, timeout: float | None = None) -> Any:
    """A ``distributed.Client`` on ``scheduler``; ValueError if it cannot be reached within ``timeout`` s
    (default :data:`CONNECT_TIMEOUT`)."""
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    _probe(scheduler, timeout)
    try:
        from distributed import Client
    except ImportError as err:  # pragma: no cover - distributed is in requirements.txt
        raise ValueError(f"--scheduler needs the 'distributed' package ({err}); pip install distributed") from err
    try:
        return Client(scheduler, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise ValueError(f"cannot reach the Dask scheduler at {scheduler!r} within {timeout:g} s ({err}); "
                         "start one with `dask scheduler` and `dask worker ADDRESS`, or check the address") from err


def _probe(scheduler: str, timeout: float) -> None:
    """Fail fast on a TCP address nobody listens on (the Dask client would retry until its timeout)."""
    import socket
    from urllib.parse import urlsplit

    if not scheduler.startswith(("tcp://", "tls://")) and "://" in scheduler:
        return                                  # inproc:// and others: left to the client
    where = urlsplit(scheduler if "://" in scheduler else "tcp://" + scheduler)
    try:
        port = where.port or 8786
        with socket.create_connection((where.hostname or "127.0.0.1", port), timeout=timeout):
            pass
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot reach the Dask scheduler at {scheduler!r} within {timeout:g} s ({err}); "
                         "start one with `dask scheduler` and `dask worker ADDRESS`, or check the address") from err


def _indexed(fn: Callable, i: int, item: Any, parent: int = 0) -> tuple[int, Any]:
    """``(i, fn(item))``. In a worker process (not ``parent``) Ctrl-C is left to the parent, which stops the
    sweep and keeps what finished; a worker killed by the terminal's SIGINT would lose its run instead."""
    if parent and os.getpid() != parent and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return i, fn(item)


def _serial(fn: Callable, items: Sequence, stop: Callable[[], bool]) -> Iterator[tuple[int, Any]]:
    for i, item in enumerate(items):
        if stop():
            return
        yield i, fn(item)


def _joblib(fn: Callable, items: Sequence, stop: Callable[[], bool], workers: int) -> Iterator[tuple[int, Any]]:
    """Results as they finish on ``workers`` local processes; a task is dispatched only while ``stop()`` is False."""
    from joblib import Parallel, delayed

    def tasks():
        for i, item in enumerate(items):
            if stop():
                return
            yield delayed(_indexed)(fn, i, item, os.getpid())

    gen = Parallel(n_jobs=workers, return_as="generator_unordered", pre_dispatch="n_jobs")(tasks())
    try:
        yield from gen
    finally:
        gen.close()


def _dask(fn: Callable, items: Sequence, stop: Callable[[], bool], client: Any) -> Iterator[tuple[int, Any]]:
    """Results as they finish on the cluster; keeps as many tasks in flight as the cluster has threads."""
    from distributed import as_completed

    slots = max(1, sum(client.nthreads().values()))
    pending = iter(enumerate(items))
    futures: list = []
    queue = as_completed([], loop=client.loop)

    def submit() -> None:
        nxt = next(pending, None)
        if nxt is not None and not stop():
            futures.append(client.submit(_indexed, fn, nxt[0], nxt[1], pure=False))
            queue.add(futures[-1])

    try:
        for _ in range(slots):
            submit()
        for fut in queue:
            yield fut.result()
            submit()
    finally:
        client.cancel([f for f in futures if not f.done()])


def sweep(fn: Callable[[Any], Any], items: Sequence, on_result: Callable[[Any, Any], None], budget: float,
          max_runs: int | None = None, workers: int = 1, scheduler: str | None = None,
          cancel: threading.Event | Callable[[], bool] | None = None) -> tuple[int, str, float, str]:
    """Run ``fn(item)`` for the items and call ``on_result(item, result)`` in this process as each finishes.

    Returns (runs finished, why it stopped, seconds, executor). Arguments are checked before any run (see
    :func:`check_sweep_args`); with ``scheduler`` the cluster is reached first.
    """
    check_sweep_args(budget, max_runs, workers, scheduler)
    items = list(items)[:max_runs] if max_runs is not None else list(items)
    client = connect(scheduler) if scheduler else None
    executor = "dask" if client is not None else ("joblib" if workers > 1 else "serial")
    cancelled = (cancel.is_set if isinstance(cancel, threading.Event) else cancel) or (lambda: False)
    t0 = time.perf_counter()
    reason = {"why": "finished" if items else "nothing to run"}

    def stop() -> bool:
        if cancelled():
            reason["why"] = "cancelled"
        elif time.perf_counter() - t0 >= budget:
            reason["why"] = "budget"
        else:
            return False
        return True

    if client is not None:
        results = _dask(fn, items, stop, client)
    elif workers > 1:
        results = _joblib(fn, items, stop, workers)
    else:
        results = _serial(fn, items, stop)
    done = 0
    try:
        for i, result in results:
            on_result(items[i], result)
            done += 1
    except KeyboardInterrupt:
        reason["why"] = "interrupted"
    finally:
        results.close()
        if client is not None:
            client.close()
    return done, reason["why"], time.perf_counter() - t0, executor


def run_and_store(data_dir: Path | str, slug: str, meta: dict, fn: Callable[[Any], Any], items: Sequence,
                  to_row: Callable[[Any, Any], dict], budget: float, max_runs: int | None = None, workers: int = 1,
                  scheduler: str | None = None, progress: Callable[[int, int, str], None] | None = None,
                  describe: Callable[[Any, dict], str] = lambda item, row: "",
                  cancel: threading.Event | Callable[[], bool] | None = None) -> RunReport:
    """:func:`sweep` whose every result becomes a row (``to_row(item, result)``) stored at once in run source
    ``slug`` (``runs.store.save_runs(..., append=True)``); ``progress(done, total, describe(item, row))``."""
    import pandas as pd

    from atlas_viz.runs.store import save_runs

    rows: list[dict] = []
    folder: list[Path] = []
    total = min(len(items), max_runs or len(items))

    def store(item: Any, result: Any) -> None:
        row = to_row(item, result)
        folder[:] = [save_runs(data_dir, slug, pd.DataFrame([row]), meta, append=True)]
        rows.append(row)
        if progress is not None:
            progress(len(rows), total, describe(item, row))

    done, why, seconds, executor = sweep(fn, items, store, budget, max_runs, workers, scheduler, cancel)
    return RunReport(total, done, seconds, why, folder[0] if folder else None, rows, executor)
