"""A series of snapshots as a Perfetto trace, built with the TracePacket protos the `perfetto`
package ships; the Perfetto UI (ui.perfetto.dev) opens it.

Tracks, named as on the device: a counter per `kstats -m` field under `kstats`, the
pressure level (0 Normal to 4 OOM), and for the `top` processes of largest peak PSS a
process track (pid: its koid) with its PSS and private counters, as `ps` computes them.
Instant events on the `events` track: OOM kills, process starts and exits, pressure changes.
Timestamps are the snapshots' source time in nanoseconds (the trace's boot clock).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import BinaryIO, NamedTuple

from perfetto.protos.perfetto.trace.perfetto_trace_pb2 import (
    CounterDescriptor,
    ProcessDescriptor,
    TracePacket,
    TrackDescriptor,
    TrackEvent,
)

from zmtop.engine.formats.openmetrics import SEVERITY, TOP
from zmtop.engine.snapshot.records import (
    OOM_KILL,
    PRESSURE,
    PROCESS_EXIT,
    PROCESS_START,
    Event,
    Snapshot,
    kstats_fields,
)

BYTES = CounterDescriptor(unit=CounterDescriptor.UNIT_SIZE_BYTES)
SEQUENCE = 1  # every packet is on one sequence, written by one writer
TRACE_PACKET = b"\x0a"  # field 1 of Trace (repeated TracePacket), length-delimited
EVENT_KINDS = (OOM_KILL, PROCESS_START, PROCESS_EXIT, PRESSURE)
KSTATS, EVENTS, PRESSURE_TRACK = 1, 2, 3  # uuids of the device's tracks
FIRST_FREE_UUID = 100
MAX_PID = (1 << 31) - 1  # ProcessDescriptor.pid is an int32; a koid is its pid


class _Tick(NamedTuple):
    """What the trace keeps of a snapshot: its counters' values and its events."""

    time_ns: int
    kstats: list[int]
    pressure: int
    processes: dict[int, tuple[int, int]]  # koid -> (PSS, private)
    events: tuple[Event, ...]


def write_trace(out: BinaryIO, snapshots: Iterable[Snapshot], top: int = TOP) -> None:
    """Write the trace of `snapshots` (oldest first) to `out`."""
    ticks: list[_Tick] = []
    names: dict[int, str] = {}  # koid -> its name when first seen
    peaks: dict[int, int] = {}
    fields: list[str] = []
    device = ""
    for snap in snapshots:
        kstats = kstats_fields(snap.kmem)
        fields, device = [name for name, _ in kstats], snap.source
        by_koid = {}
        for koid, proc in snap.processes.items():
            pss = proc.pss_bytes
            by_koid[koid] = (pss, proc.private_bytes)
            names.setdefault(koid, proc.name)
            if pss > peaks.get(koid, -1):
                peaks[koid] = pss
        ticks.append(_Tick(snap.time_ns, [value for _, value in kstats],
                           SEVERITY.get(snap.pressure, 0), by_koid, snap.events))
    chosen = heapq.nlargest(top, peaks, key=lambda koid: (peaks[koid], -koid))
    writer = _Writer(out)
    kstats_tracks = _device_tracks(writer, device, fields)
    process_tracks = _process_tracks(writer, chosen, names)
    for tick in ticks:
        for uuid, value in zip(kstats_tracks, tick.kstats):
            writer.counter(tick.time_ns, uuid, value)
        writer.counter(tick.time_ns, PRESSURE_TRACK, tick.pressure)
        for koid, (pss_track, private_track) in process_tracks.items():
            figures = tick.processes.get(koid)
            if figures is not None:
                writer.counter(tick.time_ns, pss_track, figures[0])
                writer.counter(tick.time_ns, private_track, figures[1])
        for event in tick.events:
            if event.kind in EVENT_KINDS:
                writer.instant(tick.time_ns, event)


def _device_tracks(writer: _Writer, device: str, fields: list[str]) -> list[int]:
    """The device's tracks: kstats (a counter per field), events, pressure level; the uuids
    of the kstats counters, in `fields` order."""
    writer.track(TrackDescriptor(uuid=KSTATS, name=f"kstats ({device})" if device else "kstats"))
    uuids = list(range(FIRST_FREE_UUID, FIRST_FREE_UUID + len(fields)))
    for uuid, name in zip(uuids, fields):
        writer.track(TrackDescriptor(uuid=uuid, parent_uuid=KSTATS, name=name, counter=BYTES))
    writer.track(TrackDescriptor(uuid=EVENTS, name="events"))
    writer.track(TrackDescriptor(uuid=PRESSURE_TRACK, name="pressure level",
                                 counter=CounterDescriptor(unit=CounterDescriptor.UNIT_COUNT)))
    return uuids


def _process_tracks(writer: _Writer, koids: list[int],
                    names: dict[int, str]) -> dict[int, tuple[int, int]]:
    """A process track per koid with its PSS and private counters: their uuids by koid."""
    uuid = FIRST_FREE_UUID + 1000
    tracks = {}
    for koid in koids:
        process, pss, private = uuid, uuid + 1, uuid + 2
        uuid += 3
        if koid <= MAX_PID:
            writer.track(TrackDescriptor(uuid=process, process=ProcessDescriptor(
                pid=koid, process_name=names[koid])))
        else:  # an imported koid past a pid's 32 bits: a track of its name
            writer.track(TrackDescriptor(uuid=process, name=f"{names[koid]} ({koid})"))
        for counter, name in ((pss, "PSS"), (private, "private")):
            writer.track(TrackDescriptor(uuid=counter, parent_uuid=process, name=name,
                                         counter=BYTES))
        tracks[koid] = (pss, private)
    return tracks


class _Writer:
    """Packets, each framed as one `Trace.packet` entry: a file of them is a Trace."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out

    def track(self, descriptor: TrackDescriptor) -> None:
        self._write(TracePacket(track_descriptor=descriptor, trusted_packet_sequence_id=SEQUENCE))

    def counter(self, time_ns: int, track: int, value: int) -> None:
        self._write(TracePacket(timestamp=time_ns, trusted_packet_sequence_id=SEQUENCE,
                                track_event=TrackEvent(type=TrackEvent.TYPE_COUNTER,
                                                       track_uuid=track, counter_value=value)))

    def instant(self, time_ns: int, event: Event) -> None:
        self._write(TracePacket(timestamp=time_ns, trusted_packet_sequence_id=SEQUENCE,
                                track_event=TrackEvent(type=TrackEvent.TYPE_INSTANT,
                                                       track_uuid=EVENTS, name=event.text,
                                                       categories=[event.kind])))

    def _write(self, packet: TracePacket) -> None:
        data = packet.SerializeToString()
        self._out.write(TRACE_PACKET + _varint(len(data)) + data)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
