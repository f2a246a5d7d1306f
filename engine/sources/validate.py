"""Checks both importers (capture and memgraph) make, so that what one accepts the other
does too: koids above 0, listed once per table, VMO parent chains without cycles, and
committed bytes whose sums fit the recording.

Each raises `SourceError` naming the place.
"""

from __future__ import annotations

from collections.abc import Iterable

from zmtop.engine.snapshot.chains import looped_koid
from zmtop.engine.snapshot.records import FRACTION_BITS
from zmtop.engine.sources.json_input import SourceError

# What a snapshot's committed bytes add up to stays below this, so that a process's scaled
# share in fixed point (Process.pss_fixed) fits the recording's int64 columns.
COMMITTED_LIMIT = 1 << (63 - FRACTION_BITS)
# Generations of ancestors `check_acyclic` follows with set operations before it walks
# chains one VMO at a time.
QUICK_ROUNDS = 8


def check_koid(koid: int, seen: Iterable[int], what: str, path: str) -> int:
    """`koid` if it is above 0 and not in `seen` (the koids of its table so far)."""
    if koid == 0:
        raise SourceError(f"{path}: koid 0 is invalid")
    if koid in seen:
        raise SourceError(f"{path}: {what} {koid} listed twice")
    return koid


def check_committed(committed: Iterable[int], path: str) -> None:
    """Raise if the committed bytes add up to COMMITTED_LIMIT or more."""
    total = sum(committed)
    if total >= COMMITTED_LIMIT:
        raise SourceError(f"{path}: committed bytes add up to {total}, more than zmtop "
                          f"can hold (2**{63 - FRACTION_BITS} - 1)")


def check_acyclic(parent_of: dict[int, int], starts: Iterable[int], koids: Iterable[int],
                  path: str) -> None:
    """Raise if a VMO is its own ancestor; a chain ends at 0 or at a VMO not listed.

    A cycle passes through one of `starts` (every clone, or only those whose row changed
    since a check of the rest), so their ancestors are followed, a generation a round, with
    set operations; if some are left after QUICK_ROUNDS (a cycle, or a deeper chain), every
    chain is walked, in the order of `koids`, to find and name the culprit."""
    known = parent_of.keys()
    step = set(starts)
    for _ in range(QUICK_ROUNDS):
        step = known & set(map(parent_of.__getitem__, step))
    if not step:
        return
    looped = looped_koid(parent_of, koids)
    if looped is not None:
        raise SourceError(f"{path}: VMO {looped} is its own ancestor")
