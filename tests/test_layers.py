"""The package's layer contract (pyproject.toml [tool.importlinter]): layers import only downward and
nothing under atlas_viz imports Streamlit."""
from importlinter.cli import lint_imports

def test_layers_import_only_downward_and_never_streamlit(capsys):
    code = lint_imports(config_filename="pyproject.toml")
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 kept, 0 broken" in out
