"""Trusted data preparation of digits-rotated; never copied into the agent's workspace.

    python prepare.py OUT --secret-file FILE   # writes OUT/public/train.csv, OUT/public/dev.csv, OUT/hidden/test.csv

The images are scikit-learn's bundled digits. Two defences keep a method from looking rows up in them:
untrusted sandbox runs of a competition see sklearn's bundled data folders empty (only this trusted
script reads them), and the rows are disguised with draws from the data secret in FILE (256 bits, made
per benchmark by the scorer and kept outside every workspace): a random rotation of the 64-pixel
space, noise, a random subset of rows and renamed classes.
"""
import os

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits

import lab_secret

SIZES = {"train": 700, "dev": 300, "test": 600}


def write(out, name, X, y, ids):
    frame = pd.DataFrame(np.round(X, 4), columns=[f"f{i:02d}" for i in range(X.shape[1])])
    frame.insert(0, "id", ids)
    frame["target"] = y
    folder = os.path.join(out, "hidden" if name == "test" else "public")
    os.makedirs(folder, exist_ok=True)
    frame.to_csv(os.path.join(folder, f"{name}.csv"), index=False)


def main():
    out, seed = lab_secret.arguments()
    rng = np.random.default_rng(seed)
    X, y = load_digits(return_X_y=True)
    rows = rng.permutation(len(X))[: sum(SIZES.values())]
    rotation, _ = np.linalg.qr(rng.normal(size=(X.shape[1], X.shape[1])))
    X = X[rows] @ rotation + rng.normal(scale=4.0, size=(len(rows), X.shape[1]))
    y = rng.permutation(10)[y[rows]]
    ids = rng.choice(10**6, size=len(rows), replace=False)
    start = 0
    for name, size in SIZES.items():
        part = slice(start, start + size)
        write(out, name, X[part], y[part], ids[part])
        start += size


if __name__ == "__main__":
    main()
