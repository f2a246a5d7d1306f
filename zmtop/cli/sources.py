"""Opening the source a command reads: a simulation, a recording, an import, or a poll.

Every source offers `.snapshot` and `.step()`. Problems become `CliError`: one line.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, cast

from zmtop.cli.boot import boot
from zmtop.errors import CliError

if TYPE_CHECKING:
    from zmtop.engine.sources.imported import ImportedSource


def _simulation(args: argparse.Namespace, forked: bool):
    if forked and hasattr(os, "fork"):
        from zmtop.cli.forked_boot import ForkedBoot

        try:
            return ForkedBoot(args.scenario, args.seed, args.tick, args.ticks)
        except OSError:  # no process or pipe to spare: boot here
            pass
    return boot(args.scenario, args.seed, args.tick, args.ticks)


def open_recording(path):
    """A recording with at least one tick. Damage past its usable part is for
    `warn_of_damage`, once the ticks a command needs have decoded."""
    from zmtop.engine.recording.format import RecordingError
    from zmtop.engine.recording.reader import Recording

    try:
        recording = Recording.open(path)
    except RecordingError as error:
        raise CliError(str(error)) from None
    if not recording.ticks:
        raise CliError(recording.errors[0] if recording.errors
                       else f"{path}: no complete frame to read")
    return recording


def warn_of_damage(recording) -> None:
    """Warn of the damage that ended a recording's usable part. Called after the ticks a
    command reads have decoded, so that a damaged one is the only line, not a second."""
    for message in recording.errors:
        print(f"zmtop: warning: {message}", file=sys.stderr)


def snapshot_at(recording, tick: int):
    from zmtop.engine.recording.format import RecordingError

    try:
        return recording.checked_at(tick)
    except RecordingError as error:
        raise CliError(str(error)) from None


def _from_file(args: argparse.Namespace, replay_from_start: bool):
    from zmtop.engine.sources.detect import is_recording, load_source
    from zmtop.engine.sources.json_input import SourceError
    from zmtop.engine.sources.replay import ReplaySource

    if args.ticks:
        raise CliError("--ticks simulates; with --from, pick the tick with --at")
    if is_recording(args.from_file):
        recording = open_recording(args.from_file)
        tick = args.at if args.at is not None else recording.ticks[0 if replay_from_start else -1]
        snapshot_at(recording, tick)
        warn_of_damage(recording)
        return ReplaySource(recording, tick)
    try:
        loaded = load_source(args.from_file)
    except SourceError as error:
        raise CliError(str(error)) from None
    imported = cast("ImportedSource", loaded)  # not a RecordingFile: is_recording said no
    if args.at is not None:
        raise CliError(f"{args.from_file}: --at needs a recording; this is a "
                       f"{imported.kind} of one moment")
    return imported


def _poll(args: argparse.Namespace, said: set[str]):
    from zmtop.engine.sources.poll import PollError, PollSource

    try:
        source = PollSource(args.poll, args.tick)
    except PollError as error:
        raise CliError(str(error)) from None
    report(source, said)
    for _ in range(args.ticks):
        source.step()
        report(source, said)
    return source


def open_source(args: argparse.Namespace, *, replay_from_start: bool = False,
                forked: bool = False, said: set[str] | None = None):
    """The source the options name, stepped to where they say. A recording stands at --at,
    else at its last tick (what batch commands print) or, to be replayed, its first.
    `forked` boots a simulation in a child process (see zmtop.forked_boot). What is amiss
    with the data is said on stderr (see `report`; `said` keeps what was said once)."""
    if args.from_file is not None and args.poll is not None:
        raise CliError("--from and --poll are two sources: choose one")
    if args.at is not None and args.from_file is None:
        raise CliError("--at needs --from FILE")
    said = said if said is not None else set()
    if args.from_file is not None:
        source = _from_file(args, replay_from_start)
        report(source, said)
        return source
    if args.poll is not None:
        return _poll(args, said)
    return _simulation(args, forked)


def report(source, said: set[str]) -> None:
    """Warn on stderr of the tick just read if its poll failed (it repeats the last good
    data), and once (`said` keeps what was) if the source's names were cut to Zircon's
    limit."""
    from zmtop.engine.formats.names import safe_name
    from zmtop.engine.snapshot.records import POLL_FAILED
    from zmtop.engine.sources.json_input import LONG_NAMES, MAX_NAME_BYTES

    snap = source.snapshot
    for event in snap.events:
        if event.kind == POLL_FAILED:
            print(f"zmtop: warning: tick {snap.tick}: {event.text}; the tick repeats the "
                  "last good data", file=sys.stderr)
    if LONG_NAMES in getattr(source, "missing", ()) and LONG_NAMES not in said:
        said.add(LONG_NAMES)
        print(f"zmtop: warning: {safe_name(snap.source)}: names longer than {MAX_NAME_BYTES} "
              f"bytes (Zircon's limit) were cut", file=sys.stderr)
