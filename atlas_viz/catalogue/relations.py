"""Relations between results, read in both directions."""
from __future__ import annotations

import pandas as pd

OUT, IN = "→", "←"
"""This result relates to the other (→), or the other relates to this one (←)."""


def lineage(results: pd.DataFrame, rid: str) -> list[tuple[str, str, str]]:
    """(relation type, other result id, direction) of every relation from ``rid`` and to it, in file order."""
    rows = results.loc[results["id"] == rid, "relations"]
    out = [(kind, target, OUT) for kind, target in (rows.iloc[0] if len(rows) else ())]
    out += [(kind, src, IN) for src, rels in zip(results["id"], results["relations"]) for kind, target in rels
            if target == rid]
    return out
