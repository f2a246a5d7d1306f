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
    if args.ticks < 0:
        raise CliError("--ticks must be 0 or more")
    if args.tick <= 0:
        raise CliError("--tick must be more than 0 seconds")
    if forked and hasattr(os, "fork"):
        from zmtop.cli.forked_boot import ForkedBoot

        try:
            return ForkedBoot(args.scenario, args.seed, args.tick, args.ticks)
        except OSError:  # no process or pipe to spare: boot here
            pass
    return boot(args.scenario, args.seed, args.tick, args.ticks)


def open_recording(path):
    """A recording with at least one tick; damage past its usable part is a warning."""
    from zmtop.engine.recording.format import RecordingError
    from zmtop.engine.recording.reader import Recording

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


def _poll(args: argparse.Namespace):
    from zmtop.engine.sources.poll import PollError, PollSource

    if args.tick <= 0:
        raise CliError("--tick must be more than 0 seconds")
    try:
        source = PollSource(args.poll, args.tick)
    except PollError as error:
        raise CliError(str(error)) from None
    for _ in range(args.ticks):
        source.step()
    return source


def open_source(args: argparse.Namespace, *, replay_from_start: bool = False,
                forked: bool = False):
    """The source the options name, stepped to where they say. A recording stands at --at,
    else at its last tick (what batch commands print) or, to be replayed, its first.
    `forked` boots a simulation in a child process (see zmtop.forked_boot)."""
    if args.from_file is not None and args.poll is not None:
        raise CliError("--from and --poll are two sources: choose one")
    if args.at is not None and args.from_file is None:
        raise CliError("--at needs --from FILE")
    if args.from_file is not None:
        return _from_file(args, replay_from_start)
    if args.poll is not None:
        return _poll(args)
    return _simulation(args, forked)
