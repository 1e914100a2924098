"""Trusted data preparation of friedman-regression; never copied into the agent's workspace.

    python prepare.py OUT    # writes OUT/public/train.csv, OUT/public/dev.csv, OUT/hidden/test.csv

Deterministic: scikit-learn's make_friedman1 with SEED: y = 10 sin(pi x0 x1) + 20 (x2 - 0.5)^2
+ 10 x3 + 5 x4 + N(0, 1), with x5..x9 irrelevant; the features are uniform on [0, 1]. Generated, not
bundled: there is nothing to look up. (The formula is public: an agent may use it.)
"""
import os
import sys

import numpy as np
import pandas as pd
from sklearn.datasets import make_friedman1

SEED = 27182
SIZES = {"train": 1600, "dev": 600, "test": 1800}


def main(out):
    X, y = make_friedman1(n_samples=sum(SIZES.values()), n_features=10, noise=1.0, random_state=SEED)
    ids = np.random.default_rng(SEED).choice(10**6, size=len(X), replace=False)
    start = 0
    for name, size in SIZES.items():
        part = slice(start, start + size)
        frame = pd.DataFrame(np.round(X[part], 5), columns=[f"x{i}" for i in range(X.shape[1])])
        frame.insert(0, "id", ids[part])
        frame["target"] = np.round(y[part], 5)
        folder = os.path.join(out, "hidden" if name == "test" else "public")
        os.makedirs(folder, exist_ok=True)
        frame.to_csv(os.path.join(folder, f"{name}.csv"), index=False)
        start += size


if __name__ == "__main__":
    main(sys.argv[1])
