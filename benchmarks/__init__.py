"""Benchmarks: figures against the issues' budgets, printed as a table by `make bench`."""

from __future__ import annotations

import statistics


def median_ms(samples: list[float]) -> float:
    """The median of samples in seconds, in milliseconds."""
    return statistics.median(samples) * 1000
