"""Trusted data preparation of tabular-clusters; never copied into the agent's workspace.

    python prepare.py OUT --secret-file FILE   # writes OUT/public/train.csv, OUT/public/dev.csv, OUT/hidden/test.csv

scikit-learn's make_classification (4 classes, each a union of 3 Gaussian clusters on the corners of a
hypercube, 10 informative and 6 redundant of 24 features, 2% of labels flipped), drawn from a random
state seeded with the data secret in FILE (256 bits, made per benchmark by the scorer and kept outside
every workspace): no small seed to search, so the rows cannot be regenerated inside the sandbox.
"""
import os

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification

import lab_secret

SIZES = {"train": 2400, "dev": 800, "test": 1800}


def main():
    out, seed = lab_secret.arguments()
    generator_seed, id_seed = seed.spawn(2)
    X, y = make_classification(
        n_samples=sum(SIZES.values()), n_features=24, n_informative=10, n_redundant=6, n_classes=4,
        n_clusters_per_class=3, class_sep=1.2, flip_y=0.02,
        random_state=np.random.RandomState(np.random.MT19937(generator_seed)),
    )
    ids = np.random.default_rng(id_seed).choice(10**6, size=len(X), replace=False)
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
    main()
