"""Benchmarks: figures against the issues' budgets, printed as a table by `make bench`."""

from __future__ import annotations

import statistics
from pathlib import Path

# The real capture and its buckets are the tests' fixtures; tuibench.py (tmux) is beside us.
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
CAPTURE = FIXTURES / "fuchsia-capture-2021.json"
BUCKETS = FIXTURES / "fuchsia-capture-2021-buckets.json"
TUIBENCH = Path(__file__).resolve().parent / "tuibench.py"


def median_ms(samples: list[float]) -> float:
    """The median of samples in seconds, in milliseconds."""
    return statistics.median(samples) * 1000
