"""Marks A and B and their diff (`m`, `d`), live and in a replay.

A replay may diff any two of its ticks. The live monitor keeps its recent past in a
SnapshotRing: a mark is forgotten, with a notice, once older than the ring's depth, and
`d` with nothing marked diffs the oldest tick the ring keeps against the tick shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.dom import DOMNode

from zmtop.engine.formats.events import uptime
from zmtop.tui import bindings

if TYPE_CHECKING:
    from zmtop.engine.snapshot.records import Snapshot
    from zmtop.tui.monitor import MonitorApp
    from zmtop.viewmodels.snapshot_ring import SnapshotRing

    _Base = MonitorApp  # what the mixin may use of the app it is mixed into
else:
    _Base = DOMNode  # see zmtop.tui.recording: only so that its bindings merge


class MarkControls(_Base):
    """`m` marks A, then B (a third mark starts a new pair); `d` diffs them."""

    BINDINGS = bindings.MARKS

    marks: list[Snapshot]  # A, then B
    ring: SnapshotRing | None  # None in a replay: its recording keeps every tick

    def reach(self) -> str:
        """How far back marks reach, as the notices say it."""
        if self.ring is None:
            return ""
        depth = self.ring.depth
        return f" · marks reach back {depth} ticks ({uptime(round(depth * self.tick_seconds * 1e9))})"

    def forget_old_marks(self) -> None:
        """Drop the marks the ring no longer reaches (after a live tick)."""
        ring, now = self.ring, self.snapshot.tick
        if ring is None or not self.marks or ring.reaches(self.marks[0].tick, now):
            return
        old = [mark.tick for mark in self.marks if not ring.reaches(mark.tick, now)]
        self.marks = [mark for mark in self.marks if ring.reaches(mark.tick, now)]
        ticks = " and ".join(map(str, old))
        self.notify(f"mark at tick {ticks} dropped: older than {ring.depth} ticks",
                    severity="warning")

    def action_mark(self) -> None:
        """Mark A, then B; a third mark starts a new pair."""
        snap = self.snapshot
        if len(self.marks) == 1 and self.marks[0].tick == snap.tick:
            self.notify(f"tick {snap.tick} is already mark A", severity="warning")
            return
        self.marks = [self.marks[0], snap] if len(self.marks) == 1 else [snap]
        self.notify(f"mark {'AB'[len(self.marks) - 1]} at tick {snap.tick}{self.reach()}",
                    timeout=2)
        self.refresh_headers()

    def action_diff(self) -> None:
        """Diff mark A against mark B (or against the tick shown, if only A is set; live
        with no mark, the oldest tick kept against the tick shown)."""
        from zmtop.engine.analysis.diff import diff
        from zmtop.tui.screens.diff import DiffScreen

        if isinstance(self.screen, DiffScreen):
            return
        oldest = self.ring.oldest() if self.ring is not None else None
        a = self.marks[0] if self.marks else oldest
        b = self.marks[1] if len(self.marks) > 1 else self.snapshot
        if a is None:
            self.notify("mark two ticks with m first", severity="warning")
            return
        if a.tick == b.tick:
            self.notify("mark a second tick with m first", severity="warning")
            return
        if a.tick > b.tick:
            a, b = b, a
        self.show_view("diff", "DiffScreen", lambda: DiffScreen(diff(a, b), b))
