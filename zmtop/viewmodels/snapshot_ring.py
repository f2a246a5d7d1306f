"""The live monitor's recent snapshots: how far back a mark may reach, and what `d` diffs
against when nothing is marked.

A snapshot of the default scenario costs about 1.5 MB once the ticks after it no longer
share its tables, so the ring keeps one every `stride` ticks, `depth` ticks back; a mark
holds its own snapshot and is forgotten once it is older than `depth`. Bench: "live marks:
snapshot ring" (ring_bench).
"""

from __future__ import annotations

from collections import deque

from zmtop.engine.snapshot.records import Snapshot

DEPTH = 600  # ticks a mark reaches back
STRIDE = 100  # ticks between the snapshots kept


class SnapshotRing:
    """One snapshot every `stride` ticks over the last `depth` ticks."""

    def __init__(self, depth: int = DEPTH, stride: int = STRIDE) -> None:
        self.depth = depth
        self.stride = stride
        self.kept: deque[Snapshot] = deque()

    def append(self, snap: Snapshot) -> None:
        """Keep `snap` if `stride` ticks passed since the last one kept; forget what is
        older than `depth`."""
        kept = self.kept
        if not kept or snap.tick - kept[-1].tick >= self.stride:
            kept.append(snap)
        while not self.reaches(kept[0].tick, snap.tick):
            kept.popleft()

    def adopt(self, snap: Snapshot) -> None:
        """Keep `snap` in place of the kept snapshot of its tick, if any: the same state in
        a copy that shares its tables with the ticks after it (a forked boot's own)."""
        for index, kept in enumerate(self.kept):
            if kept.tick == snap.tick:
                self.kept[index] = snap

    def reaches(self, tick: int, now: int) -> bool:
        """Whether a mark at `tick` is still within reach at tick `now`."""
        return now - tick <= self.depth

    def oldest(self) -> Snapshot | None:
        return self.kept[0] if self.kept else None
