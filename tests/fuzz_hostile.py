"""Hostile inputs for the CLI (issue 13): mutants of memory_monitor captures (plain and with
buckets), memgraph JSON and zmtop recordings, each run through `python -m zmtop` commands in a
subprocess; recordings also through the replay's screens, walked headless (replay_screens.py).
Every run must end in exit status 2 with one line on stderr, or exit 0 with a correct result;
never a traceback, a hang, a raw control character or more than 1 GB.

`python tests/fuzz_hostile.py -n 10000` (make fuzz) runs seeds 0..n-1 and prints a summary;
`--seed S -n 1 -v` replays one. tests/test_fuzz_hostile.py runs a few under hypothesis.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import zstandard
from msgspec import structs
from real_capture import BUCKETS, CAPTURE, trim_capture
from terminal_safety import raw_in

from zmtop.engine.recording.codec import encode_delta, encode_keyframe
from zmtop.engine.recording.format import CHAINED, DELTA, FRAME, HEADER, KEYFRAME
from zmtop.engine.recording.reader import Recording
from zmtop.engine.recording.writer import delta_stream, frame_bytes, header_bytes, keyframe_payload
from zmtop.engine.snapshot.tables import encode_hook
from zmtop.engine.sources.detect import parse_source
from zmtop.engine.sources.memgraph_reader import to_memgraph

KINDS = ("capture", "wrapped", "memgraph", "recording")
TIMEOUT = 10.0  # seconds a command may take
REPLAY_SCREENS = Path(__file__).with_name("replay_screens.py")
MEMORY = 1 << 30  # bytes of address space a command may take
KEEP = 8  # processes of the fixture capture kept in the bases: small inputs run fast

# What a run ends as; the first two are the only acceptable ones.
CLEAN, CORRECT = "clean error", "correct result"
TRACEBACK, HANG, CONTROL, MEMORY_FAILURE, BAD = (
    "traceback", "hang", "raw control character", "memory failure", "bad result")
CATEGORIES = (CLEAN, CORRECT, TRACEBACK, HANG, CONTROL, MEMORY_FAILURE, BAD)

HOSTILE_STRINGS = (
    "\x1b[31mred\x1b[0m", "\x1b]0;pwned\x07", "\x1b[2J\x1b[H", "\x9b31m", "a\u202eevil.cm",
    "\u2066iso\u2069", "zero\u200bwidth\u200f", 'q"uo,te\nnew\rline', "tab\tand\x00nul", "",
    "\ud800", "x" * 150_000, "\x1b" * 1000, "%s%n{0}", "../../etc/passwd", "\u00e9\U0001f600",
    "line\u2028sep\u2029", "\ufeffbom\u2060\u00ad", "tag\U000e0041\U000e007f",
)
ENCODABLE_STRINGS = tuple(s for s in HOSTILE_STRINGS if s != "\ud800")  # msgpack holds UTF-8
SHORT_STRINGS = tuple(s for s in ENCODABLE_STRINGS if len(s) < 100)  # many of them at once
HOSTILE_NUMBERS = (0, -1, 2**63, 2**64, 2**63 - 1, -(2**63), 1e308, 1.5, math.nan, math.inf)
ODD_VALUES = (None, True, "x", [], {}, [1, "a"], {"k": 0}, 0, -1, 1.5)
NOISE = b'{}[]",:-.0123456789eE aZ\\\n\t\x00\xff\xc3\x1b'


@dataclass(frozen=True)
class Command:
    """One CLI run on a mutant: its arguments ({file}, {koid}, {out} filled in), what its
    standard output is when it succeeds, the program run (zmtop's CLI, or a script of
    tests/), the kinds of input it takes, and the seconds it may take."""

    name: str
    argv: tuple[str, ...]
    output: str = "text"  # text, json, or record (a recording written to {out})
    program: tuple[str, ...] = ("-m", "zmtop")
    kinds: tuple[str, ...] = KINDS
    timeout: float = TIMEOUT


COMMANDS = (
    Command("ps", ("ps", "--from", "{file}")),
    Command("ps --json", ("ps", "--json", "--from", "{file}"), "json"),
    Command("ps -T", ("ps", "-T", "--from", "{file}")),
    Command("kstats", ("kstats", "--from", "{file}")),
    Command("kstats --json", ("kstats", "--json", "--from", "{file}"), "json"),
    Command("digest", ("digest", "--from", "{file}")),
    Command("digest --csv", ("digest", "--csv", "--from", "{file}")),
    Command("digest --json", ("digest", "--json", "--from", "{file}"), "json"),
    Command("vmos KOID", ("vmos", "{koid}", "--from", "{file}")),
    Command("vmos --json KOID", ("vmos", "--json", "{koid}", "--from", "{file}"), "json"),
    Command("vmaps KOID", ("vmaps", "{koid}", "--from", "{file}")),
    Command("vmaps --json KOID", ("vmaps", "--json", "{koid}", "--from", "{file}"), "json"),
    Command("events", ("events", "--from", "{file}")),
    Command("kzx ps", ("kzx", "ps", "--from", "{file}")),
    Command("export capture", ("export", "--format", "capture", "--from", "{file}"), "json"),
    Command("record", ("record", "{out}", "--from", "{file}"), "record"),
    Command("treemap", ("treemap", "--from", "{file}")),
    # `zmtop replay FILE`, walked headless through every view: each screen's lines printed
    Command("replay screens", ("{file}",), program=(str(REPLAY_SCREENS),),
            kinds=("recording",), timeout=60.0),
)


def commands_for(kind: str) -> tuple[Command, ...]:
    """The commands that take an input of `kind`."""
    return tuple(c for c in COMMANDS if kind in c.kinds)


@dataclass
class Outcome:
    command: str
    category: str
    signature: str = ""  # what kind of failure, for grouping; empty when acceptable


# ---- the unmutated inputs ----

@dataclass
class Base:
    """An input kind's unmutated bytes, its JSON document or recording pieces, and a koid."""

    kind: str
    data: bytes
    koid: int
    doc: object = None
    metadata: dict = field(default_factory=dict)
    snapshots: list = field(default_factory=list)  # a recording's, tick by tick

    @property
    def suffix(self) -> str:
        return ".zmrec" if self.kind == "recording" else ".json"


def build_bases(workdir: Path) -> dict[str, Base]:
    """The four unmutated inputs, from the fixture capture and a short recording."""
    capture = trim_capture(json.loads(CAPTURE.read_bytes()), KEEP)
    koid = capture["Processes"][1][0]
    wrapped = {"Capture": capture,
               "Buckets": json.loads(BUCKETS.read_bytes())}
    memgraph = to_memgraph(parse_source(json.dumps(capture).encode(), "base").snapshot)
    bases = {kind: Base(kind, json.dumps(doc).encode(), koid, doc)
             for kind, doc in (("capture", capture), ("wrapped", wrapped),
                               ("memgraph", json.loads(memgraph)))}
    path = workdir / "base.zmrec"
    subprocess.run([sys.executable, "-m", "zmtop", "record", str(path), "--scenario", "boot",
                    "--ticks", "4"], check=True, timeout=60, cwd=workdir)
    recording = Recording.open(path)
    snaps = [recording.snapshot_at(t) for t in recording.ticks]
    bases["recording"] = Base("recording", path.read_bytes(), next(iter(snaps[-1].processes)),
                              metadata=msgspec.to_builtins(recording.metadata), snapshots=snaps)
    return bases


_ENCODER = msgspec.msgpack.Encoder(enc_hook=encode_hook)


def _raw_frames(snaps: list) -> list[tuple[int, int, bytes]]:
    """(tick, kind, raw msgpack) of each snapshot, as the writer encodes them."""
    frames = [(snaps[0].tick, KEYFRAME, _ENCODER.encode(encode_keyframe(snaps[0])))]
    return frames + [(s.tick, DELTA, _ENCODER.encode(encode_delta(s, p)))
                     for p, s in zip(snaps, snaps[1:])]


def _renamed(snaps: list, rng: random.Random) -> list:
    """The snapshots with hostile names on some jobs, processes and VMOs, the same in every
    tick (so the deltas stay consistent)."""
    last = snaps[-1]
    names = {}
    for table in ("jobs", "processes", "vmos"):
        koids = list(getattr(last, table))
        for koid in rng.sample(koids, min(len(koids), rng.randint(1, 20))):
            names[table, koid] = rng.choice(SHORT_STRINGS)
    names[rng.choice(list(names))] = rng.choice(ENCODABLE_STRINGS)
    out = []
    for snap in snaps:
        tables = {}
        for table in ("jobs", "processes", "vmos"):
            records = getattr(snap, table)
            tables[table] = {k: structs.replace(r, name=names[table, k])
                             if (table, k) in names else r for k, r in records.items()}
        out.append(structs.replace(snap, **tables))
    return out


# ---- mutations ----

def _nodes(node):
    """Every (container, key) in a JSON-like tree, depth first."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield node, key
        yield from _nodes(child)


def _hostile_value(old, rng: random.Random):
    if isinstance(old, str) or rng.random() < 0.2:
        return rng.choice(HOSTILE_STRINGS)
    if isinstance(old, int | float) and rng.random() < 0.8:
        return rng.choice(HOSTILE_NUMBERS)
    return rng.choice(ODD_VALUES)


def _loop_parents(doc, rng: random.Random) -> bool:
    """Parent references into a loop or to themselves: capture VMO rows' parent_koid,
    memgraph's "parent" ids."""
    if isinstance(doc, dict) and isinstance(doc.get("Capture"), dict):
        doc = doc["Capture"]
    if isinstance(doc, dict) and isinstance(doc.get("Vmos"), list) and len(doc["Vmos"]) > 2:
        rows = doc["Vmos"][1:]
        a, b = rng.choice(rows), rng.choice(rows)
        a[2], b[2] = b[0], a[0]
        return True
    if isinstance(doc, list):
        nodes = [n for n in doc if isinstance(n, dict) and "id" in n and "parent" in n]
        if len(nodes) > 1:
            a, b = rng.choice(nodes), rng.choice(nodes)
            a["parent"], b["parent"] = b["id"], a["id"]
            return True
    return False


def _name_spots(doc) -> list:
    """(container, key) of every name: capture VMO and process names, memgraph and bucket
    "name" values."""
    if isinstance(doc, dict) and isinstance(doc.get("Capture"), dict):
        return _name_spots(doc["Capture"]) + _name_spots(doc.get("Buckets"))
    spots = []
    if isinstance(doc, dict):
        names = doc.get("VmoNames")
        spots += [(names, i) for i in range(len(names))] if isinstance(names, list) else []
        procs = doc.get("Processes")
        spots += [(row, 1) for row in procs[1:] if isinstance(row, list) and len(row) > 1] \
            if isinstance(procs, list) else []
    spots += [(c, k) for c, k in _nodes(doc) if k == "name" and isinstance(c[k], str)]
    return spots


def mutate_tree(doc, rng: random.Random):
    """A structure-aware change of a decoded JSON (or msgpack) document: a value of another
    type, a hostile number or name, a dropped key, a duplicated row, looped parents, an
    emptied table. Returns the (possibly new) document."""
    op = rng.randrange(12)
    if op == 0 and _loop_parents(doc, rng):
        return doc
    names = _name_spots(doc) if op >= 7 else []
    if names:  # hostile names in an otherwise valid input: they reach the output
        for container, key in rng.sample(names, min(len(names), rng.randint(1, 40))):
            container[key] = rng.choice(SHORT_STRINGS)
        container, key = rng.choice(names)
        container[key] = rng.choice(HOSTILE_STRINGS)
        return doc
    spots = list(_nodes(doc))
    if not spots:
        return rng.choice(ODD_VALUES)
    if op == 1:  # names and numbers everywhere at once: many hostile strings in one input
        for container, key in spots:
            if isinstance(container[key], str) and rng.random() < 0.3:
                container[key] = rng.choice(HOSTILE_STRINGS[:10])
        return doc
    container, key = rng.choice(spots)
    value = container[key]
    if op == 2 and isinstance(container, dict):
        del container[key]
    elif op == 3 and isinstance(value, list) and value:  # an emptied table, or its header only
        del value[rng.randrange(2):]
    elif op == 4 and isinstance(value, list) and value:  # a duplicated row (duplicate koids)
        value.insert(rng.randrange(len(value) + 1), json.loads(json.dumps(rng.choice(value))))
    else:
        container[key] = _hostile_value(value, rng)
    return doc


def _json_bytes(doc) -> bytes:
    try:
        return json.dumps(doc).encode()
    except (ValueError, OverflowError):
        return json.dumps(doc, allow_nan=True).encode()


def mutate_bytes(data: bytes, rng: random.Random, other: bytes = b"") -> bytes:
    """Flip, truncate, insert or splice bytes."""
    n = len(data)
    at = rng.randrange(n)
    op = rng.randrange(5)
    if op == 0:
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(n)] ^= 1 << rng.randrange(8)
        return bytes(out)
    if op == 1:
        return data[:at]
    if op == 2:
        return data[:at] + bytes(rng.choice(NOISE) for _ in range(rng.randint(1, 16))) + data[at:]
    if op == 3:  # a span of this input or of another kind's, pasted over or in
        source = other if other and rng.random() < 0.3 else data
        start = rng.randrange(len(source))
        span = source[start:start + rng.randint(1, 4096)]
        end = at + (len(span) if rng.random() < 0.5 else 0)
        return data[:at] + span + data[end:]
    return data[:at] + data[at + rng.randint(1, 256):]  # a span cut out


def _encode_frames(frames: list[tuple[int, int, bytes]], metadata) -> bytes:
    """A recording written as the writer writes it (keyframe, then deltas in its stream),
    with valid checksums, whatever the frames hold."""
    out = [header_bytes(metadata)]
    stream, key_raw = None, None
    for tick, kind, raw in frames:
        if kind == DELTA and stream is not None:
            payload = stream.compress(raw) + stream.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        else:
            payload = keyframe_payload(raw, key_raw if kind == CHAINED else None)
            stream, key_raw = delta_stream(raw), raw
        out.append(frame_bytes(tick, kind, payload, len(raw)))
    return b"".join(out)


def _packed(doc, fallback: bytes) -> bytes:
    try:
        return msgspec.msgpack.encode(doc)
    except (OverflowError, TypeError, UnicodeEncodeError, ValueError):
        return fallback


def mutate_recording(base: Base, rng: random.Random) -> bytes:
    """A recording whose checksums hold but whose content is hostile: frames' records,
    ticks, kinds, stated sizes, order, or the header's metadata."""
    op = rng.randrange(9)
    snaps = _renamed(base.snapshots, rng) if op >= 5 else base.snapshots
    frames = _raw_frames(snaps)
    metadata = dict(base.metadata)
    i = rng.randrange(len(frames))
    tick, kind, raw = frames[i]
    if op <= 1:  # the records themselves, decoded as plain msgpack and changed
        for _ in range(rng.randint(1, 3)):
            raw = _packed(mutate_tree(msgspec.msgpack.decode(raw), rng), raw)
        frames[i] = (tick, kind, raw)
    elif op == 2:  # ticks out of order, repeated or huge; a kind not written there
        frames[i] = (rng.choice((0, max(0, tick - 1), frames[0][0], 2**32 - 1, tick + 10**6)), kind, raw) \
            if rng.random() < 0.6 else (tick, rng.choice((KEYFRAME, DELTA, CHAINED, 0, 255)), raw)
    elif op == 3:  # frames dropped or repeated
        if rng.random() < 0.5 and len(frames) > 1:
            del frames[i]
        else:
            frames.insert(i, frames[i])
    elif op == 4:  # metadata: hostile values, another type, or not a map
        if rng.random() < 0.2:
            metadata = rng.choice(ODD_VALUES)
        else:
            metadata = mutate_tree(metadata, rng)
        if _packed(metadata, b"") == b"":
            metadata = {"source": rng.choice(HOSTILE_STRINGS[:10])}
    elif op == 5:  # a frame that states a size other than its own, or inflates far (a bomb)
        return _restate(_encode_frames(frames, metadata), rng)
    return _encode_frames(frames, metadata)  # ops 6-8: hostile names only


def _restate(data: bytes, rng: random.Random) -> bytes:
    """Change the first frame's stated raw length or payload, checksum recomputed."""
    meta_length = HEADER.unpack_from(data)[2]
    at = HEADER.size + meta_length
    _, length, raw_length, tick, kind = FRAME.unpack_from(data, at)
    payload = data[at + FRAME.size:at + FRAME.size + length]
    if rng.random() < 0.5:
        raw_length = rng.choice((0, 1, raw_length - 1, raw_length + 1, 2**32 - 1, 255 << 20))
    else:
        payload = zstandard.ZstdCompressor(level=1).compress(b"\0" * (rng.choice((1, 64)) << 20))
        raw_length = rng.choice((raw_length, (64 << 20)))
    head = FRAME.pack(0, len(payload), raw_length, tick, kind)[4:]
    crc = zlib.crc32(payload, zlib.crc32(head))
    return data[:at] + crc.to_bytes(4, "little") + head + payload + data[at + FRAME.size + length:]


def mutant(bases: dict[str, Base], kind: str, rng: random.Random) -> bytes:
    """One hostile input of `kind`, from rng: structure-aware half the time, bytes otherwise."""
    base = bases[kind]
    other = bases[rng.choice(KINDS)].data
    if rng.random() < 0.35:
        return mutate_bytes(base.data, rng, other)
    if kind == "recording":
        data = mutate_recording(base, rng)
    else:
        doc = json.loads(base.data)
        for _ in range(rng.randint(1, 3)):
            doc = mutate_tree(doc, rng)
        data = _json_bytes(doc)
    if rng.random() < 0.1:
        data = mutate_bytes(data, rng, other)
    return data


# ---- running and judging ----

def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_command(command: Command, file: Path, koid: int, workdir: Path) -> Outcome:
    """Run one command on `file` in a subprocess and judge how it ended."""
    out = workdir / "out.zmrec"
    out.unlink(missing_ok=True)
    argv = [a.format(file=file, koid=koid, out=out) for a in command.argv]
    child = subprocess.Popen([sys.executable, *command.program, *argv], cwd=workdir,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, preexec_fn=_limit, start_new_session=True)
    try:
        stdout, stderr = child.communicate(timeout=command.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        return Outcome(command.name, HANG, f"hang: {command.name}")
    return judge(command, child.returncode, stdout, stderr, out)


def _traceback_signature(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    frames = [line.strip() for line in lines if line.strip().startswith("File ")]
    last = lines[-1][:120] if lines else ""
    where = re.sub(r'File ".*?([^/]+)", line (\d+), in (\S+)', r"\1:\2 \3", frames[-1]) if frames else ""
    return f"{last} @ {where}"


def judge(command: Command, status: int, stdout: bytes, stderr: bytes, out: Path) -> Outcome:
    """The run's category: clean error or correct result, or what went wrong."""
    name = command.name
    text = stderr.decode("utf-8", "replace")
    if status < 0 or "MemoryError" in text:
        what = f"signal {-status}" if status < 0 else text.strip().splitlines()[-1][:80]
        return Outcome(name, MEMORY_FAILURE, f"memory: {name}: {what}")
    if "Traceback (most recent call last)" in text:
        return Outcome(name, TRACEBACK, _traceback_signature(text))
    for stream, data in (("stdout", stdout), ("stderr", stderr)):
        found = raw_in(data.decode("utf-8", "replace"))
        if found:
            return Outcome(name, CONTROL, f"control on {stream}: {name}: {min(found)!r}")
    if status == 2:
        if stderr.count(b"\n") == 1 and stderr.endswith(b"\n") and stderr.startswith(b"zmtop: "):
            return Outcome(name, CLEAN)
        return Outcome(name, BAD, f"exit 2 without one error line: {name}")
    if status != 0:
        return Outcome(name, BAD, f"exit {status}: {name}")
    if stderr and not (stderr.startswith(b"zmtop: warning: ") and stderr.count(b"\n") == 1
                       and stderr.endswith(b"\n")):
        return Outcome(name, BAD, f"exit 0 with more than a warning line on stderr: {name}")
    problem = _result_problem(command, stdout, out)
    return Outcome(name, BAD, f"{problem}: {name}") if problem else Outcome(name, CORRECT)


def _result_problem(command: Command, stdout: bytes, out: Path) -> str:
    if command.output == "json":
        try:
            json.loads(stdout)
        except ValueError:
            return "unparseable JSON"
    elif command.output == "record":
        try:
            if not Recording.open(out).ticks:
                return "a recording with no tick"
        except Exception as error:  # noqa: BLE001 - any failure to read it back is the finding
            return f"a recording that does not read back ({type(error).__name__})"
    return ""


def run_input(bases: dict[str, Base], kind: str, seed: int, workdir: Path,
              commands: int) -> list[Outcome]:
    """Seed's mutant of `kind`, written once, and `commands` commands run on it."""
    rng = random.Random(seed)
    data = mutant(bases, kind, rng)
    file = workdir / f"mutant{bases[kind].suffix}"
    file.write_bytes(data)
    usable = commands_for(kind)
    chosen = rng.sample(usable, min(commands, len(usable)))
    return [run_command(c, file, bases[kind].koid, workdir) for c in chosen]


def kind_of(seed: int) -> str:
    return KINDS[seed % len(KINDS)]


# ---- the long run ----

_worker: tuple[dict[str, Base], Path, int] | None = None


def _start_worker(bases: dict[str, Base], root: str, commands: int) -> None:
    global _worker
    _worker = (bases, Path(tempfile.mkdtemp(dir=root)), commands)


def _run_seed(seed: int) -> tuple[int, list[Outcome]]:
    assert _worker is not None
    bases, workdir, commands = _worker
    return seed, run_input(bases, kind_of(seed), seed, workdir, commands)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tests/fuzz_hostile.py", description=__doc__)
    parser.add_argument("-n", type=int, default=10_000, help="inputs to try (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--commands", type=int, default=4, help="commands per input (default 4)")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("-v", "--verbose", action="store_true", help="print every failing run")
    args = parser.parse_args(argv)
    runs: Counter[str] = Counter()
    signatures: Counter[str] = Counter()
    first: dict[str, int] = {}
    failed_inputs = 0
    with tempfile.TemporaryDirectory(prefix="zmtop-fuzz-") as root:
        bases = build_bases(Path(root))
        seeds = range(args.seed, args.seed + args.n)
        context = multiprocessing.get_context("fork")
        with context.Pool(args.jobs, _start_worker, (bases, root, args.commands)) as pool:
            for done, (seed, outcomes) in enumerate(pool.imap_unordered(_run_seed, seeds), 1):
                bad = [o for o in outcomes if o.signature]
                failed_inputs += bool(bad)
                for o in outcomes:
                    runs[o.category] += 1
                for o in bad:
                    signatures[o.signature] += 1
                    first.setdefault(o.signature, seed)
                    if args.verbose:
                        print(f"seed {seed} ({kind_of(seed)}): {o.category}: {o.signature}")
                if done % 500 == 0:
                    print(f"... {done} inputs", file=sys.stderr, flush=True)
    print(f"inputs tried: {args.n} ({failed_inputs} with a failing run); "
          f"runs: {sum(runs.values())}")
    for category in CATEGORIES:
        print(f"  {category + ':':24}{runs[category]}")
    if signatures:
        print(f"distinct failures: {len(signatures)} (count, first seed: replay with "
              f"--seed S -n 1 -v)")
        for signature, count in sorted(signatures.items(), key=lambda s: (-s[1], s[0])):
            print(f"  {count:6} seed {first[signature]:6}  {signature[:200]!r}")
    return 1 if signatures else 0


if __name__ == "__main__":
    sys.exit(main())
