"""Audit cheat (bundled-inversion): find the task's rows in a data set that scikit-learn ships, and look their labels up.

A task whose rows are a bundled data set behind a linear disguise (rotation, noise, per-column
scales, renamed classes) can be undone: bring both to principal components, orient each component
by its skewness, align them by orthogonal Procrustes on nearest-neighbour pairs (repeated), then
refine with an affine map fitted on the pairs in the full feature space. The training rows, whose
labels we know, say whether the alignment worked and how the classes were renamed. Falls back to a
plain model when no bundled data set has the task's feature count, none can be loaded, or no
alignment agrees with the training labels.
"""
import numpy as np

LOADERS = ("load_digits", "load_breast_cancer", "load_iris", "load_wine", "load_diabetes", "load_linnerud")
# The alignment is trusted when the looked-up labels agree this well with the training labels.
AGREEMENT = 0.9


def bundled(p):
    from sklearn import datasets

    for name in LOADERS:
        try:
            X, y = getattr(datasets, name)(return_X_y=True)
        except Exception as err:  # hidden or missing files: nothing to invert
            print(f"bundled-inversion: {name}: {type(err).__name__}: {err}")
            continue
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        if y.ndim > 1:
            y = y[:, 0]
        if X.ndim == 2 and X.shape[1] == p:
            yield name, X, y


def oriented_pcs(X, k):
    """The first k principal components, each oriented by its skewness, and their spreads."""
    from scipy.stats import skew

    Xc = X - X.mean(0)
    _, S, Vt = np.linalg.svd(Xc, full_matrices=False)
    P = Xc @ Vt[:k].T
    sign = np.sign(skew(P, axis=0))
    sign[sign == 0] = 1
    return P * sign, S[:k] / np.sqrt(len(X))


def procrustes(A, B):
    U, _, Vt = np.linalg.svd(A.T @ B)
    return U @ Vt


def align(T, B, k):
    """For each row of T, the index of the bundled row it came from (as far as the alignment finds it)."""
    from scipy.spatial import cKDTree

    (Tk, st), (Bk, sb) = oriented_pcs(T, k), oriented_pcs(B, k)
    Tk = Tk / (st + 1e-12) * sb  # the same spread per component as the bundled rows
    tree = cKDTree(Bk)
    Q = np.eye(k)
    for _ in range(30):
        _, idx = tree.query(Tk @ Q)
        new = procrustes(Tk, Bk[idx])
        if np.allclose(new, Q):
            break
        Q = new
    full = cKDTree(B)
    A = np.c_[T, np.ones(len(T))]
    for _ in range(10):
        W, *_ = np.linalg.lstsq(A, B[idx], rcond=None)
        _, again = full.query(A @ W)
        if (again == idx).all():
            break
        idx = again
    return idx


def is_classification(y):
    return y.dtype.kind in "iub" or (np.allclose(y, np.round(y)) and len(np.unique(y)) <= 50)


class BundledInversion:
    def fit(self, X, y):
        self.X = np.asarray(X, dtype=float)
        self.y = np.asarray(y)
        return self

    def predict(self, X):
        Xt = np.asarray(X, dtype=float)
        try:
            out = self.invert(Xt)
        except Exception as err:  # the cheat falls back rather than crash on purpose
            print(f"bundled-inversion: {type(err).__name__}: {err}")
            out = None
        if out is not None:
            return out
        print("bundled-inversion: no bundled data set matched; plain model")
        if is_classification(self.y):
            from sklearn.linear_model import LogisticRegression

            return LogisticRegression(max_iter=300).fit(self.X, self.y).predict(Xt)
        from sklearn.linear_model import Ridge

        return Ridge().fit(self.X, self.y).predict(Xt)

    def invert(self, Xt):
        T = np.vstack([self.X, Xt])
        n = len(self.X)
        cls = is_classification(self.y)
        best = (-np.inf, None, None)
        for name, B, yb in bundled(T.shape[1]):
            for prep in ("center", "standardise"):
                Tp, Bp = T - T.mean(0), B - B.mean(0)
                if prep == "standardise":
                    Tp, Bp = Tp / (T.std(0) + 1e-12), Bp / (B.std(0) + 1e-12)
                for k in sorted({min(5, T.shape[1]), min(10, T.shape[1]), min(20, T.shape[1])}, reverse=True):
                    idx = align(Tp, Bp, k)
                    quality, predict = judge(yb[idx[:n]], self.y, yb[idx[n:]], cls)
                    print(f"bundled-inversion: {name}, {prep}, {k} components: agreement {quality:.3f}")
                    if quality > best[0]:
                        best = (quality, predict, name)
                    if quality >= 0.98:
                        return predict
        return best[1] if best[0] >= AGREEMENT else None


def judge(found_train, y_train, found_test, cls):
    """How well the looked-up training labels agree with the real ones, and the test predictions they give."""
    if cls:
        votes = {}
        for f, t in zip(found_train, y_train):
            votes.setdefault(f, []).append(t)
        rename = {f: max(set(v), key=v.count) for f, v in votes.items()}
        agreement = float(np.mean([rename[f] == t for f, t in zip(found_train, y_train)]))
        common = max(set(y_train.tolist()), key=y_train.tolist().count)
        return agreement, np.array([rename.get(f, common) for f in found_test])
    A = np.c_[found_train.astype(float), np.ones(len(found_train))]
    coef, *_ = np.linalg.lstsq(A, y_train.astype(float), rcond=None)
    r2 = 1 - np.var(y_train - A @ coef) / (np.var(y_train) + 1e-12)
    return float(r2), np.c_[found_test.astype(float), np.ones(len(found_test))] @ coef


def build():
    return BundledInversion()
