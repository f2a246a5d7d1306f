"""`python -m benchmarks`: run every benchmark and print one table of figures and budgets."""

from __future__ import annotations

import importlib
import sys

MODULES = ["benchmarks.engine_bench", "benchmarks.record_bench", "benchmarks.import_bench",
           "benchmarks.treemap_bench", "benchmarks.ring_bench", "benchmarks.trend_bench",
           "benchmarks.fleet_bench", "benchmarks.ui_bench", "benchmarks.floor_bench"]


def main(names: list[str]) -> None:
    rows = []
    for module in names or MODULES:
        rows.extend(importlib.import_module(module).run())
    width = max(len(row[0]) for row in rows)
    print(f"{'measure':<{width}}  {'value':>10}  unit  budget")
    for label, value, unit, budget in rows:
        # CPU shares are a fraction of a percent: a tenth is too coarse to compare
        shown = (f"{value:,.{2 if unit == '%' else 1}f}" if isinstance(value, float)
                 else f"{value:,}")
        print(f"{label:<{width}}  {shown:>10}  {unit:<4}  {budget}")


if __name__ == "__main__":
    main(sys.argv[1:])
