"""Byte counts as the tools print them, each tool's rule exactly, quirks included.

`format_size` is Zircon's `pretty` library (format_size / format_size_fixed), which every
psutils table and the app use: integer arithmetic, half-up rounding of the one decimal, and
the natural unit chosen from the truncated quotient (1 MiB + 1 prints as `1.0M`). Two tools
have their own rule: Fuchsia's treemap page (`treemap_size`) and memory_monitor's digest
(`memory_monitor_size`).
"""

from __future__ import annotations

UNITS = "BkMGTPE"
MEMORY_MONITOR_UNITS = "BKMGTPE"


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


def treemap_size(nbytes: int) -> str:
    """Fuchsia's treemap.py's own format_size: like pretty's, but the decimal is `r//100`,
    half up."""
    units = UNITS
    ui = r = 0
    whole = True
    while nbytes >= 10000 or (nbytes != 0 and nbytes & 1023 == 0):
        ui += 1
        if nbytes & 1023:
            whole = False
        r = nbytes % 1024
        nbytes //= 1024
    if whole:
        return f"{nbytes}{units[ui]}"
    r = r // 100 + (r % 100 >= 50)
    if r == 10:
        nbytes += 1
        r = 0
    return f"{nbytes}.{r}{units[ui]}"


def memory_monitor_size(nbytes: int) -> str:
    """memory_monitor's FormatSize: `BKMGTPE`, one decimal from the last remainder only."""
    nbytes &= (1 << 64) - 1  # a uint64_t
    r = 0
    unit = 0
    while nbytes > 1023:
        r = nbytes % 1024
        nbytes //= 1024
        unit += 1
    r = r // 102 + (r % 102 >= 51)
    if r == 10:
        nbytes += 1
        r = 0
    return f"{nbytes}{MEMORY_MONITOR_UNITS[unit]}" if r == 0 else f"{nbytes}.{r}{MEMORY_MONITOR_UNITS[unit]}"
