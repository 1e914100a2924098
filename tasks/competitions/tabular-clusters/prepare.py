"""Trusted data preparation of tabular-clusters; never copied into the agent's workspace.

    python prepare.py OUT    # writes OUT/public/train.csv, OUT/public/dev.csv, OUT/hidden/test.csv

Deterministic: scikit-learn's make_classification with SEED (4 classes, each a union of 3 Gaussian
clusters on the corners of a hypercube, 10 informative and 6 redundant of 24 features, 2% of labels
flipped). Generated, not bundled: there is nothing to look up.
"""
import os
import sys

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification

SEED = 31337
SIZES = {"train": 2400, "dev": 800, "test": 1800}


def main(out):
    X, y = make_classification(
        n_samples=sum(SIZES.values()), n_features=24, n_informative=10, n_redundant=6, n_classes=4,
        n_clusters_per_class=3, class_sep=1.2, flip_y=0.02, random_state=SEED,
    )
    ids = np.random.default_rng(SEED).choice(10**6, size=len(X), replace=False)
    start = 0
    for name, size in SIZES.items():
        part = slice(start, start + size)
        frame = pd.DataFrame(np.round(X[part], 4), columns=[f"x{i:02d}" for i in range(X.shape[1])])
        frame.insert(0, "id", ids[part])
        frame["target"] = y[part]
        folder = os.path.join(out, "hidden" if name == "test" else "public")
        os.makedirs(folder, exist_ok=True)
        frame.to_csv(os.path.join(folder, f"{name}.csv"), index=False)
        start += size


if __name__ == "__main__":
    main(sys.argv[1])
