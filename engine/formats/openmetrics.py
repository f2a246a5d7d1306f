"""The monitor's figures as Prometheus metrics: one snapshot's for a scrape, or every tick of
a recording as OpenMetrics text with timestamps (what `promtool tsdb create-blocks-from
openmetrics` backfills).

Names follow Prometheus's conventions: `zmtop_` first, base units (`_bytes`, `_seconds`),
counters ending in `_total`, and a `device` label on every series. The figures are those the
tools print: the `kstats -m` fields, PSS, private and shared as `ps` computes them, attributed
PSS (RFC-0254), memory_monitor's digest rows, and the events `zmtop events` lists.
"""

from __future__ import annotations

import copy
import heapq
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.openmetrics.exposition import generate_latest
from prometheus_client.samples import Sample

from zmtop.engine.analysis.digest import Digest
from zmtop.engine.formats.names import safe_name
from zmtop.engine.sim.pressure import LEVELS
from zmtop.engine.snapshot.records import (
    OOM_KILL,
    PROCESS_EXIT,
    PROCESS_START,
    Process,
    Snapshot,
    kstats_fields,
    pager_fields,
)

TOP = 50  # processes with series of their own, largest PSS first: cardinality stays bounded
# The events counted: their kind, and the counter's name and help.
COUNTED = ((OOM_KILL, "zmtop_oom_kills", "processes killed by the OOM killer"),
           (PROCESS_START, "zmtop_process_starts", "processes started"),
           (PROCESS_EXIT, "zmtop_process_exits", "processes exited"))
# zmtop_pressure_level: how far from Normal (0) towards OOM (4); LEVELS runs the other way.
SEVERITY = {name: len(LEVELS) - 1 - index for index, name in enumerate(LEVELS)}
Series = tuple[tuple[str, ...], float]  # a sample of a family: its label values, its value
Family = GaugeMetricFamily | CounterMetricFamily
FORMATS = 8  # formats (content types) whose lines an Exposition keeps; it starts over past it


class EventCounts:
    """Running totals of the counted events in the snapshots fed, each snapshot counted once
    (a recording at its end, or a capture, hands the same one again)."""

    def __init__(self) -> None:
        self.totals = {kind: 0 for kind, _, _ in COUNTED}
        self._last: Snapshot | None = None

    def add(self, snap: Snapshot) -> None:
        if snap is self._last:
            return
        self._last = snap
        for event in snap.events:
            if event.kind in self.totals:
                self.totals[event.kind] += 1


def top_processes(snap: Snapshot, top: int) -> list[Process]:
    """The `top` processes of largest PSS (as `ps` computes it), ties to the lower koid."""
    return heapq.nlargest(top, snap.processes.values(),
                          key=lambda proc: (proc.pss_bytes, -proc.koid))


class MetricSet:
    """The metric families of one device, to which each snapshot adds its samples (with a
    timestamp, in Unix seconds, for a series over time)."""

    def __init__(self, device: str, top: int = TOP) -> None:
        self.device = device
        self.top = top
        process = ["device", "koid", "name"]
        self.tick = GaugeMetricFamily("zmtop_tick", "the tick of the snapshot", labels=["device"])
        self.uptime = GaugeMetricFamily("zmtop_uptime", "source time of the snapshot",
                                        labels=["device"], unit="seconds")
        self.total = GaugeMetricFamily("zmtop_kstats_total", "kstats -m: mem total",
                                       labels=["device"], unit="bytes")
        self.parts = GaugeMetricFamily(
            "zmtop_kstats", "kstats -m: the parts of mem total, by field (they sum to it)",
            labels=["device", "field"], unit="bytes")
        self.pager = GaugeMetricFamily(
            "zmtop_kstats_vmo_pager", "pager-backed VMO bytes by page queue (part of VMOs)",
            labels=["device", "queue"], unit="bytes")
        self.pressure = GaugeMetricFamily(
            "zmtop_pressure_level",
            "memory pressure: 0 Normal, 1 Warning, 2 Critical, 3 Imminent-OOM, 4 OOM",
            labels=["device"])
        self.pss = GaugeMetricFamily("zmtop_process_pss", "PSS as ps computes it, top processes",
                                     labels=process, unit="bytes")
        self.private = GaugeMetricFamily("zmtop_process_private", "private bytes as ps computes "
                                         "them, top processes", labels=process, unit="bytes")
        self.shared = GaugeMetricFamily("zmtop_process_shared", "shared bytes as ps computes "
                                        "them, top processes", labels=process, unit="bytes")
        self.attributed = GaugeMetricFamily(
            "zmtop_process_attributed_pss", "attributed PSS (RFC-0254), top processes",
            labels=process, unit="bytes")
        self.digest = GaugeMetricFamily("zmtop_digest", "memory_monitor's digest, by row",
                                        labels=["device", "bucket"], unit="bytes")
        self.counters = [CounterMetricFamily(name, text, labels=["device"])
                         for _, name, text in COUNTED]
        # every family, in the order of their text (and of `series`)
        self.all: list[Family] = [self.tick, self.uptime, self.total, self.parts, self.pager,
                                  self.pressure, self.pss, self.private, self.shared,
                                  self.attributed, self.digest, *self.counters]
        self._snapshots = 0  # added

    def series(self, snap: Snapshot, totals: Mapping[str, int],
               digest: Digest | None) -> list[list[Series]]:
        """One snapshot's samples as (label values, value) pairs, family by family as in
        `all`: `totals` are the event counts so far (EventCounts.totals), `digest` its digest,
        if any. A scrape keeps the pairs as they are (fleet_bench: "--metrics CPU per
        scrape"); `add` makes samples of them."""
        device, one = self.device, (self.device,)
        kmem = snap.kmem
        top = top_processes(snap, self.top)
        processes = [(device, str(proc.koid), safe_name(proc.name)) for proc in top]
        counts: list[list[Series]] = [[(one, totals[kind])] for kind, _, _ in COUNTED]
        series: list[list[Series]] = [
            [(one, snap.tick)],
            [(one, snap.time_ns / 1e9)],
            [(one, kmem.total_bytes)],
            [((device, field), value) for field, value in kstats_fields(kmem)[1:]],
            [((device, key.removeprefix("vmo_pager_")), value)
             for key, value in pager_fields(kmem).items()],
            [(one, SEVERITY.get(snap.pressure, 0))],
            list(zip(processes, [proc.pss_bytes for proc in top])),
            list(zip(processes, [proc.private_bytes for proc in top])),
            list(zip(processes, [proc.shared_bytes for proc in top])),
            list(zip(processes, [proc.attributed_pss for proc in top])),
            [((device, row.name), row.size) for row in digest.rows()] if digest is not None
            else [],
        ]
        return series + counts

    def add(self, snap: Snapshot, totals: Mapping[str, int], digest: Digest | None,
            timestamp: float | None = None) -> None:
        """One snapshot's samples (as `series` says)."""
        self.add_series(self.series(snap, totals, digest), timestamp)

    def add_series(self, series: Sequence[Sequence[Series]],
                   timestamp: float | None = None) -> None:
        """One snapshot's samples, as `series` gave them."""
        self._snapshots += 1
        for family, pairs in zip(self.all, series):
            for labels, value in pairs:
                family.add_metric(labels, value, timestamp=timestamp)

    def families(self) -> list[Metric]:
        """Every family with samples, each series' samples together (OpenMetrics asks it of a
        series over time), oldest first."""
        families = self.all
        for family in families if self._snapshots > 1 else ():  # else a sample per series
            series: dict[tuple[str, ...], list[Sample]] = {}
            for sample in family.samples:
                series.setdefault(tuple(sample.labels.values()), []).append(sample)
            if len(series) > 1:
                family.samples = [s for group in series.values() for s in group]
        return [family for family in families if family.samples]


class Families:
    """A fixed list of families, as prometheus_client's exposition reads a registry."""

    def __init__(self, families: Sequence[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def openmetrics_text(metrics: MetricSet) -> str:
    """The families as OpenMetrics text, ending in `# EOF`."""
    text: bytes = generate_latest(Families(metrics.families()))
    return text.decode("utf-8")


Encoder = Callable[[Families], bytes]  # one of prometheus_client's, as choose_encoder gives it


class Exposition:
    """A MetricSet's samples (`series`) as the text of one of prometheus_client's formats,
    kept line by line from one call to the next: only the samples whose line the last text
    of that format lacks go through the encoder, and the other lines are reused, so the text
    is the encoder's, byte for byte, at a cost per changed sample (fleet_bench: "--metrics
    CPU per scrape"). Calls may come from several threads (an HTTP server's)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._formats: dict[str, _Lines] = {}

    def text(self, families: Sequence[Family], series: Sequence[Sequence[Series]],
             encoder: Encoder, content_type: str) -> bytes:
        """The text `encoder` makes of `families` (MetricSet.all) with the samples `series`
        gives them (MetricSet.series), no timestamps; `content_type` names its format."""
        with self._lock:
            lines = self._formats.get(content_type)
            if lines is None:
                if len(self._formats) >= FORMATS:
                    self._formats.clear()
                lines = self._formats[content_type] = _Lines(encoder(Families(())))
            return lines.text(families, series, encoder)


class _Lines:
    """The lines of one format: each family's head (HELP, TYPE, UNIT) and each of its
    samples' line, by family index; and what follows the last family (OpenMetrics' `# EOF`)."""

    def __init__(self, tail: bytes) -> None:
        self.tail = tail
        self.heads: dict[int, bytes] = {}
        self.samples: dict[int, dict[Series, bytes]] = {}

    def text(self, families: Sequence[Family], series: Sequence[Sequence[Series]],
             encoder: Encoder) -> bytes:
        known = self.samples
        parts: list[tuple[int, list[Series], Metric]] = []  # what is not known yet
        for index, (family, pairs) in enumerate(zip(families, series)):
            lines = known.setdefault(index, {})
            new = [pair for pair in pairs if pair not in lines]
            if new or (pairs and index not in self.heads):
                part = copy.copy(family)
                part.samples = []
                for labels, value in new:
                    part.add_metric(labels, value)
                parts.append((index, new, part))
        if parts:
            self._learn(parts, encoder(Families([part for _, _, part in parts])))
        out = []
        for index, pairs in enumerate(series):
            if pairs:
                out.append(self.heads[index])
                out.extend(map(known[index].__getitem__, pairs))
        out.append(self.tail)
        self.samples = {index: {pair: known[index][pair] for pair in pairs}
                        for index, pairs in enumerate(series)}
        return b"".join(out)

    def _learn(self, parts: list[tuple[int, list[Series], Metric]], text: bytes) -> None:
        """Note the head and the sample lines of each of `parts`, as `text` has them."""
        if not text.endswith(self.tail):
            raise ValueError("the encoder's text does not end as that of no family does")
        lines = text[:len(text) - len(self.tail)].splitlines(keepends=True)
        starts = [i for i, line in enumerate(lines) if line.startswith(b"# HELP ")]
        if starts[:1] != [0] or len(starts) != len(parts):
            raise ValueError("the encoder's text does not open each family with a HELP line")
        for (index, new, part), start, end in zip(parts, starts, [*starts[1:], len(lines)]):
            head = end - len(new)
            if head <= start or any(line.startswith(b"#") for line in lines[head:end]):
                raise ValueError(f"the encoder's text has not a line per sample of {part.name}")
            self.heads[index] = b"".join(lines[start:head])
            self.samples[index].update(zip(new, lines[head:end]))
