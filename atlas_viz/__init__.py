"""Atlas of deep learning: load, place, cover and draw what is known about how deep networks learn.

Nothing in this package imports Streamlit; ``app.py`` is the only UI.
"""
__version__ = "0.1.0"
