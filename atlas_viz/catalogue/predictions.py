"""The optional ``prediction:`` block of a result: what a metric of runs must do, validated field by field.

Nothing in a prediction is evaluated: every field is a name, a number or a list of names, checked here against
closed vocabularies (kinds, axes and their values, canonical quantities) or a column-name pattern.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from atlas_viz.core.names import DIRECTIONS, EXTREMA, PREDICTION_KINDS, QUANTITIES
from atlas_viz.core.problems import expected_one_of, show_value
from atlas_viz.terrain.axes import Axes

CONFIG_PREFIX = "config."
METRIC_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,79}$")
CONFIG_RE = re.compile(r"^config\.[A-Za-z0-9_.\-]{1,80}$")
COMMON_KEYS = ("kind", "metric", "where", "basis")
KIND_KEYS = {
    "power_law": ("against", "exponent"),
    "monotone": ("against", "direction"),
    "optimum_invariant": ("over", "across", "within_factor"),
    "peak": ("against", "near", "within_factor", "extremum"),
    "bound": ("against", "at_most", "at_least"),
}
"""Fields each kind may have besides the common ones (``against`` is optional for ``bound`` only)."""
REQUIRED_KEYS = {
    "power_law": ("against", "exponent"),
    "monotone": ("against", "direction"),
    "optimum_invariant": ("over", "across", "within_factor"),
    "peak": ("against", "near", "within_factor"),
    "bound": (),
}
ALL_KEYS = tuple(dict.fromkeys(COMMON_KEYS + tuple(k for keys in KIND_KEYS.values() for k in keys)))

Bad = Callable[[str, str], None]


@dataclass(frozen=True)
class Prediction:
    """A checked prediction block; ``where`` holds only the axes it narrows (see :meth:`scope`)."""

    kind: str
    metric: str
    against: str | None = None
    exponent: tuple[float, float] | None = None
    direction: str | None = None
    over: str | None = None
    across: str | None = None
    within_factor: float | None = None
    near: float | None = None
    at_most: float | None = None
    at_least: float | None = None
    extremum: str | None = None
    where: dict[str, tuple[str, ...]] = field(default_factory=dict)
    basis: str = ""

    @property
    def x(self) -> str | None:
        """The quantity on the evidence plot's horizontal axis (``over`` for an optimum)."""
        return self.over if self.kind == "optimum_invariant" else self.against

    def scope(self, region: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        """The cells the prediction is tested in: the result's region with ``where``'s axes narrowed."""
        return {**region, **self.where}

    def to_dict(self) -> dict:
        """The block as YAML would hold it (only the fields that are set)."""
        out: dict = {"kind": self.kind, "metric": self.metric}
        for key in KIND_KEYS[self.kind]:
            val = getattr(self, key)
            if val is not None:
                out[key] = list(val) if isinstance(val, tuple) else val
        if self.where:
            out["where"] = {ax: list(vals) for ax, vals in self.where.items()}
        if self.basis:
            out["basis"] = self.basis
        return out


def _number(val: object) -> bool:
    return isinstance(val, (int, float)) and not isinstance(val, bool) and math.isfinite(val)


def _reference(val: object, fld: str, axes: Axes, bad: Bad, numeric: bool, ordinal: bool = False) -> str | None:
    """An axis, a canonical quantity or ``config.<column>``; ``numeric`` refuses axes, ``ordinal`` nominal axes."""
    if isinstance(val, str) and val in axes.names:
        if numeric:
            bad(fld, f"the axis {val!r} has no numbers; name a quantity ({', '.join(QUANTITIES)}) or a run "
                     f"column config.<name>")
            return None
        if ordinal and axes[val].kind != "ordinal":
            bad(fld, f"the axis {val!r} is nominal (its values have no order); use an ordinal axis, a quantity or "
                     f"a run column config.<name>")
            return None
        return val
    if isinstance(val, str) and (val in QUANTITIES or CONFIG_RE.match(val)):
        return val
    choices = ([] if numeric else list(axes.names)) + list(QUANTITIES) + ["config.<column>"]
    bad(fld, expected_one_of(fld.rsplit(".", 1)[-1], val, choices))
    return None


def _where(raw: object, region: dict[str, tuple[str, ...]] | None, axes: Axes, bad: Bad) -> dict:
    """``where``: axis -> values, each inside the result's region; returns the narrowed axes only."""
    scope = dict(region or {a.name: a.value_names for a in axes.axes})
    narrowed: dict[str, tuple[str, ...]] = {}
    if raw is None:
        return narrowed
    if not isinstance(raw, dict):
        bad("prediction.where", f"must be a map of axis -> list of values, like the region; got {show_value(raw)}")
        return narrowed
    for ax, vals in raw.items():
        fld = f"prediction.where.{ax}"
        if ax not in axes.names:
            bad(fld, expected_one_of("each where axis", ax, axes.names))
            continue
        vals = [vals] if isinstance(vals, str) else vals
        if not isinstance(vals, list) or not vals:
            bad(fld, f"must be a non-empty list of values of {ax}; got {show_value(vals)}")
            continue
        outside = [v for v in vals if v not in scope[ax]]
        for v in outside:
            if v in axes[ax].value_names:
                bad(fld, f"{v!r} is outside the result's region ({', '.join(scope[ax])}); where can only narrow it")
            else:
                bad(fld, expected_one_of(f"a value of {ax}", v, axes[ax].value_names))
        if not outside:
            narrowed[ax] = tuple(v for v in axes[ax].value_names if v in set(vals))
    return narrowed


def _kind_fields(raw: dict, kind: str, axes: Axes, bad: Bad) -> dict:
    """The fields particular to ``kind``, checked; a bad one is left out (and reported)."""
    out: dict = {}
    if raw.get("against") is not None:
        out["against"] = _reference(raw["against"], "prediction.against", axes, bad,
                                    numeric=kind in ("power_law", "peak"), ordinal=True)
    if kind == "power_law":
        exp = raw.get("exponent")
        if isinstance(exp, (int, float)) and _number(exp):
            exp = [exp, exp]
        if not (isinstance(exp, list) and len(exp) == 2 and all(_number(e) for e in exp)):
            bad("prediction.exponent", f"must be [low, high], the claimed range of d log(metric) / d log(against); "
                                       f"got {show_value(exp)}")
        elif exp[0] > exp[1]:
            bad("prediction.exponent", f"is in the wrong order: low {exp[0]} is above high {exp[1]}; write "
                                       f"[{exp[1]}, {exp[0]}]")
        else:
            out["exponent"] = (float(exp[0]), float(exp[1]))
    if kind == "monotone":
        if raw.get("direction") not in DIRECTIONS:
            bad("prediction.direction", expected_one_of("direction", raw.get("direction"), DIRECTIONS))
        else:
            out["direction"] = raw["direction"]
    if kind == "optimum_invariant":
        out["over"] = _reference(raw.get("over"), "prediction.over", axes, bad, numeric=True)
        out["across"] = _reference(raw.get("across"), "prediction.across", axes, bad, numeric=False)
    if kind in ("optimum_invariant", "peak"):
        wf = raw.get("within_factor")
        if not _number(wf) or wf < 1:
            bad("prediction.within_factor", f"must be a number of at least 1 (2 means: within a factor of 2 either "
                                            f"way); got {show_value(wf)}")
        else:
            out["within_factor"] = float(wf)
    if kind == "peak":
        if not _number(raw.get("near")) or raw["near"] <= 0:
            bad("prediction.near", f"must be a positive number, where the metric peaks; got {show_value(raw.get('near'))}")
        else:
            out["near"] = float(raw["near"])
        if raw.get("extremum") is not None and raw["extremum"] not in EXTREMA:
            bad("prediction.extremum", expected_one_of("extremum", raw["extremum"], EXTREMA))
        elif raw.get("extremum") is not None:
            out["extremum"] = raw["extremum"]
    if kind == "bound":
        for key in ("at_most", "at_least"):
            if key in raw and not _number(raw[key]):
                bad(f"prediction.{key}", f"must be a number; got {show_value(raw[key])}")
            elif key in raw:
                out[key] = float(raw[key])
        if "at_most" not in raw and "at_least" not in raw:
            bad("prediction", "a bound needs at_most, at_least or both")
        elif "at_most" in out and "at_least" in out and out["at_least"] > out["at_most"]:
            bad("prediction.at_least", f"{out['at_least']} is above at_most {out['at_most']}: no value could hold")
    return out


def parse_prediction(raw: object, region: dict[str, tuple[str, ...]] | None, axes: Axes,
                     bad: Bad) -> Prediction | None:
    """Validate a ``prediction:`` block; report each problem through ``bad(field, message)``; None if unusable."""
    if not isinstance(raw, dict):
        bad("prediction", f"must be a map with kind, metric and the kind's fields; got {show_value(raw)}")
        return None
    kind = raw.get("kind")
    if kind not in PREDICTION_KINDS:
        bad("prediction.kind", expected_one_of("kind", kind, PREDICTION_KINDS))
        return None
    problems: list[str] = []

    def bad_here(fld: str, msg: str) -> None:
        problems.append(fld)
        bad(fld, msg)

    allowed = COMMON_KEYS + KIND_KEYS[kind]
    for key in raw:
        if key not in allowed:
            hint = f"; {key} belongs to another kind" if key in ALL_KEYS else ""
            bad_here(f"prediction.{key}", expected_one_of(f"a field of a {kind} prediction", key, allowed) + hint)
    for key in ("metric",) + REQUIRED_KEYS[kind]:
        if raw.get(key) is None:
            bad_here(f"prediction.{key}", f"is missing; a {kind} prediction needs "
                                          f"{', '.join(('metric',) + REQUIRED_KEYS[kind])}")
    metric = raw.get("metric")
    if metric is not None and not (isinstance(metric, str) and METRIC_RE.match(metric)):
        bad_here("prediction.metric", f"must be the name of a metric column of runs, like test_loss; "
                                      f"got {show_value(metric)}")
    basis = raw.get("basis")
    if basis is not None and not isinstance(basis, str):
        bad_here("prediction.basis", f"must be one line of text; got {show_value(basis)}")
    fields = _kind_fields(raw, kind, axes, bad_here)
    where = _where(raw.get("where"), region, axes, bad_here)
    if problems:
        return None
    return Prediction(kind=kind, metric=metric, where=where, basis=" ".join((basis or "").split()), **fields)


def prediction_schema(axes: Axes) -> dict:
    """JSON Schema of the block: one alternative per kind, each with its own fields."""
    numeric = {"anyOf": [{"enum": list(QUANTITIES)}, {"type": "string", "pattern": CONFIG_RE.pattern}]}
    ordinal = [a.name for a in axes.axes if a.kind == "ordinal"]
    any_ref = {"anyOf": [{"enum": list(axes.names) + list(QUANTITIES)},
                         {"type": "string", "pattern": CONFIG_RE.pattern}]}
    against = {"anyOf": [{"enum": ordinal}, *numeric["anyOf"]]}
    number = {"type": "number"}
    factor = {"type": "number", "minimum": 1}
    fields = {
        "against": against, "exponent": {"type": "array", "items": number, "minItems": 2, "maxItems": 2},
        "direction": {"enum": list(DIRECTIONS)}, "over": numeric, "across": any_ref, "within_factor": factor,
        "near": {"type": "number", "exclusiveMinimum": 0}, "extremum": {"enum": list(EXTREMA)},
        "at_most": number, "at_least": number,
    }
    where = {"type": "object", "additionalProperties": False, "properties": {
        a.name: {"oneOf": [{"enum": list(a.value_names)},
                           {"type": "array", "minItems": 1, "items": {"enum": list(a.value_names)}}]}
        for a in axes.axes}}
    common = {"kind": {"enum": list(PREDICTION_KINDS)}, "metric": {"type": "string", "pattern": METRIC_RE.pattern},
              "where": where, "basis": {"type": "string"}}
    alternatives = []
    for kind, keys in KIND_KEYS.items():
        alt = {"properties": {"kind": {"const": kind}, **{k: fields[k] for k in keys}},
               "required": list(REQUIRED_KEYS[kind])}
        if kind == "bound":
            alt["anyOf"] = [{"required": ["at_most"]}, {"required": ["at_least"]}]
        alternatives.append(alt)
    return {"description": "What a metric of runs must do; checked by `python -m atlas_viz check` (see "
                           "data/results/README.md).",
            "type": "object", "required": ["kind", "metric"], "properties": common, "oneOf": alternatives,
            "unevaluatedProperties": False}


FORM_KEYS = ("kind", "metric", "against", "exponent_low", "exponent_high", "direction", "over", "across",
             "within_factor", "near", "extremum", "at_most", "at_least", "basis")
"""Fields of the add-a-result form's prediction section (all text or a choice; numbers typed as text)."""
_NUMBERS = ("within_factor", "near", "at_most", "at_least")


def _form_number(text: object) -> object:
    """A typed number as a float; other text is kept as typed, so validation names it."""
    s = str(text).strip()
    try:
        return float(s)
    except ValueError:
        return s


def build_prediction(form: dict | None) -> dict | None:
    """The ``prediction`` block from the form's fields (None when no kind is chosen) and its ``where`` (axis ->
    chosen values; axes left empty are not narrowed); nothing is validated here."""
    form = form or {}
    text = {k: "" if form.get(k) is None else str(form[k]).strip() for k in FORM_KEYS}
    if not text["kind"]:
        return None
    out: dict = {"kind": text["kind"], "metric": text["metric"] or None}
    allowed = KIND_KEYS.get(text["kind"], ())
    for key in allowed:
        if key == "exponent" and (text["exponent_low"] or text["exponent_high"]):
            out["exponent"] = [_form_number(text["exponent_low"]), _form_number(text["exponent_high"])]
        elif key in _NUMBERS and text[key]:
            out[key] = _form_number(text[key])
        elif key not in _NUMBERS and key != "exponent" and text[key]:
            out[key] = text[key]
    where = {str(ax): list(vals) for ax, vals in (form.get("where") or {}).items() if vals}
    if where:
        out["where"] = where
    if text["basis"]:
        out["basis"] = " ".join(text["basis"].split())
    return {k: v for k, v in out.items() if v is not None}


def prediction_form(block: object) -> dict:
    """The form's fields for a stored block (the inverse of :func:`build_prediction`)."""
    if not isinstance(block, dict):
        return {}
    out = {k: "" if block.get(k) is None else str(block[k]) for k in FORM_KEYS if k in block}
    exp = block.get("exponent")
    if isinstance(exp, list) and len(exp) == 2:
        out["exponent_low"], out["exponent_high"] = (f"{e:g}" if isinstance(e, (int, float)) else str(e) for e in exp)
    for key in _NUMBERS:
        if isinstance(block.get(key), (int, float)):
            out[key] = f"{block[key]:g}"
    if isinstance(block.get("where"), dict):
        out["where"] = {str(ax): [str(v) for v in vals] if isinstance(vals, list) else [str(vals)]
                        for ax, vals in block["where"].items()}
    return out
