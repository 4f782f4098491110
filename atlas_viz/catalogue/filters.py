"""Filtering the catalogue, and the filter state as a readable URL query string."""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from atlas_viz.catalogue.search import SearchIndex, rank_results
from atlas_viz.core.text import pretty
from atlas_viz.terrain.axes import Axes
from atlas_viz.core.names import MAP_TYPES, METHODS, OBJECTS, STATUSES, VERDICTS


@dataclass
class Filters:
    """What the user asked to see. Empty tuples mean 'no restriction'."""

    map_types: tuple[str, ...] = ()
    observables: tuple[str, ...] = ()
    axes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    years: tuple[int, int] | None = None
    statuses: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    verdicts: tuple[str, ...] = ()
    """Measured verdicts of predictions (needs a ``verdict`` column: see checks.verdicts.verdict_column)."""
    text: str = ""

    def active(self) -> list[str]:
        """Readable names of the restrictions in force (for 'why is this empty?')."""
        out = [f"{pretty(f.name)}: {', '.join(map(pretty, getattr(self, f.name)))}"
               for f in fields(self) if f.name in ("map_types", "observables", "statuses", "methods", "objects", "verdicts")
               and getattr(self, f.name)]
        out += [f"{pretty(ax)}: {', '.join(map(pretty, v))}" for ax, v in self.axes.items() if v]
        if self.years:
            out.append(f"years {self.years[0]}-{self.years[1]}")
        if self.text:
            out.append(f"search '{self.text}'")
        return out


def apply_filters(results: pd.DataFrame, flt: Filters, index: SearchIndex | None = None) -> pd.DataFrame:
    """The results that pass every filter (a new frame; the input is untouched).

    An axis filter keeps results whose region includes at least one chosen value;
    observables likewise. A search text keeps the results relevant to it, best first, with a ``score``
    column (``index``: a SearchIndex fitted on the catalogue, fitted on ``results`` when not given).
    """
    keep = np.ones(len(results), dtype=bool)
    if not len(results):
        return results.copy()
    if flt.map_types:
        keep &= results["map_type"].isin(flt.map_types).to_numpy()
    if flt.observables:
        want = set(flt.observables)
        keep &= results["observables"].map(lambda o: bool(want & set(o))).to_numpy(dtype=bool)
    for ax, vals in flt.axes.items():
        if vals:
            want_ax = set(vals)
            keep &= results["region"].map(lambda r, a=ax, w=want_ax: bool(w & set(r.get(a, ())))).to_numpy(dtype=bool)
    if flt.years:
        lo, hi = flt.years
        keep &= results["year"].between(lo, hi).to_numpy()
    for col, vals in (("status", flt.statuses), ("method", flt.methods), ("object", flt.objects),
                      ("verdict", flt.verdicts)):
        if vals and col in results:
            keep &= results[col].isin(vals).to_numpy()
    if flt.text.strip():
        return rank_results(results[keep], flt.text, index if index is not None else SearchIndex().fit(results))
    return results[keep].copy()


# ---- URL query string -------------------------------------------------------------------------

_LIST_KEYS = {"type": ("map_types", MAP_TYPES), "obs": ("observables", None), "status": ("statuses", STATUSES),
              "method": ("methods", METHODS), "object": ("objects", OBJECTS),
              "verdict": ("verdicts", VERDICTS)}


def filters_to_query(flt: Filters) -> dict[str, str]:
    """Readable query parameters, e.g. {'type': 'theorem,calculation', 'width': 'wide', 'q': 'ntk'}."""
    q: dict[str, str] = {}
    for key, (attr, _) in _LIST_KEYS.items():
        if getattr(flt, attr):
            q[key] = ",".join(getattr(flt, attr))
    for ax, vals in flt.axes.items():
        if vals:
            q[ax] = ",".join(vals)
    if flt.years:
        q["years"] = f"{flt.years[0]}-{flt.years[1]}"
    if flt.text:
        q["q"] = flt.text
    return q


def filters_from_query(params: dict[str, str], axes: Axes) -> tuple[Filters, list[str]]:
    """Filters from query parameters; unknown values are dropped and reported, never fatal."""
    flt, notes = Filters(), []

    def split(key: str, allowed) -> tuple[str, ...]:
        raw = [v for v in str(params.get(key, "")).split(",") if v]
        good = tuple(v for v in raw if allowed is None or v in allowed)
        for v in raw:
            if v not in good:
                notes.append(f"ignored {key}={v} in the link: not one of {', '.join(allowed)}")
        return good

    for key, (attr, allowed) in _LIST_KEYS.items():
        setattr(flt, attr, split(key, allowed if allowed is not None else axes.observable_names))
    for ax in axes.axes:
        vals = split(ax.name, ax.value_names)
        if vals:
            flt.axes[ax.name] = vals
    if params.get("years"):
        try:
            lo, hi = (int(x) for x in str(params["years"]).split("-", 1))
            flt.years = (min(lo, hi), max(lo, hi))
        except ValueError:
            notes.append(f"ignored years={params['years']} in the link: expected like 2015-2024")
    flt.text = str(params.get("q", ""))[:200]
    return flt, notes


def filter_runs(runs: pd.DataFrame, flt: Filters) -> pd.DataFrame:
    """Runs whose known axis values pass the axis filters (unknown values pass)."""
    keep = np.ones(len(runs), dtype=bool)
    for ax, vals in flt.axes.items():
        if vals and ax in runs:
            col = runs[ax]
            keep &= (col.isna() | col.isin(vals)).to_numpy()
    return runs[keep] if not keep.all() else runs
