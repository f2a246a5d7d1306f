"""Numeric options, checked where argparse reads them: a value out of range is one line.

The bounds keep every figure derived from them in range: a tick's simulated time in
nanoseconds (ticks × seconds per tick) stays well below 2**63, as the recording needs.
"""

from __future__ import annotations

import math

from zmtop.errors import CliError

MAX_TICKS = 1_000_000  # ticks to step or print: 11 days at one a second
MAX_TICK_SECONDS = 3600.0  # an hour a tick


def tick_seconds(text: str) -> float:
    """--tick: seconds per tick, more than 0 and at most MAX_TICK_SECONDS."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= MAX_TICK_SECONDS:  # NaN fails too
        raise CliError(f"--tick takes seconds, more than 0 and at most {MAX_TICK_SECONDS:g}, "
                       f"not '{text}'")
    return seconds


def tick_count(text: str) -> int:
    """--ticks: ticks to step, 0 to MAX_TICKS."""
    ticks = _integer(text, "--ticks")
    if ticks < 0:
        raise CliError("--ticks must be 0 or more")
    if ticks > MAX_TICKS:
        raise CliError(f"--ticks takes at most {MAX_TICKS}, not {ticks}")
    return ticks


def block_count(text: str) -> int:
    """kstats -n: blocks to print, 1 to MAX_TICKS."""
    count = _integer(text, "-n")
    if not 1 <= count <= MAX_TICKS:
        raise CliError(f"-n takes a count of 1 or more, at most {MAX_TICKS}, not {count}")
    return count


def window_size(text: str) -> int:
    """--window: ticks a trend spans, MIN_SAMPLES to MAX_WINDOW."""
    from zmtop.engine.analysis.window import MAX_WINDOW, MIN_SAMPLES

    ticks = _integer(text, "--window")
    if not MIN_SAMPLES <= ticks <= MAX_WINDOW:
        raise CliError(f"--window takes {MIN_SAMPLES} to {MAX_WINDOW} ticks, not {ticks}")
    return ticks


def size_unit(text: str) -> str:
    """--units: one of pretty's units, or "" for each size in its own (ps's default)."""
    from zmtop.engine.formats.sizes import UNITS

    if text and (len(text) != 1 or text not in UNITS):
        raise CliError(f"--units takes one of B k M G T P E, not '{text}'")
    return text


MAX_TOP = 100_000  # per-process series: the biggest system a recording holds has 65,536


def top_count(text: str) -> int:
    """--top: the processes, largest PSS first, that get series of their own, 1 to MAX_TOP."""
    count = _integer(text, "--top")
    if not 1 <= count <= MAX_TOP:
        raise CliError(f"--top takes 1 to {MAX_TOP} processes, not {count}")
    return count


def listen_address(text: str) -> tuple[str, int]:
    """--listen and --metrics: HOST:PORT (`[::1]:9100` for an IPv6 address); port 0 lets the
    system choose one."""
    host, colon, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise CliError(f"an address is HOST:PORT, the port 0 to 65535, not '{text}'")
    return host, int(port)


def host_port(host: str, port: int) -> str:
    """HOST:PORT as `listen_address` reads it back: an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def file_name(text: str) -> str:
    """A FILE argument: any path but the empty one, which names no file."""
    if not text:
        raise CliError("a FILE argument is empty: it names no file")
    return text


def _integer(text: str, option: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise CliError(f"{option} takes a whole number, not '{text}'") from None
