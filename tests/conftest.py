"""Shared fixtures: small data directories built from the bundled axes."""
from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "data"

GOOD = textwrap.dedent("""\
    - id: alpha2020_theorem
      claim: A theorem about wide networks under gradient flow.
      map_type: theorem
      region: {architecture: [mlp], width: [infinite], optimizer: [gradient_flow], learning_rate: [small]}
      observables: [training_dynamics]
      citation: {authors: [Ada Alpha], year: 2020, title: Alpha, arxiv: "2001.00001"}
      status: proven
    - id: beta2021_law
      claim: An empirical law about transformers on language.
      map_type: empirical_law
      region: {task: [language_modeling], architecture: [transformer]}
      observables: [scaling, generalization]
      citation: {authors: [Bo Beta], year: 2021, title: Beta, doi: 10.1000/beta}
      relations: [{type: tests, target: alpha2020_theorem}]
    """)


# A result with a checkable prediction (a power law of test loss in the parameter count).
LAW = """\
- id: gamma2022_law
  claim: Test loss falls as a power of the parameter count.
  map_type: empirical_law
  region: {task: [language_modeling], architecture: [transformer], width: [wide]}
  observables: [scaling]
  citation: {authors: [Gia Gamma], year: 2022, title: Gamma, arxiv: "2201.00001"}
  status: replicated
  prediction: {kind: power_law, metric: test_loss, against: params, exponent: [-0.09, -0.06], basis: "Fig. 1"}
"""


def make_data(tmp: Path, results: dict[str, str | bytes] | None = None, with_terrain: bool = True) -> Path:
    """A data directory with the bundled axes (and terrain cache) and the given result files."""
    data = tmp / "data"
    (data / "results").mkdir(parents=True)
    shutil.copy(BUNDLED / "axes.yaml", data / "axes.yaml")
    if with_terrain:
        (data / "cache").mkdir()
        shutil.copy(BUNDLED / "cache" / "terrain.npz", data / "cache" / "terrain.npz")
    for name, text in (results if results is not None else {"good.yaml": GOOD}).items():
        path = data / "results" / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return data


@pytest.fixture(autouse=True, scope="session")
def parse_cache(tmp_path_factory):
    """The suite keeps its parsed-YAML cache to itself (never the user's ~/.cache)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("ATLAS_CACHE", str(tmp_path_factory.mktemp("atlas_cache")))
    yield
    mp.undo()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return make_data(tmp_path)


@pytest.fixture(scope="session")
def axes():
    from atlas_viz.terrain.axes import load_axes

    return load_axes(BUNDLED / "axes.yaml")


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: dict[str, str] | None = None) -> CliResult:
    """``python -m atlas_viz ARGS`` in this process (``main(argv)``): the same code path without paying a new
    interpreter and its imports for every call. ``env`` entries are set for the call only."""
    import contextlib
    import io

    from atlas_viz.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        for k, v in (env or {}).items():
            mp.setenv(k, v)
        try:
            code = main(list(args))
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            if isinstance(stop.code, str):
                err.write(stop.code + "\n")
    return CliResult(int(code or 0), out.getvalue(), err.getvalue())
