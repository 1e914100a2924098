"""Reference method (a strong known method, not a human record): regularised logistic regression."""
from .logistic import build  # noqa: F401
