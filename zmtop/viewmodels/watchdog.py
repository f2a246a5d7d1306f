"""The memory watchdog, as the kernel's `k zx mwd MB`: processes whose committed mapped
memory is at or over a threshold (engine.formats.kzx.memory_hogs), checked on every shown tick.
A process that goes over the threshold, or back under it, is an Event like the engine's."""

from __future__ import annotations

from zmtop.engine.snapshot.records import Event, Snapshot

# The kinds of the watchdog's events: a process went over the threshold, or back under.
WATCHDOG_OVER = "watchdog-over"
WATCHDOG_UNDER = "watchdog-under"


class Watchdog:
    """Off until given a threshold in MiB; `hogs` answers once per snapshot."""

    def __init__(self) -> None:
        self.mb: int | None = None
        self._snap: Snapshot | None = None
        self._hogs: dict[int, int] = {}
        self._over: dict[int, str] | None = None  # koid -> name, as of the last crossings

    def set(self, mb: int | None) -> None:
        """A threshold in MiB; None or 0 turns the watchdog off. Processes over a new
        threshold are not crossings: the next tick's are."""
        self.mb = mb or None
        self._snap = None
        self._over = None

    def hogs(self, snap: Snapshot) -> dict[int, int]:
        """Koid -> committed pages of each process at or over the threshold."""
        if self.mb is None:
            return {}
        if snap is not self._snap:
            from zmtop.engine.formats.kzx import memory_hogs

            self._hogs = {p.koid: pages for p, pages in memory_hogs(snap, self.mb)}
            self._snap = snap
        return self._hogs

    def crossings(self, snap: Snapshot) -> tuple[Event, ...]:
        """The processes that went over the threshold since the last call, and those back
        under it (or gone), in koid order; none on the first call after `set`."""
        if self.mb is None:
            return ()
        over = {koid: snap.processes[koid].name for koid in self.hogs(snap)}
        before, self._over = self._over, over
        if before is None:
            return ()
        went = [Event(WATCHDOG_OVER, koid, f"watchdog: {over[koid]} over {self.mb} MiB")
                for koid in sorted(over.keys() - before.keys())]
        back = [Event(WATCHDOG_UNDER, koid, f"watchdog: {before[koid]} "
                      + (f"back under {self.mb} MiB" if koid in snap.processes else "gone"))
                for koid in sorted(before.keys() - over.keys())]
        return (*went, *back)
