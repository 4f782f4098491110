"""The checks of a data version kept on disk, so a new process shows verdicts without reading every run.

Checking every prediction needs every run read, placed and fitted (a fraction of a second on the bundled
data, seconds with a million runs); the verdicts are a pure function of the catalogue, the runs and this
code, so they are kept as a :class:`~atlas_viz.io.derived.DerivedStore` entry keyed by the data's
fingerprint. The record holds every fit exactly (no rounding); the prediction itself is not stored but
taken from the catalogue it was checked against, which the same fingerprint pins.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Callable

import pandas as pd

from atlas_viz.catalogue.predictions import Prediction
from atlas_viz.checks.stats import Statistic
from atlas_viz.checks.verdicts import Check, Fit
from atlas_viz.io.derived import DerivedStore

CHECKS_VERSION = 1
"""Bump when the checker's code changes what it computes, so old entries are never read."""
STORE = DerivedStore("checks", CHECKS_VERSION)


def checks_record(checks: list[Check]) -> list[dict]:
    """Every check as JSON-ready data, without its prediction (see :func:`checks_from_record`)."""
    return [{"id": c.id, "inside": asdict(c.inside), "outside": asdict(c.outside),
             "by_axis": {a: asdict(f) for a, f in c.by_axis.items()}} for c in checks]


def _fit(rec: dict) -> Fit:
    stat = rec["statistic"]
    return Fit(rec["verdict"], int(rec["runs"]), tuple(rec["sources"]), Statistic(**stat) if stat else None,
               rec["reason"])


def checks_from_record(record: list[dict], results: pd.DataFrame) -> list[Check]:
    """The checks back, each with its result's prediction; ``ValueError`` when a result or its prediction is
    missing (the record belongs to another catalogue)."""
    predictions = dict(zip(results["id"], results["prediction"])) if "prediction" in results else {}
    out = []
    for rec in record:
        p = predictions.get(rec["id"])
        if not isinstance(p, Prediction):
            raise ValueError(f"kept check {rec['id']!r} has no prediction in this catalogue")
        out.append(Check(rec["id"], p, _fit(rec["inside"]), _fit(rec["outside"]),
                         {a: _fit(f) for a, f in rec["by_axis"].items()}))
    return out


def kept_checks(data_dir: Path | str, fingerprint: str, results: pd.DataFrame,
                compute: Callable[[], list[Check]]) -> list[Check]:
    """The kept checks of this data version, else ``compute()``'s, kept for next time."""
    key = STORE.key(data_dir, fingerprint)
    kept = STORE.load(key)
    if kept is not None:
        try:
            return checks_from_record(kept[0], results)
        except (ValueError, KeyError, TypeError):
            pass  # damaged or foreign: computed again below
    checks = compute()
    STORE.keep(key, checks_record(checks))
    return checks
