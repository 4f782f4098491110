"""The map's empty frame, sent before anything heavy is imported (this module needs plotly only, no pandas)."""
from __future__ import annotations

import plotly.graph_objects as go

SEA = "#e9f1f7"
"""The map's background: the sea around the terrain's land."""


def skeleton_figure(height: int = 420) -> go.Figure:
    """An empty sea with a loading note: the map's frame while the first load of a session runs."""
    fig = go.Figure()
    fig.update_layout(height=height, margin={"l": 0, "r": 0, "t": 0, "b": 0}, plot_bgcolor=SEA,
                      xaxis={"visible": False}, yaxis={"visible": False},
                      annotations=[dict(text="Drawing the map…", showarrow=False, x=0.5, y=0.5, xref="paper",
                                        yref="paper", font={"size": 16, "color": "#5b6b7a"})])
    return fig
