"""Trusted data preparation of cancer-diagnosis; never copied into the agent's workspace.

    python prepare.py OUT --secret-file FILE   # writes OUT/public/train.csv, OUT/public/dev.csv, OUT/hidden/test.csv

The measurements are scikit-learn's bundled breast cancer data (Wisconsin diagnostic). Two defences
keep a method from looking rows up in it: untrusted sandbox runs of a competition see sklearn's bundled
data folders empty (only this trusted script reads them), and the rows are disguised with draws from
the data secret in FILE (256 bits, made per benchmark by the scorer and kept outside every workspace):
standardised, rotated at random, with noise, each column given a random scale and offset, and a random
subset of rows kept.
"""
import os

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer

import lab_secret

SIZES = {"train": 240, "dev": 100, "test": 200}


def write(out, name, X, y, ids):
    frame = pd.DataFrame(X, columns=[f"m{i:02d}" for i in range(X.shape[1])])
    frame.insert(0, "id", ids)
    frame["target"] = y
    folder = os.path.join(out, "hidden" if name == "test" else "public")
    os.makedirs(folder, exist_ok=True)
    frame.to_csv(os.path.join(folder, f"{name}.csv"), index=False, float_format="%.6g")


def main():
    out, seed = lab_secret.arguments()
    rng = np.random.default_rng(seed)
    X, y = load_breast_cancer(return_X_y=True)
    rows = rng.permutation(len(X))[: sum(SIZES.values())]
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    rotation, _ = np.linalg.qr(rng.normal(size=(X.shape[1], X.shape[1])))
    X = X[rows] @ rotation + rng.normal(scale=0.6, size=(len(rows), X.shape[1]))
    X = X * 10 ** rng.uniform(-2, 3, size=X.shape[1]) + rng.uniform(-50, 50, size=X.shape[1])
    y = y[rows]
    ids = rng.choice(10**6, size=len(rows), replace=False)
    start = 0
    for name, size in SIZES.items():
        part = slice(start, start + size)
        write(out, name, X[part], y[part], ids[part])
        start += size


if __name__ == "__main__":
    main()
