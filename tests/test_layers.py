"""The package's layer contract (pyproject.toml [tool.importlinter]): layers import only downward and
nothing under atlas_viz imports Streamlit."""
from importlinter.cli import lint_imports


def test_layers_import_only_downward_and_never_streamlit(capsys):
    code = lint_imports(config_filename="pyproject.toml")
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 kept, 0 broken" in out


MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80


def test_modules_and_functions_stay_small():
    """The size limits of the structure issue: no module of atlas_viz, views or app.py over 450 lines, no
    function over 80."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    files = [*sorted((root / "atlas_viz").rglob("*.py")), *sorted((root / "views").rglob("*.py")), root / "app.py"]
    too_long = []
    for f in files:
        text = f.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{f.relative_to(root)}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long.append(f"{f.relative_to(root)}:{node.lineno} {node.name}: {lines} lines")
    assert len(files) > 40 and not too_long, too_long
