"""Byte counts as Zircon's `pretty` library prints them (format_size / format_size_fixed).

Every psutils table goes through this, so zmtop reproduces it exactly, quirks included:
integer arithmetic, half-up rounding of the one decimal, and the natural unit chosen from
the truncated quotient (1 MiB + 1 prints as `1.0M`).
"""

from __future__ import annotations

UNITS = "BkMGTPE"


def _rounding_divide(n: int, d: int) -> int:
    return n // d + (1 if n % d >= d // 2 else 0)


def format_size(nbytes: int, unit: str = "") -> str:
    """Format like format_size_fixed: `unit` "" picks the natural unit; an unknown unit gets '?'."""
    prefix = ""
    if unit and unit not in UNITS:
        prefix, unit = "?", ""
    ui = 0
    divisor = 1
    whole = nbytes
    while ui < len(UNITS) - 1 and (
        UNITS[ui] != unit if unit else whole >= 10000 or (whole != 0 and whole % 1024 == 0)
    ):
        ui += 1
        whole //= 1024
        divisor *= 1024
    if nbytes % divisor == 0:
        return f"{prefix}{whole}{UNITS[ui]}"
    int_part = nbytes // divisor
    frac = _rounding_divide((nbytes % divisor) * 10, divisor)
    if frac >= 10:
        frac = 0
        int_part += 1
    return f"{prefix}{int_part}.{frac}{UNITS[ui]}"
