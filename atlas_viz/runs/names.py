"""Names the run store gives its columns, kept apart from :mod:`atlas_viz.runs.store` so that an import
(which never loads the stored runs) does not import pandas and the store's placement code to learn them."""
CONFIG_PREFIX = "config."
"""Raw configuration columns are stored as ``config.<column>``."""
DEFAULT_OBSERVABLES = ("generalization", "training_dynamics")
"""What a source's runs observe when its mapping does not say."""
