"""Memory pressure levels, as the kernel's memory watchdog computes them (reference 4.1).

Levels sit between watermarks of free memory. A level is left only once free memory is
`debounce` beyond its boundary, either way (so Normal holds down to 299 MB by default), and
lands on the level free memory falls in. Moving towards less pressure also waits until free
memory has stayed there for `hysteresis` seconds; moving towards more pressure is immediate.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1 << 20

# Index = PressureLevel value: kOutOfMemory 0 ... kNormal 4.
LEVELS = ("OOM", "Imminent-OOM", "Critical", "Warning", "Normal")


@dataclass(frozen=True)
class Watermarks:
    """Boot options kernel.oom.*, in bytes: the defaults are the kernel's."""

    oom: int = 50 * MB
    imminent_oom: int = 60 * MB
    critical: int = 150 * MB
    warning: int = 300 * MB
    debounce: int = 1 * MB
    hysteresis_ns: int = 10_000_000_000

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        return (self.oom, self.imminent_oom, self.critical, self.warning)


def raw_level(free_bytes: int, marks: Watermarks) -> int:
    """The level free memory falls in, ignoring debounce and hysteresis."""
    for level, bound in enumerate(marks.bounds):
        if free_bytes < bound:
            return level
    return len(LEVELS) - 1


class PressureWatch:
    """Tracks the current level across ticks."""

    def __init__(self, marks: Watermarks | None = None) -> None:
        self.marks = marks or Watermarks()
        self.level = len(LEVELS) - 1
        self._better_since: int | None = None

    @property
    def name(self) -> str:
        return LEVELS[self.level]

    def update(self, free_bytes: int, now_ns: int) -> bool:
        """Feed a reading; returns True when the level changed."""
        marks = self.marks
        target = raw_level(free_bytes, marks)
        if target < self.level:
            # Leave only once free memory is debounce below the current level's lower bound.
            if free_bytes >= marks.bounds[self.level - 1] - marks.debounce:
                self._better_since = None
                return False
            self.level = target
            self._better_since = None
            return True
        if target > self.level:
            # Leave only once free memory is debounce past the current level's upper bound.
            upper = marks.bounds[self.level]
            if free_bytes < upper + marks.debounce:
                self._better_since = None
                return False
            if self._better_since is None:
                self._better_since = now_ns
            if now_ns - self._better_since < marks.hysteresis_ns:
                return False
            self.level = target
            self._better_since = None
            return True
        self._better_since = None
        return False
