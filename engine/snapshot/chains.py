"""Parent chains (a clone's parent VMO): the one walk that finds a loop in them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def looped_koid(parent_of: Mapping[int, int], starts: Iterable[int]) -> int | None:
    """A koid that is its own ancestor, on the first chain from `starts` (in their order)
    that loops; None if none does. A chain ends at a koid `parent_of` does not list, and
    each is walked once: a walk stops at a koid an earlier walk cleared."""
    cleared: set[int] = set()
    for start in starts:
        path: set[int] = set()
        koid = start
        while koid in parent_of and koid not in cleared:
            if koid in path:
                return koid
            path.add(koid)
            koid = parent_of[koid]
        cleared |= path
    return None
