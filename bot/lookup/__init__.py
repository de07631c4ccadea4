"""Turning what residents type into something comparable (shared by router and lookups)."""

from .normalize import normalize

__all__ = ["normalize"]
