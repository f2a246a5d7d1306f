"""The `zmtop` command: the live monitor, and batch commands that print like Fuchsia's tools.

Errors are one line on stderr and exit status 2, never a traceback. Batch commands never
sleep: they step the simulation as fast as it goes.
"""

from __future__ import annotations

import argparse
import json
import sys

USAGE_ERROR = 2


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise CliError(message)


def _add_source_options(parser: argparse.ArgumentParser, top: bool = False) -> None:
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


def build_parser() -> Parser:
    parser = Parser(prog="zmtop", description="top/htop for Zircon memory.")
    _add_source_options(parser, top=True)
    parser.add_argument("--theme", help="colour theme of the monitor")
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
    return parser


def _simulate(args: argparse.Namespace):
    from engine.simulation import Simulation, UnknownScenario

    if args.ticks < 0:
        raise CliError("--ticks must be 0 or more")
    if args.tick <= 0:
        raise CliError("--tick must be more than 0 seconds")
    try:
        sim = Simulation(args.scenario, args.seed, args.tick)
    except UnknownScenario as error:
        raise CliError(str(error)) from None
    for _ in range(args.ticks):
        sim.step()
    return sim


def _process(snap, koid: int):
    if koid not in snap.processes:
        raise CliError(f"no process with koid {koid} at tick {snap.tick}")
    return koid


def _emit(args: argparse.Namespace, text: str, data) -> str:
    return json.dumps(data, indent=2) + "\n" if args.json else text


def run_ps(args: argparse.Namespace) -> str:
    from engine import jsonout, psutils

    snap = _simulate(args).snapshot
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

    snap = _simulate(args).snapshot
    koid = _process(snap, args.koid)
    if args.json:
        return _emit(args, "", jsonout.maps_json(snap, koid))
    return psutils.vmaps_text(snap, koid)


def run_vmos(args: argparse.Namespace) -> str:
    from engine import jsonout, psutils

    if args.hidden == (args.koid is not None):
        raise CliError("vmos takes a process koid or --hidden")
    snap = _simulate(args).snapshot
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
    sim = _simulate(args)
    blocks, data = [], []
    for i in range(args.count):
        snap = sim.snapshot if i == 0 else sim.step()
        stamp = psutils.iso_timestamp(snap.time_ns) if args.timestamp else None
        blocks.append(psutils.kstats_text(snap.kmem, timestamp=stamp))
        data.append(jsonout.kmem_json(snap.kmem))
    if args.json:
        return _emit(args, "", data if args.count > 1 else data[0])
    return "".join(blocks)


COMMANDS = {"ps": run_ps, "vmaps": run_vmaps, "vmos": run_vmos, "kstats": run_kstats}


def run_monitor(args: argparse.Namespace) -> None:
    from zmtop.app import run_app

    sim = _simulate(args)
    run_app(sim, tick_seconds=args.tick, theme=args.theme)


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
