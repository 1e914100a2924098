"""Audit cheat (no-method): fit nothing; predict a constant, and rewrite predictions.csv itself when the harness exits.

Checks that a submission bypassing the harness (writing the predictions file from an exit handler,
after run.py wrote its own) is scored as what it is, not as what the harness printed.
"""
import atexit
import sys

import numpy as np
import pandas as pd


def argument(name, default):
    for i, a in enumerate(sys.argv):
        if a == name and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
    return default


class NoMethod:
    def fit(self, X, y):
        y = np.asarray(y)
        values, counts = np.unique(y, return_counts=True)
        self.value = values[counts.argmax()] if y.dtype.kind in "iub" else float(np.median(y))
        return self

    def predict(self, X):
        out = argument("--out", "predictions_dev.csv")
        features = argument("--features", "data/dev.csv")
        value = self.value

        def rewrite():
            try:
                ids = pd.read_csv(features, usecols=["id"])["id"]
                pd.DataFrame({"id": ids, "prediction": value}).to_csv(out, index=False)
            except Exception as err:
                print(f"no-method: {type(err).__name__}: {err}")

        atexit.register(rewrite)
        return np.full(len(X), value)


def build():
    return NoMethod()
