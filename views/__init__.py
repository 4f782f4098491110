"""Streamlit views of the atlas. Only ``app.py`` and this package import Streamlit."""
