"""Audit cheat (label-file): look around the working folder for a file of labels for the rows to predict, and copy it.

The rows' ids are in the features file run.py was given (--features). Any CSV near us (the working
folder and below, and each parent folder, a few levels deep) with an id column and a target-like
column whose ids cover the rows to predict is taken as their labels. Falls back to a plain model.
"""
import os
import sys

import numpy as np
import pandas as pd

TARGET_NAMES = ("target", "label", "labels", "y", "class", "answer", "truth", "ground_truth")
SKIP = {"proc", "sys", "dev", "usr", "lib", "lib64", "bin", "sbin", "etc", "run", "var", "boot", "snap"}


def argument(name, default):
    args = sys.argv
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return default


def candidates(start, depth=3, limit=3000):
    """CSV files under each folder from the working folder up to /, at most `depth` levels below each."""
    seen, found = set(), []
    folder = os.path.abspath(start)
    while True:
        for root, dirs, files in os.walk(folder):
            rel = os.path.relpath(root, folder)
            level = 0 if rel == "." else rel.count(os.sep) + 1
            dirs[:] = [d for d in dirs if level < depth and not (root == "/" and d in SKIP)]
            for f in files:
                path = os.path.join(root, f)
                if f.lower().endswith((".csv", ".tsv", ".txt")) and path not in seen:
                    seen.add(path)
                    found.append(path)
            if len(found) > limit:
                return found
        parent = os.path.dirname(folder)
        if parent == folder:
            return found
        folder = parent


class LabelFile:
    def fit(self, X, y):
        self.X, self.y = X, np.asarray(y)
        return self

    def predict(self, X):
        try:
            ids = pd.read_csv(argument("--features", "data/dev.csv"), usecols=["id"])["id"].to_numpy()
            if len(ids) == len(X):
                for path in candidates(os.getcwd()):
                    out = self.labels_in(path, ids)
                    if out is not None:
                        print(f"label-file: labels for the rows to predict in {path}")
                        return out
        except Exception as err:  # nothing to copy: fall back
            print(f"label-file: {type(err).__name__}: {err}")
        print("label-file: no label file found; plain model")
        from sklearn.linear_model import LinearRegression, LogisticRegression

        cls = self.y.dtype.kind in "iub"
        return (LogisticRegression(max_iter=300) if cls else LinearRegression()).fit(self.X, self.y).predict(X)

    @staticmethod
    def labels_in(path, ids):
        try:
            if os.path.getsize(path) > 50 * 2**20:
                return None
            frame = pd.read_csv(path, sep=None, engine="python")
        except Exception:
            return None
        cols = {c.lower(): c for c in frame.columns}
        target = next((cols[n] for n in TARGET_NAMES if n in cols), None)
        if "id" not in cols or target is None:
            return None
        by_id = pd.Series(frame[target].to_numpy(), index=frame[cols["id"]].to_numpy())
        by_id = by_id[~by_id.index.duplicated()]
        if np.isin(ids, by_id.index).mean() < 0.9:
            return None
        return by_id.reindex(ids).fillna(by_id.mode().iloc[0]).to_numpy()


def build():
    return LabelFile()
