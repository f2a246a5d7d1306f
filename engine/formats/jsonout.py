"""JSON-ready records with the field names of the real formats (memgraph, zx_info_* structs).

Plain dicts and lists; the caller serialises them. Names are left raw: JSON escaping already
makes control characters harmless.
"""

from __future__ import annotations

from typing import Any

from zmtop.engine.formats.psutils import hidden_vmos, walk_tasks
from zmtop.engine.snapshot.records import (
    FRACTION_BITS,
    FRACTION_ONE,
    KMEM_V1_FIELDS,
    MAP_TYPES,
    THREAD_STATES,
    VMO_VIA_HANDLE,
    VMO_VIA_MAPPING,
    Kmem,
    MapEntry,
    Snapshot,
    Vmo,
    VmoRef,
)


def tasks_json(
    snap: Snapshot, *, jobs_only: bool = False, threads: bool = False, job_koid: int | None = None
) -> list[dict[str, Any]]:
    """memgraph's job, process and thread records, in ps walk order.

    Unlike ps, `jobs_only` also drops threads, so no record names a parent that is not listed.
    """
    rows = walk_tasks(
        snap, jobs_only=jobs_only, threads=threads and not jobs_only, job_koid=job_koid
    )
    out: list[dict[str, Any]] = []
    for r in rows:
        if r.type == "j":
            out.append({
                "id": f"j/{r.koid}",
                "type": "j",
                "koid": r.koid,
                "parent": f"j/{r.parent_koid}" if r.parent_koid else "kernel/vmo",
                "name": r.name,
                "private_bytes": r.private_bytes,
                "pss_bytes": r.pss_bytes,
            })
        elif r.type == "p":
            proc = snap.processes[r.koid]
            out.append({
                "id": f"p/{r.koid}",
                "type": "p",
                "koid": r.koid,
                "parent": f"j/{r.parent_koid}",
                "name": r.name,
                "private_bytes": proc.private_bytes,
                "shared_bytes": proc.shared_bytes,
                "pss_bytes": proc.pss_bytes,
                "uss_bytes": proc.uss_bytes,
                "rss_bytes": proc.rss_bytes,
                "attributed_pss_bytes": proc.attributed_pss,
            })
        else:
            out.append({
                "id": f"t/{r.koid}",
                "type": "t",
                "koid": r.koid,
                "parent": f"p/{r.parent_koid}",
                "name": r.name,
                "state": THREAD_STATES.get(r.state, "<UNKNOWN>"),
            })
    return out


def vmo_json(vmo: Vmo, ref: VmoRef | None = None) -> dict[str, Any]:
    """zx_info_vmo_t plus RFC-0254's committed_* fields; `ref` adds the VIA_* flag and rights."""
    flags = vmo.flags
    if ref is not None:
        flags |= VMO_VIA_HANDLE if ref.via_handle else VMO_VIA_MAPPING
    return {
        "koid": vmo.koid,
        "name": vmo.name,
        "size_bytes": vmo.size_bytes,
        "parent_koid": vmo.parent_koid,
        "num_children": vmo.num_children,
        "num_mappings": vmo.num_mappings,
        "share_count": vmo.share_count,
        "flags": flags,
        "committed_bytes": vmo.committed_bytes,
        "handle_rights": ref.rights if ref is not None and ref.via_handle else 0,
        "committed_private_bytes": vmo.private_bytes,
        "committed_scaled_bytes": vmo.scaled_fixed // FRACTION_ONE,
        # The RFC's field is 63-bit fixed point (2**63 is one byte).
        "committed_fractional_scaled_bytes":
            (vmo.scaled_fixed % FRACTION_ONE) << (63 - FRACTION_BITS),
        "committed_total_bytes": vmo.total_bytes,
    }


def vmos_json(snap: Snapshot, process_koid: int) -> list[dict[str, Any]]:
    """ZX_INFO_PROCESS_VMOS: one record per handle or mapping, duplicates kept."""
    refs = snap.processes[process_koid].vmo_refs
    return [vmo_json(snap.vmos[ref.vmo_koid], ref) for ref in refs]


def hidden_vmos_json(snap: Snapshot) -> list[dict[str, Any]]:
    """The VMOs `k zx vmos hidden` lists, oldest first."""
    return [vmo_json(vmo) for vmo in hidden_vmos(snap)]


def _map_json(entry: MapEntry) -> dict[str, Any]:
    record: dict[str, Any] = {
        "name": entry.name,
        "base": entry.base,
        "size": entry.size,
        "depth": entry.depth,
        "type": MAP_TYPES[entry.type],
    }
    if entry.type == "M":
        record |= {
            "mmu_flags": entry.perms,
            "vmo_koid": entry.vmo_koid,
            "vmo_offset": entry.vmo_offset,
            "committed_bytes": entry.committed_bytes,
        }
    return record


def maps_json(snap: Snapshot, process_koid: int) -> list[dict[str, Any]]:
    """ZX_INFO_PROCESS_MAPS: the aspace, VMARs and mappings in depth-first pre-order."""
    return [_map_json(e) for e in snap.processes[process_koid].maps]


def kmem_json(kmem: Kmem) -> dict[str, Any]:
    """zx_info_kmem_stats_v1_t, whose field names Kmem already uses."""
    return {name: getattr(kmem, name) for name in KMEM_V1_FIELDS}
