"""Processes that exited lately, kept in the job tree a few ticks as htop keeps them.

The event log says which processes exited within the last ticks; their last records come
from the snapshot shown before they went. Each shows under its job's row when that job is
shown unfolded, or at the end of the tree when its job went too (an OOM kill).
"""

from __future__ import annotations

from zmtop.engine.snapshot.records import Process, Snapshot

EXITED = "x"  # the Slot kind of an exited process's row


class ExitedRows:
    """The last records of the processes that exited lately, and where their rows go."""

    def __init__(self, shown: Snapshot | None = None) -> None:
        """`shown`: the snapshot on screen first, whose processes may be the first to exit."""
        self.records: dict[int, Process] = {}
        self._shown = shown

    def update(self, snap: Snapshot, exited: frozenset[int]) -> bool:
        """Take the snapshot shown now and the koids that exited lately; whether the rows
        to keep changed."""
        old, before = self._shown, self.records
        kept = {}
        live = snap.processes
        # Speed: a lookup per exited koid, where `exited - live.keys()` walked every live
        # process; bench: "ui xl: all-in tick (step, deliver, repaint; tree by PSS)" (ui_bench).
        for koid in exited:
            if koid in live:
                continue
            record = before.get(koid) or (old.processes.get(koid) if old else None)
            if record is not None:
                kept[koid] = record
        self._shown, self.records = snap, kept
        return kept.keys() != before.keys()

    def by_job(self, snap: Snapshot) -> tuple[dict[int, list[int]], list[int]]:
        """The exited processes by koid: those under each job of `snap` (shown after its
        row when that job is shown unfolded), and the orphans, whose job went too (shown
        at the end of the tree, under the root)."""
        under: dict[int, list[int]] = {}
        orphans = []
        for koid in sorted(self.records):
            job = self.records[koid].job_koid
            if job in snap.jobs:
                under.setdefault(job, []).append(koid)
            else:
                orphans.append(koid)
        return under, orphans
