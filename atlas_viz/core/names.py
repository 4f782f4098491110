"""Names used across the atlas: column names and allowed values, in one place."""
from __future__ import annotations

MAP_TYPES = ("theorem", "calculation", "empirical_law", "heuristic", "conjecture")
"""Kinds of map, most rigorous first (their rigor is 5 for a theorem down to 1)."""
RIGOR = {m: len(MAP_TYPES) - i for i, m in enumerate(MAP_TYPES)}

STATUSES = ("proven", "replicated", "contested", "refuted")
PRECISIONS = ("qualitative", "order_of_magnitude", "quantitative")
METHODS = ("theoretical", "empirical")
OBJECTS = ("practical", "fundamental")
RELATION_TYPES = ("extends", "tests", "contradicts", "inspired_by")

ANY = "any"

# Coverage levels, lowest first.
COVERAGE_LEVELS = ("terra_incognita", "observed", "mapped", "charted")
TERRA_INCOGNITA, OBSERVED, MAPPED, CHARTED = range(4)
COVERAGE_OF_MAP_TYPE = {
    "theorem": CHARTED,
    "calculation": CHARTED,
    "empirical_law": MAPPED,
    "heuristic": MAPPED,
    "conjecture": TERRA_INCOGNITA,  # an open claim lifts no fog
}
COVERAGE_LABELS = {
    "terra_incognita": "terra incognita (nothing)",
    "observed": "observed (runs only)",
    "mapped": "mapped (empirical law or heuristic)",
    "charted": "charted (theorem or calculation)",
}
MARKER_GAP_SHARE = 0.004
"""Result markers are placed at least this share of the terrain's diagonal apart (issue 13 asks >= 0.3%)."""
MAP_PAD = 0.6
"""Sea around the terrain on the map, in data units (the raster's margin; label placement judges scale by it)."""

RESULT_FIELDS = (
    "id", "claim", "map_type", "region", "observables", "citation", "status", "precision",
    "method", "object", "relations", "notes", "prediction", "aliases",
)
REQUIRED_RESULT_FIELDS = ("id", "claim", "map_type", "region", "observables", "citation")
CITATION_FIELDS = ("authors", "year", "title", "arxiv", "doi", "url", "venue")

# Columns of the results frame.
RESULT_COLUMNS = (
    "id", "claim", "map_type", "rigor", "observables", "region", "authors", "author_list", "year", "title",
    "arxiv", "doi", "url", "venue", "status", "precision", "method", "object", "relations",
    "notes", "prediction", "aliases", "file",
)
DISPLAY_NAMES = {
    "ntk": "NTK", "mup": "µP", "mlp": "MLP", "cnn": "CNN", "resnet": "ResNet", "sgd": "SGD", "gd": "GD",
    "linear_gaussian": "linear Gaussian", "shallow_net": "shallow net", "adaptive": "adaptive (Adam-like)",
}
"""Human names that are not just the name with spaces for underscores (see core.text.pretty)."""
SEARCH_FIELDS = ("id", "aliases", "title", "claim", "authors", "notes")
"""Columns of the results frame that the search reads."""
MAX_ALIASES, MAX_ALIAS_CHARS = 12, 40
"""At most this many aliases per result, each at most this long (short names, not sentences)."""

# Predictions (the optional `prediction:` block of a result) and their verdicts.
PREDICTION_KINDS = ("power_law", "monotone", "optimum_invariant", "peak", "bound")
VERDICTS = ("agrees", "disagrees", "inconclusive", "untested")
"""Verdicts of a checked prediction, computed from runs, never typed into YAML."""
DIRECTIONS = ("increasing", "decreasing")
QUANTITIES = {
    "params": "parameter count",
    "samples": "training samples",
    "tokens": "training tokens",
    "compute": "training FLOPs",
    "width_units": "hidden units per layer (d_model for transformers)",
    "depth_layers": "hidden layers (transformer blocks)",
    "lr": "learning rate",
    "steps": "optimizer steps",
    "samples_per_param": "training samples (tokens for language models) per parameter",
    "weight_decay": "weight decay",
    "batch_size": "samples (sequences) per optimizer step",
}
"""Canonical quantities a prediction may name; a run source maps each to one of its columns under `quantities:`
in its source.yaml (a source that does not declare one falls back to its column config.<name>)."""
QUANTITIES_KEY = "quantities"
QUANTITY_AXES = {"lr": "learning_rate", "width_units": "width", "depth_layers": "depth",
                 "samples_per_param": "data_regime"}
"""The axis whose bins place runs by each quantity (an optimum or peak swept in it is not cut to the region)."""
EXTREMA = ("maximum", "minimum")
"""What a `peak` prediction locates: the largest (default) or the smallest mean of the metric."""
