"""Reference method (a strong known method, not a human record): RBF support vector machine."""
from .svm import build  # noqa: F401
