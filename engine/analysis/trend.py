"""What is growing and how soon memory runs out: trends over a window of recent ticks.

`History` keeps the series of the last `window` ticks. A trend is computed on demand, for
the rows shown or a screen opened:
- the slope is robust: the median of the slopes between samples half the window apart
  (a Theil–Sen estimator on n/2 pairs), so one spike moves at most two of them;
- its fit is the share of the values' variance the line explains (R² about the robust line);
- `grew` is the share of steps that went up.

Slopes are in bytes per minute of source time, so a replay at any speed or a poll at any
interval gives the same figures.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import gt, sub
from typing import NamedTuple, TypeAlias

from zmtop.engine.analysis.window import MAX_WINDOW as MAX_WINDOW
from zmtop.engine.analysis.window import MIN_SAMPLES as MIN_SAMPLES
from zmtop.engine.analysis.window import WINDOW as WINDOW
from zmtop.engine.sim.pressure import LEVELS, Watermarks
from zmtop.engine.snapshot.records import (
    COMMITTED,
    FRACTION_BITS,
    KILL,
    OOM_KILL,
    PRIVATE,
    PSS_FIXED,
    SCALED_SHARED,
    VMO_PAGER_BACKED,
    Process,
    Snapshot,
)
from zmtop.engine.snapshot.tables import FigureTable

# WINDOW, MAX_WINDOW and MIN_SAMPLES are engine.analysis.window's, named here as the trends'.
SNAPSHOT_STRIDE = 10  # ticks between the VMO figures a History keeps to tell which grew
# A leak suspect grows steadily: at least this fast, most steps up, the line a good fit.
SUSPECT_BYTES_PER_MINUTE = 64 << 10
SUSPECT_FIT = 0.8
SUSPECT_GREW = 0.5
ETA_HORIZON_S = 24 * 3600  # beyond a day, "runs out" is not news
FIGURES = ("pss", "apss")  # legacy PSS as ps prints it; attributed PSS (RFC-0254)


class Kept(NamedTuple):
    """What a History keeps of an older tick: enough to tell which VMOs grew since."""

    tick: int
    time_ns: int
    committed: Callable[[int], int | None]  # see committed_reader


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
    spans = list(map(sub, times[half:], times))
    rises = map(sub, values[half:], values)
    slopes = [rise / span for rise, span in zip(rises, spans) if span]
    return _median(slopes) if slopes else 0.0


# Speed: bench "ui default: first frame" (ui_bench): the monitor loads the trends at start-up,
# and statistics would load random, fractions and decimal with it (some 2 ms) for this alone.
def _median(values: list[float]) -> float:
    """statistics.median's: the middle value, or the mean of the two middle ones."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def trend(times: Sequence[float], values: Sequence[float]) -> Trend | None:
    """The trend of `values` sampled at `times` (seconds); None for fewer than MIN_SAMPLES."""
    count = len(values)
    if count < MIN_SAMPLES:
        return None
    slope = robust_slope(times, values)
    intercept = _median([v - slope * t for t, v in zip(times, values)])
    mean = sum(values) / count
    total = sum((v - mean) ** 2 for v in values)
    residual = sum((v - intercept - slope * t) ** 2 for t, v in zip(times, values))
    fit = max(0.0, 1 - residual / total) if total else 0.0
    return Trend(slope * 60, fit, grew_share(values), count)


def grew_share(values: Sequence[float]) -> float:
    """The share of steps that went up (0 for fewer than two values)."""
    return sum(map(gt, values[1:], values)) / (len(values) - 1) if len(values) > 1 else 0.0


# A tick's figures as History keeps them: where each process is (koid -> row), how many rows
# the tick had (a row at or past it is a koid born later), and either a simulation table's
# own PRIVATE, SCALED_SHARED and PSS_FIXED columns, or copies of PSS and A.PSS.
TickColumns: TypeAlias = "tuple[Mapping[int, int], int, list[array[int]]]"


# Speed: a tick's figures are kept as columns (an int64 array per figure), a simulation's
# as its table's own, not copied; a series is read across them when asked; bench: "ui xl:
# all-in tick (step, deliver, repaint; tree by PSS)" (ui_bench).
class History:
    """The last `window` ticks, oldest first: each tick's number, time and free memory,
    each live process's PSS and attributed PSS, kept a tick at a time as columns a series
    is read across (see TickColumns), and every SNAPSHOT_STRIDE-th tick's VMO committed
    bytes, to tell which VMOs grew (a simulation's as its table's column: some 50 KB where
    a snapshot would hold about 1 MB at default)."""

    def __init__(self, window: int = WINDOW) -> None:
        self.window = window
        self.ticks: deque[int] = deque(maxlen=window)
        self.times: deque[float] = deque(maxlen=window)  # seconds of source time
        self.free: deque[int] = deque(maxlen=window)  # free memory (kstats)
        self.kills: deque[bool] = deque(maxlen=window)  # whether the tick had a kill (OOM or asked)
        self.kept: deque[Kept] = deque()  # every SNAPSHOT_STRIDE-th tick, and the newest
        self._last: Snapshot | None = None
        self._columns: deque[TickColumns] = deque(maxlen=window)
        self._koids: list[int] = []  # the processes of the last tick copied, in table order
        self._index: dict[int, int] = {}  # koid -> position in that order
        self._slopes: dict[tuple[int, str], float | None] = {}  # this tick's, as asked

    def __len__(self) -> int:
        """How many ticks the history holds."""
        return len(self.ticks)

    @property
    def last(self) -> Snapshot:
        """The newest tick's snapshot."""
        assert self._last is not None
        return self._last

    def add(self, snap: Snapshot) -> None:
        """Take the next tick's snapshot; a tick that does not follow the last (a seek)
        starts the history over, and the same tick again replaces it."""
        if self.ticks and snap.tick != self.ticks[-1] + 1:
            if snap.tick == self.ticks[-1]:
                self._drop_newest()
            else:
                self.clear()
        self._slopes = {}
        self.ticks.append(snap.tick)
        self.times.append(snap.time_ns / 1e9)
        self.free.append(snap.kmem.free_bytes)
        self.kills.append(any(event.kind in (OOM_KILL, KILL) for event in snap.events))
        self._keep(snap)
        self._columns.append(self._tick_columns(snap.processes))

    def _tick_columns(self, table: Mapping[int, Process]) -> TickColumns:
        """A tick's figures: a simulation table's own columns while they hold at most
        two rows per live process (a row stays when its process exits), else copies."""
        if isinstance(table, FigureTable):
            rows, figures = table.figure_columns()
            if len(rows) <= 2 * len(table):
                size = len(figures[PRIVATE])
                return rows, size, [figures[PRIVATE], figures[SCALED_SHARED], figures[PSS_FIXED]]
        koids, records = list(table), list(table.values())
        if koids != self._koids:  # ticks with the same processes share one index
            self._koids, self._index = koids, dict(zip(koids, range(len(koids))))
        return self._index, len(koids), [
            array("q", [record.pss_bytes for record in records]),
            array("q", [record.pss_fixed >> FRACTION_BITS for record in records])]

    def _keep(self, snap: Snapshot) -> None:
        """Keep the newest tick's VMO figures and, within the window, those of the ticks on the
        stride's grid (every SNAPSHOT_STRIDE-th), or the first tick while none is: so the
        oldest kept depends on the window alone, not on where the history began."""
        kept = self.kept
        if len(kept) > 1 and kept[-1].tick % SNAPSHOT_STRIDE:
            kept.pop()  # the last tick's, kept only as the newest
        kept.append(Kept(snap.tick, snap.time_ns, committed_reader(snap)))
        self._last = snap
        while kept[0].tick < self.ticks[0] or (
                len(kept) > 1 and kept[0].tick % SNAPSHOT_STRIDE
                and not kept[1].tick % SNAPSHOT_STRIDE):
            kept.popleft()

    # Memory: bench "ui default: RSS" (ui_bench): a forked boot's first snapshot is a decoded
    # copy whose VMO table a kept reader would hold (2.6 MB at default) for the whole window.
    def adopt(self, snap: Snapshot) -> None:
        """Read what is kept of `snap`'s tick from `snap`: the same state in a copy that
        shares its tables with the ticks after it (a forked boot's own)."""
        self.kept = deque(Kept(kept.tick, kept.time_ns, committed_reader(snap))
                          if kept.tick == snap.tick else kept for kept in self.kept)
        if self._last is not None and self._last.tick == snap.tick:
            self._last = snap

    def clear(self) -> None:
        for series in (self.ticks, self.times, self.free, self.kills, self.kept, self._columns):
            series.clear()

    def _drop_newest(self) -> None:
        for series in (self.ticks, self.times, self.free, self.kills, self.kept, self._columns):
            series.pop()

    @property
    def seconds(self) -> float:
        """How much source time the history spans."""
        return self.times[-1] - self.times[0] if self.times else 0.0

    def series(self, koid: int, figure: str = "pss") -> tuple[list[float], list[int]]:
        """Times (seconds) and values of a process's figure over the ticks it lived."""
        column = FIGURES.index(figure)
        values: list[int] = []
        index: Mapping[int, int] | None = None
        where = 0
        if self._last is None or koid not in self._last.processes:
            return [], []  # exited: a table's row outlives its process
        for positions, size, figures in reversed(self._columns):  # newest first, to its first tick
            if positions is not index:
                index, found = positions, positions.get(koid)
                if found is None:
                    break
                where = found
            if where >= size:  # born after this tick
                break
            if len(figures) == 2:  # copies of PSS and A.PSS
                values.append(figures[column][where])
            elif column:  # a table's PRIVATE, SCALED_SHARED and PSS_FIXED
                values.append(figures[2][where] >> FRACTION_BITS)
            else:
                values.append(figures[0][where] + figures[1][where])
        if not values:
            return [], []
        values.reverse()
        return list(self.times)[-len(values):], values

    def per_minute(self, koid: int, figure: str = "pss") -> float | None:
        """A process's robust slope in bytes per minute (None under MIN_SAMPLES ticks),
        worked out once a tick however often it is shown."""
        key = (koid, figure)
        if key not in self._slopes:
            self._slopes[key] = per_minute(*self.series(koid, figure))
        return self._slopes[key]

    def free_trend(self) -> Trend | None:
        """The trend of free memory (kstats) since the last kill (OOM or asked) in the window:
        a kill frees what was falling, so the ticks before it say nothing of what follows."""
        kills = list(self.kills)
        start = len(kills) - 1 - kills[::-1].index(True) if True in kills else 0
        return trend(list(self.times)[start:], list(self.free)[start:])


def per_minute(times: Sequence[float], values: Sequence[float]) -> float | None:
    """The robust slope in units per minute; None for fewer than MIN_SAMPLES samples."""
    return robust_slope(times, values) * 60 if len(values) >= MIN_SAMPLES else None


# -- leak suspects ----------------------------------------------------------------------


@dataclass(frozen=True)
class GrowingVmo:
    koid: int
    name: str
    per_minute: float  # committed bytes per minute over the window (new VMOs: all of theirs)
    pager_backed: bool  # file pages (a blob's): the kernel evicts them, they do not leak


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
    reaches that grew since the oldest snapshot kept (the window's first tick on the
    stride's grid). Growth in file pages alone (pager-backed blobs paged in) is not a
    leak: the kernel evicts those under pressure."""
    if len(history) < MIN_SAMPLES:
        return []
    first, last = history.kept[0], history.last
    minutes = (last.time_ns - first.time_ns) / 60e9
    out = []
    for koid in last.processes:
        # Cheapest first: the steps up, then the slope; the fit costs most.
        times, values = history.series(koid, "apss")
        if len(values) < MIN_SAMPLES or grew_share(values) < SUSPECT_GREW:
            continue
        if robust_slope(times, values) * 60 < SUSPECT_BYTES_PER_MINUTE:
            continue
        found = trend(times, values)
        if not is_suspect(found):
            continue
        assert found is not None
        process = last.processes[koid]
        vmos = growing_vmos(first, last, process, minutes)
        anonymous = sum(v.per_minute for v in vmos if not v.pager_backed)
        if anonymous >= SUSPECT_BYTES_PER_MINUTE:  # not just a blob being paged in
            out.append(Suspect(koid, process.name, found, vmos))
    out.sort(key=lambda s: -s.trend.per_minute)
    return out


def growing_vmos(first: Kept, last: Snapshot, process: Process,
                 minutes: float) -> tuple[GrowingVmo, ...]:
    """The VMOs the process reaches whose committed bytes grew over the window, most first."""
    out = []
    committed_now, committed_then = committed_reader(last), first.committed
    for koid in dict.fromkeys(ref.vmo_koid for ref in process.vmo_refs):
        bytes_now = committed_now(koid)
        if bytes_now is None:
            continue
        grown = bytes_now - (committed_then(koid) or 0)
        if grown > 0:
            now = last.vmos[koid]
            out.append(GrowingVmo(koid, now.name, grown / minutes if minutes else 0.0,
                                  bool(now.flags & VMO_PAGER_BACKED)))
    out.sort(key=lambda v: -v.per_minute)
    return tuple(out)


def committed_reader(snap: Snapshot) -> Callable[[int], int | None]:
    """A VMO's committed bytes at `snap`'s tick by koid, for the VMOs of that tick or born
    after it (None), without building records; from a simulation's table it holds the
    column, not the table."""
    table = snap.vmos
    if isinstance(table, FigureTable):
        return table.reader(COMMITTED)
    return lambda koid: None if (vmo := table.get(koid)) is None else vmo.committed_bytes


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
