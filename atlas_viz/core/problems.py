"""Problems found in user data, each located by file, entry and field."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the data, said so that a person can fix it.

    ``entry`` is the result id (or ``#N`` for the N-th entry when it has no
    usable id, or a row number for run tables); ``field`` is a dotted path
    such as ``region.width``.
    """

    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.entry:
            where += f", entry {self.entry}"
        if self.field:
            where += f", field {self.field}"
        return f"{where}: {self.message}"


class DataError(ValueError):
    """Raised when data cannot be used at all; carries its located problems."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def show_value(value: object, limit: int = 60) -> str:
    """Short repr of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def expected_one_of(field: str, value: object, allowed: tuple[str, ...] | list[str]) -> str:
    """Message for a value outside a closed vocabulary, with a suggestion."""
    import difflib

    msg = f"{field} must be one of {', '.join(allowed)}; got {show_value(value)}"
    if isinstance(value, str):
        close = difflib.get_close_matches(value, list(allowed), n=1)
        if close:
            msg += f" (did you mean '{close[0]}'?)"
    return msg
