"""Reference method (a strong known method, not a human record): gradient-boosted trees on normalised sales."""
from .boosting import build  # noqa: F401
