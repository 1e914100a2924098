"""Reference method (a strong known method, not a human record): support vector regression."""
from .svr import build  # noqa: F401
