"""Recordings crafted with valid checksums but hostile contents: broken references, loops,
memory bombs, a torn frame after a full disk, damage in the first frame. Each is a one-line
error naming the file and tick, quickly and in little memory; what comes before stays usable."""

from __future__ import annotations

import asyncio
import errno
import io
import os
import signal
import subprocess
import sys
import time

import msgspec
import pytest
import zstandard
from msgspec import Raw, structs

from zmtop.engine.recording.checks import check_snapshot
from zmtop.engine.recording.codec import Delta, Keyframe, encode_delta, encode_keyframe
from zmtop.engine.recording.format import (
    DELTA,
    FRAME,
    KEYFRAME,
    MAX_ITEMS,
    MAX_JOBS,
    MAX_PROCESSES,
    MAX_VMOS,
    Metadata,
    RecordingError,
)
from zmtop.engine.recording.limits import WITHIN_LIMITS_BYTES
from zmtop.engine.recording.reader import Recording
from zmtop.engine.recording.writer import (
    Recorder,
    delta_stream,
    frame_bytes,
    header_bytes,
)
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.snapshot.records import Changes, Process, Snapshot, VmoRef
from zmtop.engine.snapshot.tables import encode_hook
from zmtop.engine.sources.replay import ReplaySource
from zmtop.tui.replay_app import ReplayApp

META = Metadata(scenario="default", seed=1)
ENCODER = msgspec.msgpack.Encoder(enc_hook=encode_hook)
TIMEOUT = 60  # seconds for a CLI run: a hang fails the test instead of blocking it


@pytest.fixture(scope="module")
def snaps() -> list[Snapshot]:
    """Ticks 0 to 3 of the default scenario, their tables plain dicts."""
    sim = Simulation("default", 1)
    out = [sim.snapshot] + [sim.step() for _ in range(3)]
    return [structs.replace(s, jobs=dict(s.jobs), processes=dict(s.processes),
                            vmos=dict(s.vmos)) for s in out]


def keyframe(snap: Snapshot | Keyframe) -> tuple[bytes, bytes]:
    """A standalone keyframe frame of `snap`, and its raw bytes."""
    key = snap if isinstance(snap, Keyframe) else encode_keyframe(snap)
    raw = ENCODER.encode(key)
    return frame_bytes(key.tick, KEYFRAME, zstandard.ZstdCompressor().compress(raw),
                       len(raw)), raw


def deltas(key_raw: bytes, *items: Delta) -> bytes:
    """Delta frames after the keyframe whose raw bytes are `key_raw`, as the writer makes
    them."""
    stream = delta_stream(key_raw)
    out = b""
    for delta in items:
        raw = ENCODER.encode(delta)
        payload = stream.compress(raw) + stream.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        out += frame_bytes(delta.tick, DELTA, payload, len(raw))
    return out


def recording(*frames: bytes) -> bytes:
    return header_bytes(META) + b"".join(frames)


def with_tables(snap: Snapshot, **tables) -> Snapshot:
    return structs.replace(snap, **tables)


def job_loop(snap: Snapshot) -> Snapshot:
    """Two jobs each the other's parent, child lists agreeing: cut off from the root."""
    jobs = dict(snap.jobs)
    child = next(j for j in jobs.values() if j.parent_koid and j.parent_koid != snap.root_job)
    parent = jobs[child.parent_koid]
    grand = jobs[parent.parent_koid]
    jobs[grand.koid] = structs.replace(
        grand, jobs=tuple(k for k in grand.jobs if k != parent.koid))
    jobs[parent.koid] = structs.replace(jobs[parent.koid], parent_koid=child.koid)
    jobs[child.koid] = structs.replace(child, jobs=(*child.jobs, parent.koid))
    return with_tables(snap, jobs=jobs)


def vmo_loop(snap: Snapshot) -> Snapshot:
    vmos = dict(snap.vmos)
    a, b = list(vmos)[:2]
    vmos[a] = structs.replace(vmos[a], parent_koid=b)
    vmos[b] = structs.replace(vmos[b], parent_koid=a)
    return with_tables(snap, vmos=vmos)


def held_vmo(snap: Snapshot, mapped: bool) -> int:
    for proc in snap.processes.values():
        for entry in proc.maps if mapped else proc.vmo_refs:
            if entry.vmo_koid and (mapped or entry.via_handle):
                return entry.vmo_koid
    raise AssertionError("no such VMO")


def without_vmo(snap: Snapshot, koid: int) -> Snapshot:
    return with_tables(snap, vmos={k: v for k, v in snap.vmos.items() if k != koid})


def lost_job(snap: Snapshot) -> Snapshot:
    procs = dict(snap.processes)
    koid = next(iter(procs))
    procs[koid] = structs.replace(procs[koid], job_koid=max(snap.jobs) + 1)
    return with_tables(snap, processes=procs)


def orphan_clone(snap: Snapshot) -> Snapshot:
    vmos = dict(snap.vmos)
    koid = next(iter(vmos))
    vmos[koid] = structs.replace(vmos[koid], parent_koid=max(vmos) + 1)
    return with_tables(snap, vmos=vmos)


def reshaped(proc: Process, **fields) -> Process:
    """The process with its second map entry's `fields` changed."""
    maps = proc.maps
    return structs.replace(proc, maps=(maps[0], structs.replace(maps[1], **fields), *maps[2:]))


def reshaped_map(snap: Snapshot, **fields) -> Snapshot:
    """The second map entry of a process with a mapping changed (`fields`)."""
    procs = dict(snap.processes)
    koid = next(k for k, p in procs.items() if len(p.maps) > 2)
    procs[koid] = reshaped(procs[koid], **fields)
    return with_tables(snap, processes=procs)


BROKEN = {
    "missing root job": (lambda s: structs.replace(s, root_job=max(s.jobs) + 1),
                         "the root job"),
    "empty tables": (lambda s: with_tables(s, jobs={}, processes={}, vmos={}),
                     "the root job"),
    "job parent loop": (job_loop, "not under the root job"),
    "process in no job": (lost_job, "job"),
    "handle to no VMO": (lambda s: without_vmo(s, held_vmo(s, mapped=False)), "holds VMO"),
    "mapping of no VMO": (lambda s: without_vmo(s, held_vmo(s, mapped=True)), "VMO"),
    "clone of no VMO": (orphan_clone, "a clone of VMO"),
    "VMO parent loop": (vmo_loop, "its own ancestor"),
    "map entry of no type": (lambda s: reshaped_map(s, type="\x1b[2J"), "none of"),
    "map entry too deep": (lambda s: reshaped_map(s, depth=1 << 40), "at depth 1099511627776"),
    "map entry above the root": (lambda s: reshaped_map(s, depth=-1), "at depth -1"),
}


def zmtop(*argv, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zmtop", *map(str, argv)], text=True,
                          capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)


def one_line_error(result: subprocess.CompletedProcess[str], *parts: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("zmtop: ")
    for part in parts:
        assert part in result.stderr, result.stderr


# -- 3: references that do not hold --------------------------------------------------------


@pytest.mark.parametrize("name", list(BROKEN))
def test_a_broken_keyframe_is_damage_at_its_tick(snaps, name):
    break_it, reason = BROKEN[name]
    good, _ = keyframe(snaps[0])
    bad, _ = keyframe(break_it(snaps[1]))
    opened = Recording.from_bytes(recording(good, bad), "rec")
    source = ReplaySource(opened)  # tick 0 is sound
    with pytest.raises(RecordingError, match=r"^rec: frame at byte \d+ \(tick 1\) is damaged: "
                       ) as raised:
        source.step()
    assert reason in str(raised.value) and "\n" not in str(raised.value)
    assert source.snapshot.tick == 0 and source.seek(0).tick == 0


def test_a_delta_that_breaks_references_is_damage_at_its_tick(snaps):
    """A delta removing a job that a process still names: caught after the rebuild."""
    first = snaps[0]
    job = next(p.job_koid for p in first.processes.values())
    jobs = {k: v for k, v in first.jobs.items() if k != job}
    broken = structs.replace(first, tick=2, jobs=jobs,
                             changes=Changes(removed_jobs=frozenset({job})))
    same = structs.replace(first, tick=1, changes=Changes())
    frame, raw = keyframe(first)
    data = recording(frame, deltas(raw, encode_delta(same, first),
                                   encode_delta(broken, same)))
    opened = Recording.from_bytes(data, "rec")
    assert opened.ticks == [0, 1, 2]
    assert opened.checked_at(1).tick == 1
    with pytest.raises(RecordingError, match=r"\(tick 2\) is damaged: .*job"):
        opened.checked_at(2)
    assert opened.checked_at(0).tick == 0 and opened.checked_at(1).tick == 1


def changed_process(snap: Snapshot, change) -> Snapshot:
    """The tick after `snap` with one process (one that maps VMOs) changed by `change`."""
    koid = next(k for k, p in snap.processes.items() if len(p.maps) > 2)
    procs = {**snap.processes, koid: change(snap.processes[koid])}
    return structs.replace(snap, tick=snap.tick + 1, processes=procs,
                           changes=Changes(processes=frozenset({koid})))


def changed_vmos(snap: Snapshot, parents: dict[int, int]) -> Snapshot:
    """The tick after `snap` with the VMOs of `parents` (by position) made clones of those
    koids."""
    koids = list(snap.vmos)
    vmos = dict(snap.vmos)
    for at, parent in parents.items():
        vmos[koids[at]] = structs.replace(vmos[koids[at]], parent_koid=parent)
    return structs.replace(snap, tick=snap.tick + 1, vmos=vmos, changes=Changes(
        vmos=frozenset(koids[at] for at in parents)))


def added_process(snap: Snapshot) -> Snapshot:
    """The tick after `snap` with a copy of a process under a new koid its job does not
    list."""
    proc = next(iter(snap.processes.values()))
    koid = max(snap.processes) + 1000
    return structs.replace(snap, tick=snap.tick + 1,
                           processes={**snap.processes, koid: structs.replace(proc, koid=koid)},
                           changes=Changes(processes=frozenset({koid})))


NOWHERE = 1 << 40  # a koid no table holds
# A delta that changes references and removes nothing: checked for what it changed (True),
# or, where only the whole snapshot tells, whole (False).
BROKEN_STEPS = {
    "holds a VMO not there": (lambda s: changed_process(s, lambda p: structs.replace(
        p, vmo_refs=(*p.vmo_refs, VmoRef(NOWHERE, True)))), "holds VMO", True),
    "maps a VMO not there": (lambda s: changed_process(s, lambda p: structs.replace(
        p, maps=(*p.maps[:-1], structs.replace(p.maps[-1], vmo_koid=NOWHERE)))),
        "maps VMO", True),
    "map entry of no type": (lambda s: changed_process(s, lambda p: reshaped(p, type="\x1b")),
                             "none of", True),
    "clone of no VMO": (lambda s: changed_vmos(s, {0: NOWHERE}), "a clone of VMO", True),
    "VMO parent loop": (lambda s: changed_vmos(s, {0: list(s.vmos)[1], 1: list(s.vmos)[0]}),
                        "its own ancestor", True),
    "process moved to another job": (lambda s: changed_process(s, lambda p: structs.replace(
        p, job_koid=s.root_job)), "disagree", False),
    "process in no job's list": (added_process, "disagree", False),
}


@pytest.mark.parametrize("name", list(BROKEN_STEPS))
def test_a_step_onto_a_delta_that_breaks_references_is_damage(snaps, name, monkeypatch):
    """A replay's step checks what the delta changed (checks.check_step), and still finds
    each kind of damage a whole check finds."""
    from zmtop.engine.recording import checks

    break_it, reason, alone = BROKEN_STEPS[name]
    whole = []
    monkeypatch.setattr(checks, "check_snapshot",
                        lambda snap: whole.append(snap.tick) or check_snapshot(snap))
    first = structs.replace(snaps[0], changes=Changes())
    frame, raw = keyframe(first)
    opened = Recording.from_bytes(recording(frame, deltas(raw, encode_delta(
        break_it(first), first))), "rec")
    assert opened.checked_at(0).tick == 0
    with pytest.raises(RecordingError, match=r"\(tick 1\) is damaged: ") as raised:
        opened.checked_at(1)
    assert reason in str(raised.value)
    assert whole == ([] if alone else [1])
    with pytest.raises(ValueError, match=reason):  # a whole check agrees
        check_snapshot(opened.snapshot_at(1))


@pytest.fixture(scope="module")
def looped(snaps, tmp_path_factory):
    """Ticks 0 and 1 sound, tick 2 a job parent loop, tick 3 sound again."""
    path = tmp_path_factory.mktemp("hostile") / "loop.zmrec"
    frames = [keyframe(s)[0] for s in (snaps[0], snaps[1], job_loop(snaps[2]), snaps[3])]
    path.write_bytes(recording(*frames))
    return path


@pytest.mark.parametrize("argv", [("kzx", "ps"), ("ps",), ("kstats",), ("vmos", "--hidden")])
def test_batch_commands_past_the_damage_fail_in_one_line(looped, argv):
    one_line_error(zmtop(*argv, "--from", looped, "--at", 2), f"{looped}:", "(tick 2)",
                   "not under the root job")
    assert zmtop(*argv, "--from", looped, "--at", 1).returncode == 0


@pytest.mark.parametrize("json", [False, True], ids=["text", "json"])
def test_vmaps_of_a_forged_map_entry_is_one_line(snaps, tmp_path, json):
    """A map entry's type picked its vmaps style and JSON name: a forged one printed raw
    control bytes, or raised KeyError."""
    forged = reshaped_map(snaps[1], type="\x1b[2J")
    koid = next(k for k, p in forged.processes.items() if p.maps != snaps[1].processes[k].maps)
    path = tmp_path / "forged.zmrec"
    path.write_bytes(recording(keyframe(snaps[0])[0], keyframe(forged)[0]))
    argv = ("vmaps", *(["--json"] if json else []), koid, "--from", path)
    one_line_error(zmtop(*argv, "--at", 1), f"{path}:", "(tick 1)", "none of")
    assert "\x1b" not in zmtop(*argv, "--at", 1).stderr
    assert zmtop(*argv, "--at", 0).returncode == 0


def test_a_frame_holding_another_tick_than_its_header_names_is_damage(snaps, tmp_path):
    """Seeks and the timeline go by a frame's header, the views by the tick it holds: a
    replay of such a frame raised IndexError building the kstats history (fuzzed)."""
    _, raw = keyframe(snaps[0])  # holds tick 0
    forged = frame_bytes(7, KEYFRAME, zstandard.ZstdCompressor().compress(raw), len(raw))
    opened = Recording.from_bytes(recording(keyframe(snaps[0])[0], forged), "rec")
    with pytest.raises(RecordingError, match=r"\(tick 7\) is damaged: it holds tick 0"):
        opened.checked_at(7)
    path = tmp_path / "forged.zmrec"
    path.write_bytes(recording(forged))
    one_line_error(zmtop("replay", path), f"{path}:", "(tick 7)", "it holds tick 0")


def test_a_damaged_last_tick_before_a_torn_frame_is_one_line(snaps, tmp_path):
    """The torn frame after it goes unsaid: the damage before it is what ends the command."""
    path = tmp_path / "torn.zmrec"
    frames = [keyframe(s)[0] for s in (snaps[0], snaps[1], job_loop(snaps[2]), snaps[3])]
    path.write_bytes(recording(*frames)[:-10])
    one_line_error(zmtop("ps", "--from", path), "(tick 2) is damaged",
                   "2 ticks before it are usable")
    result = zmtop("ps", "--from", path, "--at", 1)
    assert result.returncode == 0 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("zmtop: warning: ") and "(tick 3) is cut short" in result.stderr


def test_kstats_stepping_into_the_damage_fails_in_one_line(looped):
    one_line_error(zmtop("kstats", "-n", 3, "--from", looped, "--at", 0), "(tick 2)")


def test_replay_of_a_damaged_first_tick_is_one_line(snaps, tmp_path):
    path = tmp_path / "first.zmrec"
    path.write_bytes(recording(keyframe(job_loop(snaps[0]))[0]))
    one_line_error(zmtop("replay", path), "(tick 0)", "not under the root job")


async def test_the_replay_app_shows_damage_as_a_notice(looped):
    app = ReplayApp(ReplaySource(Recording.open(looped)), autostart=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("full_stop")
        await pilot.pause()
        assert app.snapshot.tick == 1
        await pilot.press("full_stop")
        await pilot.pause()
        assert app.snapshot.tick == 1  # the damaged tick is not shown
        notices = [n.message for n in app._notifications]
        assert any("(tick 2)" in m and "\n" not in m for m in notices), notices
        await pilot.press("left_curly_bracket")
        await pilot.pause()
        assert app.snapshot.tick == 0
        await pilot.press("right_curly_bracket")  # tick 3 is sound again
        await pilot.pause()
        assert app.snapshot.tick == 3


async def test_playing_into_damage_stops_with_a_notice(looped):
    app = ReplayApp(ReplaySource(Recording.open(looped)), tick_seconds=0.02)
    async with app.run_test(size=(120, 36)):
        app.action_play()
        for _ in range(200):
            await asyncio.sleep(0.02)
            if app.paused and app._notifications:
                break
        assert app.paused and app.snapshot.tick == 1
        assert any("(tick 2)" in n.message for n in app._notifications)


def test_a_head_that_fails_to_decode_ends_the_timeline(snaps):
    """A later frame whose very head is garbage: the earlier ticks' events and kstats stay."""
    good, _ = keyframe(snaps[0])
    raw = msgspec.msgpack.encode("not a frame")
    bad = frame_bytes(1, KEYFRAME, zstandard.ZstdCompressor().compress(raw), len(raw))
    opened = Recording.from_bytes(recording(good, bad), "rec")
    assert len(opened.kmems_until(1, 10)) == 1 and opened.times() == [snaps[0].time_ns]
    assert any("(tick 1)" in e for e in opened.errors)


# -- 4: memory bombs ---------------------------------------------------------------------


def array(count: int, element: bytes) -> Raw:
    """A msgpack array of `count` copies of the encoded `element`."""
    return Raw(b"\xdd" + count.to_bytes(4, "big") + element * count)


def bomb(snap: Snapshot, **fields) -> bytes:
    """A keyframe of `snap` with some of its lists replaced by Raw msgpack."""
    key = structs.replace(encode_keyframe(snap), **fields)
    return recording(keyframe(key)[0])


def ref_bomb(snap: Snapshot, count: int) -> bytes:
    """One process holding `count` handles to a real VMO: honest records, one kind."""
    procs = encode_keyframe(snap).processes
    vmo = next(iter(snap.vmos))
    ref = msgspec.msgpack.encode([vmo, True, 3])
    procs = [structs.replace(procs[0], vmo_refs=array(count, ref)), *procs[1:]]
    return bomb(snap, processes=procs)


@pytest.mark.parametrize("what, fields, match", [
    ("jobs", lambda s: {"jobs": array(MAX_JOBS + 1, b"\xc0")}, "jobs"),
    ("processes", lambda s: {"processes": array(MAX_PROCESSES + 1, b"\xc0")}, "processes"),
    ("vmos", lambda s: {"vmos": array(MAX_VMOS + 1, ENCODER.encode(next(iter(s.vmos.values()))))},
     "VMOs"),
    ("events", lambda s: {"events": array(MAX_ITEMS + 1, b"\xc0")}, "items"),
])
def test_a_keyframe_with_too_many_records_is_refused(snaps, what, fields, match):
    data = bomb(snaps[0], **fields(snaps[0]))
    with pytest.raises(RecordingError, match=rf"\(tick 0\) is damaged: .*{match}"):
        Recording.from_bytes(data, "rec").checked_at(0)


def test_items_across_processes_are_counted_together(snaps):
    procs = encode_keyframe(snaps[0]).processes
    vmo = next(iter(snaps[0].vmos))
    refs = array(MAX_ITEMS // 4 + 1, msgspec.msgpack.encode([vmo, True, 3]))
    data = bomb(snaps[0], processes=[structs.replace(p, vmo_refs=refs) for p in procs[:4]]
                + procs[4:])
    with pytest.raises(RecordingError, match=r"items \(limit"):
        Recording.from_bytes(data, "rec").checked_at(0)


def test_a_delta_adding_too_many_records_is_refused(snaps):
    first = snaps[0]
    frame, raw = keyframe(first)
    delta = encode_delta(structs.replace(first, tick=1, changes=Changes()), first)
    delta = structs.replace(delta, vmos=structs.replace(
        delta.vmos, added=array(MAX_VMOS + 1, ENCODER.encode(next(iter(first.vmos.values()))))))
    opened = Recording.from_bytes(recording(frame, deltas(raw, delta)), "rec")
    assert opened.checked_at(0).tick == 0
    with pytest.raises(RecordingError, match=r"\(tick 1\) is damaged: .*added VMOs"):
        opened.checked_at(1)


def test_a_small_frame_claiming_too_many_records_is_damaged_not_counted(snaps):
    """A frame of at most WITHIN_LIMITS_BYTES skips the count: a list header claiming more
    elements than the bytes left is refused as it decodes, whatever its claim."""
    first = snaps[0]
    frame, raw = keyframe(first)
    delta = encode_delta(structs.replace(first, tick=1, changes=Changes()), first)
    vmo = ENCODER.encode(next(iter(first.vmos.values())))
    claim = Raw(b"\xdd" + (MAX_VMOS + 1).to_bytes(4, "big") + vmo)  # one VMO follows
    delta = structs.replace(delta, vmos=structs.replace(delta.vmos, added=claim))
    assert len(ENCODER.encode(delta)) <= WITHIN_LIMITS_BYTES
    opened = Recording.from_bytes(recording(frame, deltas(raw, delta)), "rec")
    with pytest.raises(RecordingError, match=r"\(tick 1\) is damaged"):
        opened.checked_at(1)


def test_records_within_the_limits_still_decode(snaps):
    """A process at many times a real one's handles, under the limit, reads back whole."""
    data = ref_bomb(snaps[0], 100_000)
    snap = Recording.from_bytes(data, "rec").checked_at(0)
    assert sum(len(p.vmo_refs) for p in snap.processes.values()) >= 100_000


def test_a_memory_bomb_is_refused_quickly_in_little_memory(snaps, tmp_path):
    """16 MB of honest handle records: decoded whole, about 300 MB of objects."""
    path = tmp_path / "bomb.zmrec"
    path.write_bytes(ref_bomb(snaps[0], MAX_ITEMS + 1))
    assert path.stat().st_size < 1 << 20
    # VmHWM: the peak of this process alone (ru_maxrss keeps the forking parent's)
    script = ("import re, sys\nfrom zmtop.cli.main import main\n"
              f"code = main(['kstats', '--from', {str(path)!r}])\n"
              "status = open('/proc/self/status').read()\n"
              "print(re.search(r'VmHWM:\\s+(\\d+)', status)[1], file=sys.stderr)\n"
              "sys.exit(code)\n")
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-c", script], text=True, capture_output=True,
                            timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - start
    error, rss = result.stderr.splitlines()
    assert result.returncode == 2 and "(tick 0) is damaged" in error and "items" in error
    assert int(rss) < 120_000, f"peak RSS {int(rss) // 1000} MB"  # KB; decoded whole: > 300 MB
    assert elapsed < 15


# -- 9: a full disk ------------------------------------------------------------------------


class ShortDisk(io.RawIOBase):
    """A raw file with `room` bytes left: a write takes what fits, the next fails, as
    write(2) does on a full disk."""

    def __init__(self, path, room: int) -> None:
        self.file = open(path, "wb", buffering=0)  # noqa: SIM115 (closed by close())
        self.room = room

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if not self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        taken = self.file.write(bytes(data[:self.room]))
        self.room -= taken
        return taken

    def truncate(self, size=None) -> int:
        return self.file.truncate(size)

    def close(self) -> None:
        self.file.close()
        super().close()


def test_a_full_disk_mid_frame_leaves_every_whole_frame(snaps, tmp_path):
    path = tmp_path / "full.zmrec"
    header = len(header_bytes(META))
    with Recorder(tmp_path / "all.zmrec", META, keyframe_every=2) as whole:
        sizes = []
        for snap in snaps:
            before = whole.bytes_written
            whole.append(snap)
            sizes.append(whole.bytes_written - before)
    room = header + sizes[0] + sizes[1] + sizes[2] // 2
    recorder = Recorder(path, META, keyframe_every=2, file=ShortDisk(path, room))
    with pytest.raises(RecordingError, match="recording stopped at tick 2: No space left"):
        for snap in snaps:
            recorder.append(snap)
    assert path.stat().st_size == header + sizes[0] + sizes[1]
    opened = Recording.open(path)
    assert opened.errors == [] and opened.ticks == [0, 1]
    assert opened.checked_at(1) == snaps[1]


FILL_SCRIPT = """
import resource, signal, sys
from zmtop.engine.recording.format import Metadata, RecordingError
from zmtop.engine.recording.writer import Recorder
from zmtop.engine.sim.simulation import Simulation

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
sim = Simulation("default", 1)
snaps = [sim.snapshot] + [sim.step() for _ in range(6)]
limit = int(sys.argv[2])
if limit:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
recorder = Recorder(sys.argv[1], Metadata(), keyframe_every=3)
try:
    for snap in snaps:
        recorder.append(snap)
        print(recorder.bytes_written)
except RecordingError as error:
    print(error, file=sys.stderr)
    sys.exit(2)
"""


def fill(path, limit: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", FILL_SCRIPT, str(path), str(limit)],
                          text=True, capture_output=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL)


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
@pytest.mark.parametrize("tick", [2, 3])  # the middle of a small delta, of a keyframe
def test_a_real_file_that_fills_up_is_cut_back_to_its_last_whole_frame(tmp_path, tick):
    """The Recorder's own file, the size limit of the process standing in for a full disk:
    write(2) takes part of a frame, then fails; nothing buffered may come back."""
    ends = [int(line) for line in fill(tmp_path / "whole.zmrec", 0).stdout.split()]
    path = tmp_path / "filled.zmrec"
    result = fill(path, (ends[tick - 1] + ends[tick]) // 2)
    assert result.returncode == 2 and f"recording stopped at tick {tick}" in result.stderr
    opened = Recording.open(path)
    assert opened.errors == [] and opened.ticks == list(range(tick))
    assert os.path.getsize(path) == ends[tick - 1]


# -- 13: damage in the first frame -----------------------------------------------------------


def test_damage_in_the_first_frame_names_its_tick(snaps):
    frame, _ = keyframe(structs.replace(snaps[0], tick=7))
    damaged = bytearray(recording(frame))
    damaged[-1] ^= 0xFF
    opened = Recording.from_bytes(bytes(damaged), "rec")
    assert opened.ticks == []
    assert opened.errors[0].startswith("rec: frame at byte ") and "(tick 7) is damaged" \
        in opened.errors[0]
    cut = recording(frame)[:len(header_bytes(META)) + FRAME.size - 6]
    assert "(the first frame) is cut short" in Recording.from_bytes(cut, "rec").errors[0]
