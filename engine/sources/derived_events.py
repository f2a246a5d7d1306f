"""Process starts and exits and pressure changes, for sources that only see one snapshot
after another.

The simulation says when it starts or ends a process or its pressure level changes; a poll
only sees that a process koid appeared or went between two captures, or that free memory
crossed a watermark. `with_derived_events` derives the same events from the pair, so the
event log, the notice, the timeline and recordings treat both alike.
"""

from __future__ import annotations

from msgspec import structs

from zmtop.engine.snapshot.records import PRESSURE, PROCESS_EXIT, PROCESS_START, Event, Snapshot


def derived_events(old: Snapshot, new: Snapshot) -> tuple[Event, ...]:
    """A process-start for each process koid of `new` not in `old` and a process-exit for
    each of `old` not in `new`, in koid order, then a pressure event if the level changed."""
    started = sorted(k for k in new.changes.processes if k not in old.processes)
    exited = sorted(old.processes.keys() - new.processes.keys())
    level = (Event(PRESSURE, 0, f"memory pressure {new.pressure}"),)
    return (*(Event(PROCESS_START, k, f"{new.processes[k].name} started") for k in started),
            *(Event(PROCESS_EXIT, k, f"{old.processes[k].name} exited") for k in exited),
            *(level if new.pressure != old.pressure else ()))


def with_derived_events(old: Snapshot, new: Snapshot) -> Snapshot:
    """`new` with the starts, exits and level change since `old` added to its events."""
    derived = derived_events(old, new)
    return structs.replace(new, events=new.events + derived) if derived else new
