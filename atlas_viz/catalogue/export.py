"""Export what the user sees: results as CSV, BibTeX or JSON, written so that no reader is turned against.

* CSV (RFC 4180, CRLF rows): a text cell a spreadsheet would evaluate (``=``, ``+``, ``-``, ``@`` after any
  leading whitespace or control character, or a leading tab or carriage return) starts with ``'``; line
  breaks inside a cell are LF and quoted, other control characters are dropped, so no cell can start a row.
* BibTeX: every brace is balanced (literal braces and backslashes become ``{\\textbraceleft}``,
  ``{\\textbraceright}``, ``{\\textbackslash}``), LaTeX's special characters are escaped, authors are
  written ``Last, First and ...`` (a name that is already ``Smith, John`` stays one author; a name BibTeX
  would split is braced whole), entry keys are safe; URLs, DOIs and eprints are verbatim with braces,
  backslashes and spaces percent-encoded.
* JSON: a list of objects, one per result (lists as lists, the region as a map).

The app's download buttons and ``python -m atlas_viz export`` call the same :func:`export_results`.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re

import pandas as pd

EXPORT_COLUMNS = ["id", "map_type", "claim", "observables", "region", "authors", "year", "title", "arxiv", "doi",
                  "url", "status", "precision", "method", "object", "relations", "notes", "aliases"]
EXPORT_FORMATS = {"csv": ("text/csv", "csv"), "bibtex": ("application/x-bibtex", "bib"),
                  "json": ("application/json", "json")}
"""Format name -> (MIME type, file extension)."""

_FORMULA = re.compile(r"^(?:[\s\x00-\x1f\x7f]*[=+\-@]|[\t\r])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
BIB_ESCAPES = {"\\": "{\\textbackslash}", "{": "{\\textbraceleft}", "}": "{\\textbraceright}",
               "&": "\\&", "%": "\\%", "$": "\\$", "#": "\\#", "_": "\\_",
               "~": "{\\textasciitilde}", "^": "{\\textasciicircum}"}
"""Characters of a BibTeX value and what is written instead (each replacement has balanced braces)."""
BIB_VERBATIM = {"{": "%7B", "}": "%7D", "\\": "%5C", " ": "%20"}
"""Characters of a URL, DOI or eprint and their percent-encoding."""
_BIB_TABLE = str.maketrans(BIB_ESCAPES)
_VERBATIM_TABLE = str.maketrans(BIB_VERBATIM)
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_:.\-]")
_AND = re.compile(r"(?:^|\s)and(?:\s|$)", re.IGNORECASE)


def _text(value: object) -> str:
    """A field's text, or '' when it is missing (None, NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value if isinstance(value, str) else str(value)


def _flat(results: pd.DataFrame) -> pd.DataFrame:
    """The export columns, with list-like fields flattened to readable text."""
    out = results.reindex(columns=EXPORT_COLUMNS).copy()
    for col in ("observables", "aliases"):
        out[col] = out[col].map(lambda o: ";".join(map(str, o)) if isinstance(o, (tuple, list)) else "")
    out["region"] = out["region"].map(lambda r: "; ".join(f"{k}={'|'.join(map(str, v))}" for k, v in r.items())
                                      if isinstance(r, dict) else "")
    out["relations"] = out["relations"].map(lambda rs: ";".join(f"{t}:{x}" for t, x in rs)
                                            if isinstance(rs, (tuple, list)) else "")
    return out


def csv_cell(value: object) -> object:
    """A value as a CSV cell a spreadsheet reads as text: formulas neutralised, one row per record."""
    if not isinstance(value, str):
        return "" if value is None or (isinstance(value, float) and math.isnan(value)) else value
    text = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    # Judged before and after control characters go: '\x1f\t...' becomes a cell that starts with a tab.
    return "'" + text if _FORMULA.match(value) or _FORMULA.match(text) else text


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells a spreadsheet reads as text (see :func:`csv_cell`)."""
    return frame.apply(lambda col: col.map(csv_cell))


def frame_csv(frame: pd.DataFrame) -> str:
    """RFC 4180 CSV of a frame (header, CRLF rows), every cell through :func:`csv_cell`."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([csv_cell(str(c)) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([csv_cell(v) for v in row])
    return buf.getvalue()


def results_csv(results: pd.DataFrame) -> str:
    """The results as CSV: list-like fields flattened to text, every cell inert (see the module)."""
    return frame_csv(_flat(results))


def bib_escape(text: str) -> str:
    """A value's text for a braced BibTeX field: balanced braces, LaTeX specials escaped, one line."""
    return " ".join(_CONTROL.sub(" ", str(text)).translate(_BIB_TABLE).split())


def bib_verbatim(text: str) -> str:
    """A URL, DOI or eprint for BibTeX: braces, backslashes and spaces percent-encoded."""
    return " ".join(_CONTROL.sub(" ", str(text)).split()).translate(_VERBATIM_TABLE)


def bib_name(name: str) -> str:
    """One author in BibTeX's ``Last, First`` form.

    ``Smith, John`` already is; ``Ada Lovelace`` becomes ``Lovelace, Ada``; lowercase particles stay with
    the last name (``de la Fontaine, Jean``). A name BibTeX would misread (several commas, an empty part,
    the word 'and') is braced whole, so it stays one author.
    """
    words = _CONTROL.sub(" ", name).split()
    name = " ".join(words)
    parts = [p.strip() for p in name.split(",")]
    if _AND.search(name) or len(parts) > 2 or (len(parts) == 2 and not all(parts)):
        return "{" + bib_escape(name) + "}"
    if len(parts) == 2:
        return f"{bib_escape(parts[0])}, {bib_escape(parts[1])}"
    if len(words) < 2:
        return bib_escape(name)
    k = len(words) - 1
    while k > 1 and words[k - 1][:1].islower():
        k -= 1
    return f"{bib_escape(' '.join(words[k:]))}, {bib_escape(' '.join(words[:k]))}"


def bib_key(rid: object, taken: set[str]) -> str:
    """A citation key from a result id: only letters, digits and _:.- and unique in the file."""
    key = _KEY_UNSAFE.sub("_", _text(rid)) or "result"
    base, n = key, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    taken.add(key)
    return key


def _authors(row: dict) -> list[str]:
    """The author names of a row, each on one line, none empty."""
    names = row.get("author_list")
    if not isinstance(names, (tuple, list)):
        names = _text(row.get("authors")).split(",")  # a frame without the list: names joined by ', '
    lines = (" ".join(_CONTROL.sub(" ", _text(a)).split()) for a in names)
    return [a for a in lines if a]


def bib_entry(row: dict, key: str) -> str:
    """One ``@article`` (with a DOI) or ``@misc`` entry of a result."""
    arxiv, doi, url = (_text(row.get(k)).strip() for k in ("arxiv", "doi", "url"))
    fields: list[tuple[str, str]] = [("title", bib_escape(_text(row.get("title"))))]
    authors = _authors(row)
    if authors:
        fields.append(("author", " and ".join(bib_name(a) for a in authors)))
    year = row.get("year")
    if _text(year).strip():
        fields.append(("year", bib_escape(_text(year))))
    if arxiv:
        fields += [("eprint", bib_verbatim(arxiv)), ("archivePrefix", "arXiv"),
                   ("url", bib_verbatim(f"https://arxiv.org/abs/{arxiv}"))]
    if doi:
        fields.append(("doi", bib_verbatim(doi)))
    if url and not arxiv:
        fields.append(("url", bib_verbatim(url)))
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
    return f"@{'article' if doi else 'misc'}{{{key},\n{body}\n}}"


def results_bibtex(results: pd.DataFrame) -> str:
    """One entry per result, keyed by its id (see the module for what keeps it readable)."""
    taken: set[str] = set()
    entries = [bib_entry(row, bib_key(row.get("id"), taken)) for row in results.to_dict("records")]
    return "\n\n".join(entries) + ("\n" if entries else "")


def _plain(value: object) -> object:
    """A value as JSON data: tuples as lists, NaN as null, numpy scalars as numbers."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if callable(getattr(value, "to_dict", None)):  # a result's prediction: its YAML form
        return _plain(value.to_dict())
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return _plain(value.item())
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def results_json(results: pd.DataFrame) -> str:
    """The results as a JSON list of objects (lists and the region kept structured)."""
    cols = [c for c in [*EXPORT_COLUMNS, "author_list", "aliases", "prediction"] if c in results.columns]
    records = [{c: _plain(row[c]) for c in cols} for row in results.to_dict("records")]
    return json.dumps(records, ensure_ascii=False, indent=1, allow_nan=False) + "\n"


def export_results(results: pd.DataFrame, fmt: str) -> str:
    """The results in one of :data:`EXPORT_FORMATS`."""
    writers = {"csv": results_csv, "bibtex": results_bibtex, "json": results_json}
    if fmt not in writers:
        raise ValueError(f"export format must be one of {', '.join(EXPORT_FORMATS)}; got {fmt!r}")
    return writers[fmt](results)
