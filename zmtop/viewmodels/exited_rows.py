"""Processes that exited lately, kept in the job tree a few ticks as htop keeps them.

The event log says which processes exited within the last ticks; their last records come
from the snapshot shown before they went. Each shows under its job's row when that job is
shown unfolded, or at the end of the tree when its job went too (an OOM kill).
"""

from __future__ import annotations

from collections.abc import Container

from zmtop.engine.snapshot.records import Process, Snapshot
from zmtop.viewmodels.task_rows import Slot

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
        for koid in exited - snap.processes.keys():
            record = before.get(koid) or (old.processes.get(koid) if old else None)
            if record is not None:
                kept[koid] = record
        self._shown, self.records = snap, kept
        return kept.keys() != before.keys()

    def place(self, rows: list[Slot], folded: Container[int]) -> list[Slot]:
        """`rows` with each exited process's row after its job's, if that job is shown and
        not `folded`; those whose job went, at the end under the root."""
        if not self.records:
            return rows
        under: dict[int, list[int]] = {}
        for koid in sorted(self.records):
            under.setdefault(self.records[koid].job_koid, []).append(koid)
        shown = {slot.koid for slot in rows if slot.kind == "j"}
        out = []
        for slot in rows:
            out.append(slot)
            if slot.kind == "j" and slot.koid not in folded:
                out.extend(Slot(EXITED, koid, slot.depth + 1, 0)
                           for koid in under.get(slot.koid, ()))
        out.extend(Slot(EXITED, koid, 1, 0) for job, koids in under.items()
                   if job not in shown and (self._shown is None or job not in self._shown.jobs)
                   for koid in koids)
        return out
