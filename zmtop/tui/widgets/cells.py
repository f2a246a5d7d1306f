"""How numbers read in table cells: pretty's sizes (or exact bytes), changes, permissions."""

from __future__ import annotations

from collections.abc import Sequence

from zmtop.engine.formats.sizes import format_size
from zmtop.engine.formats.trends import rate
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
BYTES_WIDTH = 13  # up to 999 GiB as exact bytes, with the B
PAGE = 4096
CHANGE_SHOWN = 4 * PAGE  # the least PSS change a row shows (ΔPSS and the PSS cell's colour)


def size_width(exact: bool) -> int:
    return BYTES_WIDTH if exact else SIZE_WIDTH


def size(nbytes: int, exact: bool) -> str:
    """A byte count as ps prints it, or exact (`--units B`) when `exact`."""
    return format_size(nbytes, "B" if exact else "")


def fixed_size(fixed: int, exact: bool) -> str:
    """An attributed FRACTION_ONE fixed-point byte count, whole bytes."""
    return size(fixed // FRACTION_ONE, exact)


def change(delta: int, exact: bool) -> Cell:
    """A PSS change since the last tick: arrow and size, coloured by direction."""
    if delta > 0:
        return Cell(f"▲{size(delta, exact)}", "line-table--rise")
    if delta < 0:
        return Cell(f"▼{size(-delta, exact)}", "line-table--fall")
    return Cell("")


def shown_change(delta: int) -> int:
    """`delta` if it is CHANGE_SHOWN or more either way, else 0: a process starting or
    exiting moves every sharer's part of the shared VMOs (the vDSO, libc, fonts) by bytes
    or a page, which would flash the whole tree."""
    return delta if abs(delta) >= CHANGE_SHOWN else 0


def growth(per_minute: float | None, exact: bool) -> Cell:
    """Growth per minute over the trend window, signed and coloured by direction; under a
    page a minute it is dimmed, not coloured (a share moving by bytes is no trend); blank
    until the window holds a trend."""
    if per_minute is None:
        return Cell("")
    whole = round(per_minute)
    text = rate(whole, "B" if exact else "")
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
