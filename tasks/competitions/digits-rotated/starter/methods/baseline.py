"""Multinomial logistic regression on the raw features (the baseline)."""
from sklearn.linear_model import LogisticRegression


def build():
    return LogisticRegression(max_iter=1000)
