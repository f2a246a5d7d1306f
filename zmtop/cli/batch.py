"""Batch commands: each reads its source once and returns what Fuchsia's tool would print.

They never sleep: a simulation steps as fast as it goes.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import sys
import time

from zmtop.cli.options import size_unit
from zmtop.cli.output import write_all
from zmtop.cli.sources import open_recording, open_source, report, snapshot_at, warn_of_damage
from zmtop.errors import CliError

KZX_TARGETS = ("all", "hidden")
U64_MAX = (1 << 64) - 1  # koids and the console's numbers are uint64_t


def _emit(data) -> str:
    return json.dumps(data, indent=2) + "\n"


def _process(snap, koid: int) -> int:
    if koid not in snap.processes:
        raise CliError(f"no process with koid {koid} at tick {snap.tick}")
    return koid


def run_ps(args: argparse.Namespace) -> str:
    from zmtop.engine.formats import jsonout, psutils

    snap = open_source(args).snapshot
    if args.job is not None and args.job not in snap.jobs:
        raise CliError(f"no job with koid {args.job} at tick {snap.tick}")
    size_unit(args.units)
    options = dict(jobs_only=args.jobs_only, threads=args.threads, job_koid=args.job)
    if args.json:
        return _emit(jsonout.tasks_json(snap, **options))
    return psutils.ps_text(snap, unit=args.units, **options)


def run_vmaps(args: argparse.Namespace) -> str:
    from zmtop.engine.formats import jsonout, psutils

    snap = open_source(args).snapshot
    koid = _process(snap, args.koid)
    return _emit(jsonout.maps_json(snap, koid)) if args.json else psutils.vmaps_text(snap, koid)


def run_vmos(args: argparse.Namespace) -> str:
    from zmtop.engine.formats import jsonout, psutils

    if args.hidden == (args.koid is not None):
        raise CliError("vmos takes a process koid or --hidden")
    snap = open_source(args).snapshot
    if args.hidden:
        return _emit(jsonout.hidden_vmos_json(snap)) if args.json else psutils.hidden_vmos_text(snap)
    koid = _process(snap, args.koid)
    return _emit(jsonout.vmos_json(snap, koid)) if args.json else psutils.vmos_text(snap, koid)


def run_kstats(args: argparse.Namespace) -> str:
    from zmtop.engine.formats import jsonout, psutils, trends

    said: set[str] = set()
    source, history = _with_history(args, said) if args.eta else (open_source(args, said=said),
                                                                  None)
    blocks, data = [], []
    for i in range(args.count):
        snap = source.snapshot if i == 0 else _step(args, source, said)
        if history is not None and i:
            history.add(snap)
        stamp = psutils.iso_timestamp(snap.time_ns) if args.timestamp else None
        blocks.append(psutils.kstats_text(snap.kmem, timestamp=stamp))
        data.append(jsonout.kmem_json(snap.kmem))
    if history is None:
        return _emit(data if args.count > 1 else data[0]) if args.json else "".join(blocks)
    if args.json:
        return _emit({"kstats": data if args.count > 1 else data[0],
                      "eta": trends.eta_json(history)})
    return "".join(blocks) + trends.eta_line(history)


def run_leaks(args: argparse.Namespace) -> str:
    """Leak suspects over the --window ticks ending where the options say; a simulation or
    a poll steps a window's ticks unless --ticks says how many."""
    from zmtop.engine.analysis.trend import MIN_SAMPLES, suspects
    from zmtop.engine.formats import trends

    if args.from_file is None and not args.ticks:
        args.ticks = args.window
    _, history = _with_history(args, set())
    if len(history) < MIN_SAMPLES:
        raise CliError(f"{len(history)} ticks make no trend: a trend needs "
                       f"{MIN_SAMPLES} (step more with --ticks)")
    found = suspects(history)
    return _emit(trends.leaks_json(history, found)) if args.json else trends.leaks_text(
        history, found)


def _with_history(args: argparse.Namespace, said: set[str]):
    """The source the options name, standing where they say, and the History of the
    --window ticks ending there: a recording's recorded ticks, or a simulation's or a
    poll's steps. One capture or memgraph is one moment: no trend."""
    from zmtop.engine.analysis.trend import History
    from zmtop.engine.sources.imported import ImportedSource
    from zmtop.engine.sources.source import is_seekable

    history = History(args.window)
    ticks, args.ticks = args.ticks, 0
    source = open_source(args, said=said)
    if isinstance(source, ImportedSource):
        raise CliError(f"{args.from_file}: a single {source.kind} has no trend; poll a "
                       f"series of them (--poll) or record one")
    if is_seekable(source):
        recording, end = source.recording, source.snapshot.tick
        for tick in recording.ticks[max(0, bisect.bisect_right(recording.ticks, end)
                                        - args.window):]:
            if tick > end:
                break
            history.add(snapshot_at(recording, tick))
        return source, history
    history.add(source.snapshot)
    for _ in range(ticks):
        history.add(_step(args, source, said))
    return source, history


def run_events(args: argparse.Namespace) -> str:
    """Every event from tick 0 through --ticks steps, oldest first; a recording's every
    recorded event (up to --at, if given)."""
    from zmtop.engine.formats.events import TimedEvent, events_json, events_text, recorded_events
    from zmtop.engine.sources.source import is_seekable

    ticks, args.ticks = args.ticks, 0  # stepped here, so that every tick's events are seen
    said: set[str] = set()
    source = open_source(args, replay_from_start=True, said=said)
    if is_seekable(source):
        events = [e for e in recorded_events(source.recording)
                  if args.at is None or e.tick <= args.at]
    else:
        events = []
        for i in range(ticks + 1):
            snap = source.snapshot if i == 0 else _step(args, source, said)
            events += [TimedEvent(snap.tick, snap.time_ns, event) for event in snap.events]
    return _emit(events_json(events)) if args.json else events_text(events)


def _step(args: argparse.Namespace, source, said: set[str]):
    from zmtop.engine.recording.format import RecordingError
    from zmtop.engine.sources.source import is_seekable

    if is_seekable(source) and source.at_end:
        start = source.snapshot.tick if args.at is None else args.at
        raise CliError(f"{args.from_file}: -n {args.count} from tick {start} runs past "
                       f"the last tick {source.snapshot.tick}")
    try:
        snap = source.step()
    except RecordingError as error:
        raise CliError(str(error)) from None
    report(source, said)
    return snap


def run_diff(args: argparse.Namespace) -> str:
    from zmtop.engine.analysis.diff import diff, diff_json, diff_text

    recording = open_recording(args.file)
    result = diff(snapshot_at(recording, args.tick_a), snapshot_at(recording, args.tick_b))
    warn_of_damage(recording)
    return _emit(diff_json(result)) if args.json else diff_text(result)


def run_digest(args: argparse.Namespace) -> str:
    from zmtop.engine.analysis.digest import (
        digest,
        digest_csv,
        digest_json,
        digest_text,
        load_buckets,
    )
    from zmtop.engine.sources.json_input import SourceError

    source = open_source(args)
    try:
        buckets = (load_buckets(args.buckets) if args.buckets
                   else source.buckets or load_buckets())
    except SourceError as error:
        raise CliError(str(error)) from None
    result = digest(source.snapshot, buckets, source.kernel_extended)
    if args.csv:
        return digest_csv(result)
    return digest_json(result) if args.json else digest_text(result)


def run_export(args: argparse.Namespace) -> str:
    """One snapshot as memgraph JSON, a capture or CSV; or every tick (a recording's, or
    tick 0 through --ticks) as OpenMetrics text or a Perfetto trace."""
    from zmtop.engine.formats.capture import capture_json, to_csv
    from zmtop.engine.sources.memgraph_reader import to_memgraph

    if args.recording is not None:
        if args.from_file is not None:
            raise CliError(f"export reads one FILE: {args.recording} or --from {args.from_file}")
        args.from_file = args.recording
    if args.format == "openmetrics":
        return _write_or_print(args.output, _openmetrics(args))
    if args.format == "perfetto":
        return _perfetto(args)
    if args.top is not None:
        raise CliError(f"--top is for the openmetrics and perfetto formats, not {args.format}")
    write = {"memgraph": to_memgraph, "capture": capture_json, "csv": to_csv}[args.format]
    return _write_or_print(args.output, write(open_source(args).snapshot))


def _every_tick(args: argparse.Namespace, *, checked: bool = True):
    """The source and its snapshots, oldest first: a recording's every recorded tick (up to
    --at, if given), a simulation's or poll's tick 0 and --ticks steps, an import's one.
    A recording's frames pass the reference checks that walks need unless `checked` is
    False (for a reader of each record's own figures, who follows no reference)."""
    from zmtop.engine.recording.format import RecordingError
    from zmtop.engine.sources.source import is_seekable

    def decoded_at(recording, tick: int):
        try:
            return recording.snapshot_at(tick)
        except RecordingError as error:
            raise CliError(str(error)) from None

    ticks, args.ticks = args.ticks, 0  # stepped here, so that every tick is seen
    said: set[str] = set()
    source = open_source(args, replay_from_start=True, said=said)
    if is_seekable(source):
        recording = source.recording
        last = recording.ticks[-1] if args.at is None else source.snapshot.tick
        read = snapshot_at if checked else decoded_at
        return source, (read(recording, tick) for tick in recording.ticks if tick <= last)
    return source, itertools.chain([source.snapshot],
                                   (_step(args, source, said) for _ in range(ticks)))


def _openmetrics(args: argparse.Namespace) -> str:
    """OpenMetrics text with a timestamp per sample: a recording's from the time it started
    (Unix seconds), any other source's on the simulated clock of `kstats -t`."""
    from zmtop.engine.analysis.digest import load_buckets
    from zmtop.engine.analysis.digester import Digester
    from zmtop.engine.formats.openmetrics import TOP, EventCounts, MetricSet, openmetrics_text
    from zmtop.engine.formats.psutils import EPOCH
    from zmtop.engine.sources.source import is_seekable

    source, snapshots = _every_tick(args)
    digester = Digester(source.buckets or load_buckets())
    first = next(snapshots)
    start = source.recording.metadata.start_time if is_seekable(source) else 0.0
    start = start or EPOCH.timestamp() + first.time_ns / 1e9
    metrics, counts = MetricSet(first.source, args.top or TOP), EventCounts()
    for snap in itertools.chain([first], snapshots):
        counts.add(snap)
        digester.follow(snap)
        metrics.add(snap, counts.totals, digester.digest(snap, source.kernel_extended),
                    start + (snap.time_ns - first.time_ns) / 1e9)
    return openmetrics_text(metrics)


def _perfetto(args: argparse.Namespace) -> str:
    from zmtop.engine.formats.openmetrics import TOP
    from zmtop.engine.formats.perfetto import write_trace

    if args.output is None:
        raise CliError("a Perfetto trace is binary: name its file with -o FILE")
    # Speed: the trace reads each process's own figures and name, and follows no reference
    # between records (a job's, a VMO's), so a recording's frames skip the reference checks
    # (four fifths of reading them); bench: "default: Perfetto export" (fleet_bench).
    _, snapshots = _every_tick(args, checked=False)
    try:
        with open(args.output, "wb") as out:
            write_trace(out, snapshots, args.top or TOP)
    except OSError as error:
        raise CliError(f"{args.output}: {error.strerror or error}") from None
    return ""


def run_treemap(args: argparse.Namespace) -> str:
    from zmtop.engine.formats.treemap import treemap_html

    return _write_or_print(args.output, treemap_html(open_source(args).snapshot))


def _write_or_print(path: str | None, text: str) -> str:
    if path is None:
        return text
    try:
        with open(path, "wb", buffering=0) as out:  # every byte, or an error: see write_all
            write_all(out.fileno(), text.encode("utf-8"))
    except OSError as error:
        raise CliError(f"{path}: {error.strerror or error}") from None
    return ""


def run_kzx(args: argparse.Namespace) -> str:
    """`k zx` console commands; arguments are parsed here as the console does."""
    from zmtop.engine.formats import kzx

    words = args.words
    if not words:
        raise CliError("kzx needs a command: ps, jobs, vmos, ht, koid, asd, mwd")
    command, rest = words[0], words[1:]
    snap = open_source(args).snapshot
    try:
        return _kzx(kzx, snap, command, rest, args.unit, args.json)
    except KeyError as error:
        raise CliError(str(error.args[0])) from None


def _kzx(kzx, snap, command: str, rest: list[str], unit: str | None, as_json: bool) -> str:
    def number(word: str, what: str, most: int = U64_MAX) -> int:
        """An unsigned 64-bit number, as the kernel's console reads it, at most `most`."""
        try:
            value = int(word, 0)
        except ValueError:
            raise CliError(f"kzx {command}: {what} must be a number, not '{word}'") from None
        if not 0 <= value <= most:
            raise CliError(f"kzx {command}: {what} must be 0 to {most}, not '{word}'")
        return value

    def one(what: str) -> str:
        if len(rest) != 1:
            raise CliError(f"kzx {command} takes one {what}")
        return rest[0]

    if command == "ps":
        if rest == ["help"]:
            return kzx.PS_HELP
        return _emit(kzx.ps_json(snap)) if as_json else kzx.ps_text(snap)
    if command == "jobs":
        return _emit(kzx.jobs_json(snap)) if as_json else kzx.jobs_text(snap)
    if command == "vmos":
        if unit is not None and len(unit) != 1:
            raise CliError("kzx vmos: -u takes one unit letter, e.g. -uM")
        word = one("of all, hidden or a process koid")
        target = word if word in KZX_TARGETS else number(word, "the process")
        return (_emit(kzx.vmos_json(snap, target)) if as_json
                else kzx.vmos_text(snap, target, unit or ""))
    if command == "ht":
        koid = number(one("process koid"), "the process")
        return _emit(kzx.ht_json(snap, koid)) if as_json else kzx.ht_text(snap, koid)
    if command == "koid":
        word = one("koid")
        if word == "help":
            return kzx.RIGHTS_HELP
        koid = number(word, "the koid")
        return _emit(kzx.koid_json(snap, koid)) if as_json else kzx.koid_text(snap, koid)
    if command == "asd":
        word = one("process koid or kernel")
        target = "kernel" if word and "kernel".startswith(word) else number(word, "the process")
        return _emit(kzx.asd_json(snap, target)) if as_json else kzx.asd_text(snap, target)
    if command == "mwd":
        mb = (number(one("limit in MB"), "the limit", U64_MAX >> 20) if rest
              else kzx.MWD_DEFAULT_MB)
        return _emit(kzx.mwd_json(snap, mb)) if as_json else kzx.mwd_text(snap, mb)
    raise CliError(f"kzx: unknown command '{command}' (ps, jobs, vmos, ht, koid, asd, mwd)")


def run_record(args: argparse.Namespace) -> str:
    """Tick 0 plus --ticks steps, as fast as the source goes; Ctrl-C keeps what is done.
    A recording is recorded again from --at (default: its first tick) to its end, or for
    --ticks steps."""
    from zmtop.engine.recording.format import RecordingError
    from zmtop.engine.recording.writer import Recorder, metadata_for
    from zmtop.engine.sources.source import is_seekable

    ticks = args.ticks
    args.ticks = 0
    said: set[str] = set()
    source = open_source(args, replay_from_start=True, said=said)
    metadata = metadata_for(source)
    if is_seekable(source):
        ticks, metadata = _recorded_again(args, source, ticks, metadata)
    progress = _Progress(args.file, ticks) if sys.stderr.isatty() else None
    recorder = None
    try:
        with Recorder(args.file, metadata) as recorder:
            recorder.append(source.snapshot)
            for done in range(1, ticks + 1):
                recorder.append(source.step())
                report(source, said)
                if progress:
                    progress.show(done, recorder.bytes_written)
    except RecordingError as error:
        raise CliError(str(error)) from None
    except KeyboardInterrupt:
        saved = recorder.ticks_written if recorder else 0
        print(f"\nzmtop: {args.file}: interrupted; {saved} ticks saved", file=sys.stderr)
        raise
    finally:
        if progress:
            progress.end()
    return ""


def _recorded_again(args: argparse.Namespace, source, ticks: int, metadata):
    """The steps and the metadata of a recording recorded again: all its ticks from where
    `source` stands, or `ticks` of them if they are there; its own metadata, this version."""
    import msgspec

    if os.path.exists(args.file) and os.path.samefile(args.file, args.from_file):
        raise CliError(f"{args.file}: this is the --from recording; record to another file")
    recorded = source.recording.ticks
    start = source.snapshot.tick
    left = len(recorded) - bisect.bisect_right(recorded, start)
    if ticks > left:
        raise CliError(f"{args.from_file}: --ticks {ticks} from tick {start} runs past "
                       f"the last tick {recorded[-1]}")
    own = msgspec.structs.replace(source.recording.metadata,
                                  zmtop_version=metadata.zmtop_version)
    return ticks or left, own


class _Progress:
    """One self-overwriting stderr line: ticks done, file size, time left."""

    def __init__(self, path: str, total: int) -> None:
        self.path, self.total = path, total
        self.start = self.shown = time.monotonic()

    def show(self, done: int, size: int) -> None:
        now = time.monotonic()
        if now - self.shown < 0.2 and done < self.total:
            return
        self.shown = now
        left = (now - self.start) / done * (self.total - done)
        print(f"\rzmtop: recording {self.path}: {done}/{self.total} ticks, "
              f"{size / 1e6:.1f} MB, ETA {int(left) // 60}:{int(left) % 60:02d}",
              end="", file=sys.stderr, flush=True)

    def end(self) -> None:
        print("\r\033[K", end="", file=sys.stderr, flush=True)
