"""Experiment kinds: small CPU experiments that measure what a result's prediction reads.

Each kind is one module with ``NAME``, ``METRICS`` (the metric columns it records), ``OBSERVABLES``,
``DEFAULTS`` and ``TINY`` (a config that runs in well under a second, for tests), ``canonical(config)`` (the
axis values and canonical quantities of a run: task, architecture, optimizer, parameterization, width_units,
depth_layers, lr, steps, weight_decay, params, samples, samples_per_param) and ``run(config, seed)`` (train once,
return the metrics). Its docstring says which predictions it can answer. Modules never import torch at import
time, so listing the kinds is cheap.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from types import ModuleType
from typing import Callable

from atlas_viz.expeditions.kinds import double_descent, edge_of_stability, grokking, lazy_training, lr_transfer

CANONICAL = ("params", "samples", "width_units", "depth_layers", "lr", "steps", "weight_decay", "parameterization",
             "samples_per_param")
"""Quantities every kind writes as ``config.<name>``, so one prediction reads every kind (see issue 11)."""


@dataclass(frozen=True)
class Kind:
    """One experiment kind, as registered in :data:`KINDS`."""

    name: str
    run: Callable[[dict, int], dict[str, float]]
    canonical: Callable[[dict], dict]
    metrics: tuple[str, ...]
    observables: tuple[str, ...]
    defaults: dict
    tiny: dict
    doc: str
    ranges: dict
    paired: dict
    uses_torch: bool = True
    added_later: dict | None = None

    @property
    def varies(self) -> tuple[str, ...]:
        """The canonical quantities a sweep of this kind can vary."""
        return tuple(self.ranges)

    @property
    def summary(self) -> str:
        """The first line of the kind's docstring."""
        return self.doc.strip().splitlines()[0] if self.doc.strip() else self.name


def _kind(module: ModuleType) -> Kind:
    return Kind(module.NAME, module.run, module.canonical, tuple(module.METRICS), tuple(module.OBSERVABLES),
                dict(module.DEFAULTS), dict(module.TINY), module.__doc__ or "", dict(module.RANGES),
                dict(module.PAIRED), getattr(module, "USES_TORCH", True), dict(getattr(module, "ADDED_LATER", {})))


KINDS: dict[str, Kind] = {k.name: k for k in map(_kind, (lr_transfer, lazy_training, edge_of_stability,
                                                              double_descent, grokking))}


def get_kind(name: str) -> Kind:
    """The registered kind called ``name``; a clear error listing the kinds otherwise."""
    if name not in KINDS:
        raise ValueError(f"unknown experiment kind {name!r}; must be one of {', '.join(KINDS)}")
    return KINDS[name]


def kinds_for_metric(metric: str) -> list[str]:
    """Names of the kinds that record ``metric`` (for planning the sweep a prediction needs)."""
    return [k.name for k in KINDS.values() if metric in k.metrics]


def all_metrics() -> list[str]:
    """Every metric some kind records, once, in registry order."""
    return list(dict.fromkeys(m for k in KINDS.values() for m in k.metrics))


def _thin(values: list, n: int) -> list:
    """At most ``n`` (>= 3 where there are) values spread evenly over ``values``, ends included."""
    if n >= len(values):
        return list(values)
    n = min(len(values), max(3, n))
    return [values[int(round(i * (len(values) - 1) / (n - 1)))] for i in range(n)]


def plan(kind: str, against: str, n_runs: int, seed0: int = 0, tiny: bool = False,
         **fixed) -> list[tuple[dict, int]]:
    """(config, seed) pairs sweeping ``against`` (a canonical quantity the kind varies) over its range.

    Quantities paired with ``against`` (an lr sweep also spans widths and parameterizations) are swept too,
    unless given in ``fixed`` (by canonical name or config key); other knobs keep their defaults (``tiny``: the
    kind's tiny config). Values are thinned evenly to fit ``n_runs``; leftover room repeats the grid with
    seeds ``seed0 + 1``, ... .
    """
    k = get_kind(kind)
    if against not in k.ranges:
        raise ValueError(f"experiment kind {kind!r} cannot sweep {against!r}; it varies {', '.join(k.varies)}")
    if isinstance(n_runs, bool) or not isinstance(n_runs, int) or n_runs < 1:
        raise ValueError(f"n_runs must be a whole number of at least 1; got {n_runs!r}")
    given = {k.ranges[name][0] if name in k.ranges else name: value for name, value in fixed.items()}
    swept = [q for q in (against, *k.paired.get(against, ())) if q == against or k.ranges[q][0] not in given]
    keys = {k.ranges[q][0] for q in swept}
    base = {**{key: v for key, v in (k.tiny if tiny else {}).items() if key not in keys}, **given}
    values = {q: k.ranges[q][1] for q in swept}
    others = 1
    for q in swept[1:]:
        others *= len(values[q])
    values[against] = _thin(values[against], max(1, n_runs // max(others, 1)))
    combos = [dict(zip((k.ranges[q][0] for q in swept), c)) for c in itertools.product(*(values[q] for q in swept))]
    k.canonical({**base, **combos[0]}) if combos else k.canonical(base)
    seeds = max(1, n_runs // max(len(combos), 1))
    return [({**base, **c}, seed0 + s) for s in range(seeds) for c in combos][:max(n_runs, len(combos))]
