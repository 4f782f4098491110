"""The column conversions an import's checks read, each done once: for an Arrow table, all started at once on a
small thread pool, ahead of the checks that wait for them.

Arrow's kernels (dictionary encoding, the sort of the ids) and numpy's loops release the interpreter, so on a
machine with two cores or more these run beside the checks and the Python between them; for a pandas frame
(a small or unusual file) each is done when first asked for.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from atlas_viz.runs import columns as cols
from atlas_viz.runs.columns import Table

WORKERS = 3
"""Threads converting columns: three beat two on two cores (a worker waiting on memory leaves its core to another)."""


def id_cells(col) -> tuple[Any, np.ndarray | None]:
    """An id column's ids as text, and for each row the first row holding the same id (None when no id
    repeats, the usual case)."""
    ids = cols.id_text(col)
    return ids, cols.first_rows(ids)


KINDS: dict[str, Callable[[Any], Any]] = {"numbers": cols.numbers, "blocks": cols.number_blocks,
                                          "codes": cols.factorize, "blank": cols.blank, "metric": cols.metric_cells,
                                          "ids": id_cells}
"""What can be asked of a column: its numbers (whole, or block by block), its codes and distinct values, its blank
cells, its metric cells, its ids."""


class Cells:
    """``get(kind, column)`` gives :data:`KINDS` ``[kind]`` of a column of ``table``; ``plan`` lists the
    (kind, column) pairs the checks will ask for, in the order they ask."""

    def __init__(self, table: Table, plan: Iterable[tuple[str, str]] = ()):
        self.table = table
        self._jobs: dict[tuple[str, str], Any] = {}
        self._done: dict[tuple[str, str], Any] = {}
        plan = [(kind, name) for kind, name in dict.fromkeys(plan) if cols.has(table, name)]
        if cols.is_arrow(table) and plan:
            from concurrent.futures import ThreadPoolExecutor

            pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="import-cells")
            try:
                for kind, name in plan:
                    self._jobs[kind, name] = pool.submit(KINDS[kind], cols.column(table, name))
            finally:
                pool.shutdown(wait=False)  # the workers finish what was submitted; nothing waits here

    def get(self, kind: str, name: str) -> Any:
        key = (kind, name)
        if key not in self._done:
            job = self._jobs.pop(key, None)
            self._done[key] = job.result() if job is not None else KINDS[kind](cols.column(self.table, name))
        return self._done[key]
