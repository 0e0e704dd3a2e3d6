"""Adjoints of scipy.signal (in progress)."""
