"""What changed between two snapshots: what grew most, what appeared, what went.

Processes are ordered by legacy PSS growth, then attributed PSS growth; VMOs by committed
bytes growth. Only records whose figures moved are listed; kstats show every field.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Struct

from zmtop.engine.formats.names import safe_name
from zmtop.engine.formats.sizes import format_size
from zmtop.engine.snapshot.records import FRACTION_ONE, KMEM_V1_FIELDS, Process, Snapshot


class ProcessGrowth(Struct, frozen=True):
    koid: int
    name: str
    pss_bytes: int  # legacy PSS at the later tick
    pss_delta: int
    attributed_pss: float  # bytes, at the later tick
    attributed_delta: float


class VmoGrowth(Struct, frozen=True):
    koid: int
    name: str
    committed_bytes: int  # at the later tick
    committed_delta: int


class KmemDelta(Struct, frozen=True):
    field: str
    before: int
    after: int
    delta: int


class Diff(Struct, frozen=True):
    tick_a: int
    tick_b: int
    seconds: float
    processes: list[ProcessGrowth]  # in both, figures moved; most growth first
    processes_appeared: list[ProcessGrowth]  # delta = the whole figure
    processes_went: list[ProcessGrowth]  # figures as they were; delta = minus them
    vmos: list[VmoGrowth]
    vmos_appeared: list[VmoGrowth]
    vmos_went: list[VmoGrowth]
    kstats: list[KmemDelta]


def _process(p: Process, before: Process | None = None) -> ProcessGrowth:
    pss_before = before.pss_bytes if before else 0
    fixed_before = before.pss_fixed if before else 0
    return ProcessGrowth(p.koid, p.name, p.pss_bytes, p.pss_bytes - pss_before,
                         p.pss_fixed / FRACTION_ONE, (p.pss_fixed - fixed_before) / FRACTION_ONE)


def _gone_process(p: Process) -> ProcessGrowth:
    return ProcessGrowth(p.koid, p.name, p.pss_bytes, -p.pss_bytes,
                         p.pss_fixed / FRACTION_ONE, -p.pss_fixed / FRACTION_ONE)


def _by_process(g: ProcessGrowth) -> tuple[int, float, int]:
    return -g.pss_delta, -g.attributed_delta, g.koid


def _by_vmo(g: VmoGrowth) -> tuple[int, int]:
    return -g.committed_delta, g.koid


def diff(a: Snapshot, b: Snapshot) -> Diff:
    grew = [_process(p, a.processes[k]) for k, p in b.processes.items()
            if k in a.processes and (p.pss_bytes != a.processes[k].pss_bytes
                                     or p.pss_fixed != a.processes[k].pss_fixed)]
    appeared = [_process(p) for k, p in b.processes.items() if k not in a.processes]
    went = [_gone_process(p) for k, p in a.processes.items() if k not in b.processes]
    vmos = [VmoGrowth(k, v.name, v.committed_bytes,
                      v.committed_bytes - a.vmos[k].committed_bytes)
            for k, v in b.vmos.items()
            if k in a.vmos and v.committed_bytes != a.vmos[k].committed_bytes]
    vmos_appeared = [VmoGrowth(k, v.name, v.committed_bytes, v.committed_bytes)
                     for k, v in b.vmos.items() if k not in a.vmos]
    vmos_went = [VmoGrowth(k, v.name, v.committed_bytes, -v.committed_bytes)
                 for k, v in a.vmos.items() if k not in b.vmos]
    kstats = [KmemDelta(f, getattr(a.kmem, f), getattr(b.kmem, f),
                        getattr(b.kmem, f) - getattr(a.kmem, f)) for f in KMEM_V1_FIELDS]
    return Diff(a.tick, b.tick, (b.time_ns - a.time_ns) / 1e9,
                sorted(grew, key=_by_process), sorted(appeared, key=_by_process),
                sorted(went, key=_by_process), sorted(vmos, key=_by_vmo),
                sorted(vmos_appeared, key=_by_vmo), sorted(vmos_went, key=_by_vmo), kstats)


def diff_json(d: Diff) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(d)  # a Struct's builtins are a dict
    return out


def _signed(n: int) -> str:
    return ("+" if n > 0 else "-" if n < 0 else " ") + format_size(abs(n))


def diff_text(d: Diff) -> str:
    out = [f"tick {d.tick_a} -> tick {d.tick_b} ({d.seconds:g} s)", ""]
    sections = (("PROCESSES GREW OR SHRANK", d.processes), ("PROCESSES APPEARED",
                d.processes_appeared), ("PROCESSES WENT", d.processes_went))
    for title, rows in sections:
        if rows:
            out.append(f"{title}\n{'KOID':>8} {'PSS':>8} {'ΔPSS':>8} {'ATTR PSS':>9} "
                       f"{'ΔATTR':>8} NAME")
            out.extend(f"{g.koid:>8} {format_size(g.pss_bytes):>8} {_signed(g.pss_delta):>8} "
                       f"{format_size(round(g.attributed_pss)):>9} "
                       f"{_signed(round(g.attributed_delta)):>8} {safe_name(g.name)}"
                       for g in rows)
            out.append("")
    for title, vmo_rows in (("VMOS GREW OR SHRANK", d.vmos), ("VMOS APPEARED", d.vmos_appeared),
                        ("VMOS WENT", d.vmos_went)):
        if vmo_rows:
            out.append(f"{title}\n{'KOID':>8} {'COMMITTED':>9} {'Δ':>8} NAME")
            out.extend(f"{v.koid:>8} {format_size(v.committed_bytes):>9} "
                       f"{_signed(v.committed_delta):>8} {safe_name(v.name)}" for v in vmo_rows)
            out.append("")
    out.append(f"KSTATS\n{'FIELD':<20} {'BEFORE':>8} {'AFTER':>8} {'Δ':>8}")
    out.extend(f"{k.field:<20} {format_size(k.before):>8} {format_size(k.after):>8} "
               f"{_signed(k.delta):>8}" for k in d.kstats)
    return "\n".join(out) + "\n"
