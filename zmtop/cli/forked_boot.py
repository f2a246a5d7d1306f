"""The live monitor's simulation, booted in a forked child while this process loads Textual.

Start-up is two long jobs: loading Textual and booting the simulation. Threads cannot
overlap them (both hold the GIL), a child process can. Forked before Textual loads, the
child boots the simulation, steps it to `--ticks` and sends back its snapshot, so the first
frame shows the real system as soon as the monitor is ready. A simulation is deterministic
for its scenario and seed, so the copy this process boots afterwards, in a worker thread,
has that very snapshot and goes on from it. The cost: the boot's CPU time twice. The decoded
copy's tables take the records the boot here builds equal to theirs (all of them at
default), so the two copies hold one set of records (the booted one's, which shares koids
and names with the kernel objects) rather than 6.7 MB twice while this process boots (bench
"ui default: RSS", ui_bench); the ring and the trends adopt the booted copy, so what is the
decoded one's alone goes at the next tick.
"""

from __future__ import annotations

import gc
import os
import select
import signal
import threading
from typing import Any

from zmtop.cli.boot import boot
from zmtop.engine.sources.source import SourceDefaults, SourceInfo
from zmtop.errors import CliError

# How long the monitor, once loaded, waits for the child: a default boot takes about 0.1 s
# and is done by then. A child still busy is booting a big system (the scale scenario takes
# seconds), whose snapshot would cost more to decode and to hold twice than the head start
# is worth; so is any snapshot over PIPE_BYTES (the default system's is about 0.6 MiB). In
# both cases this process boots as it would alone.
WAIT_SECONDS = 0.1
PIPE_BYTES = 1 << 20


# Speed: the boot overlaps Textual's start-up; bench: "ui default: first frame, median of 5
# starts" (ui_bench).
class ForkedBoot(SourceDefaults):
    """A Source whose first snapshot comes from the child. This process boots its own copy
    in `prepare`, which the monitor runs in a worker thread once its first frame is up,
    or else on the first `step`."""

    def __init__(self, scenario: str, seed: int, tick_seconds: float, ticks: int, *,
                 wait: float = WAIT_SECONDS) -> None:
        self.scenario_name, self.seed, self.tick_seconds = scenario, seed, tick_seconds
        self._ticks = ticks
        self._wait = wait
        self._sim = None
        self._booting = threading.Lock()
        self._first = None  # the child's snapshot, until this process has booted its own
        self._pipe: int | None  # the read end, None once read
        self._pipe, write = os.pipe()
        _widen(write)
        try:
            self._child = os.fork()
        except OSError:
            os.close(self._pipe)
            os.close(write)
            raise
        if self._child == 0:
            os.close(self._pipe)
            _send_snapshot(write, scenario, seed, tick_seconds, ticks)
        os.close(write)

    @property
    def info(self) -> SourceInfo:
        return SourceInfo.simulation(self.scenario_name, self.seed, self.tick_seconds)

    @property
    def snapshot(self):
        if self._pipe is not None:
            self._first = self._receive(self._pipe)
        return self._first if self._first is not None else self._booted().snapshot

    def step(self):
        return self._booted().step()

    def prepare(self) -> None:
        self._booted()

    def kill_refusal(self, koid: int) -> str | None:
        return self._booted().kill_refusal(koid)

    def request_kill(self, koid: int) -> None:
        self._booted().request_kill(koid)

    def _booted(self):
        with self._booting:
            if self._sim is None:
                enabled = gc.isenabled()
                gc.disable()  # as at start-up (see zmtop.cli.settle_heap): the booted
                try:  # system is a large, long-lived heap, not worth the collector's time
                    self._sim = boot(self.scenario_name, self.seed, self.tick_seconds,
                                     self._ticks, self._first)
                finally:
                    gc.freeze()
                    if enabled:
                        gc.enable()
                self._first = None  # the booted copy has it too
        return self._sim

    def _receive(self, fd: int):
        """The child's snapshot; None if it failed (booting here then says why), is late,
        or has too big a snapshot to carry over."""
        with os.fdopen(fd, "rb") as pipe:
            if select.select([pipe], [], [], self._wait)[0]:
                data = pipe.read()
            else:
                os.kill(self._child, signal.SIGKILL)
                data = b""
        self._pipe = None
        os.waitpid(self._child, 0)
        if data[:1] == b"E":
            raise CliError(data[1:].decode())
        if data[:1] != b"S":
            return None
        return _decoded(memoryview(data)[1:])


def _decoded(data: memoryview):
    """The child's snapshot, its VMO table left encoded (see EncodedTable): the first frame
    does not read it, and the booted copy takes over before anything does."""
    from msgspec import Raw, defstruct, structs
    from msgspec.msgpack import decode

    from zmtop.engine.snapshot.records import Snapshot, Vmo
    from zmtop.engine.snapshot.tables import EncodedTable

    fields = [(f.name, Raw if f.name == "vmos" else f.type) for f in structs.fields(Snapshot)]
    values: dict[str, Any] = structs.asdict(
        decode(data, type=defstruct("Handover", fields)))
    values["vmos"] = EncodedTable(bytes(values["vmos"]), Vmo)
    return Snapshot(**values)


def _widen(fd: int) -> None:
    """Let the pipe hold a whole snapshot, where Linux allows it, so the child can exit
    without waiting for this process to read."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


def _send_snapshot(fd: int, scenario: str, seed: int, tick_seconds: float, ticks: int):
    """The child: boot, send the snapshot ("S", if it is small enough) or the error ("E"),
    and exit at once (no atexit handlers, no buffers of the parent's flushed twice)."""
    status = 0
    try:
        from msgspec.msgpack import encode

        from zmtop.engine.snapshot.tables import encode_hook

        snapshot = boot(scenario, seed, tick_seconds, ticks).snapshot
        data = b"S" + encode(snapshot, enc_hook=encode_hook)
        if len(data) > PIPE_BYTES:
            data = b""
    except CliError as error:
        data = b"E" + str(error).encode()
    except BaseException:  # the parent boots again and reports it
        data, status = b"", 1
    try:
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(data)
    finally:
        os._exit(status)
