"""Checks as text: JSON, Markdown and CSV, and the warnings about metrics no run source has."""
from __future__ import annotations

import csv
import io
import json

import pandas as pd

from atlas_viz.catalogue.predictions import Prediction
from atlas_viz.checks.verdicts import Check, Fit
from atlas_viz.core.problems import Problem


def metric_warnings(results: pd.DataFrame, sources: dict[str, dict], columns: list[str]) -> list[Problem]:
    """A warning per prediction whose metric no run source lists (and no run column holds)."""
    known = {m for meta in sources.values() for m in meta.get("metrics", [])} | set(columns)
    out = []
    for _, row in results.iterrows():
        p = row.get("prediction")
        if isinstance(p, Prediction) and p.metric not in known:
            out.append(Problem(row["file"], row["id"], "prediction.metric",
                               f"no run source has the metric {p.metric!r} (known: {', '.join(sorted(known)) or 'none'}); "
                               "it stays untested until runs record it"))
    return out


def to_json(checks: list[Check]) -> str:
    return json.dumps([c.to_dict() for c in checks], indent=2) + "\n"


def fit_text(f: Fit) -> str:
    """'agrees (n=240)' or 'untested'."""
    return f"{f.verdict} (n={f.runs})" if f.runs else f.verdict


def statistic_text(f: Fit) -> str:
    st = f.statistic
    return f"{st.value:.3g} [{st.low:.3g}, {st.high:.3g}]" if st is not None else ""


def cell(text: str) -> str:
    """Text for a Markdown table cell: ids, axis names and computed reasons (validated names; no pipes)."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(checks: list[Check]) -> str:
    lines = ["| id | kind | inside | statistic [95% interval] | outside | outside per axis | why (inside) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for c in checks:
        axes = "; ".join(f"{a}: {fit_text(f)}" for a, f in c.by_axis.items())
        lines.append(f"| {cell(c.id)} | {c.prediction.kind} | {fit_text(c.inside)} | {statistic_text(c.inside)} "
                     f"| {fit_text(c.outside)} | {cell(axes)} | {cell(c.inside.reason)} |")
    return "\n".join(lines) + "\n"


def to_csv(checks: list[Check]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "kind", "metric", "against", "verdict", "runs", "sources", "statistic", "value", "low", "high",
                "reason", "outside_verdict", "outside_runs", "outside_value", "outside_low", "outside_high"])
    for c in checks:
        row = []
        for f in (c.inside, c.outside):
            st = f.statistic.to_dict() if f.statistic else {}
            row.append([f.verdict, f.runs, st.get("value"), st.get("low"), st.get("high")])
        (v, n, val, lo, hi), (ov, on, oval, olo, ohi) = row
        w.writerow([c.id, c.prediction.kind, c.prediction.metric, c.prediction.x or "", v, n,
                    " ".join(c.inside.sources), c.inside.statistic.name if c.inside.statistic else "", val, lo, hi,
                    c.inside.reason, ov, on, oval, olo, ohi])
    return buf.getvalue()


def frontier(check: Check) -> list[str]:
    """Axes along which a prediction that agrees inside its region disagrees one step outside it."""
    if check.verdict != "agrees":
        return []
    return [ax for ax, f in check.by_axis.items() if f.verdict == "disagrees"]


def summary(checks: list[Check], n_runs: int, seconds: float) -> str:
    """'36 predictions checked on 1,919 runs in 0.48 s: agrees 5, ...; frontier found for 1: id (width)'."""
    counts: dict[str, int] = {}
    for c in checks:
        counts[c.verdict] = counts.get(c.verdict, 0) + 1
    text = (f"{len(checks)} predictions checked on {n_runs:,} runs in {seconds:.2f} s: "
            + ", ".join(f"{v} {n}" for v, n in counts.items()))
    found = [(c.id, frontier(c)) for c in checks if frontier(c)]
    if found:
        text += (f"; a frontier (agrees inside, disagrees one step outside) for {len(found)}: "
                 + "; ".join(f"{rid} ({', '.join(axes)})" for rid, axes in found))
    return text
