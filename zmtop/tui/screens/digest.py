"""The bucket digest (memory_monitor's Digester) of the shown tick, live.

A digest walks every process's VMO list (about 4 ms for the default scenario's 81
processes and 4,700 VMOs), so it is recomputed only while this screen shows, only when
processes, VMOs or kernel counters changed, and, if it ever costs more than a tenth of a
tick, only every few ticks; the subtitle names the tick it is for.
"""

from __future__ import annotations

import math
import time
from functools import cache

from textual.app import ComposeResult

from zmtop.engine.analysis.digest import digest, load_buckets
from zmtop.engine.snapshot.records import Snapshot
from zmtop.tui import bindings
from zmtop.tui.screens.base import MonitorScreen
from zmtop.tui.widgets.digest_table import DigestTable
from zmtop.tui.widgets.line_table import LineTable

BUDGET = 0.1  # the share of a tick the digest may take


@cache
def default_buckets() -> list:
    return load_buckets()


def source_digest(source, snap: Snapshot):
    """The digest of `snap` with the buckets the source's data carries, else the default
    config; and whether they were the data's own."""
    buckets = source.buckets
    return digest(snap, buckets or default_buckets(), source.kernel_extended), bool(buckets)


class DigestScreen(MonitorScreen):
    """Buckets, largest first, with their share of memory and VMO count."""

    CRUMB = "Digest"
    BINDINGS = bindings.BACK

    def __init__(self) -> None:
        super().__init__()
        self.computed: Snapshot | None = None  # the snapshot the table shows
        self.shown = -1  # the last tick handed to the screen
        self.cost = 0.0
        self.stale = False  # something changed since the shown digest

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        snap = self.app.snapshot
        yield DigestTable(*self._digest(snap), unit=self.app.unit)
        yield from self.compose_footer()

    def _digest(self, snap: Snapshot):
        start = time.perf_counter()
        d, own = source_digest(self.app.source, snap)
        self.cost = time.perf_counter() - start
        self.computed, self.shown, self.stale = snap, snap.tick, False
        config = "the data's own buckets" if own else "default buckets"
        return d, snap.kmem.total_bytes, f"tick {snap.tick} · {config}"

    def _due(self, snap: Snapshot) -> bool:
        """Whether this tick needs a new digest, within the budget."""
        last, shown = self.computed, self.shown
        self.shown = snap.tick
        if last is None or snap.tick != shown + 1:  # a seek: the changes don't say enough
            return True
        c = snap.changes
        self.stale = self.stale or bool(c.processes or c.vmos or c.removed_processes
                                        or c.removed_vmos or snap.kmem != last.kmem)
        every = math.ceil(self.cost / (BUDGET * self.app.tick_seconds / self.app.speed))
        return self.stale and snap.tick - last.tick >= every

    def show_snapshot(self, snap: Snapshot) -> None:
        if self._due(snap):
            self.query_one(DigestTable).show(*self._digest(snap))

    def catch_up(self, snap: Snapshot) -> None:
        self.shown = -2
        self.show_snapshot(snap)

    def on_line_table_chosen(self, event: LineTable.Chosen) -> None:
        """Open the bucket: its processes and VMOs at the digest's tick."""
        from zmtop.tui.screens.bucket import BucketScreen

        bucket = self.query_one(DigestTable).rows[event.key][1]
        if not bucket.vmos:
            self.app.notify(f"{bucket.name}: no VMOs (a kernel figure, or an empty bucket)",
                            timeout=3)
        elif self.computed is not None:
            self.app.push_screen(BucketScreen(bucket, self.computed))
