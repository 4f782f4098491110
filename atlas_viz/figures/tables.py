"""Tables for readers: the catalogue as one row per result, in human names."""
from __future__ import annotations

import pandas as pd

from atlas_viz.catalogue.loader import citation_link
from atlas_viz.core.text import pretty
from atlas_viz.coverage.regions import region_summary
from atlas_viz.terrain.axes import Axes

CATALOGUE_COLUMNS = ("relevance", "id", "kind of map", "year", "claim", "region of validity", "observables",
                     "short names", "authors", "title", "status", "verdict", "paper")


def catalogue_table(results: pd.DataFrame, axes: Axes) -> pd.DataFrame:
    """One row per result in the order given (ranked first when ``results`` has a search ``score``).

    The ``relevance`` column is present only with a score; the region reads like 'width: wide · optimizer: SGD'.
    """
    table = pd.DataFrame({
        "relevance": results["score"].to_numpy() if "score" in results else None,
        "id": results["id"].to_numpy(),
        "kind of map": [pretty(t) for t in results["map_type"]],
        "year": results["year"].to_numpy(),
        "claim": results["claim"].to_numpy(),
        "region of validity": [region_summary(axes, r) for r in results["region"]],
        "observables": _listed(results, "observables", pretty),
        "short names": _listed(results, "aliases", str),
        "authors": results["authors"].to_numpy(),
        "title": results["title"].to_numpy(),
        "status": [s if isinstance(s, str) else "" for s in results["status"]],
        "verdict": results["verdict"].to_numpy() if "verdict" in results else "",
        "paper": [citation_link(r) for r in results.to_dict("records")],
    }, columns=list(CATALOGUE_COLUMNS))
    return table if "score" in results else table.drop(columns="relevance")


def _listed(results: pd.DataFrame, col: str, name) -> list[str]:
    """A list-valued column as 'a, b' (empty where the column or a value is missing)."""
    vals = results[col] if col in results else [()] * len(results)
    return [", ".join(name(v) for v in x) if isinstance(x, (list, tuple)) else "" for x in vals]
