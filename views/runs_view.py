"""Placeholder: this view is being written (see the open issue)."""
from __future__ import annotations

import streamlit as st

from .context import ViewContext


def runs_view(ctx: ViewContext) -> None:
    st.info("This part of the atlas is not built yet.")
