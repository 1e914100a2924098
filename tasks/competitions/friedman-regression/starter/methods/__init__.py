"""The method run.py runs: build() returns a fresh, unfitted model with fit(X, y) and predict(X).

X is a pandas DataFrame of the feature columns (no id, no target) and y a numpy array; predict
returns one value per row of X. This folder is the only place you may change: edit baseline.py or
add modules here and point build() at them (run.py and evaluate.py stay as they are).
"""
from .baseline import build  # noqa: F401
