from conftest import make_data
from conftest import run_cli as run


def test_validate_clean_dir_exits_0(data_dir):
    out = run("validate", "--data", str(data_dir))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 results loaded" in out.stdout and "no problems" in out.stdout


def test_validate_lists_problems_without_traceback(tmp_path):
    data = make_data(tmp_path, {"bad.yaml": "- id: x1\n  map_type: theorm\n", "worse.yaml": "[unclosed"})
    out = run("validate", "--data", str(data))
    assert out.returncode == 1
    assert "Traceback" not in out.stdout + out.stderr
    assert "bad.yaml, entry x1, field map_type" in out.stdout
    assert "worse.yaml: not valid YAML" in out.stdout


def test_broken_axes_is_reported_not_raised(tmp_path):
    data = make_data(tmp_path)
    (data / "axes.yaml").write_text("axes: nope\n")
    out = run("validate", "--data", str(data))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "axes.yaml, field axes: the file must be a map with a non-empty list 'axes'" in out.stderr


def test_atlas_data_environment_variable(data_dir):

    out = run("validate", env={"ATLAS_DATA": str(data_dir)})
    assert out.returncode == 0 and str(data_dir) in out.stdout
