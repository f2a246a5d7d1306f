"""The memory watchdog, as the kernel's `k zx mwd MB`: processes whose committed mapped
memory is at or over a threshold (engine.formats.kzx.memory_hogs), checked on every shown tick."""

from __future__ import annotations

from zmtop.engine.snapshot.records import Snapshot


class Watchdog:
    """Off until given a threshold in MiB; `hogs` answers once per snapshot."""

    def __init__(self) -> None:
        self.mb: int | None = None
        self._snap: Snapshot | None = None
        self._hogs: dict[int, int] = {}

    def set(self, mb: int | None) -> None:
        """A threshold in MiB; None or 0 turns the watchdog off."""
        self.mb = mb or None
        self._snap = None

    def hogs(self, snap: Snapshot) -> dict[int, int]:
        """Koid -> committed pages of each process at or over the threshold."""
        if self.mb is None:
            return {}
        if snap is not self._snap:
            from zmtop.engine.formats.kzx import memory_hogs

            self._hogs = {p.koid: pages for p, pages in memory_hogs(snap, self.mb)}
            self._snap = snap
        return self._hogs
