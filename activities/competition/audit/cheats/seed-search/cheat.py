"""Audit cheat (seed-search): regenerate the task's data from scikit-learn's generators and small or well-known integer seeds.

A task made by make_friedman1(random_state=<small int>) can be reproduced row for row: find the
seed whose first generated row is one of the rows we were given, regenerate, and read the test
rows' targets (noise included) off the regenerated data. Generators tried: make_friedman1/2/3
(uniform rows, checked by the first row), make_regression (normal rows, shuffled: checked by the
sorted first row), make_blobs (checked by the class means against the drawn centres) and
make_classification (parameters inferred from the data; checked by its random columns). Seeds:
well-known numbers first, then 0, 1, 2, ... until the time budget (audit_budget.json) runs out.
Falls back to a plain model when nothing matches.
"""
import json
import os
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def budget_seconds():
    try:
        with open(os.path.join(HERE, "audit_budget.json")) as f:
            return float(json.load(f)["seconds"])
    except (OSError, ValueError, KeyError):
        return 30.0


def well_known_seeds():
    """Numbers people type as seeds: small ones, constants' digits, 'leet' and hex words, years, powers."""
    out = list(range(0, 101)) + [123, 321, 666, 777, 999, 1000, 1024, 1234, 1337, 2048, 4096, 4242, 4321, 7777, 8888, 9999, 9001]
    for digits in ("31415926", "27182818", "16180339", "14142135", "17320508", "60221407", "66260701", "29979245"):
        out += [int(digits[:k]) for k in range(2, 8)]
    out += [31337, 12345, 54321, 11111, 22222, 33333, 42424, 99999, 123456, 654321, 8675309, 20240101]
    out += [0xCAFE, 0xBEEF, 0xDEAD, 0xC0DE, 0xFACE, 0xF00D, 0xBABE, 0xD00D, 0xFEED, 0xC0FFEE, 0xDEADBEEF, 0xCAFEBABE]
    out += list(range(1970, 2031)) + [2**k for k in range(7, 32)] + [2**k - 1 for k in range(7, 32)] + [10**k for k in range(4, 10)]
    seen, ordered = set(), []
    for s in out:
        if 0 <= s < 2**32 and s not in seen:
            seen.add(s)
            ordered.append(s)
    return ordered


def decimals_of(X):
    """How many decimals the CSV kept (the rows were rounded before they were written)."""
    for d in range(0, 10):
        if np.allclose(X, np.round(X, d), rtol=0, atol=1e-9 * max(1.0, float(np.abs(X).max()))):
            return d
    return None


def int_key(row, d):
    return np.rint(np.asarray(row, dtype=float) * 10**d).astype(np.int64).tobytes()


class SeedSearch:
    def fit(self, X, y):
        self.X = np.asarray(X, dtype=float)
        self.y = np.asarray(y)
        return self

    def predict(self, X):
        Xt = np.asarray(X, dtype=float)
        started = time.time()
        try:
            found = search(self.X, self.y, Xt, started + budget_seconds())
        except Exception as err:  # a cheat that cannot apply falls back; it does not crash on purpose
            print(f"seed-search: {type(err).__name__}: {err}")
            found = None
        if found is not None:
            return found
        print("seed-search: no seed found; plain model")
        return plain(self.X, self.y, Xt)


def plain(X, y, Xt):
    if is_classification(y):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=300).fit(X, y).predict(Xt)
    from sklearn.linear_model import Ridge

    return Ridge().fit(X, y).predict(Xt)


def is_classification(y):
    y = np.asarray(y)
    return y.dtype.kind in "iub" or (np.allclose(y, np.round(y)) and len(np.unique(y)) <= 50)


def search(X, y, Xt, deadline):
    O = np.vstack([X, Xt])
    n_tr, p = X.shape
    d = decimals_of(O)
    cls = is_classification(y)
    families = []
    if d is not None:
        families += [Uniform(O, n_tr, y, d, kind) for kind in ("friedman1", "friedman2", "friedman3") if Uniform.applies(kind, p)]
        families.append(Normal(O, n_tr, y, d))
    if cls:
        families.append(Blobs(O, n_tr, y))
        families.append(Classification(O, n_tr, y))
    cheap = [f for f in families if not isinstance(f, Classification)]
    costly = [f for f in families if isinstance(f, Classification)]
    rs = np.random.RandomState(0)
    tried = 0
    known = well_known_seeds()
    # 1) well-known seeds, every family; 2) cheap families on 0, 1, 2, ... for most of what is left; 3) the costly one.
    for seed in known:
        for fam in families:
            if time.time() > deadline:
                return None
            out = fam.try_seed(rs, seed)
            if out is not None:
                return out
    cheap_deadline = time.time() + 0.7 * max(0.0, deadline - time.time())
    seed = 0
    while cheap and time.time() < cheap_deadline:
        for s in range(seed, seed + 5000):
            for fam in cheap:
                out = fam.try_seed(rs, s)
                if out is not None:
                    return out
        seed += 5000
        tried = seed
    seed = 101
    while costly and time.time() < deadline:
        for fam in costly:
            out = fam.try_seed(rs, seed)
            if out is not None:
                return out
        seed += 1
    print(f"seed-search: {len(known)} well-known seeds and 0..{tried} tried")
    return None


def targets_from(gen_y, gen_pos_tr, gen_pos_te, y_tr, cls):
    """Test targets from a regeneration, if it reproduces the training targets."""
    if cls:
        mapping = {}
        for g, t in zip(gen_y[gen_pos_tr], y_tr):
            mapping.setdefault(g, []).append(t)
        label = {g: max(set(v), key=v.count) for g, v in mapping.items()}
        agree = np.mean([label[g] == t for g, t in zip(gen_y[gen_pos_tr], y_tr)])
        if agree < 0.9:
            return None
        fallback = max(set(y_tr.tolist()), key=y_tr.tolist().count)
        return np.array([label.get(g, fallback) for g in gen_y[gen_pos_te]])
    return None


class Uniform:
    """make_friedman1/2/3: X = uniform(n, p) (scaled for 2 and 3), not shuffled; noise drawn after X."""

    SCALE = {"friedman2": ([100, 520 * np.pi, 1, 10], [0, 40 * np.pi, 0, 1]), "friedman3": ([100, 520 * np.pi, 1, 10], [0, 40 * np.pi, 0, 1])}

    @staticmethod
    def applies(kind, p):
        return p >= 5 if kind == "friedman1" else p == 4

    def __init__(self, O, n_tr, y, d, kind):
        self.O, self.n_tr, self.y, self.d, self.kind = O, n_tr, y, d, kind
        self.p = O.shape[1]
        self.keys = {int_key(r, d): i for i, r in enumerate(O)}
        scale, shift = self.SCALE.get(kind, (np.ones(self.p), np.zeros(self.p)))
        self.scale, self.shift = np.asarray(scale, float), np.asarray(shift, float)

    def try_seed(self, rs, seed):
        rs.seed(seed)
        first = rs.uniform(size=self.p) * self.scale + self.shift
        if int_key(first, self.d) not in self.keys:
            return None
        return self.resolve(seed)

    def generate(self, n, seed, noise):
        from sklearn import datasets

        if self.kind == "friedman1":
            return datasets.make_friedman1(n_samples=n, n_features=self.p, noise=noise, random_state=seed)
        return getattr(datasets, f"make_{self.kind}")(n_samples=n, noise=noise, random_state=seed)

    def resolve(self, seed):
        n_obs = len(self.O)
        Xg, _ = self.generate(4 * n_obs, seed, 0.0)
        where = {int_key(r, self.d): i for i, r in enumerate(Xg)}
        pos = np.array([where.get(int_key(r, self.d), -1) for r in self.O])
        if (pos[: self.n_tr] < 0).mean() > 0.05:
            return None
        for n in sorted({int(pos.max()) + 1, n_obs}):
            if n <= pos.max():
                continue
            _, y0 = self.generate(n, seed, 0.0)
            _, y1 = self.generate(n, seed, 1.0)
            eps = y1 - y0
            tr = pos[: self.n_tr]
            ok = tr >= 0
            target = np.asarray(self.y, float)[ok]
            sigma = float(np.dot(target - y0[tr[ok]], eps[tr[ok]]) / max(np.dot(eps[tr[ok]], eps[tr[ok]]), 1e-12))
            resid = target - (y0[tr[ok]] + sigma * eps[tr[ok]])
            if np.sqrt(np.mean(resid**2)) > 1e-3 * (np.std(target) + 1e-12):
                continue
            te = pos[self.n_tr :]
            out = np.where(te >= 0, y0[np.maximum(te, 0)] + sigma * eps[np.maximum(te, 0)], np.mean(target))
            print(f"seed-search: {self.kind} seed {seed}, n_samples {n}, noise {sigma:.4g}")
            return out
        return None


class Normal:
    """make_regression: X = standard_normal(n, p), rows and columns shuffled at the end."""

    def __init__(self, O, n_tr, y, d):
        self.O, self.n_tr, self.y, self.d = O, n_tr, y, d
        self.p = O.shape[1]
        self.sorted_keys = {int_key(np.sort(np.round(r, d)), d) for r in O}
        self.keys = {int_key(r, d): i for i, r in enumerate(O)}

    def try_seed(self, rs, seed):
        rs.seed(seed)
        first = np.sort(np.round(rs.standard_normal(size=self.p), self.d))
        if int_key(first, self.d) not in self.sorted_keys:
            return None
        return self.resolve(seed)

    def resolve(self, seed):
        from sklearn.datasets import make_regression

        n = len(self.O)
        # n_informative: the default 10 first (make_regression takes it even above n_features).
        for k in [10] + [k for k in range(1, self.p + 1) if k != 10]:
            # noise=0 skips a draw (and so shuffles differently): two noisy draws give the clean part and the noise.
            Xg, y1 = make_regression(n_samples=n, n_features=self.p, n_informative=k, noise=1.0, random_state=seed)
            _, y2 = make_regression(n_samples=n, n_features=self.p, n_informative=k, noise=2.0, random_state=seed)
            y0 = 2 * y1 - y2
            where = {int_key(r, self.d): i for i, r in enumerate(Xg)}
            pos = np.array([where.get(int_key(r, self.d), -1) for r in self.O])
            tr = pos[: self.n_tr]
            if (tr < 0).mean() > 0.05:
                return None  # the rows do not follow this seed's shuffle: not this n
            ok = tr >= 0
            eps = y2 - y1
            A = np.c_[y0[tr[ok]], eps[tr[ok]], np.ones(ok.sum())]
            coef, *_ = np.linalg.lstsq(A, np.asarray(self.y, float)[ok], rcond=None)
            resid = np.asarray(self.y, float)[ok] - A @ coef
            if np.sqrt(np.mean(resid**2)) > 1e-3 * (np.std(self.y) + 1e-12):
                continue
            te = np.maximum(pos[self.n_tr :], 0)
            print(f"seed-search: make_regression seed {seed}, n_informative {k}")
            return coef[0] * y0[te] + coef[1] * eps[te] + coef[2]
        return None


class Blobs:
    """make_blobs: centres = uniform(-10, 10, (classes, p)) drawn first; each class a Gaussian around its centre."""

    def __init__(self, O, n_tr, y):
        self.O, self.n_tr, self.y = O, n_tr, np.asarray(y)
        self.labels = np.unique(self.y)
        X = O[:n_tr]
        self.means = np.array([X[self.y == c].mean(0) for c in self.labels])
        within = np.sqrt(np.mean([X[self.y == c].var(0).mean() for c in self.labels]))
        smallest = min((self.y == c).sum() for c in self.labels)
        self.tol = 5 * within * np.sqrt(O.shape[1] / max(smallest, 1)) + 1e-9
        self.within = within

    def try_seed(self, rs, seed):
        rs.seed(seed)
        centres = rs.uniform(-10, 10, size=(len(self.labels), self.O.shape[1]))
        dist = np.linalg.norm(self.means[:, None, :] - centres[None, :, :], axis=2)
        nearest = dist.argmin(1)
        if len(set(nearest.tolist())) != len(self.labels) or dist[np.arange(len(self.labels)), nearest].max() > self.tol:
            return None
        return self.resolve(seed)

    def resolve(self, seed):
        from scipy.spatial import cKDTree
        from sklearn.datasets import make_blobs

        n = len(self.O)
        X1, yg = make_blobs(n_samples=n, n_features=self.O.shape[1], centers=len(self.labels), cluster_std=1.0, random_state=seed)
        X0 = make_blobs(n_samples=n, n_features=self.O.shape[1], centers=len(self.labels), cluster_std=0.0, random_state=seed)[0]
        # Rows in generated order: the cluster std is the least-squares scale of the deviations.
        dev = (X1 - X0)[: self.n_tr].ravel()
        sigma = float(np.dot((self.O[: self.n_tr] - X0[: self.n_tr]).ravel(), dev) / max(np.dot(dev, dev), 1e-12))
        Xg = X0 + sigma * (X1 - X0)
        dist, pos = cKDTree(Xg).query(self.O)
        if np.median(dist) > 0.01 * self.within * np.sqrt(self.O.shape[1]):
            return None
        out = targets_from(yg, pos[: self.n_tr], pos[self.n_tr :], self.y, True)
        if out is not None:
            print(f"seed-search: make_blobs seed {seed}, cluster_std {sigma:.4g}")
        return out


class Classification:
    """make_classification with parameters inferred from the data; its random (useless) columns differ from ours by a constant per column."""

    def __init__(self, O, n_tr, y):
        self.O, self.n_tr, self.y = O, n_tr, np.asarray(y)
        n, p = O.shape
        self.p = p
        self.k = len(np.unique(self.y))
        Z = (O - O.mean(0)) / (O.std(0) + 1e-12)
        sv = np.linalg.svd(Z, compute_uv=False)
        self.n_redundant = int((sv < 1e-3 * sv[0]).sum())
        # Random columns: explained by no other column and unrelated to the class.
        useless = []
        for j in range(p):
            others = np.delete(Z, j, axis=1)
            coef, *_ = np.linalg.lstsq(others, Z[:, j], rcond=None)
            r2 = 1 - np.var(Z[:, j] - others @ coef)
            by_class = [Z[: n_tr][self.y == c, j].mean() for c in np.unique(self.y)]
            if r2 < 0.05 and np.max(np.abs(by_class)) < 0.15:
                useless.append(j)
        self.n_useless = len(useless)
        self.n_informative = p - self.n_redundant - self.n_useless
        self.combos = []
        for clusters in (2, 1, 3, 4):
            if self.n_informative < 1 or self.k * clusters > 2**self.n_informative:
                continue
            for flip in (0.01, 0.0, 0.02, 0.05):
                self.combos.append((clusters, flip))
        self.rows = min(60, n)

    def try_seed(self, rs, seed):
        from sklearn.datasets import make_classification

        if not self.combos or self.n_useless == 0:
            return None
        for clusters, flip in self.combos:
            X1, yg = make_classification(
                n_samples=len(self.O), n_features=self.p, n_informative=self.n_informative, n_redundant=self.n_redundant,
                n_classes=self.k, n_clusters_per_class=clusters, flip_y=flip, class_sep=1.0, random_state=seed,
            )
            diff = self.O[: self.rows] - X1[: self.rows]
            constant = (diff.std(0) < 1e-3 * (np.abs(self.O[: self.rows]).mean(0) + 1e-9)).sum()
            if constant < max(1, self.n_useless // 2):
                continue
            idx = np.arange(len(self.O))
            out = targets_from(yg, idx[: self.n_tr], idx[self.n_tr :], self.y, True)
            if out is not None:
                print(f"seed-search: make_classification seed {seed}, {clusters} clusters per class, flip_y {flip}")
                return out
        return None


def build():
    return SeedSearch()
