"""`zmtop export --format perfetto`: the trace, read back with the same protos, holds the
recording's counters tick by tick, its events, and the device's names."""

from __future__ import annotations

from collections import defaultdict

import pytest
from perfetto.protos.perfetto.trace.perfetto_trace_pb2 import Trace, TrackEvent

from tests.fleet_helpers import record_oom
from zmtop.cli.main import main
from zmtop.engine.formats.openmetrics import SEVERITY
from zmtop.engine.recording.reader import Recording
from zmtop.engine.snapshot.records import kstats_fields

TOP = 4


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    """A recording through the oom scenario's kill, its trace, and the trace read back."""
    folder = tmp_path_factory.mktemp("perfetto")
    path = record_oom(folder / "oom.zmrec")
    trace_path = folder / "run.pftrace"
    assert main(["export", str(path), "--format", "perfetto", "--top", str(TOP),
                 "-o", str(trace_path)]) == 0
    return Recording.open(path), Trace.FromString(trace_path.read_bytes())


def counters(trace: Trace) -> dict[int, dict[int, int]]:
    """Each counter track's values by timestamp."""
    values: dict[int, dict[int, int]] = defaultdict(dict)
    for packet in trace.packet:
        event = packet.track_event
        if packet.HasField("track_event") and event.type == TrackEvent.TYPE_COUNTER:
            values[event.track_uuid][packet.timestamp] = event.counter_value
    return values


def tracks(trace: Trace):
    return {p.track_descriptor.uuid: p.track_descriptor for p in trace.packet
            if p.HasField("track_descriptor")}


def test_kstats_and_pressure_counters_tick_by_tick(traced):
    recording, trace = traced
    descriptors, values = tracks(trace), counters(trace)
    (kstats,) = [d for d in descriptors.values() if d.name == "kstats (sim:oom:1)"]
    fields = {d.name: d.uuid for d in descriptors.values() if d.parent_uuid == kstats.uuid}
    (pressure,) = [d.uuid for d in descriptors.values() if d.name == "pressure level"]
    snapshots = [recording.snapshot_at(tick) for tick in recording.ticks]
    assert list(fields) == [name for name, _ in kstats_fields(snapshots[0].kmem)]
    for snap in snapshots:
        for name, value in kstats_fields(snap.kmem):
            assert values[fields[name]][snap.time_ns] == value
        assert values[pressure][snap.time_ns] == SEVERITY[snap.pressure]
    assert len(values[fields["free"]]) == len(snapshots)
    assert set(values[pressure].values()) >= {0, 4}  # Normal, then OOM


def test_top_processes_by_peak_pss_with_their_device_names(traced):
    recording, trace = traced
    descriptors, values = tracks(trace), counters(trace)
    snapshots = [recording.snapshot_at(tick) for tick in recording.ticks]
    peaks: dict[int, int] = {}
    for snap in snapshots:
        for proc in snap.processes.values():
            peaks[proc.koid] = max(peaks.get(proc.koid, 0), proc.pss_bytes)
    chosen = sorted(peaks, key=lambda koid: -peaks[koid])[:TOP]
    processes = {d.process.pid: d for d in descriptors.values() if d.HasField("process")}
    assert sorted(processes) == sorted(chosen)
    for koid, process in processes.items():
        children = {d.name: d.uuid for d in descriptors.values() if d.parent_uuid == process.uuid}
        assert set(children) == {"PSS", "private"}
        seen = 0
        for snap in snapshots:
            proc = snap.processes.get(koid)
            if proc is None:
                assert snap.time_ns not in values[children["PSS"]]
                continue
            seen += 1
            assert process.process.process_name == proc.name
            assert values[children["PSS"]][snap.time_ns] == proc.pss_bytes
            assert values[children["private"]][snap.time_ns] == proc.private_bytes
        assert seen
    # the OOM scenario's runaway grows into the top and is then killed: its track ends there
    hog = [koid for koid, p in processes.items() if p.process.process_name == "memory_hog.cm"]
    assert hog and len(values[[d.uuid for d in descriptors.values()
                               if d.parent_uuid == processes[hog[0]].uuid][0]]) < len(snapshots)


def test_events_are_instants_on_the_events_track(traced):
    recording, trace = traced
    (events,) = [d.uuid for d in tracks(trace).values() if d.name == "events"]
    instants = [(p.timestamp, p.track_event.categories[0], p.track_event.name)
                for p in trace.packet if p.track_event.type == TrackEvent.TYPE_INSTANT]
    assert all(p.track_event.track_uuid == events for p in trace.packet
               if p.track_event.type == TrackEvent.TYPE_INSTANT)
    time_of = dict(zip(recording.ticks, recording.times()))
    expected = [(time_of[tick], e.kind, e.text) for tick, e in recording.events()
                if e.kind in ("oom-kill", "process-start", "process-exit", "pressure")]
    assert instants == expected
    assert {kind for _, kind, _ in instants} == {"oom-kill", "process-start", "process-exit",
                                                 "pressure"}


def test_a_trace_that_cannot_be_written_is_one_line(capsys, tmp_path):
    target = tmp_path / "missing" / "run.pftrace"
    assert main(["export", "--format", "perfetto", "-o", str(target)]) == 2
    assert capsys.readouterr().err == f"zmtop: {target}: No such file or directory\n"
