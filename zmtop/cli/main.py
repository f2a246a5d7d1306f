"""The `zmtop` command line: the live monitor, and batch commands that print like Fuchsia's
tools. Errors are one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable
from typing import NoReturn, cast

from zmtop import installed_version
from zmtop.cli.options import (
    block_count,
    file_name,
    listen_address,
    size_unit,
    tick_count,
    tick_seconds,
    top_count,
    window_size,
)
from zmtop.cli.output import print_output, silence_stdout
from zmtop.cli.sources import open_recording, open_source, warn_of_damage
from zmtop.engine.analysis.window import WINDOW  # not the trends': see there
from zmtop.errors import CliError

USAGE_ERROR = 2
CLOSED_PIPE = 141  # 128 + SIGPIPE: what a shell shows for a Unix tool whose reader went away


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
        raise CliError(message)

    def print_help(self, file=None) -> None:  # argparse would drop a write error silently
        if file is None:
            print_output(self.format_help())
        else:
            super().print_help(file)


class VersionAction(argparse.Action):
    """`--version`: print the installed version and exit."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                         nargs=0, help="print zmtop's version and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print_output(f"zmtop {installed_version()}\n")
        parser.exit()


class KeysAction(argparse.Action):
    """`--keys`: print every key binding's id and keys (for config.toml's [keymap]), exit."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                         nargs=0, help="print every key binding's id and keys, for the "
                                       "[keymap] table of config.toml, and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        from zmtop.tui.bindings import binding_ids

        ids = binding_ids()
        width = max(map(len, ids))
        print_output("".join(f"{name:<{width}}  {keys}\n" for name, keys in sorted(ids.items())))
        parser.exit()


def _add_source_options(parser: argparse.ArgumentParser, top: bool = False) -> None:
    """Source options go before or after the command; the command's copy has no defaults
    of its own, so it does not hide what was given before it."""
    def default(value):
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("source (default: the simulation)")
    group.add_argument("--scenario", default=default("default"), help="workload to simulate")
    group.add_argument("--seed", type=int, default=default(1), help="random seed (default 1)")
    group.add_argument("--ticks", type=tick_count, default=default(0), metavar="N",
                       help="ticks to step before printing (default 0: as booted)")
    group.add_argument("--tick", type=tick_seconds, default=default(1.0), metavar="SECONDS",
                       help="seconds per tick (default 1)")
    group.add_argument("--from", dest="from_file", default=default(None), type=file_name,
                       metavar="FILE",
                       help="a zmtop recording, a memory_monitor capture or memgraph JSON")
    group.add_argument("--at", type=int, default=default(None), metavar="TICK",
                       help="tick of the recording to show (default: its last)")
    group.add_argument("--poll", default=default(None), metavar="COMMAND",
                       help="run COMMAND each tick; it prints a capture or memgraph JSON")
    group.add_argument("--window", type=window_size, default=default(WINDOW), metavar="N",
                       help="ticks a trend spans: growth, leaks, time to pressure (default 60)")


class Commands(argparse._SubParsersAction):
    """The commands' parsers, each built when its command is named: a run uses one, and
    building all fifteen was half of start-up's argument parsing (bench "ui default: first
    frame", ui_bench)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._unbuilt: dict[str, tuple[str | None, Callable[[Parser], None]]] = {}

    def add_command(self, name: str, help_text: str, build: Callable[[Parser], None], *,
                    description: str | None = None) -> None:
        """`name`, listed with `help_text`; `build` adds its arguments to its parser."""
        self._choices_actions.append(self._ChoicesPseudoAction(name, (), help_text))
        self._name_parser_map[name] = None  # named for argparse to accept; built in __call__
        self._unbuilt[name] = description, build

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        name = values[0]
        if name in self._unbuilt:
            description, build = self._unbuilt.pop(name)
            command = self._parser_class(prog=f"{self._prog_prefix} {name}",
                                         description=description)
            build(command)
            self._name_parser_map[name] = command
        super().__call__(parser, namespace, values, option_string)


def _command(commands: Commands, name: str, help_text: str,
             build: Callable[[Parser], None] = lambda parser: None, *,
             json_output: bool = True) -> None:
    """A command that reads a source: the source options, --json unless told, then its own."""
    def build_all(parser: Parser) -> None:
        _add_source_options(parser)
        if json_output:
            parser.add_argument("--json", action="store_true", help="print JSON")
        build(parser)

    commands.add_command(name, help_text, build_all, description=help_text)


def _add_listen(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen", type=listen_address, required=True, metavar="HOST:PORT",
                        help="the address to serve on (port 0: any free one)")


def _add_top(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--top", type=top_count, default=None, metavar="N",
                        help="per-process series for the N largest by PSS (default 50)")


def build_parser() -> Parser:
    parser = Parser(prog="zmtop", description="top/htop for Zircon memory.")
    parser.add_argument("--version", action=VersionAction)
    parser.add_argument("--keys", action=KeysAction)
    _add_source_options(parser, top=True)
    parser.add_argument("--theme", help="colour theme of the monitor")
    parser.add_argument("--units", type=size_unit, default="", metavar="U",
                        help="the monitor's sizes all in one unit, one of BkMGTPE "
                             "(B: bytes, digits grouped); u cycles auto, k, M, G, B")
    parser.add_argument("--record", type=file_name, metavar="FILE",
                        help="record the live monitor to FILE")
    parser.add_argument("--metrics", type=listen_address, metavar="HOST:PORT",
                        help="serve the live monitor's figures to Prometheus at "
                             "http://HOST:PORT/metrics")
    commands = cast(Commands, parser.add_subparsers(dest="command", parser_class=Parser,
                                                     action=Commands))
    _command(commands, "ps", "tasks with PSS/PRIVATE/SHARED, like Fuchsia's ps", _ps_options)
    _command(commands, "vmaps", "a process's VMARs and mappings", _vmaps_options)
    _command(commands, "vmos", "a process's VMOs, or the hidden ones", _vmos_options)
    _command(commands, "kstats", "kernel memory counters, like kstats -m", _kstats_options)
    _command(commands, "leaks", "processes growing steadily over --window ticks, and the "
                                "VMOs that grew (a simulation or poll steps --window ticks "
                                "unless --ticks says)")
    _command(commands, "events", "process starts and exits, OOM kills, pressure changes")
    _command(commands, "record", "record a source headless", _record_options, json_output=False)
    commands.add_command("replay", "review a recording in the monitor", _replay_options)
    commands.add_command("diff", "what grew, appeared and went between two ticks", _diff_options)
    _command(commands, "digest", "memory in buckets, as memory_monitor digests it", _digest_options)
    _command(commands, "export", "write memgraph JSON, a capture or CSV; or every tick as "
             "OpenMetrics text or a Perfetto trace", _export_options, json_output=False)
    _command(commands, "metrics", "serve a source's figures to Prometheus at /metrics, "
             "stepping it on its clock", _metrics_options, json_output=False)
    _command(commands, "serve", "serve the monitor to web browsers (textual-serve)", _serve_options,
             json_output=False)
    _command(commands, "kzx", "kernel console views: ps, jobs, vmos, ht, koid, asd, mwd", _kzx_options)
    _command(commands, "treemap", "a self-contained zoomable treemap page", _treemap_options,
             json_output=False)
    return parser


def _ps_options(ps: Parser) -> None:
    ps.add_argument("-J", dest="jobs_only", action="store_true", help="jobs only")
    ps.add_argument("-T", dest="threads", action="store_true", help="include threads")
    ps.add_argument("--job", type=int, metavar="KOID", help="only this job's subtree")
    ps.add_argument("--units", default="", metavar="U", help="fixed unit, one of BkMGTPE")


def _vmaps_options(vmaps: Parser) -> None:
    vmaps.add_argument("koid", type=int)


def _vmos_options(vmos: Parser) -> None:
    vmos.add_argument("koid", type=int, nargs="?")
    vmos.add_argument("--hidden", action="store_true",
                      help="VMOs not mapped by any process (k zx vmos hidden)")


def _kstats_options(kstats: Parser) -> None:
    kstats.add_argument("-t", dest="timestamp", action="store_true", help="timestamp lines")
    kstats.add_argument("-n", dest="count", type=block_count, default=1, metavar="COUNT",
                        help="blocks to print, one per tick")
    kstats.add_argument("--eta", action="store_true",
                        help="add the time to the next pressure level and to OOM at free "
                             "memory's trend over --window ticks")


def _record_options(record: Parser) -> None:
    record.add_argument("file", type=file_name, metavar="FILE")


def _replay_options(replay: Parser) -> None:
    replay.add_argument("file", type=file_name, metavar="FILE")
    replay.add_argument("--theme", default=argparse.SUPPRESS, help="colour theme")
    replay.add_argument("--units", type=size_unit, default=argparse.SUPPRESS, metavar="U",
                        help="sizes all in one unit, one of BkMGTPE")
    replay.add_argument("--window", type=window_size, default=argparse.SUPPRESS, metavar="N",
                        help="ticks a trend spans (default 60)")


def _diff_options(diff: Parser) -> None:
    diff.add_argument("file", type=file_name, metavar="FILE")
    diff.add_argument("tick_a", type=int, metavar="T1")
    diff.add_argument("tick_b", type=int, metavar="T2")
    diff.add_argument("--json", action="store_true", help="print JSON")


def _digest_options(digest: Parser) -> None:
    digest.add_argument("--buckets", type=file_name, metavar="FILE", help="bucket config (JSON)")
    digest.add_argument("--csv", action="store_true", help="print CSV")


def _export_options(export: Parser) -> None:
    export.add_argument("recording", type=file_name, nargs="?", metavar="FILE",
                        help="the source file (as --from FILE)")
    export.add_argument("--format", required=True,
                        choices=("memgraph", "capture", "csv", "openmetrics", "perfetto"))
    export.add_argument("-o", dest="output", type=file_name, metavar="FILE",
                        help="write to FILE, not stdout")
    _add_top(export)


def _metrics_options(metrics: Parser) -> None:
    _add_listen(metrics)
    metrics.add_argument("--device", metavar="NAME",
                         help="the device label (default: the source's name)")
    _add_top(metrics)


def _serve_options(serve: Parser) -> None:
    _add_listen(serve)
    serve.add_argument("--theme", default=argparse.SUPPRESS, help="colour theme")


def _kzx_options(kzx: Parser) -> None:
    kzx.add_argument("-u", dest="unit", metavar="U", help="vmos: fixed unit, one of BkMGTPE")
    kzx.add_argument("words", nargs="*", metavar="COMMAND ...",
                     help="ps [help] | jobs | vmos all|hidden|KOID [-u?] | ht KOID | "
                          "koid KOID | asd kernel|KOID | mwd MB")


def _treemap_options(treemap: Parser) -> None:
    treemap.add_argument("-o", dest="output", type=file_name, metavar="FILE.html",
                         help="write to FILE")


def run_monitor(args: argparse.Namespace) -> None:
    """The live monitor over the source the options name; --from a recording replays it.
    --metrics binds its address first: a port in use is one line, before the boot forks."""
    server = None
    if args.metrics is None:
        without_tls()
    else:
        from zmtop.cli.metrics import MetricsServer
        from zmtop.engine.sources.detect import is_recording

        if args.from_file is not None and is_recording(args.from_file):
            _refuse_record(args, args.from_file)
        server = MetricsServer(args.metrics)
    try:
        _run_live(args, server)
    finally:
        if server is not None:
            server.close()


# Memory: bench "ui default: RSS" (ui_bench), some 4 MB less.
def without_tls() -> None:
    """The live monitor opens no TLS connection, yet asyncio imports ssl to offer it (an
    import it guards), which maps libssl and libcrypto and builds ssl's enums: some 4 MB of
    RSS. Marked absent before asyncio loads, ssl is not loaded; a process that has it loaded
    already keeps it. (--metrics needs it: prometheus_client imports it unguarded.)"""
    sys.modules.setdefault("ssl", None)  # type: ignore[arg-type]  # None: absent


def _run_live(args: argparse.Namespace, server) -> None:
    from zmtop.engine.sources.source import is_seekable

    # Speed: bench "ui default: first frame" (ui_bench): the boot forks before Textual
    # loads, so that the two overlap (loaded first, the child was always late and killed).
    source = open_source(args, replay_from_start=True, forked=True)
    from zmtop.tui.launch import run_app

    if is_seekable(source):
        _refuse_record(args, args.from_file)
        _replay(source, args.theme, args.window, args.units)
        return
    run_app(source, tick_seconds=args.tick, theme=args.theme, record=args.record,
            window=args.window, unit=args.units, metrics=server, after_first_frame=settle_heap)


def _refuse_record(args: argparse.Namespace, recording: str | None) -> None:
    """--record and --metrics are the live monitor's: not a replay of `recording`, nor a
    command's."""
    if args.metrics is not None:
        if recording is not None:
            raise CliError(f"--metrics serves the live monitor, not a replay (to serve "
                           f"{recording}: zmtop metrics --from FILE --listen HOST:PORT)")
        if args.command is not None:
            raise CliError(f"--metrics serves the live monitor, not '{args.command}' "
                           f"(for a source alone: zmtop metrics --listen HOST:PORT)")
    if args.record is None:
        return
    if recording is not None:
        raise CliError(f"--record: a replay is not recorded again ({recording} is a recording)")
    raise CliError(f"--record records the live monitor, not '{args.command}' "
                   f"(to record headless: zmtop record FILE)")


def run_replay(args: argparse.Namespace) -> str:
    from zmtop.engine.recording.format import RecordingError
    from zmtop.engine.sources.replay import ReplaySource

    recording = open_recording(args.file)
    try:
        source = ReplaySource(recording)
    except RecordingError as error:
        raise CliError(str(error)) from None
    warn_of_damage(recording)
    _replay(source, getattr(args, "theme", None), args.window, getattr(args, "units", ""))
    return ""


def _replay(source, theme: str | None, window: int, unit: str) -> None:
    from zmtop.tui.launch import run_app

    run_app(source, tick_seconds=source.info.tick_seconds, theme=theme, window=window,
            unit=unit, after_first_frame=settle_heap)


def run_command(args: argparse.Namespace) -> str:
    """What a batch command prints (`zmtop ps` runs `batch.run_ps`, and so on); `batch`
    loads only here, off the live monitor's start-up path."""
    if args.command == "replay":
        return run_replay(args)
    if args.command == "metrics":
        from zmtop.cli.metrics import run_metrics

        return run_metrics(args)
    if args.command == "serve":
        from zmtop.cli.serve import run_serve

        return run_serve(args)
    from zmtop.cli import batch

    return getattr(batch, f"run_{args.command}")(args)


GC_YOUNG = 10_000  # allocations between collections of the youngest generation (default 700)


# Speed: bench "ui default: first frame" (start-up without collections), "ui default: RSS"
# (start-up's garbage freed before the booted copy is built beside the child's) and "ui scale:
# UI work per tick beyond Simulation.step" (fewer young collections) (ui_bench).
def settle_heap() -> None:
    """Start-up builds a large, long-lived heap (Textual, the booted system; a forked boot
    freezes its own later) with the collector off (see main): once the first frame is up,
    free start-up's garbage in one collection, move the rest out of the collector's sight,
    then let the collector run again, less often than by default: each tick allocates
    thousands of short-lived objects (strips, segments, figures) that reference counting
    frees anyway."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG)
    gc.enable()


def main(argv: list[str] | None = None) -> int:
    """Run the command line; the exit status: 0, 2 for an error, 130 for Ctrl-C, 141 for
    a closed pipe (quietly, as Unix tools end)."""
    gc.disable()  # until start-up is done (settle_heap): collections of a growing heap are wasted work
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            run_monitor(args)
            return 0
        _refuse_record(args, getattr(args, "file", None) if args.command == "replay" else None)
        gc.enable()
        print_output(run_command(args))
        return 0
    except CliError as error:
        _complain(f"zmtop: {error}")
        return USAGE_ERROR
    except BrokenPipeError:
        silence_stdout()
        return CLOSED_PIPE
    except KeyboardInterrupt:
        return 130


def _complain(line: str) -> None:
    try:
        print(line, file=sys.stderr)
    except OSError:  # stderr cannot take it either: the exit status still says so
        pass


if __name__ == "__main__":
    sys.exit(main())
