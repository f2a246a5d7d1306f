"""The `zmtop` command: the live monitor, and batch commands that print like Fuchsia's tools.

Errors are one line on stderr and exit status 2, never a traceback. Batch commands never
sleep: they step the simulation as fast as it goes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

USAGE_ERROR = 2


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise CliError(message)


def _add_source_options(parser: argparse.ArgumentParser, top: bool = False,
                        recording: bool = True) -> None:
    """Source options go before or after the command; the command's copy has no defaults
    of its own, so it does not hide what was given before it."""
    def default(value):
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("source (simulation)")
    group.add_argument("--scenario", default=default("default"), help="workload to simulate")
    group.add_argument("--seed", type=int, default=default(1), help="random seed (default 1)")
    group.add_argument("--ticks", type=int, default=default(0), metavar="N",
                       help="ticks to simulate before printing (default 0: as booted)")
    group.add_argument("--tick", type=float, default=default(1.0), metavar="SECONDS",
                       help="simulated seconds per tick (default 1)")
    if recording:
        group = parser.add_argument_group("source (recording)")
        group.add_argument("--from", dest="from_file", default=default(None), metavar="FILE",
                           help="read a recording made by `zmtop record`")
        group.add_argument("--at", type=int, default=default(None), metavar="TICK",
                           help="tick of the recording to show (default: its last)")


def build_parser() -> Parser:
    parser = Parser(prog="zmtop", description="top/htop for Zircon memory.")
    _add_source_options(parser, top=True)
    parser.add_argument("--theme", help="colour theme of the monitor")
    parser.add_argument("--record", metavar="FILE", help="record the live monitor to FILE")
    commands = parser.add_subparsers(dest="command", parser_class=Parser)

    ps = commands.add_parser("ps", help="tasks with PSS/PRIVATE/SHARED, like Fuchsia's ps")
    _add_source_options(ps)
    ps.add_argument("-J", dest="jobs_only", action="store_true", help="jobs only")
    ps.add_argument("-T", dest="threads", action="store_true", help="include threads")
    ps.add_argument("--job", type=int, metavar="KOID", help="only this job's subtree")
    ps.add_argument("--units", default="", metavar="U", help="fixed unit, one of BkMGTPE")
    ps.add_argument("--json", action="store_true")

    vmaps = commands.add_parser("vmaps", help="a process's VMARs and mappings")
    vmaps.add_argument("koid", type=int)
    _add_source_options(vmaps)
    vmaps.add_argument("--json", action="store_true")

    vmos = commands.add_parser("vmos", help="a process's VMOs, or the hidden ones")
    vmos.add_argument("koid", type=int, nargs="?")
    vmos.add_argument("--hidden", action="store_true",
                      help="VMOs not mapped by any process (k zx vmos hidden)")
    _add_source_options(vmos)
    vmos.add_argument("--json", action="store_true")

    kstats = commands.add_parser("kstats", help="kernel memory counters, like kstats -m")
    _add_source_options(kstats)
    kstats.add_argument("-t", dest="timestamp", action="store_true", help="timestamp lines")
    kstats.add_argument("-n", dest="count", type=int, default=1, metavar="COUNT",
                        help="blocks to print, one per tick")
    kstats.add_argument("--json", action="store_true")

    record = commands.add_parser("record", help="record the simulation headless")
    record.add_argument("file", metavar="FILE")
    _add_source_options(record, recording=False)

    replay = commands.add_parser("replay", help="review a recording in the monitor")
    replay.add_argument("file", metavar="FILE")

    diff = commands.add_parser("diff", help="what grew, appeared and went between two ticks")
    diff.add_argument("file", metavar="FILE")
    diff.add_argument("tick_a", type=int, metavar="T1")
    diff.add_argument("tick_b", type=int, metavar="T2")
    diff.add_argument("--json", action="store_true")
    return parser


def _boot(args: argparse.Namespace):
    from engine.simulation import Simulation, UnknownScenario

    if args.ticks < 0:
        raise CliError("--ticks must be 0 or more")
    if args.tick <= 0:
        raise CliError("--tick must be more than 0 seconds")
    try:
        return Simulation(args.scenario, args.seed, args.tick)
    except UnknownScenario as error:
        raise CliError(str(error)) from None


def _simulate(args: argparse.Namespace):
    sim = _boot(args)
    for _ in range(args.ticks):
        sim.step()
    return sim


def _open_recording(path: str):
    """A recording with at least one tick; damage past its usable part is a warning."""
    from engine.record import RecordingError
    from engine.replay import Recording

    try:
        recording = Recording.open(path)
    except RecordingError as error:
        raise CliError(str(error)) from None
    if not recording.ticks:
        raise CliError(recording.errors[0] if recording.errors
                       else f"{path}: no complete frame to read")
    for message in recording.errors:
        print(f"zmtop: warning: {message}", file=sys.stderr)
    return recording


def _snapshot_at(recording, tick: int):
    from engine.record import RecordingError

    try:
        return recording.snapshot_at(tick)
    except RecordingError as error:
        raise CliError(str(error)) from None


def _source(args: argparse.Namespace):
    """The simulation, or with --from a recording at --at: either way `.snapshot`/`.step()`."""
    if args.from_file is None:
        if args.at is not None:
            raise CliError("--at needs --from FILE")
        return _simulate(args)
    if args.ticks:
        raise CliError("--ticks simulates; with --from, pick the tick with --at")
    from engine.replay import ReplaySource

    recording = _open_recording(args.from_file)
    tick = recording.ticks[-1] if args.at is None else args.at
    _snapshot_at(recording, tick)
    return ReplaySource(recording, tick)


def _process(snap, koid: int):
    if koid not in snap.processes:
        raise CliError(f"no process with koid {koid} at tick {snap.tick}")
    return koid


def _emit(args: argparse.Namespace, text: str, data) -> str:
    return json.dumps(data, indent=2) + "\n" if args.json else text


def run_ps(args: argparse.Namespace) -> str:
    from engine import jsonout, psutils

    snap = _source(args).snapshot
    if args.job is not None and args.job not in snap.jobs:
        raise CliError(f"no job with koid {args.job} at tick {snap.tick}")
    if args.units and (len(args.units) != 1 or args.units not in "BkMGTPE"):
        raise CliError(f"--units takes one of B k M G T P E, not '{args.units}'")
    options = dict(jobs_only=args.jobs_only, threads=args.threads, job_koid=args.job)
    if args.json:
        return _emit(args, "", jsonout.tasks_json(snap, **options))
    return psutils.ps_text(snap, unit=args.units, **options)


def run_vmaps(args: argparse.Namespace) -> str:
    from engine import jsonout, psutils

    snap = _source(args).snapshot
    koid = _process(snap, args.koid)
    if args.json:
        return _emit(args, "", jsonout.maps_json(snap, koid))
    return psutils.vmaps_text(snap, koid)


def run_vmos(args: argparse.Namespace) -> str:
    from engine import jsonout, psutils

    if args.hidden == (args.koid is not None):
        raise CliError("vmos takes a process koid or --hidden")
    snap = _source(args).snapshot
    if args.hidden:
        if args.json:
            return _emit(args, "", jsonout.hidden_vmos_json(snap))
        return psutils.hidden_vmos_text(snap)
    koid = _process(snap, args.koid)
    if args.json:
        return _emit(args, "", jsonout.vmos_json(snap, koid))
    return psutils.vmos_text(snap, koid)


def run_kstats(args: argparse.Namespace) -> str:
    from engine import jsonout, psutils

    if args.count < 1:
        raise CliError("-n takes a count of 1 or more")
    source = _source(args)
    blocks, data = [], []
    for i in range(args.count):
        snap = source.snapshot if i == 0 else _step(args, source)
        stamp = psutils.iso_timestamp(snap.time_ns) if args.timestamp else None
        blocks.append(psutils.kstats_text(snap.kmem, timestamp=stamp))
        data.append(jsonout.kmem_json(snap.kmem))
    if args.json:
        return _emit(args, "", data if args.count > 1 else data[0])
    return "".join(blocks)


def _step(args: argparse.Namespace, source):
    from engine.record import RecordingError

    if getattr(source, "at_end", False):
        start = source.snapshot.tick if args.at is None else args.at
        raise CliError(f"{args.from_file}: -n {args.count} from tick {start} runs past "
                       f"the last tick {source.snapshot.tick}")
    try:
        return source.step()
    except RecordingError as error:
        raise CliError(str(error)) from None


def run_record(args: argparse.Namespace) -> str:
    """Tick 0 plus --ticks steps, as fast as the simulation goes; Ctrl-C keeps what is done."""
    from engine.record import Metadata, Recorder, RecordingError

    sim = _boot(args)
    progress = _Progress(args.file, args.ticks) if sys.stderr.isatty() else None
    recorder = None
    try:
        with Recorder(args.file, Metadata.for_simulation(sim)) as recorder:
            recorder.append(sim.snapshot)
            for done in range(1, args.ticks + 1):
                recorder.append(sim.step())
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


def run_diff(args: argparse.Namespace) -> str:
    from engine.diff import diff, diff_json, diff_text

    recording = _open_recording(args.file)
    result = diff(_snapshot_at(recording, args.tick_a), _snapshot_at(recording, args.tick_b))
    if args.json:
        return _emit(args, "", diff_json(result))
    return diff_text(result)


def run_replay(args: argparse.Namespace) -> str:
    from engine.replay import ReplaySource
    from zmtop.app import run_app

    recording = _open_recording(args.file)
    source = ReplaySource(recording)
    run_app(source, tick_seconds=source.tick_seconds, theme=args.theme, replay=recording)
    return ""


COMMANDS = {"ps": run_ps, "vmaps": run_vmaps, "vmos": run_vmos, "kstats": run_kstats,
            "record": run_record, "replay": run_replay, "diff": run_diff}


def run_monitor(args: argparse.Namespace) -> None:
    if args.from_file is not None:
        args.file = args.from_file
        run_replay(args)
        return
    from zmtop.app import run_app

    sim = _simulate(args)
    run_app(sim, tick_seconds=args.tick, theme=args.theme, record=args.record)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            run_monitor(args)
            return 0
        sys.stdout.write(COMMANDS[args.command](args))
        sys.stdout.flush()
        return 0
    except CliError as error:
        print(f"zmtop: {error}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
