"""Where the map's labels go: each island's label beside its island, clear of the other labels at the map's
default zoom.

Plotly draws a label where it is told and never moves it, so two islands close together put their labels on top
of each other. Each island label tries four places in turn (below its island, where a reader looks first, then
above, right, left) and takes the first that touches no label placed before it; when none is clear, the one
that overlaps least (labels count ten times more than other islands, which a label's pale backing only dims; an
island counts as the square inside its circle). Sizes are judged in data units from the label's text and font
size, at the scale of the default view (:func:`units_per_px`). The placement depends on the layout alone, so it
is kept (:func:`place_island_labels_kept`) and a rerun of the app does not place the labels again.
"""
from __future__ import annotations

import functools
from dataclasses import astuple, dataclass

import numpy as np

BIG_FONT_PX = 14
"""Font size of a continent group's name (bold capitals)."""
SMALL_FONT_PX = 11
"""Font size of an island's name."""
CHAR_EM = {False: 0.56, True: 0.72}
"""Average width of a character in font sizes: lowercase text (False) and bold capitals (True)."""
LINE_EM = 1.3
"""Height of a line of text in font sizes."""
PAD_PX = 3.0
"""Space kept around a label, in pixels."""
DEFAULT_PLOT_PX = (900, 760)
"""The map's plotting area at its default zoom in a common window (1400 pixels wide, the sidebar open)."""
GAP = 0.13
"""Data units between an island's edge and the middle of a label below or above it."""
LABEL_WEIGHT = 10.0
"""How much worse covering another label is than covering another island."""


@dataclass(frozen=True)
class Box:
    x0: float
    x1: float
    y0: float
    y1: float

    def overlap(self, other: Box) -> float:
        """The area shared with ``other`` (0 when they do not meet)."""
        return float(_overlaps(np.array([astuple(self)]), np.array([astuple(other)]))[0, 0])


def units_per_px(width: float, height: float, plot_px: tuple[int, int] = DEFAULT_PLOT_PX) -> float:
    """Data units per pixel when a map ``width`` x ``height`` data units wide is fitted into ``plot_px`` with
    equal scales on both axes (the map's ``scaleanchor``)."""
    return max(width / plot_px[0], height / plot_px[1])


def text_size(text: str, font_px: float, unit: float, caps: bool = False) -> tuple[float, float]:
    """Width and height in data units of a label (lines split on newlines), its padding included."""
    lines = text.split("\n")
    width = max(len(line) for line in lines) * CHAR_EM[caps] * font_px + 2 * PAD_PX
    return width * unit, (len(lines) * LINE_EM * font_px + 2 * PAD_PX) * unit


def box_at(x: float, y: float, size: tuple[float, float]) -> Box:
    w, h = size
    return Box(x - w / 2, x + w / 2, y - h / 2, y + h / 2)


def place_island_labels(centres: np.ndarray, radius: float, sizes: list[tuple[float, float]],
                        fixed: list[Box] = ()) -> np.ndarray:
    """The middle of each island's label (n x 2): ``centres`` of the islands, their ``radius``, each label's
    ``sizes`` (width, height in data units); ``fixed`` are labels already placed (the continents' names)."""
    n = len(centres)
    inner = radius / np.sqrt(2)  # the square inside an island's circle
    islands = np.column_stack([centres[:, 0] - inner, centres[:, 0] + inner, centres[:, 1] - inner,
                               centres[:, 1] + inner]) if n else np.zeros((0, 4))
    placed = np.zeros((len(fixed) + n, 4))  # x0, x1, y0, y1 of the labels placed so far (the first ``k`` rows)
    if len(fixed):
        placed[:len(fixed)] = [astuple(b) for b in fixed]
    k = len(fixed)
    out = np.empty((n, 2))
    for i, ((x, y), (w, h)) in enumerate(zip(centres, sizes)):
        cand = np.array([(x, y - radius - GAP), (x, y + radius + GAP), (x + radius + w / 2, y),
                         (x - radius - w / 2, y)])
        boxes = np.column_stack([cand[:, 0] - w / 2, cand[:, 0] + w / 2, cand[:, 1] - h / 2, cand[:, 1] + h / 2])
        on_labels = _overlaps(boxes, placed[:k]).sum(axis=1)
        on_islands = _overlaps(boxes, islands).sum(axis=1) - _overlaps(boxes, islands[i:i + 1]).sum(axis=1)
        clear = np.flatnonzero(on_labels == 0)
        best = clear[0] if len(clear) else int(np.argmin(LABEL_WEIGHT * on_labels + on_islands))
        out[i] = cand[best]
        placed[k] = boxes[best]
        k += 1
    return out


@functools.lru_cache(maxsize=8)
def place_island_labels_kept(centres: bytes, radius: float, sizes: tuple[tuple[float, float], ...],
                             fixed: tuple[Box, ...]) -> np.ndarray:
    """:func:`place_island_labels` for ``centres`` given as the bytes of an n x 2 float array, kept per input
    (read-only: callers share it)."""
    out = place_island_labels(np.frombuffer(centres).reshape(-1, 2), radius, list(sizes), list(fixed))
    out.flags.writeable = False
    return out


def _overlaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The area each box of ``a`` shares with each box of ``b`` (rows x0, x1, y0, y1): len(a) x len(b)."""
    w = np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 2], b[None, :, 2])
    return np.clip(w, 0, None) * np.clip(h, 0, None)
