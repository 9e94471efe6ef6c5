"""Guanxi (关系): customer lifecycle management."""

__version__ = "0.1.0"
