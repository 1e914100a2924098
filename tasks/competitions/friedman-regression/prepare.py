"""Trusted data preparation of friedman-regression; never copied into the agent's workspace.

    python prepare.py OUT --secret-file FILE   # writes OUT/public/train.csv, OUT/public/dev.csv, OUT/hidden/test.csv

Every draw follows from the data secret in FILE (256 bits, made per benchmark by the scorer and kept
outside every workspace): Friedman #1, y = 10 sin(pi x0 x1) + 20 (x2 - 0.5)^2 + 10 x3 + 5 x4 + N(0, 1),
with x5..x9 irrelevant and the features uniform on [0, 1]. The formula is public and a method may use
it; the noise cannot be regenerated without the secret (no small seed to search).
"""
import os

import numpy as np
import pandas as pd

import lab_secret

SIZES = {"train": 1600, "dev": 600, "test": 1800}


def main():
    out, seed = lab_secret.arguments()
    rng = np.random.default_rng(seed)
    n = sum(SIZES.values())
    X = rng.uniform(size=(n, 10))
    y = 10 * np.sin(np.pi * X[:, 0] * X[:, 1]) + 20 * (X[:, 2] - 0.5) ** 2 + 10 * X[:, 3] + 5 * X[:, 4] + rng.normal(0, 1, n)
    ids = rng.choice(10**6, size=n, replace=False)
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
    main()
