"""What is growing and how soon memory runs out: trends over a window of recent ticks.

`History` keeps the last `window` snapshots by reference (a snapshot shares its tables
with its neighbours, so this costs little and nothing a tick). A trend is computed on
demand, for the rows shown or a screen opened:
- the slope is robust: the median of the slopes between samples half the window apart
  (a Theil–Sen estimator on n/2 pairs), so one spike moves at most two of them;
- its fit is the share of the values' variance the line explains (R² about the robust line);
- `grew` is the share of steps that went up.

Slopes are in bytes per minute of source time, so a replay at any speed or a poll at any
interval gives the same figures.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from zmtop.engine.sim.pressure import LEVELS, Watermarks
from zmtop.engine.snapshot.records import (
    FRACTION_BITS,
    PRIVATE,
    PSS_FIXED,
    SCALED_SHARED,
    Process,
    Snapshot,
)
from zmtop.engine.snapshot.tables import FigureTable

WINDOW = 60  # ticks, by default
MIN_SAMPLES = 8  # fewer ticks than this make no trend
# A leak suspect grows steadily: at least this fast, most steps up, the line a good fit.
SUSPECT_BYTES_PER_MINUTE = 64 << 10
SUSPECT_FIT = 0.8
SUSPECT_GREW = 0.5
ETA_HORIZON_S = 24 * 3600  # beyond a day, "runs out" is not news


@dataclass(frozen=True)
class Trend:
    """A series' direction over the window."""

    per_minute: float  # bytes per minute of source time
    fit: float  # 0 to 1: how well the line explains the values
    grew: float  # 0 to 1: the share of steps that went up
    samples: int


def robust_slope(times: Sequence[float], values: Sequence[float]) -> float:
    """Units of value per unit of time: the median slope between samples half the series
    apart (0 for fewer than two samples)."""
    half = len(values) // 2
    slopes = [(values[i + half] - values[i]) / (times[i + half] - times[i])
              for i in range(len(values) - half) if times[i + half] != times[i]]
    return statistics.median(slopes) if slopes else 0.0


def trend(times: Sequence[float], values: Sequence[float]) -> Trend | None:
    """The trend of `values` sampled at `times` (seconds); None for fewer than MIN_SAMPLES."""
    count = len(values)
    if count < MIN_SAMPLES:
        return None
    slope = robust_slope(times, values)
    intercept = statistics.median(v - slope * t for t, v in zip(times, values))
    mean = sum(values) / count
    total = sum((v - mean) ** 2 for v in values)
    residual = sum((v - intercept - slope * t) ** 2 for t, v in zip(times, values))
    fit = max(0.0, 1 - residual / total) if total else 0.0
    grew = sum(b > a for a, b in pairwise(values)) / (count - 1)
    return Trend(slope * 60, fit, grew, count)


def _legacy_pss(table: Mapping[int, Process], koid: int) -> int | None:
    if isinstance(table, FigureTable):
        private, scaled = table.figure(koid, PRIVATE), table.figure(koid, SCALED_SHARED)
        return None if private is None or scaled is None else private + scaled
    record = table.get(koid)
    return None if record is None else record.pss_bytes


def _attributed_pss(table: Mapping[int, Process], koid: int) -> int | None:
    if isinstance(table, FigureTable):
        fixed = table.figure(koid, PSS_FIXED)
    else:
        record = table.get(koid)
        fixed = None if record is None else record.pss_fixed
    return None if fixed is None else fixed >> FRACTION_BITS


FIGURES = {"pss": _legacy_pss, "apss": _attributed_pss}


class History:
    """The last `window` snapshots, oldest first: what trends are computed over."""

    def __init__(self, window: int = WINDOW) -> None:
        self.window = window
        self.snaps: deque[Snapshot] = deque(maxlen=window)

    def add(self, snap: Snapshot) -> None:
        """Take the next tick's snapshot; a tick that does not follow the last (a seek)
        starts the history over."""
        if self.snaps and snap.tick != self.snaps[-1].tick + 1:
            if snap.tick == self.snaps[-1].tick:
                self.snaps.pop()
            else:
                self.snaps.clear()
        self.snaps.append(snap)

    @property
    def seconds(self) -> float:
        """How much source time the history spans."""
        return (self.snaps[-1].time_ns - self.snaps[0].time_ns) / 1e9 if self.snaps else 0.0

    def series(self, koid: int, figure: str = "pss") -> tuple[list[float], list[int]]:
        """Times (seconds) and values of a process's figure over the ticks it lived."""
        value_of = FIGURES[figure]
        times, values = [], []
        for snap in self.snaps:
            value = value_of(snap.processes, koid)
            if value is not None:
                times.append(snap.time_ns / 1e9)
                values.append(value)
        return times, values

    def process_trend(self, koid: int, figure: str = "pss") -> Trend | None:
        return trend(*self.series(koid, figure))

    def free_trend(self) -> Trend | None:
        """The trend of free memory (kstats)."""
        return trend([s.time_ns / 1e9 for s in self.snaps],
                     [s.kmem.free_bytes for s in self.snaps])


def job_growth(snap: Snapshot, history: History, job_koid: int, figure: str = "pss") -> float:
    """A job's growth per minute: the sum of its processes' (jobs sum their children)."""
    total = 0.0
    stack = [job_koid]
    while stack:
        job = snap.jobs[stack.pop()]
        stack.extend(job.jobs)
        for koid in job.processes:
            found = history.process_trend(koid, figure)
            total += found.per_minute if found else 0.0
    return total


# -- leak suspects ----------------------------------------------------------------------


@dataclass(frozen=True)
class GrowingVmo:
    koid: int
    name: str
    per_minute: float  # committed bytes per minute over the window (new VMOs: all of theirs)


@dataclass(frozen=True)
class Suspect:
    koid: int
    name: str
    trend: Trend  # of attributed PSS: every page the process pays for, handles included
    vmos: tuple[GrowingVmo, ...]


def is_suspect(found: Trend | None) -> bool:
    """Steady growth: fast enough, mostly up, and a line fits it."""
    return (found is not None and found.per_minute >= SUSPECT_BYTES_PER_MINUTE
            and found.fit >= SUSPECT_FIT and found.grew >= SUSPECT_GREW)


def suspects(history: History) -> list[Suspect]:
    """Processes growing steadily over the window, fastest first, each with the VMOs it
    reaches that grew."""
    if len(history.snaps) < MIN_SAMPLES:
        return []
    first, last = history.snaps[0], history.snaps[-1]
    minutes = history.seconds / 60
    out = []
    for koid in last.processes:
        found = history.process_trend(koid, "apss")
        if is_suspect(found):
            assert found is not None
            process = last.processes[koid]
            out.append(Suspect(koid, process.name, found,
                               growing_vmos(first, last, process, minutes)))
    out.sort(key=lambda s: -s.trend.per_minute)
    return out


def growing_vmos(first: Snapshot, last: Snapshot, process: Process,
                 minutes: float) -> tuple[GrowingVmo, ...]:
    """The VMOs the process reaches whose committed bytes grew over the window, most first."""
    out = []
    for koid in dict.fromkeys(ref.vmo_koid for ref in process.vmo_refs):
        now = last.vmos.get(koid)
        if now is None:
            continue
        then = first.vmos.get(koid)
        grown = now.committed_bytes - (then.committed_bytes if then is not None else 0)
        if grown > 0:
            out.append(GrowingVmo(koid, now.name, grown / minutes if minutes else 0.0))
    out.sort(key=lambda v: -v.per_minute)
    return tuple(out)


# -- time to pressure ---------------------------------------------------------------------


def time_to_levels(free: int, found: Trend | None,
                   marks: Watermarks | None = None) -> list[tuple[str, float]]:
    """(level, seconds) until free memory falls to each pressure level below it, at the
    trend's rate: the next level and OOM, or nothing while free memory is flat or rising
    (or would take longer than ETA_HORIZON_S)."""
    if found is None or found.per_minute >= 0:
        return []
    marks = marks or Watermarks()
    per_second = -found.per_minute / 60
    # Falling under bounds[i] enters LEVELS[i]: the levels still ahead, and the next one.
    ahead = [(LEVELS[i], bound) for i, bound in enumerate(marks.bounds) if free >= bound]
    if not ahead:
        return []
    nearest = max(ahead, key=lambda item: item[1])
    chosen = [nearest] if nearest[0] == "OOM" else [nearest, (LEVELS[0], marks.oom)]
    out = [(name, (free - bound) / per_second) for name, bound in chosen]
    return [(name, seconds) for name, seconds in out if seconds <= ETA_HORIZON_S]


def duration(seconds: float) -> str:
    """A rough time, as an ETA is: ~45s, ~3m, ~2h, ~1d."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"~{round(seconds / size)}{unit}"
    return f"~{max(1, round(seconds))}s"


def eta_text(etas: Iterable[tuple[str, float]]) -> str:
    """`Warning in ~3m  OOM in ~7m`, or empty."""
    return "  ".join(f"{name} in {duration(seconds)}" for name, seconds in etas)
