"""The real device capture and its bucket config, kept in the repository (tests/fixtures) so
that a checkout on its own runs every test that reads them."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CAPTURE = FIXTURES / "fuchsia-capture-2021.json"
BUCKETS = FIXTURES / "fuchsia-capture-2021-buckets.json"
