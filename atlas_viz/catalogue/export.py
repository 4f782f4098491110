"""Export what the user sees: results as CSV and BibTeX."""
from __future__ import annotations

import re

import pandas as pd

EXPORT_COLUMNS = ["id", "map_type", "claim", "observables", "region", "authors", "year", "title", "arxiv", "doi",
                  "url", "status", "precision", "method", "object", "relations", "notes"]


def results_csv(results: pd.DataFrame) -> str:
    """CSV with list-like fields flattened to readable text."""
    out = results.reindex(columns=EXPORT_COLUMNS).copy()
    out["observables"] = out["observables"].map(lambda o: ";".join(o) if isinstance(o, tuple) else "")
    out["region"] = out["region"].map(lambda r: "; ".join(f"{k}={'|'.join(v)}" for k, v in r.items())
                                      if isinstance(r, dict) else "")
    out["relations"] = out["relations"].map(lambda rs: ";".join(f"{t}:{x}" for t, x in rs) if isinstance(rs, tuple) else "")
    return neutralise_formulas(out).to_csv(index=False)


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy where text cells starting with = + - @ (which spreadsheets run as formulas) start with ' instead."""
    out = frame.copy()
    for col in out.columns:
        out[col] = out[col].map(lambda v: "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v)
    return out


def _bib_escape(text: str) -> str:
    return re.sub(r"([{}\\])", r"\\\1", str(text))


def _text(value: object) -> str:
    """A field's text, or '' when it is missing (None, NaN, not text)."""
    return value if isinstance(value, str) else ""


def results_bibtex(results: pd.DataFrame) -> str:
    """One @article/@misc entry per result, keyed by the result id."""
    entries = []
    for _, row in results.iterrows():
        r = {**row.to_dict(), **{k: _text(row.get(k)) for k in ("arxiv", "doi", "url")}}
        fields = {"title": r["title"], "author": " and ".join(a.strip() for a in str(r["authors"]).split(",")),
                  "year": r["year"]}
        kind = "misc"
        if r["arxiv"]:
            fields.update(eprint=r["arxiv"], archivePrefix="arXiv", url=f"https://arxiv.org/abs/{r['arxiv']}")
        if r["doi"]:
            fields["doi"] = r["doi"]
            kind = "article"
        if r["url"] and "url" not in fields:
            fields["url"] = r["url"]
        body = ",\n".join(f"  {k} = {{{_bib_escape(v)}}}" for k, v in fields.items() if v is not None)
        entries.append(f"@{kind}{{{r['id']},\n{body}\n}}")
    return "\n\n".join(entries) + ("\n" if entries else "")
