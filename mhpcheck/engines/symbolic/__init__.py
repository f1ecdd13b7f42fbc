"""The symbolic engine and its Z3 back end for the model's values."""
