"""User text made inert in Markdown: Streamlit's markdown elements and exported .md files."""
from __future__ import annotations

import math
import re

_MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


def md_escape(text: object) -> str:
    """Every ASCII punctuation mark backslash-escaped, so no link, image, emphasis, HTML tag or colour directive
    can form; the text reads the same."""
    s = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    return _MD_PUNCT.sub(r"\\\1", s)
