"""The event log: the events of the ticks shown, bounded, with what views ask of it.

Live, each delivered snapshot adds its events (and the watchdog's crossings); a replay's
log is its recording's events, and the watchdog's crossings of the ticks it plays. Each
entry has a serial number that stays with it when old entries are dropped, so a table's
cursor can follow an event. Lookups by tick bisect, so a replay's seeks cost no scan.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from zmtop.engine.formats.events import TimedEvent
from zmtop.engine.formats.names import safe_name
from zmtop.engine.snapshot.records import (
    KILL,
    OOM_KILL,
    PRESSURE,
    PROCESS_EXIT,
    PROCESS_START,
    Event,
)
from zmtop.viewmodels.watchdog import WATCHDOG_OVER

LIMIT = 10_000  # events kept live; the oldest go first
ROW_TICKS = 3  # a started or exited process's row is marked for this many ticks
NOTICE_TICKS = 5  # a kill, pressure change or watchdog crossing is said this long
NOTICE_KINDS = {OOM_KILL: 4, KILL: 3, PRESSURE: 2, WATCHDOG_OVER: 1}  # the higher is said first


class EventLog:
    """Events oldest first; `first` is the serial number of `entries[0]`. `origin` is the
    first tick shown: what started by then was there before, not new."""

    def __init__(self, origin: int, events: Iterable[TimedEvent] = (), limit: int = LIMIT
                 ) -> None:
        self.origin = origin
        self.limit = limit
        self.entries: list[TimedEvent] = []
        self.ticks: list[int] = []
        self.first = 0
        self._recent_cache: dict[str, tuple[int, frozenset[int]]] = {}  # kind: tick, koids
        for entry in events:
            self.entries.append(entry)
            self.ticks.append(entry.tick)

    def add(self, tick: int, time_ns: int, events: Iterable[Event]) -> None:
        """One tick's events; past the limit, the oldest tenth of it goes."""
        for event in events:
            self.entries.append(TimedEvent(tick, time_ns, event))
            self.ticks.append(tick)
            self._recent_cache.clear()
        excess = len(self.entries) - self.limit
        if excess > 0:
            drop = max(excess, self.limit // 10)
            del self.entries[:drop], self.ticks[:drop]
            self.first += drop

    def insert(self, tick: int, time_ns: int, events: Iterable[Event]) -> None:
        """Events of a tick that may not be the newest (a replay's watchdog crossings, as
        the replay plays), in tick order; one already logged is not logged again."""
        for event in events:
            start = bisect.bisect_left(self.ticks, tick)
            end = bisect.bisect_right(self.ticks, tick)
            if any(e.event == event for e in self.entries[start:end]):
                continue
            self.entries.insert(end, TimedEvent(tick, time_ns, event))
            self.ticks.insert(end, tick)
            self._recent_cache.clear()

    @property
    def serials(self) -> range:
        return range(self.first, self.first + len(self.entries))

    def __getitem__(self, serial: int) -> TimedEvent:
        return self.entries[serial - self.first]

    def _since(self, tick: int, ticks: int) -> list[TimedEvent]:
        """The events of the `ticks` ticks up to and including `tick`."""
        start = bisect.bisect_right(self.ticks, tick - ticks)
        return self.entries[start:bisect.bisect_right(self.ticks, tick)]

    def at(self, tick: int) -> list[TimedEvent]:
        return self._since(tick, 1)

    def new_processes(self, tick: int) -> frozenset[int]:
        """Koids of the processes started within ROW_TICKS ticks up to `tick`, after the
        origin."""
        return self._recent(PROCESS_START, tick)

    def exited_processes(self, tick: int) -> frozenset[int]:
        """Koids of the processes that exited within ROW_TICKS ticks up to `tick`."""
        return self._recent(PROCESS_EXIT, tick)

    def _recent(self, kind: str, tick: int) -> frozenset[int]:
        found = self._recent_cache.get(kind)
        if found is None or found[0] != tick:
            koids = frozenset(e.event.koid for e in self._since(tick, ROW_TICKS)
                              if e.event.kind == kind and e.tick > self.origin)
            found = self._recent_cache[kind] = (tick, koids)
        return found[1]

    def notice(self, tick: int) -> str:
        """The newest OOM kill, else kill, else pressure change, else watchdog crossing of
        the last NOTICE_TICKS ticks up to `tick`, escaped; "" if none."""
        said = [e.event for e in self._since(tick, NOTICE_TICKS) if e.event.kind in NOTICE_KINDS]
        if not said:
            return ""
        best = max(reversed(said), key=lambda event: NOTICE_KINDS[event.kind])
        return safe_name(best.text)
