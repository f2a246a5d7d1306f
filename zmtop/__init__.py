"""zmtop: top/htop for Zircon memory."""

from __future__ import annotations


def installed_version() -> str:
    """The installed distribution's version ("unknown" when run from a bare tree); looked
    up only when asked for, off the monitor's start-up path."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("zmtop")
    except PackageNotFoundError:
        return "unknown"
