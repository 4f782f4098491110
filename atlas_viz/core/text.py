"""Text for readers: user text made inert in Markdown (Streamlit's markdown elements and exported .md files),
and the human names of the atlas's own names."""
from __future__ import annotations

import math
import re

from atlas_viz.core.names import DISPLAY_NAMES

_MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


def md_escape(text: object) -> str:
    """Every ASCII punctuation mark backslash-escaped, so no link, image, emphasis, HTML tag or colour directive
    can form; the text reads the same."""
    s = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    return _MD_PUNCT.sub(r"\\\1", s)


def pretty(value: object) -> str:
    """The human name of an axis, value, observable or map type: 'gradient_flow' -> 'gradient flow',
    'mup' -> 'µP', 'ntk' -> 'NTK' (display only; data keep their names)."""
    name = str(value)
    return DISPLAY_NAMES.get(name, name.replace("_", " "))


_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def short_number(v: float) -> str:
    """A number for a label, to three significant digits, as ML papers write them: 0.00421, 928, 1,260, 12.3k,
    3.2M, 1.5B (parameters, tokens), 1.01e-5 (a small learning rate), 2.81e17 (FLOPs)."""
    v = float(v)
    if not math.isfinite(v) or v == 0:
        return f"{v:g}"
    r = float(f"{v:.3g}")  # rounded first, so 999.7 reads 1,000 and 999,700 reads 1M
    a = abs(r)
    if a < 1e3 or a >= 1e15:
        text = f"{v:.3g}"
        if "e" in text:  # below 1e-4 or from 1e15 (FLOPs): 1.01e-05 -> 1.01e-5, 2.81e+17 -> 2.81e17
            mantissa, exp = text.split("e")
            text = f"{mantissa}e{int(exp)}"
        return text
    if a < 1e4:
        return f"{r:,.0f}"
    scale, suffix = next((s, x) for s, x in _SUFFIXES if a >= s)
    return f"{r / scale:.3g}{suffix}"
