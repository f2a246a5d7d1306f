"""Recordings: exact round trips, and files cut, damaged, forged or from the future."""

import errno
import io
import random
import struct
import time
import zlib

import msgspec
import pytest
import zstandard

from zmtop.engine.recording.codec import (
    Moved,
    Moves,
    Times,
    _decode_moves,
    _encode_moves,
    encode_keyframe,
    kmem_after,
)
from zmtop.engine.recording.format import (
    ANCHOR_EVERY,
    CHAINED,
    DELTA,
    FORMAT_VERSION,
    FRAME,
    KEYFRAME,
    MAX_FRAME_BYTES,
    Metadata,
    RecordingError,
)
from zmtop.engine.recording.reader import _DELTA, Recording
from zmtop.engine.recording.writer import (
    CHUNK_RECORDS,
    Recorder,
    delta_stream,
    header_bytes,
    keyframe_bytes,
    keyframe_payload,
)
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.snapshot.records import Changes, Kmem, Snapshot
from zmtop.engine.snapshot.tables import MoveColumns, encode_hook
from zmtop.engine.sources.replay import ReplaySource

META = Metadata(scenario="test", seed=1)


def simulate(scenario: str, ticks: int, seed: int = 1) -> list[Snapshot]:
    sim = Simulation(scenario, seed)
    return [sim.snapshot] + [sim.step() for _ in range(ticks)]


def record(path, snaps, keyframe_every=8, metadata=META) -> None:
    with Recorder(path, metadata, keyframe_every=keyframe_every) as recorder:
        for snap in snaps:
            recorder.append(snap)


def same(a: Snapshot, b: Snapshot) -> bool:
    """Equal, and iterating in the same order."""
    return a == b and all(list(getattr(a, t)) == list(getattr(b, t))
                          for t in ("jobs", "processes", "vmos"))


def tiny(snaps: list[Snapshot], keep: int = 4) -> list[Snapshot]:
    """The same ticks cut down to a few records, so a file is a few KB."""
    first = snaps[0]
    jobs = set(list(first.jobs)[:keep])
    procs = set(list(first.processes)[:keep])
    vmos = set(list(first.vmos)[:keep * 3])
    out = []
    for s in snaps:
        c = s.changes
        out.append(msgspec.structs.replace(
            s, jobs={k: v for k, v in s.jobs.items() if k in jobs},
            processes={k: v for k, v in s.processes.items() if k in procs},
            vmos={k: v for k, v in s.vmos.items() if k in vmos},
            changes=Changes(c.jobs & jobs, c.processes & procs, c.vmos & vmos,
                            c.removed_jobs & jobs, c.removed_processes & procs,
                            c.removed_vmos & vmos)))
    return out


@pytest.fixture(scope="module")
def churn():
    return simulate("churn", 40)


@pytest.fixture(scope="module")
def small(churn, tmp_path_factory):
    path = tmp_path_factory.mktemp("rec") / "small.zmrec"
    snaps = tiny(churn[:25])
    record(path, snaps, keyframe_every=6)
    return snaps, path.read_bytes()


@pytest.mark.parametrize("scenario", ["default", "churn", "oom", "cow-storm"])
def test_every_tick_replays_exactly(tmp_path, scenario):
    snaps = simulate(scenario, 30)
    record(tmp_path / "r.zmrec", snaps)
    recording = Recording.open(tmp_path / "r.zmrec")
    assert recording.errors == [] and recording.ticks == list(range(31))
    assert recording.metadata == META
    for snap in snaps:  # forward, one step at a time
        assert same(recording.snapshot_at(snap.tick), snap)
    for snap in random.Random(1).sample(snaps, 10) + snaps[::-1]:  # seeks and steps back
        assert same(recording.snapshot_at(snap.tick), snap)
    assert recording.events() == [(s.tick, e) for s in snaps for e in s.events]


def test_a_cold_seek_past_many_deltas_builds_each_tick_exactly(tmp_path):
    """Map entries patched tick after tick, and processes both moved and patched, across
    one keyframe's whole run of deltas: each tick read cold equals the tick recorded."""
    snaps = simulate("default", 60)
    record(tmp_path / "r.zmrec", snaps, keyframe_every=100)
    for tick in (60, 59, 30, 2):
        assert same(Recording.open(tmp_path / "r.zmrec").snapshot_at(tick), snaps[tick])


def test_replay_source_steps_and_seeks(tmp_path, churn):
    record(tmp_path / "r.zmrec", churn)
    source = ReplaySource(Recording.open(tmp_path / "r.zmrec"))
    assert source.snapshot == churn[0] and not source.at_end
    assert source.step() == churn[1] and source.seek(0) == churn[0] and source.at_start
    assert source.seek(33) == churn[33] and source.seek(10_000) == churn[-1] and source.at_end
    assert source.step() == churn[-1]
    assert source.seek(-5) == churn[0]


def test_a_gap_in_ticks_starts_a_keyframe(tmp_path, churn):
    snaps = churn[:5] + churn[9:12]
    record(tmp_path / "r.zmrec", snaps, keyframe_every=100)
    recording = Recording.open(tmp_path / "r.zmrec")
    assert recording.ticks == [0, 1, 2, 3, 4, 9, 10, 11]
    assert all(recording.snapshot_at(s.tick) == s for s in snaps)


def test_the_same_tick_again_is_ignored(tmp_path, churn):
    with Recorder(tmp_path / "r.zmrec", META) as recorder:
        recorder.append(churn[0])
        recorder.append(churn[0])
        with pytest.raises(ValueError):
            recorder.append(msgspec.structs.replace(churn[1], tick=-1))
    assert Recording.open(tmp_path / "r.zmrec").ticks == [0]


def test_a_cut_at_any_byte_keeps_every_complete_frame(small):
    snaps, data = small
    full = Recording.from_bytes(data)
    ends = [e.offset + FRAME.size + e.length for e in full._entries]
    header_end = full._entries[0].offset
    for cut in range(len(data)):
        if cut < header_end:
            with pytest.raises(RecordingError, match="cut short|not a zmtop"):
                Recording.from_bytes(data[:cut], "rec")
            continue
        recording = Recording.from_bytes(data[:cut], "rec")
        complete = sum(end <= cut for end in ends)
        assert recording.ticks == [s.tick for s in snaps[:complete]]
        assert bool(recording.errors) == (cut not in ends and cut != header_end)
        if cut in ends or cut - 1 in ends:
            assert recording.snapshot_at(recording.ticks[-1]) == snaps[complete - 1]


def test_damage_is_reported_with_its_tick_and_what_is_usable(small):
    snaps, data = small
    entry = Recording.from_bytes(data)._entries[7]
    bad = bytearray(data)
    bad[entry.offset + FRAME.size + 3] ^= 0xFF
    recording = Recording.from_bytes(bytes(bad), "rec.zmrec")
    assert recording.errors == [
        f"rec.zmrec: frame at byte {entry.offset} (tick 7) is damaged: checksum mismatch; "
        "7 ticks before it are usable"]
    assert recording.ticks == list(range(7))
    assert recording.snapshot_at(6) == snaps[6]


def read_all(recording: Recording) -> None:
    """Read the timeline and every tick; damage found on the way must be a listed error."""
    try:
        recording.events()
        for tick in recording.ticks:
            recording.snapshot_at(tick)
    except RecordingError as error:
        assert str(error) in recording.errors


def test_random_damage_never_escapes_as_a_traceback(small):
    _, data = small
    rng = random.Random(4)
    start = time.monotonic()
    for trial in range(3000):
        bad = bytearray(data)
        for _ in range(rng.choice((1, 1, 2, 8))):
            bad[rng.randrange(len(bad))] = rng.randrange(256)
        if trial % 5 == 0:
            del bad[rng.randrange(len(bad)):]
        try:
            recording = Recording.from_bytes(bytes(bad), "rec")
        except RecordingError as error:
            assert "\n" not in str(error)
            continue
        read_all(recording)
    assert time.monotonic() - start < 20


def test_a_newer_or_older_format_is_refused(tmp_path):
    path = tmp_path / "new.zmrec"
    path.write_bytes(header_bytes(META, version=FORMAT_VERSION + 1) + b"\0" * 40)
    with pytest.raises(RecordingError,
                       match=rf"new\.zmrec: written in format {FORMAT_VERSION + 1} by a newer"):
        Recording.open(path)
    path.write_bytes(header_bytes(META, version=FORMAT_VERSION - 1) + b"\0" * 40)
    with pytest.raises(RecordingError,
                       match=rf"format {FORMAT_VERSION - 1}, which this zmtop no longer reads"):
        Recording.open(path)


def test_keyframes_chain_to_the_one_before_and_anchors_stand_alone(tmp_path, churn):
    record(tmp_path / "r.zmrec", churn, keyframe_every=2)
    recording = Recording.open(tmp_path / "r.zmrec")
    keys = [e.kind for e in recording._entries if e.kind != DELTA]
    assert keys == [KEYFRAME if n % ANCHOR_EVERY == 0 else CHAINED for n in range(len(keys))]
    for tick in (40, 3, 39, 17, 16, 0):  # cold and warm, across anchors
        assert same(recording.snapshot_at(tick), churn[tick])
        assert same(Recording.open(tmp_path / "r.zmrec").snapshot_at(tick), churn[tick])


@pytest.mark.parametrize("data, match", [
    (b"", "header cut short at byte 0"),
    (b"PK\x03\x04 a zip file", r"not a zmtop recording \(byte 0\)"),
    (header_bytes(META)[:20], "header cut short at byte 20"),
])
def test_what_is_not_a_recording_is_one_line(tmp_path, data, match):
    path = tmp_path / "x.zmrec"
    path.write_bytes(data)
    with pytest.raises(RecordingError, match=match):
        Recording.open(path)
    with pytest.raises(RecordingError, match="cannot read"):
        Recording.open(tmp_path / "missing.zmrec")


def _frame(tick: int, kind: int, payload: bytes, raw_length: int) -> bytes:
    rest = struct.pack("<IIIB", len(payload), raw_length, tick, kind) + payload
    return struct.pack("<I", zlib.crc32(rest)) + rest


def test_a_decompression_bomb_is_refused(small):
    _, data = small
    good = Recording.from_bytes(data)
    head = data[:good._entries[1].offset]  # header and the first keyframe
    bomb = zstandard.ZstdCompressor(level=9).compress(b"\0" * (16 << 20))
    claims_too_much = Recording.from_bytes(head + _frame(1, DELTA, bomb, MAX_FRAME_BYTES + 1))
    assert claims_too_much.ticks == [0] and "is refused" in claims_too_much.errors[0]
    unsized = zstandard.ZstdCompressor(write_content_size=False).compress(b"\0" * 1000)
    for payload in (bomb, unsized):
        lies = Recording.from_bytes(head + _frame(1, DELTA, payload, 1000), "rec")
        with pytest.raises(RecordingError,
                           match=r"rec: frame at byte \d+ \(tick 1\) is damaged"):
            lies.snapshot_at(1)


class FullDisk(io.RawIOBase):
    """A file that takes `room` bytes, writes part of the next chunk, then fails."""

    def __init__(self, path, room: int) -> None:
        self.file = open(path, "wb")
        self.room = room

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if len(data) > self.room:
            self.file.write(bytes(data[:self.room]))
            self.file.flush()
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.file.write(data)

    def truncate(self, size=None) -> int:
        return self.file.truncate(size)

    def close(self) -> None:
        self.file.close()
        super().close()


@pytest.mark.parametrize("can_truncate", [True, False])
def test_a_full_disk_stops_the_recording_and_leaves_a_valid_file(tmp_path, small, monkeypatch,
                                                                 can_truncate):
    snaps, data = small
    path = tmp_path / "full.zmrec"
    middle = Recording.from_bytes(data)._entries[len(snaps) // 2]
    disk = FullDisk(path, room=middle.offset + middle.length // 2)
    if not can_truncate:
        monkeypatch.setattr(disk, "truncate", lambda size=None: (_ for _ in ()).throw(OSError()))
    recorder = Recorder(path, META, keyframe_every=6, file=disk)
    with pytest.raises(RecordingError) as stopped:
        for snap in snaps:
            recorder.append(snap)
    saved = recorder.ticks_written
    assert str(stopped.value) == (f"{path}: recording stopped at tick {saved}: "
                                  f"No space left on device; {saved} tick"
                                  f"{'' if saved == 1 else 's'} saved")
    assert recorder.closed
    recording = Recording.open(path)
    assert recording.ticks == list(range(saved))
    assert bool(recording.errors) == (not can_truncate)
    assert recording.snapshot_at(saved - 1) == snaps[saved - 1]
    with pytest.raises(RecordingError, match="closed"):
        recorder.append(snaps[-1])


@pytest.mark.parametrize("step", [1, 7, 15, 16, 5000, 1 << 16])
def test_a_keyframe_encoded_a_chunk_at_a_time_is_the_whole_encoding(monkeypatch, step):
    """Chunks of every size, across msgpack's 1-, 3- and 5-byte array headers, splice into
    the bytes one encode of the whole keyframe gives."""
    snap = simulate("default", 2)[-1]
    monkeypatch.setitem(CHUNK_RECORDS, "vmos", step)
    monkeypatch.setitem(CHUNK_RECORDS, "processes", max(1, step // 64))
    encoder = msgspec.msgpack.Encoder(enc_hook=encode_hook)
    copies = -(-(1 << 16) // len(snap.vmos))  # a VMO table of more than 65,535 records
    big = msgspec.structs.replace(snap, vmos={koid + (i << 40): vmo for i in range(copies)
                                              for koid, vmo in snap.vmos.items()})
    for case in (snap, big):
        assert keyframe_bytes(case, encoder) == encoder.encode(encode_keyframe(case))


def test_a_keyframe_is_written_by_the_next_append_or_on_close(tmp_path):
    """A keyframe is made off the tick thread: on disk once the next frame comes, or flush."""
    snaps = simulate("default", 2)
    path = tmp_path / "k.zmrec"
    recorder = Recorder(path, META, keyframe_every=2)
    header = path.stat().st_size
    recorder.append(snaps[0])
    recorder.flush()
    assert recorder.ticks_written == 1 and path.stat().st_size > header
    recorder.append(snaps[1])
    recorder.append(snaps[2])  # a keyframe again: made, not yet written
    assert recorder.ticks_written == 2
    recorder.close()
    assert recorder.ticks_written == 3 and Recording.open(path).ticks == [0, 1, 2]


def test_an_uncreatable_file_is_one_line(tmp_path):
    with pytest.raises(RecordingError, match="cannot create"):
        Recorder(tmp_path / "no" / "such" / "dir.zmrec", META)


def compress_again(data: bytes, raws: list[bytes]) -> bytes:
    """The recording `data` with these raw frames, compressed as the recorder does."""
    entries = Recording.from_bytes(data)._entries
    out = [data[:entries[0].offset]]
    key = stream = None
    for entry, raw in zip(entries, raws):
        if entry.kind == DELTA:
            payload = stream.compress(raw) + stream.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        else:
            payload = keyframe_payload(raw, key if entry.kind == CHAINED else None)
            key, stream = raw, delta_stream(raw)
        out.append(_frame(entry.tick, entry.kind, payload, len(raw)))
    return b"".join(out)


@pytest.mark.slow
def test_forged_frames_with_good_checksums_are_reported(small):
    """Damage a checksum cannot see: the typed decoding and patching must still hold."""
    _, data = small
    good = Recording.from_bytes(data)
    raws = [good._raw(i) for i in range(len(good.ticks))]
    assert compress_again(data, raws) == data
    rng = random.Random(9)
    for _ in range(1500):
        i = rng.randrange(len(raws))
        raw = bytearray(raws[i])
        for _ in range(rng.choice((1, 2, 4))):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        read_all(Recording.from_bytes(compress_again(data, [*raws[:i], raw, *raws[i + 1:]]),
                                      "rec"))


def test_every_form_of_column_round_trips(tmp_path, churn):
    """A hand-made tick: an int field as differences (dense and sparse), as another field's
    differences, as a multiple of another field; tuples as slices and element patches; other
    fields as values; records removed and added."""
    s0 = tiny(churn[:1], keep=6)[0]
    replace = msgspec.structs.replace
    v = list(s0.vmos.values())[:6]
    vmos = dict(s0.vmos)
    for n, vmo in enumerate(v[:4]):
        committed = vmo.committed_bytes + (4096 * (n + 1) if n < 2 else 0)
        vmos[vmo.koid] = replace(
            vmo, committed_bytes=committed, private_bytes=committed - 4096,
            scaled_fixed=3 * committed, total_bytes=committed,
            name=vmo.name + "!" if n == 2 else vmo.name, num_mappings=vmo.num_mappings + (n == 3))
    for n in 0, 1, 2, 3:  # the tick before: private moves with committed from here
        s0.vmos[v[n].koid] = replace(v[n], private_bytes=v[n].committed_bytes - 4096)
    del vmos[v[4].koid]
    vmos[99_999] = replace(v[5], koid=99_999)
    p0, p1 = sorted((p for p in s0.processes.values() if len(p.maps) > 2),
                    key=lambda p: p.koid)[:2]  # a delta's rows go by koid
    entry = p0.maps[1]
    processes = dict(s0.processes)
    processes[p0.koid] = replace(p0, maps=(p0.maps[0], replace(entry, committed_bytes=8192),
                                           *p0.maps[2:]))
    processes[p1.koid] = replace(p1, name="renamed", maps=(*p1.maps[:2], entry, *p1.maps[2:]))
    job = next(j for j in s0.jobs.values() if j.processes)
    jobs = dict(s0.jobs)
    jobs[job.koid] = replace(job, processes=(*job.processes, 12_345))
    s1 = replace(s0, tick=1, jobs=jobs, processes=processes, vmos=vmos, changes=Changes(
        frozenset([job.koid]), frozenset([p0.koid, p1.koid]),
        frozenset([*(r.koid for r in v[:4]), 99_999]), removed_vmos=frozenset([v[4].koid])))
    record(tmp_path / "r.zmrec", [s0, s1])
    recording = Recording.open(tmp_path / "r.zmrec")
    assert same(recording.snapshot_at(1), s1) and same(recording.snapshot_at(0), s0)
    delta = recording._decode(1, _DELTA)
    assert delta.vmos.committed_bytes == Moved(4096, [1, 2, 0, 0])
    assert delta.vmos.private_bytes == Moved(4096, 6)  # as committed_bytes, field 6
    assert delta.vmos.scaled_fixed == Times(3, 6) and delta.vmos.total_bytes == Times(1, 6)
    assert delta.vmos.num_mappings == Moved(1, [1], [3])  # only row 3 moved
    assert delta.vmos.name == [(2, v[2].name + "!")]
    assert [r.koid for r in delta.vmos.added] == [99_999]
    assert delta.processes.maps == [(0, [], [(1, 8, 8192)]), (1, [(2, 2, [entry])], [])]
    assert delta.processes.name == [(1, "renamed")]
    assert delta.jobs.processes == [(0, [(len(job.processes), len(job.processes), [12_345])],
                                     [])]


def test_records_that_only_moved_go_as_moves(tmp_path, churn):
    """Changes' moves are written as columns: all-zero ones empty, one equal to an earlier
    column by its index, the rest as a factor times values; replay rebuilds them."""
    s0 = tiny(churn[:1], keep=6)[0]
    v = sorted(s0.vmos)[:3]
    p = sorted(s0.processes)[:3]
    vmo_moves = {v[0]: 4096, v[1]: -8192, v[2]: 12288}
    page = 4096 << 24
    process_moves = {p[0]: (0, 0, 0, 4096, 4096, page), p[1]: (0, 0, 0, 0, 0, 5),
                     p[2]: (0, 0, 0, -4096, -4096, -page)}
    vmos = dict(s0.vmos)
    vmos.update((koid, vmos[koid].moved(by)) for koid, by in vmo_moves.items())
    processes = dict(s0.processes)
    processes.update((koid, processes[koid].moved(by)) for koid, by in process_moves.items())
    s1 = msgspec.structs.replace(
        s0, tick=1, vmos=vmos, processes=processes,
        changes=Changes(processes=frozenset(process_moves), vmos=frozenset(vmo_moves),
                        vmo_moves=vmo_moves, process_moves=process_moves))
    record(tmp_path / "m.zmrec", [s0, s1])
    recording = Recording.open(tmp_path / "m.zmrec")
    assert same(recording.snapshot_at(1), s1)
    delta = recording._decode(1, _DELTA)
    assert delta.vmo_moves.columns == [Moved(4096, [1, -2, 3])]
    assert delta.process_moves.columns == [
        Moved(1, [], []), Moved(1, 0), Moved(1, 0), Moved(4096, [1, 0, -1]), Moved(4096, 3),
        Moved(1, [page, 5, -page])]
    assert delta.vmos.koids == [] and delta.processes.koids == []


def test_factored_move_columns_encode_as_the_moves_they_stand_for():
    """The accountant hands VMO moves over as pages times PAGE_SIZE: written as if bytes."""
    columns = [[1, -2, 3], [1, -2, 3], [0, 0, 0], [2, 4, -6]]
    factored = MoveColumns([3, 7, 9], columns, [4096, 1, 4096, 8])
    moves = dict(factored.items())
    assert moves == {3: (4096, 1, 0, 16), 7: (-8192, -2, 0, 32), 9: (12288, 3, 0, -48)}
    assert _encode_moves(factored) == _encode_moves(moves)


@pytest.mark.parametrize("moves, width, match", [
    (Moves([5], [Moved(1, [1])]), 6, "wrong width"),
    (Moves([5], [Moved(1, 0)]), 1, "no earlier column"),
    (Moves([5, 1], [Moved(1, [1])]), 1, "wrong length"),
    (Moves([5, 1], [Moved(1, [1], [0, 1])]), 1, "more or fewer rows"),
])
def test_malformed_moves_are_refused(moves, width, match):
    with pytest.raises(ValueError, match=match):
        _decode_moves(moves, width)


def test_moves_add_up_across_a_seek_and_meet_later_changes(tmp_path, churn):
    """A seek past several deltas sums a record's moves, and makes them before a later
    delta changes the same record's other fields."""
    replace = msgspec.structs.replace
    s0 = tiny(churn[:1], keep=6)[0]
    v, p = sorted(s0.vmos)[0], sorted(s0.processes)[0]
    snaps = [s0]
    for tick, vmo_by, proc_by in ((1, 4096, (0, 0, 0, 4096, 4096, 7)),
                                  (2, -8192, (0, 0, 0, 8, 8, 9))):
        last = snaps[-1]
        snaps.append(replace(
            last, tick=tick, vmos={**last.vmos, v: last.vmos[v].moved(vmo_by)},
            processes={**last.processes, p: last.processes[p].moved(proc_by)},
            changes=Changes(processes=frozenset([p]), vmos=frozenset([v]),
                            vmo_moves={v: vmo_by}, process_moves={p: proc_by})))
    last = snaps[-1]
    held = last.vmos[v].process_count
    changed = replace(last.vmos[v], process_count=0 if held else 1)  # moves depend on it
    snaps.append(replace(last, tick=3, vmos={**last.vmos, v: changed},
                         changes=Changes(vmos=frozenset([v]))))
    record(tmp_path / "s.zmrec", snaps, keyframe_every=100)
    for tick in (3, 2, 1):  # each cold: one seek from the keyframe
        assert same(Recording.open(tmp_path / "s.zmrec").snapshot_at(tick), snaps[tick])


def test_recordings_made_before_the_pager_fields_still_read():
    """Kmem's pager fields are trailing with defaults: a 9-field kmem reads them as 0."""
    old = [8, 1, 1, 1, 0, 4, 1, 0, 0]
    assert kmem_after(None, old) == (*old, 0, 0, 0)
    assert kmem_after((1,) * 12, old) == (*(n + 1 for n in old), 1, 1, 1)
    key = msgspec.msgpack.decode(msgspec.msgpack.encode(old), type=Kmem)
    assert key.vmo_pager_total_bytes == 0 and key.vmo_bytes == 4
    with pytest.raises(ValueError):
        kmem_after(None, old[:8])
