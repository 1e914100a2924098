"""Audit cheat: see cheat.py."""
from .cheat import build  # noqa: F401
