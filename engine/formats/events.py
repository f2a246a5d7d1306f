"""The event list, as the event log shows it and `zmtop events` prints it.

An event is the engine's `Event` with the tick and source time of the snapshot that
carried it. Text: one line per event, `tick time kind koid text`, the text escaped; JSON:
one object per event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from zmtop.engine.formats.names import safe_name
from zmtop.engine.snapshot.records import Event

if TYPE_CHECKING:
    from zmtop.engine.recording.reader import Recording


class TimedEvent(NamedTuple):
    """An event and when it happened: the tick and source time of its snapshot."""

    tick: int
    time_ns: int
    event: Event


def uptime(time_ns: int) -> str:
    """Source time as h:mm:ss."""
    seconds = time_ns // 1_000_000_000
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def recorded_events(recording: Recording) -> list[TimedEvent]:
    """Every event of a recording with its tick and time, oldest first."""
    time_of = dict(zip(recording.ticks, recording.times()))
    return [TimedEvent(tick, time_of.get(tick, 0), event) for tick, event in recording.events()]


def events_text(events: list[TimedEvent]) -> str:
    return "".join(f"{tick:>6} {uptime(time_ns):>9} {safe_name(event.kind):<13} {event.koid:>7} "
                   f"{safe_name(event.text)}\n" for tick, time_ns, event in events)


def events_json(events: list[TimedEvent]) -> list[dict[str, Any]]:
    return [{"tick": tick, "time_ns": time_ns, "kind": event.kind, "koid": event.koid,
             "text": event.text} for tick, time_ns, event in events]
