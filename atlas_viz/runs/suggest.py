"""First guesses for mapping a run table's columns to the axes (the import form offers them; the user decides)."""
from __future__ import annotations

import difflib
import re

import pandas as pd

SYNONYMS = {
    "width": ("width", "d_model", "hidden", "hidden_size", "n_embd", "units", "d_hidden"),
    "depth": ("depth", "n_layers", "layers", "num_layers", "n_layer", "n_blocks"),
    "optimizer": ("optimizer", "optim", "opt"),
    "learning_rate": ("learning_rate", "lr", "eta"),
    "data_regime": ("data_regime", "tokens_per_param", "samples_per_param"),
    "parameterization": ("parameterization", "param", "parametrization"),
    "task": ("task", "dataset"),
    "architecture": ("architecture", "arch", "model"),
}
"""Column names that usually hold each axis."""
ID_NAMES = ("run_id", "id", "config_id", "run", "name")
METRIC_RE = re.compile(r"loss|acc|err|score|ppl|perplex", re.I)
LABELS = {"adam": "adaptive", "adamw": "adaptive", "rmsprop": "adaptive", "adagrad": "adaptive",
          "adafactor": "adaptive", "momentum": "sgd", "nesterov": "sgd", "full_batch": "gd"}
"""Common labels of a category column and the axis value they usually mean."""
NUMBER_SHARE = 0.8


def mostly_numbers(col: pd.Series) -> bool:
    """Numbers, or text of which at least 80% parses as numbers (a few bad cells are reported on import)."""
    if pd.api.types.is_bool_dtype(col):
        return False
    if pd.api.types.is_numeric_dtype(col):
        return True
    text = col.dropna().astype(str).str.strip()
    text = text[text != ""]
    return bool(len(text)) and pd.to_numeric(text, errors="coerce").notna().mean() >= NUMBER_SHARE


def column_kinds(sample: pd.DataFrame) -> dict[str, str]:
    """'number' or 'text' for every column of a sample of the table."""
    return {c: "number" if mostly_numbers(sample[c]) else "text" for c in sample.columns}


def guess_axis_column(axis: str, columns: list[str]) -> str | None:
    """The column that probably holds ``axis`` (by its usual names, case aside), or None."""
    low = {c.lower(): c for c in columns}
    return next((low[s] for s in SYNONYMS.get(axis, (axis,)) if s in low), None)


def guess_id_column(columns: list[str]) -> str | None:
    return next((c for c in columns if c.lower() in ID_NAMES), None)


def guess_metrics(numeric: list[str]) -> list[str]:
    """Numeric columns whose names read like measurements (loss, accuracy, error, score, perplexity)."""
    return [c for c in numeric if METRIC_RE.search(c)]


def guess_value(label: str, values: tuple[str, ...] | list[str]) -> str | None:
    """The axis value a category label probably means: itself, a common synonym, or a close spelling."""
    if label in values:
        return label
    common = LABELS.get(label.lower())
    if common in values:
        return common
    return next(iter(difflib.get_close_matches(label.lower(), list(values), n=1, cutoff=0.7)), None)
