"""Adjoints of scipy.linalg (in progress)."""
