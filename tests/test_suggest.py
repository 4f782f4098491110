"""First guesses of the import form: which column holds which axis, the id, the metrics, a label's value."""
import pandas as pd

from atlas_viz.runs.suggest import column_kinds, guess_axis_column, guess_id_column, guess_metrics, guess_value


def test_column_kinds_read_numbers_even_with_a_few_bad_cells():
    sample = pd.DataFrame({"lr": ["0.1", "0.01", "x", "0.3", "0.2"], "opt": ["adam"] * 5, "flag": [True] * 5,
                           "width": [64, 128, 256, 512, 1024]})
    assert column_kinds(sample) == {"lr": "number", "opt": "text", "flag": "text", "width": "number"}


def test_guesses_by_usual_names():
    cols = ["Run_ID", "d_model", "n_layers", "LR", "optim", "val_loss", "test_acc", "seed"]
    assert guess_axis_column("width", cols) == "d_model" and guess_axis_column("learning_rate", cols) == "LR"
    assert guess_axis_column("parameterization", cols) is None
    assert guess_id_column(cols) == "Run_ID"
    assert guess_metrics(["val_loss", "test_acc", "seed", "n_params"]) == ["val_loss", "test_acc"]


def test_a_label_maps_to_itself_a_synonym_or_a_close_spelling():
    values = ("gradient_flow", "gd", "sgd", "adaptive")
    assert guess_value("sgd", values) == "sgd" and guess_value("AdamW", values) == "adaptive"
    assert guess_value("adaptiv", values) == "adaptive" and guess_value("lbfgs", values) is None
