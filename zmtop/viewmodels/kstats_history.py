"""Per-field kstats history over the session: one bounded deque per `kstats -m` column."""

from __future__ import annotations

from collections import deque

from zmtop.engine.snapshot.records import Kmem

HISTORY = 512  # samples kept per field: more than the widest graph shows


def kstats_fields(kmem: Kmem) -> list[tuple[str, int]]:
    """`kstats -m`'s columns, in its order."""
    return [
        ("total", kmem.total_bytes),
        ("free", kmem.free_bytes),
        ("VMOs", kmem.vmo_bytes),
        ("kheap", kmem.total_heap_bytes - kmem.free_heap_bytes),
        ("kfree", kmem.free_heap_bytes),
        ("wired", kmem.wired_bytes),
        ("mmu", kmem.mmu_overhead_bytes),
        ("ipc", kmem.ipc_bytes),
        ("other", kmem.other_bytes),
    ]


class KstatsHistory:
    """The app feeds it each delivered snapshot's Kmem; the kernel screen draws from it."""

    def __init__(self, kmem: Kmem, maxlen: int = HISTORY) -> None:
        self.fields: dict[str, deque[int]] = {
            name: deque([value], maxlen=maxlen) for name, value in kstats_fields(kmem)}

    def append(self, kmem: Kmem) -> None:
        for name, value in kstats_fields(kmem):
            self.fields[name].append(value)
