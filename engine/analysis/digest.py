"""Bucket digests as memory_monitor's Digester computes them (reference 4.5), over any Snapshot,
and their text, CSV and JSON.

Config: a JSON array of `{"name", "process", "vmo", "event_code"?}`. `process` is a regex or,
as in the scripts' variant, a list of regexes (any may match); a missing, empty or `.*`
regex matches everything. Matching is a full match, as RE2::FullMatch, with RE2 (linear time:
a capture's pattern cannot hang a digest). Bucket names are untrusted (a capture carries its
own config) and escaped here, where they are read (formats.names.safe_name).

Assignment: buckets in config order are the outer loop; a VMO (by koid) goes to the first
bucket whose process regex matches some process listing it and whose VMO regex matches its
name, and adds its full committed bytes. Buckets are then sorted by size, largest first (ties
keep config order). Then come Undigested (captured VMOs no bucket claimed; omitted when 0),
Orphaned (kmem.vmo minus everything above, if positive), Kernel (wired + heap + mmu + ipc +
other), Free and, for a capture with extended kernel counters, the `[Addl]` lines.
The VMOs considered are those a capture lists: referenced by a process, or an ancestor of one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from zmtop.engine.analysis.bucket_regex import BucketRegex, RegexError, bucket_regex
from zmtop.engine.formats.capture import capture_vmos
from zmtop.engine.formats.csvout import csv_text
from zmtop.engine.formats.names import safe_name
from zmtop.engine.formats.sizes import memory_monitor_size
from zmtop.engine.snapshot.records import Snapshot, pager_fields
from zmtop.engine.sources.json_input import SourceError, decode_json, expect, member


@dataclass(frozen=True)
class BucketMatch:
    name: str  # escaped (safe_name)
    process: BucketRegex | None  # None matches every process
    vmo: BucketRegex | None  # None matches every VMO
    event_code: int | None = None


@dataclass(frozen=True)
class Bucket:
    name: str
    size: int
    vmos: tuple[int, ...] = ()


@dataclass(frozen=True)
class Digest:
    time_ns: int
    buckets: tuple[Bucket, ...]  # the config's buckets, largest first
    undigested: Bucket
    orphaned: int  # 0 when not shown
    kernel: int | None  # None (and free None) when the data has no kernel counters
    free: int | None
    additional: tuple[Bucket, ...] = ()  # the [Addl] lines

    def rows(self) -> list[Bucket]:
        """Every line memory_monitor prints, in its order."""
        rows = list(self.buckets)
        if self.undigested.size:
            rows.append(self.undigested)
        if self.orphaned:
            rows.append(Bucket("Orphaned", self.orphaned))
        if self.kernel is not None:
            rows += [Bucket("Kernel", self.kernel), Bucket("Free", self.free or 0)]
        return rows + list(self.additional)


# --- config ----------------------------------------------------------------------------------


def load_buckets(path: str | Path | None = None) -> list[BucketMatch]:
    """A bucket config file; None gives the simulation's default config."""
    if path is None:
        data = resources.files(__package__).joinpath("default_buckets.json").read_bytes()
        return parse_buckets(decode_json(data), "$")
    path = Path(path)
    try:
        data = path.read_bytes()
        return parse_buckets(decode_json(data), "$")
    except OSError as e:
        raise SourceError(f"{path}: cannot read: {e.strerror or e}") from None
    except SourceError as e:
        raise SourceError(f"{path}: {e}") from None


def parse_buckets(doc: Any, path: str) -> list[BucketMatch]:
    """A decoded bucket config, `path` its JSON path in the document; names come escaped."""
    out = []
    for i, entry in enumerate(expect(doc, list, path)):
        where = f"{path}[{i}]"
        expect(entry, dict, where)
        name = safe_name(expect(member(entry, "name", where), str, f"{where}.name"))
        process = entry.get("process", "")
        if isinstance(process, list):
            for j, item in enumerate(process):
                expect(item, str, f"{where}.process[{j}]")
            process = "|".join(f"(?:{item})" for item in process) if process else ""
        expect(process, str, f"{where}.process")
        vmo = expect(entry.get("vmo", ""), str, f"{where}.vmo")
        code = entry.get("event_code")
        if code is not None:
            expect(code, int, f"{where}.event_code")
        out.append(BucketMatch(name, _regex(process, f"{where}.process", name),
                               _regex(vmo, f"{where}.vmo", name), code))
    return out


def _regex(pattern: str, path: str, bucket: str) -> BucketRegex | None:
    if pattern in ("", ".*"):
        return None
    try:
        return bucket_regex(pattern)
    except RegexError as e:
        raise SourceError(f'{path}: invalid regex in bucket "{_short(bucket)}" ({e})') from None


def _short(name: str) -> str:
    return name if len(name) <= 60 else name[:60] + "..."


# --- digest ----------------------------------------------------------------------------------


def digest(snap: Snapshot, buckets: list[BucketMatch],
           kernel_extended: dict[str, int] | None = None) -> Digest:
    """Digester::Digest over a snapshot; the `[Addl]` rows come from Kmem's pager figures and
    `kernel_extended` (ImportedSource.kernel_extended)."""
    vmos = snap.vmos
    undigested = capture_vmos(snap)
    claimed: list[Bucket] = []
    for match in buckets:
        names = _every_name if match.vmo is None else match.vmo.fullmatch
        koids: list[int] = []
        size = 0
        for proc in snap.processes.values():
            if match.process is not None and not match.process.fullmatch(proc.name):
                continue
            for ref in proc.vmo_refs:
                koid = ref.vmo_koid
                if koid in undigested and names(vmos[koid].name):
                    undigested.discard(koid)
                    koids.append(koid)
                    size += vmos[koid].committed_bytes
        claimed.append(Bucket(match.name, size, tuple(sorted(koids))))
    rest = Bucket("Undigested", sum(vmos[k].committed_bytes for k in undigested),
                  tuple(sorted(undigested)))
    return digest_of(snap, claimed, rest, kernel_extended)


def digest_of(snap: Snapshot, claimed: list[Bucket], rest: Bucket,
              kernel_extended: dict[str, int] | None = None) -> Digest:
    """The digest of `snap` once its VMOs are in buckets: `claimed`, the config's buckets in
    its order, and `rest`, Undigested; the lines that follow come from Kmem."""
    claimed = sorted(claimed, key=lambda b: -b.size)
    kmem = snap.kmem
    if kmem.total_bytes == 0:
        return Digest(snap.time_ns, tuple(claimed), rest, 0, None, None)
    seen = sum(b.size for b in claimed) + rest.size
    return Digest(
        time_ns=snap.time_ns,
        buckets=tuple(claimed),
        undigested=rest,
        orphaned=max(0, kmem.vmo_bytes - seen),
        kernel=(kmem.wired_bytes + kmem.total_heap_bytes + kmem.mmu_overhead_bytes
                + kmem.ipc_bytes + kmem.other_bytes),
        free=kmem.free_bytes,
        additional=_additional(pager_fields(kmem) | (kernel_extended or {})),
    )


def _every_name(name: str) -> bool:
    return True


def _additional(ext: dict[str, int]) -> tuple[Bucket, ...]:
    out = []
    if ext.get("vmo_pager_total", 0) > 0:
        out += [Bucket("[Addl]PagerTotal", ext["vmo_pager_total"]),
                Bucket("[Addl]PagerNewest", ext.get("vmo_pager_newest", 0)),
                Bucket("[Addl]PagerOldest", ext.get("vmo_pager_oldest", 0))]
    locked = ext.get("vmo_discardable_locked", 0)
    unlocked = ext.get("vmo_discardable_unlocked", 0)
    if locked > 0 or unlocked > 0:
        out += [Bucket("[Addl]DiscardableLocked", locked),
                Bucket("[Addl]DiscardableUnlocked", unlocked)]
    return tuple(out)


# --- output ----------------------------------------------------------------------------------


def digest_text(d: Digest) -> str:
    """TextPrinter::PrintDigest: `Name: size` per line."""
    return "".join(f"{b.name}: {memory_monitor_size(b.size)}\n" for b in d.rows())


def digest_csv(d: Digest) -> str:
    """TextPrinter::OutputDigest, which is also `ffx profile memory --buckets --csv`:
    `sec,name,bytes` per line, whole seconds, no header (a name quoted only if it must be)."""
    sec = d.time_ns // 1_000_000_000
    return csv_text((sec, b.name, b.size) for b in d.rows())


def digest_json(d: Digest) -> str:
    """`{"time", "buckets": [{"name", "size", "vmos"}], "undigested": {"size", "vmos"},
    "orphaned", "kernel", "free", "additional": [{"name", "size"}]}`; sizes in bytes."""
    return json.dumps({
        "time": d.time_ns,
        "buckets": [{"name": b.name, "size": b.size, "vmos": list(b.vmos)} for b in d.buckets],
        "undigested": {"size": d.undigested.size, "vmos": list(d.undigested.vmos)},
        "orphaned": d.orphaned,
        "kernel": d.kernel,
        "free": d.free,
        "additional": [{"name": b.name, "size": b.size} for b in d.additional],
    }, indent=1)
