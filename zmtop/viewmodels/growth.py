"""The job tree's trends: each row's PSS over the window and its growth per minute, and
the time to pressure at free memory's trend.

Processes' series are the History's (engine.analysis.trend). A job's series is its PSS,
which sums its children's: kept here a tick at a time for the jobs that sum several
children; a job with one child shows that child's, as its figures do (Figures).
"""

from __future__ import annotations

from collections import deque

from zmtop.engine.analysis.trend import (
    MIN_SAMPLES,
    History,
    Suspect,
    eta_text,
    per_minute,
    suspects,
    time_to_levels,
)
from zmtop.engine.snapshot.records import Snapshot
from zmtop.viewmodels.task_rows import JOB_PSS, Figures

# Rows' growth is worked out again every REFRESH_TICKS ticks once the window holds a trend:
# a slope over 60 ticks barely moves in one, and a row whose text is unchanged is not
# repainted, so the column costs a repaint of the tree every few ticks, not every tick.
REFRESH_TICKS = 5


class Growth:
    """Trends over the last `window` ticks, fed each tick after the Figures advance."""

    def __init__(self, window: int) -> None:
        self.history = History(window)
        self._jobs: dict[int, deque[int]] = {}  # summing job -> its PSS by tick
        self._figures: Figures | None = None
        self._slopes: dict[tuple[str, int], float | None] = {}
        self._eta: str | None = None
        self._suspects: list[Suspect] | None = None

    def add(self, snap: Snapshot, figures: Figures) -> None:
        """Take a tick: its snapshot, and its jobs' totals from `figures`."""
        history = self.history
        history.add(snap)
        if len(history) == 1:  # a new start (or a seek): the jobs' series too
            self._jobs.clear()
        self._figures, self._eta, self._suspects = figures, None, None
        if len(history) <= MIN_SAMPLES or not snap.tick % REFRESH_TICKS:
            self._slopes = {}
        totals = figures.totals
        for koid, total in totals.items():
            series = self._jobs.get(koid)
            if series is None:
                series = self._jobs[koid] = deque(maxlen=history.window)
            series.append(total[JOB_PSS])
        if len(self._jobs) > len(totals):
            for koid in self._jobs.keys() - totals.keys():
                del self._jobs[koid]

    def series(self, kind: str, koid: int) -> list[int]:
        """A row's PSS over the ticks of the window it lived, oldest first."""
        if kind == "j" and self._figures is not None:
            kind, koid = self._figures.shown_as(koid)
        if kind == "p":
            return self.history.series(koid)[1]
        return list(self._jobs.get(koid, ()))

    def per_minute(self, kind: str, koid: int) -> float | None:
        """A row's growth in bytes per minute (robust slope); None under a trend's
        minimum of ticks. Worked out for the rows shown, again every REFRESH_TICKS."""
        key = (kind, koid)
        if key not in self._slopes:
            values = self.series(kind, koid)
            times = list(self.history.times)[-len(values):] if values else []
            self._slopes[key] = per_minute(times, values)
        return self._slopes[key]

    def suspects(self) -> list[Suspect]:
        """This tick's leak suspects (see trend.suspects), worked out once."""
        if self._suspects is None:
            self._suspects = suspects(self.history)
        return self._suspects

    def eta(self) -> str:
        """`Warning in ~3m  OOM in ~7m`, or empty while free memory is flat or rising."""
        if self._eta is None:
            history = self.history
            free = history.free[-1] if history.free else 0
            self._eta = eta_text(time_to_levels(free, history.free_trend()))
        return self._eta


def resample(values: list[int], width: int) -> list[int]:
    """`width` values evenly spaced over `values`, first and last kept (all, if fewer)."""
    if len(values) <= width or width < 2:
        return values[-width:] if width > 0 else []
    step = (len(values) - 1) / (width - 1)
    return [values[round(i * step)] for i in range(width)]
