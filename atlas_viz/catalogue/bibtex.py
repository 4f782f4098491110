"""Read one pasted BibTeX entry into citation fields (authors, year, title, arxiv, doi, url, venue).

Forgiving by design: any text gives a (fields, notes) pair and never an
exception; what could not be read is said in ``notes`` so the form can ask
for it. The result still goes through the catalogue's own validation.
"""
from __future__ import annotations

import re
import unicodedata

MAX_BIBTEX_CHARS = 50_000
"""Pasted text beyond this many characters is ignored (one entry is a few hundred)."""

_ARXIV_NEW = r"\d{4}\.\d{4,5}(?:v\d+)?"
_ARXIV_OLD = r"[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?"
ARXIV_ID_RE = re.compile(rf"^(?:{_ARXIV_NEW}|{_ARXIV_OLD})$")
_ARXIV_IN_TEXT = re.compile(rf"(?:arxiv[:\s.]*(?:abs/)?|arxiv\.org/(?:abs|pdf)/)({_ARXIV_NEW}|{_ARXIV_OLD})",
                            re.IGNORECASE)
_DOI_IN_TEXT = re.compile(r"(10\.\d{4,9}/[^\s\"<>{}]+)")
_MONTHS = {m: str(i) for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_ACCENTS = {'"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "=": "\u0304",
            ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328"}
_SYMBOLS = {"ss": "ß", "o": "ø", "O": "Ø", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ",
            "l": "ł", "L": "Ł", "i": "i", "j": "j", "&": "&", "%": "%", "_": "_", "$": "$", "#": "#", "{": "{",
            "}": "}"}
_ENTRY_RE = re.compile(r"@\s*([A-Za-z]+)\s*([{(])")
_FIELD_RE = re.compile(r"([A-Za-z][\w\-:.]*)\s*=\s*")
_NOT_ENTRIES = ("comment", "preamble", "string")
_EMPTY = {"authors": [], "year": None, "title": None, "arxiv": None, "doi": None, "url": None, "venue": None,
          "key": None}


def parse_bibtex(text: object) -> tuple[dict, list[str]]:
    """Citation fields from the first ``@type{key, ...}`` entry in ``text``.

    Returns ``(fields, notes)``: fields has authors (list of "First Last"),
    year (int or None), title, arxiv, doi, url, venue and key (str or None);
    notes say what was missing or ignored.
    """
    fields = dict(_EMPTY, authors=[])
    notes: list[str] = []
    text = text if isinstance(text, str) else ("" if text is None else str(text))
    if len(text) > MAX_BIBTEX_CHARS:
        notes.append(f"only the first {MAX_BIBTEX_CHARS:,} characters were read")
        text = text[:MAX_BIBTEX_CHARS]
    raw, key = _raw_fields(text)
    if raw is None:
        notes.append("no BibTeX entry found: paste one that starts like @article{key, title = {...}, ...}")
        return fields, notes
    fields["key"] = key or None
    get = lambda name: _clean(raw.get(name, ""))  # noqa: E731

    authors = [a for a in (_person(p) for p in _split_and(raw.get("author", ""))) if a]
    fields["authors"] = authors
    m = re.search(r"\b(1[89]\d\d|2\d\d\d)\b", raw.get("year", "") or raw.get("date", ""))
    fields["year"] = int(m.group(1)) if m else None
    fields["title"] = get("title") or None
    # arXiv id: eprint, then the DOI arXiv registers, then journal / note / url text.
    eprint = get("eprint").strip()
    eprint = re.sub(r"^arxiv:\s*", "", eprint, flags=re.IGNORECASE)
    if ARXIV_ID_RE.fullmatch(eprint):
        fields["arxiv"] = eprint
    doi = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", get("doi").strip(), flags=re.IGNORECASE)
    m = re.match(r"^10\.48550/arxiv\.(.+)$", doi, flags=re.IGNORECASE)
    if m and ARXIV_ID_RE.fullmatch(m.group(1)):
        fields["arxiv"] = fields["arxiv"] or m.group(1)
        doi = ""
    if doi:
        m = _DOI_IN_TEXT.search(doi)
        if m:
            fields["doi"] = m.group(1).rstrip(".,;")
        else:
            notes.append(f"ignored doi {doi[:60]!r}: a DOI looks like 10.1038/nature14539")
    if not fields["arxiv"]:
        for name in ("journal", "note", "howpublished", "url", "eprint", "booktitle", "publisher"):
            m = _ARXIV_IN_TEXT.search(get(name))
            if m:
                fields["arxiv"] = m.group(1)
                break
    url = get("url").strip()
    if url:
        if not re.match(r"^https?://[^\s<>\"']+$", url):
            notes.append(f"ignored url {url[:60]!r}: only http:// or https:// addresses are kept")
        elif not re.search(r"arxiv\.org/|doi\.org/", url, flags=re.IGNORECASE):
            fields["url"] = url
    venue = get("journal") or get("booktitle")
    if venue and not re.search(r"arxiv", venue, flags=re.IGNORECASE):
        fields["venue"] = venue
    for name, label in (("authors", "author"), ("year", "year"), ("title", "title")):
        if not fields[name]:
            notes.append(f"no {label} found in the entry")
    if not (fields["arxiv"] or fields["doi"] or fields["url"]):
        notes.append("no arXiv id, DOI or http(s) url found; add one so readers can find the paper")
    return fields, notes


def _raw_fields(text: str) -> tuple[dict[str, str] | None, str]:
    """The raw (still LaTeX) field values of the first entry, keyed by lowercase name."""
    m = _ENTRY_RE.search(text)
    if m and m.group(1).lower() in _NOT_ENTRIES:
        m = _skip(text, m)
    if not m:
        return None, ""
    close = "}" if m.group(2) == "{" else ")"
    i, n = m.end(), len(text)
    j = i
    while j < n and text[j] not in ",}\n" and text[j] != close:
        j += 1
    key = text[i:j].strip() if j < n and text[j] == "," else ""
    i = j + 1 if j < n and text[j] == "," else i
    out: dict[str, str] = {}
    while i < n:
        while i < n and text[i] in " \t\r\n,":
            i += 1
        if i >= n or text[i] == close:
            break
        fm = _FIELD_RE.match(text, i)
        if not fm:  # junk: skip to the next comma at depth 0
            i = _skip_to_comma(text, i, close)
            continue
        name = fm.group(1).lower()
        i = fm.end()
        parts = []
        while i < n:
            value, i = _value(text, i)
            parts.append(value)
            while i < n and text[i] in " \t\r\n":
                i += 1
            if i < n and text[i] == "#":
                i += 1
                while i < n and text[i] in " \t\r\n":
                    i += 1
                continue
            break
        if name not in out:
            out[name] = "".join(parts)
    return out, key


def _skip(text: str, m: re.Match) -> re.Match | None:
    """The next entry start after a @comment/@preamble/@string at ``m``."""
    nxt = _ENTRY_RE.search(text, m.end())
    while nxt and nxt.group(1).lower() in _NOT_ENTRIES:
        nxt = _ENTRY_RE.search(text, nxt.end())
    return nxt


def _skip_to_comma(text: str, i: int, close: str) -> int:
    depth, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0 and close == "}":
                return i
            depth -= 1
        elif c == close and depth == 0:
            return i
        elif c == "," and depth == 0:
            return i + 1
        i += 1
    return n


def _value(text: str, i: int) -> tuple[str, int]:
    """One value at ``i``: {braced}, "quoted" or a bare word (number or month macro)."""
    n = len(text)
    if i >= n:
        return "", i
    if text[i] == "{":
        depth, j = 0, i
        while j < n:
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    return text[i + 1:j], j + 1
            j += 1
        return text[i + 1:], n
    if text[i] == '"':
        for j, c in _outside_braces(text, i + 1):
            if c == '"' and text[j - 1] != "\\":
                return text[i + 1:j], j + 1
        return text[i + 1:], n
    m = re.compile(r"[^\s,#{}()\"]+").match(text, i)
    if not m:
        return "", i + 1
    word = m.group(0)
    return _MONTHS.get(word.lower()[:3], word) if not word.isdigit() else word, m.end()


def _clean(value: str) -> str:
    """LaTeX to plain text: accents to letters, commands and braces dropped, spaces collapsed."""
    if not value:
        return ""
    s = value
    s = re.sub(r"\\([\"'`^~=.])\s*\{?\s*([A-Za-z])\s*\}?", lambda m: m.group(2) + _ACCENTS[m.group(1)], s)
    s = re.sub(r"\\([uvHck])\s*\{\s*([A-Za-z])\s*\}", lambda m: m.group(2) + _ACCENTS[m.group(1)], s)
    s = re.sub(r"\\([uvHck]) ([A-Za-z])", lambda m: m.group(2) + _ACCENTS[m.group(1)], s)
    s = re.sub(r"\\(ss|aa|AA|ae|AE|oe|OE|[oOlLij])(?![A-Za-z])\s?", lambda m: _SYMBOLS[m.group(1)], s)
    s = re.sub(r"\\([&%_$#{}])", lambda m: _SYMBOLS[m.group(1)], s)
    s = re.sub(r"\\[A-Za-z]+\*?\s*", "", s)  # \emph, \textit, ...: keep their argument
    s = s.replace("{", "").replace("}", "").replace("~", " ").replace("---", "—").replace("--", "–")
    s = unicodedata.normalize("NFC", s)
    return " ".join(s.split())


def _outside_braces(text: str, start: int = 0):
    """(position, character) of each character of ``text`` from ``start`` that lies outside every {...}
    group (an unmatched ``}`` is ignored)."""
    depth = 0
    for j in range(start, len(text)):
        c = text[j]
        if c == "{":
            depth += 1
        elif c == "}":
            depth = max(depth - 1, 0)
        elif depth == 0:
            yield j, c


def _split_and(value: str) -> list[str]:
    """Names of an author field: split on ' and ' outside braces."""
    parts, start, n = [], 0, len(value)
    low = value.lower()
    for i, _ in _outside_braces(value):
        if i >= start and i > 0 and low.startswith("and", i) and value[i - 1].isspace() and \
                (i + 3 >= n or value[i + 3].isspace()):
            parts.append(value[start:i])
            start = i + 3
    parts.append(value[start:])
    return [p for p in (q.strip() for q in parts) if p]


def _person(name: str) -> str:
    """'Last, First' or 'Last, Jr., First' -> 'First Last Jr.'; 'others' stays."""
    pieces, depth, cur = [], 0, ""
    for c in name:
        if c == "{":
            depth += 1
        elif c == "}":
            depth = max(depth - 1, 0)
        if c == "," and depth == 0:
            pieces.append(cur)
            cur = ""
        else:
            cur += c
    pieces.append(cur)
    pieces = [_clean(p) for p in pieces]
    if len(pieces) == 2:
        out = f"{pieces[1]} {pieces[0]}"
    elif len(pieces) >= 3:
        out = f"{pieces[2]} {pieces[0]} {pieces[1]}"
    else:
        out = pieces[0]
    return " ".join(out.split())
