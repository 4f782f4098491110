"""How an import reports bad rows: each kind of problem with the rows it hits, the first :data:`MAX_REPORTED`
one by one (named by their line or row), then a count."""
from __future__ import annotations

from typing import Any

import numpy as np

from atlas_viz.core.problems import Problem, show_value
from atlas_viz.runs.tables import MAX_REPORTED, RawTable


class Reporter:
    """Collects per-row problems of one table into ``problems``, capped at MAX_REPORTED rows per kind."""

    def __init__(self, raw: RawTable, file: str, problems: list[Problem]):
        self.raw, self.file, self.problems = raw, file, problems

    def rows(self, mask: np.ndarray, fld: str, reason: str, values: Any = None, show: bool = True) -> None:
        """Report the rows where ``mask`` holds; ``values[row]`` is shown before the reason when given."""
        self.at(np.flatnonzero(mask), fld, reason, values, show)

    def at(self, idx: np.ndarray, fld: str, reason: str, values: Any = None, show: bool = True) -> None:
        """Report the rows ``idx`` (ascending)."""
        if not len(idx):
            return
        for i in idx[:MAX_REPORTED]:
            shown = f"{show_value(plain(values[i]))}: " if values is not None and show else ""
            self.problems.append(Problem(self.file, self.raw.label(i), fld, shown + reason))
        if len(idx) > MAX_REPORTED:
            more = len(idx) - MAX_REPORTED
            self.problems.append(Problem(self.file, f"{more} more {self.raw.prefix}s", fld,
                                         f"... and {more:,} more {self.raw.prefix}s with the same problem: {reason}"))


def plain(v: object) -> object:
    """A numpy scalar or array as a plain Python value (for messages)."""
    return v.item() if isinstance(v, np.generic) else v.tolist() if isinstance(v, np.ndarray) else v
