"""The monitor's figures as Prometheus metrics: one snapshot's for a scrape, or every tick of
a recording as OpenMetrics text with timestamps (what `promtool tsdb create-blocks-from
openmetrics` backfills).

Names follow Prometheus's conventions: `zmtop_` first, base units (`_bytes`, `_seconds`),
counters ending in `_total`, and a `device` label on every series. The figures are those the
tools print: the `kstats -m` fields, PSS, private and shared as `ps` computes them, attributed
PSS (RFC-0254), memory_monitor's digest rows, and the events `zmtop events` lists.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence

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

    def add(self, snap: Snapshot, totals: Mapping[str, int], digest: Digest | None,
            timestamp: float | None = None) -> None:
        """One snapshot's samples: `totals` are the event counts so far (EventCounts.totals),
        `digest` its digest, if any."""
        device = [self.device]
        kmem = snap.kmem
        self.tick.add_metric(device, snap.tick, timestamp=timestamp)
        self.uptime.add_metric(device, snap.time_ns / 1e9, timestamp=timestamp)
        self.total.add_metric(device, kmem.total_bytes, timestamp=timestamp)
        for field, value in kstats_fields(kmem)[1:]:
            self.parts.add_metric([self.device, field], value, timestamp=timestamp)
        for key, value in pager_fields(kmem).items():
            self.pager.add_metric([self.device, key.removeprefix("vmo_pager_")], value, timestamp=timestamp)
        self.pressure.add_metric(device, SEVERITY.get(snap.pressure, 0), timestamp=timestamp)
        for proc in top_processes(snap, self.top):
            labels = [self.device, str(proc.koid), safe_name(proc.name)]
            self.pss.add_metric(labels, proc.pss_bytes, timestamp=timestamp)
            self.private.add_metric(labels, proc.private_bytes, timestamp=timestamp)
            self.shared.add_metric(labels, proc.shared_bytes, timestamp=timestamp)
            self.attributed.add_metric(labels, proc.attributed_pss, timestamp=timestamp)
        for row in digest.rows() if digest is not None else ():
            self.digest.add_metric([self.device, row.name], row.size, timestamp=timestamp)
        for counter, (kind, _, _) in zip(self.counters, COUNTED):
            counter.add_metric(device, totals[kind], timestamp=timestamp)

    def families(self) -> list[Metric]:
        """Every family with samples, each series' samples together (OpenMetrics asks it of a
        series over time), oldest first."""
        families: list[Metric] = [self.tick, self.uptime, self.total, self.parts, self.pager,
                                  self.pressure, self.pss, self.private, self.shared,
                                  self.attributed, self.digest, *self.counters]
        for family in families:
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
