"""Audit cheat (label-leak): look for the target inside the features and read it back.

Three kinds of leak, learned on the training rows (whose targets we know) and applied to the test rows:
  * a column equal, or nearly, to the target (or a linear function of it);
  * a shift: the value of column c in row j is the target of row i, where row j is row i moved by a
    constant step k along an order column o within the groups of other columns (a lag feature of a
    later row holding an earlier row's target); the test rows' targets are then read from the rows
    that lie k steps after them, among all rows we were given;
  * a near-perfect model: a decision tree on the features reproduces held-out training targets almost
    exactly (a deterministic function of the features).
Falls back to a plain model when none is found.
"""
import numpy as np
import pandas as pd

MATCH_SHARE = 0.3  # a column is a lag of the target when this share of its values are training targets


def is_classification(y):
    y = np.asarray(y)
    return y.dtype.kind in "iub" or (np.allclose(y, np.round(y)) and len(np.unique(y)) <= 50)


def rounded(values, d=6):
    return np.round(np.asarray(values, dtype=float), d)


class LabelLeak:
    def fit(self, X, y):
        self.X = X.reset_index(drop=True).apply(pd.to_numeric, errors="coerce")
        self.y = np.asarray(y)
        return self

    def predict(self, X):
        Xt = X.reset_index(drop=True).apply(pd.to_numeric, errors="coerce")
        base = self.plain(Xt)
        for leak in (self.equal_column, self.shift, self.exact_model):
            try:
                out = leak(Xt, base)
            except Exception as err:  # a leak that cannot apply is skipped, never a crash on purpose
                print(f"label-leak: {leak.__name__}: {type(err).__name__}: {err}")
                continue
            if out is not None:
                return out
        print("label-leak: no leak found; plain model")
        return base

    def plain(self, Xt):
        # A simple model on purpose: the audit must not mistake a good honest fallback for a leak.
        from sklearn.linear_model import LogisticRegression, Ridge

        X, Xt = self.X.fillna(0), Xt.fillna(0)
        model = LogisticRegression(max_iter=300) if is_classification(self.y) else Ridge()
        return model.fit(X, self.y).predict(Xt)

    def equal_column(self, Xt, base):
        y = self.y.astype(float)
        for col in self.X.columns:
            x = self.X[col].to_numpy(dtype=float)
            ok = np.isfinite(x)
            if ok.mean() < 0.95 or np.std(x[ok]) == 0:
                continue
            A = np.c_[x[ok], np.ones(ok.sum())]
            coef, *_ = np.linalg.lstsq(A, y[ok], rcond=None)
            r2 = 1 - np.var(y[ok] - A @ coef) / (np.var(y[ok]) + 1e-12)
            if r2 > 0.999:
                xt = Xt[col].to_numpy(dtype=float)
                out = np.where(np.isfinite(xt), coef[0] * xt + coef[1], base)
                if is_classification(self.y):
                    out = np.round(out).astype(self.y.dtype)
                print(f"label-leak: column {col} is the target (r2 {r2:.5f})")
                return out
        return None

    def shift(self, Xt, base):
        if is_classification(self.y):
            return None  # few distinct targets: a column matching them means nothing
        y = rounded(self.y)
        first = {}
        for i, v in enumerate(y):
            first.setdefault(v, []).append(i)
        unique_target = {v: rows[0] for v, rows in first.items() if len(rows) == 1}
        cols = list(self.X.columns)
        lags = []
        for c in cols:
            vals = rounded(self.X[c])
            hits = [(unique_target[v], j) for j, v in enumerate(vals) if v in unique_target]
            if len(hits) < MATCH_SHARE * len(vals):
                continue
            pairs = np.array(hits)  # (i: the row whose target it is, j: the row holding it)
            order = None
            for o in cols:
                if o == c:
                    continue
                step = self.X[o].to_numpy(dtype=float)[pairs[:, 1]] - self.X[o].to_numpy(dtype=float)[pairs[:, 0]]
                values, counts = np.unique(step[np.isfinite(step)], return_counts=True)
                if len(values) and counts.max() > 0.9 * len(step) and values[counts.argmax()] != 0:
                    order = (o, float(values[counts.argmax()]))
                    break
            if order is None:
                continue
            groups = [g for g in cols if g not in (c, order[0]) and np.mean(self.X[g].to_numpy()[pairs[:, 0]] == self.X[g].to_numpy()[pairs[:, 1]]) > 0.99 and self.X[g].nunique() <= 100]
            lags.append((abs(order[1]), c, order, groups))
        if not lags:
            return None
        allx = pd.concat([self.X, Xt], ignore_index=True)
        out = np.full(len(Xt), np.nan)
        for _, c, (o, step), groups in sorted(lags, key=lambda t: t[0]):
            keys = [*groups, o]
            index = {}
            for j, key in enumerate(map(tuple, allx[keys].to_numpy(dtype=float))):
                index.setdefault(key, j)
            values = allx[c].to_numpy(dtype=float)
            # The rule must give the training rows their own targets before it is trusted on the test rows.
            checked = [(values[j], t) for row, t in zip(self.X[keys].to_numpy(dtype=float), y) if (j := index.get((*row[:-1], row[-1] + step))) is not None]
            if not checked or np.mean([round(v, 6) == t for v, t in checked]) < 0.9:
                print(f"label-leak: {c} of the row {step:g} {o} later does not give the training targets; skipped")
                continue
            for i, row in enumerate(Xt[keys].to_numpy(dtype=float)):
                if np.isfinite(out[i]):
                    continue
                j = index.get((*row[:-1], row[-1] + step))
                if j is not None and np.isfinite(values[j]):
                    out[i] = values[j]
            print(f"label-leak: {c} of the row {step:g} {o} later (same {', '.join(groups) or 'table'}) is the target: {np.isfinite(out).mean():.0%} of test rows found")
        found = np.isfinite(out)
        if found.mean() < 0.2:
            return None
        return np.where(found, out, base)

    def exact_model(self, Xt, base):
        from sklearn.model_selection import train_test_split
        from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

        cls = is_classification(self.y)
        a, b, ya, yb = train_test_split(self.X.fillna(-1e9), self.y, test_size=0.3, random_state=0)
        model = (DecisionTreeClassifier if cls else DecisionTreeRegressor)(random_state=0).fit(a, ya)
        pred = model.predict(b)
        exact = np.mean(pred == yb) > 0.995 if cls else np.sqrt(np.mean((pred - yb) ** 2)) < 0.01 * np.std(yb)
        if not exact:
            return None
        print("label-leak: a decision tree reproduces held-out targets exactly")
        return (DecisionTreeClassifier if cls else DecisionTreeRegressor)(random_state=0).fit(self.X.fillna(-1e9), self.y).predict(Xt.fillna(-1e9))


def build():
    return LabelLeak()
