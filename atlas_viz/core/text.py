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
