"""Per-field kstats history over the session: one bounded deque per `kstats -m` column."""

from __future__ import annotations

from collections import deque

from zmtop.engine.snapshot.records import Kmem, kstats_fields

HISTORY = 512  # samples kept per field: more than the widest graph shows


class KstatsHistory:
    """The app feeds it each delivered snapshot's Kmem; the kernel screen draws from it."""

    def __init__(self, kmem: Kmem, maxlen: int = HISTORY) -> None:
        self.fields: dict[str, deque[int]] = {
            name: deque([value], maxlen=maxlen) for name, value in kstats_fields(kmem)}

    def append(self, kmem: Kmem) -> None:
        for name, value in kstats_fields(kmem):
            self.fields[name].append(value)
