"""How numbers read in table cells: pretty's sizes (in the unit chosen with `u` or `--units`),
changes, permissions."""

from __future__ import annotations

from collections.abc import Sequence

from zmtop.engine.formats.sizes import format_size
from zmtop.engine.snapshot.records import (
    FRACTION_ONE,
    PERM_EXECUTE,
    PERM_READ,
    PERM_WRITE,
    VMO_RIGHTS_LETTERS,
)
from zmtop.tui.widgets.line_table import Cell

SPARKS = "▁▂▃▄▅▆▇█"

SIZE_WIDTH = 7  # ps's %7s
# The `u` key's cycle: each size in its own unit as ps picks it (""), then every size in
# KiB, MiB, GiB, and in bytes with digit grouping. `--units` takes any of ps's units.
UNIT_CYCLE = ("", "k", "M", "G", "B")
UNIT_NAMES = {"B": "bytes", "k": "KiB", "M": "MiB", "G": "GiB", "T": "TiB", "P": "PiB",
              "E": "EiB"}
# cells a size needs in a unit: up to 8 GiB in KiB to one decimal, 99 GiB in grouped bytes
UNIT_WIDTHS = {"": SIZE_WIDTH, "k": 10, "M": 8, "B": 15}
PAGE = 4096
CHANGE_SHOWN = 4 * PAGE  # the least PSS change a row shows (ΔPSS and the PSS cell's colour)


def size_width(unit: str) -> int:
    """The width of a column of sizes in `unit`."""
    return UNIT_WIDTHS.get(unit, SIZE_WIDTH)


def size(nbytes: int, unit: str) -> str:
    """A byte count as ps prints it: in its own unit (`unit` ""), or in `unit` as
    `ps --units` does, but whole bytes ("B") with their digits grouped: 1,234,567B."""
    return f"{nbytes:,}B" if unit == "B" else format_size(nbytes, unit)


def fixed_size(fixed: int, unit: str) -> str:
    """An attributed FRACTION_ONE fixed-point byte count, whole bytes."""
    return size(fixed // FRACTION_ONE, unit)


def change(delta: int, unit: str) -> Cell:
    """A change (of PSS since the last tick, of a figure between two marks), coloured by
    direction, for a column one cell wider than its sizes: the arrow first, the size
    right-aligned after it, so the arrows and the digits of a column line up."""
    if not delta:
        return Cell("")
    arrow, style = ("▲", "line-table--rise") if delta > 0 else ("▼", "line-table--fall")
    return Cell(arrow + size(abs(delta), unit).rjust(size_width(unit)), style)


def shown_change(delta: int) -> int:
    """`delta` if it is CHANGE_SHOWN or more either way, else 0: a process starting or
    exiting moves every sharer's part of the shared VMOs (the vDSO, libc, fonts) by bytes
    or a page, which would flash the whole tree."""
    return delta if abs(delta) >= CHANGE_SHOWN else 0


def growth(per_minute: float | None, unit: str) -> Cell:
    """Growth per minute over the trend window, signed and coloured by direction; under a
    page a minute it is dimmed, not coloured (a share moving by bytes is no trend); blank
    until the window holds a trend."""
    if per_minute is None:
        return Cell("")
    whole = round(per_minute)
    text = ("+" if whole > 0 else "-" if whole < 0 else "") + size(abs(whole), unit)
    if abs(whole) < PAGE:
        return Cell(text, "line-table--dim")
    return Cell(text, "line-table--rise" if whole > 0 else "line-table--fall")


def sparkline(values: Sequence[int], width: int) -> str:
    """The last `width` values as block characters, scaled between their min and max."""
    values = list(values)[-width:] if width > 0 else []
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return SPARKS[3] * len(values)
    top = len(SPARKS) - 1
    return "".join(SPARKS[(v - low) * top // (high - low)] for v in values)


def perms(bits: int) -> str:
    return "".join(letter if bits & bit else "-"
                   for bit, letter in ((PERM_READ, "r"), (PERM_WRITE, "w"), (PERM_EXECUTE, "x")))


def rights(bits: int) -> str:
    return "".join(letter if bits & bit else "-" for bit, letter in VMO_RIGHTS_LETTERS)


def address(addr: int) -> str:
    """As vmaps prints a pointer: 32-bit addresses with underscores for the high half."""
    return f"________{addr:08x}" if addr <= 0xFFFF_FFFF else f"{addr:016x}"
