"""Writing what a command prints: every byte of it, or one line saying why not.

Python's buffered and unbuffered streams both let a short write (a disk filling up) drop
the rest of the text without an error, so the bytes go out through `os.write` in a loop
until all are written or the system names what stopped them.
"""

from __future__ import annotations

import os
import sys

from zmtop.errors import CliError


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to the file descriptor `fd`; a short write goes on with the rest,
    so a full disk raises OSError rather than cutting the output short."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def print_output(text: str) -> None:
    """Write `text` to stdout and flush it. A closed pipe raises BrokenPipeError; any other
    failure silences stdout (see `silence_stdout`) and raises a one-line CliError."""
    stdout = sys.stdout
    try:
        stdout.flush()
        fd = _fileno(stdout)
        if fd is None:  # not a file (a test's capture): it takes the text as it is
            stdout.write(text)
            stdout.flush()
        else:
            write_all(fd, text.encode(stdout.encoding, stdout.errors or "strict"))
    except BrokenPipeError:
        raise
    except OSError as error:
        silence_stdout()
        raise CliError(f"cannot write output: {error.strerror or error}") from None


def silence_stdout() -> None:
    """Point stdout's descriptor at the null device, so the interpreter's last flush of
    what could not be written has nowhere to fail and prints nothing."""
    fd = _fileno(sys.stdout)
    if fd is None:
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


def _fileno(stream) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return None
