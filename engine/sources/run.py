"""Running a poll's command with bounds on its time and on what it prints."""

from __future__ import annotations

import os
import selectors
import subprocess
import time
from collections.abc import Sequence

from zmtop.engine.sources.json_input import MAX_INPUT_BYTES, SourceError

CHUNK = 1 << 16


def run_capped(argv: Sequence[str], timeout: float,
               limit: int = MAX_INPUT_BYTES) -> tuple[int, bytes, bytes]:
    """Run `argv` without a shell (stdin empty); its exit status, stdout and stderr.

    The command is killed, and TimeoutExpired raised, if it runs past `timeout` seconds;
    killed, and SourceError raised, if it prints more than `limit` bytes on stdout or on
    stderr. OSError if it cannot start.
    """
    deadline = time.monotonic() + timeout
    with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as child:
        try:
            out, err = _read_both(child, deadline, limit)
            child.wait(max(0.0, deadline - time.monotonic()))
        except BaseException:
            child.kill()
            raise
    return child.returncode, out, err


def _read_both(child: subprocess.Popen[bytes], deadline: float,
               limit: int) -> tuple[bytes, bytes]:
    """Read the child's stdout and stderr to their ends, within the deadline and limit."""
    assert child.stdout is not None and child.stderr is not None
    chunks: dict[int, list[bytes]] = {child.stdout.fileno(): [], child.stderr.fileno(): []}
    sizes = dict.fromkeys(chunks, 0)
    with selectors.DefaultSelector() as selector:
        for stream in (child.stdout, child.stderr):
            selector.register(stream, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(child.args, 0)
            for key, _ in selector.select(left):
                fd = key.fd
                data = os.read(fd, CHUNK)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                sizes[fd] += len(data)
                if sizes[fd] > limit:
                    which = "stdout" if fd == child.stdout.fileno() else "stderr"
                    raise SourceError(f"printed more than {limit >> 20} MB on {which}; "
                                      "stopped it")
                chunks[fd].append(data)
    return b"".join(chunks[child.stdout.fileno()]), b"".join(chunks[child.stderr.fileno()])
