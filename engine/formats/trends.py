"""What `zmtop leaks` and `zmtop kstats --eta` print: leak suspects and the time to pressure.

Rates are bytes per minute of source time, sized as ps sizes bytes and signed (`+132.0K`).
"""

from __future__ import annotations

from typing import Any

from zmtop.engine.analysis.trend import (
    SUSPECT_BYTES_PER_MINUTE,
    SUSPECT_FIT,
    SUSPECT_GREW,
    History,
    Suspect,
    eta_text,
    time_to_levels,
)
from zmtop.engine.formats.events import uptime
from zmtop.engine.formats.names import safe_name
from zmtop.engine.formats.sizes import format_size

VMOS_SHOWN = 5  # growing VMOs listed under each suspect, fastest first; the rest summed
SUSPECTS_HEADER = f"{'KOID':>8} {'NAME':<32} {'A.PSS/MIN':>10} {'PSS/MIN':>10} {'FIT':>5} {'GREW':>5}\n"


def rate(per_minute: float, unit: str = "") -> str:
    """A signed size per minute: +132.0K, -4.0M, 0B (`unit` as format_size takes it)."""
    whole = round(per_minute)
    sign = "+" if whole > 0 else "-" if whole < 0 else ""
    return f"{sign}{format_size(abs(whole), unit)}"


def window_text(history: History) -> str:
    """`60 ticks (0:00:59)`: how much the trends span."""
    return f"{len(history)} ticks ({uptime(round(history.seconds * 1e9))})"


def rule_text() -> str:
    """What makes a suspect, in one line."""
    return (f"attributed PSS growing {rate(SUSPECT_BYTES_PER_MINUTE)}/min or more, a line "
            f"fitting it (R² ≥ {SUSPECT_FIT}) and at least {SUSPECT_GREW:.0%} of ticks up, "
            f"not only in file pages")


def leaks_text(history: History, found: list[Suspect]) -> str:
    """The suspects, fastest first, each followed by the VMOs it reaches that grew."""
    head = f"leak suspects over {window_text(history)}: {rule_text()}\n"
    if not found:
        return head + "none\n"
    lines = [head, SUSPECTS_HEADER]
    for suspect in found:
        pss = history.per_minute(suspect.koid, "pss") or 0.0
        lines.append(f"{suspect.koid:>8} {safe_name(suspect.name):<32} "
                     f"{rate(suspect.trend.per_minute):>10} {rate(pss):>10} "
                     f"{suspect.trend.fit:>5.2f} {suspect.trend.grew:>5.0%}\n")
        for vmo in suspect.vmos[:VMOS_SHOWN]:
            kind = " (file pages)" if vmo.pager_backed else ""
            lines.append(f"{'':>8}   vmo {vmo.koid:>8} {safe_name(vmo.name):<32} "
                         f"{rate(vmo.per_minute):>10}{kind}\n")
        rest = suspect.vmos[VMOS_SHOWN:]
        if rest:
            lines.append(f"{'':>8}   and {len(rest)} more VMOs, "
                         f"{rate(sum(v.per_minute for v in rest))}/min together (--json lists all)\n")
    return "".join(lines)


def leaks_json(history: History, found: list[Suspect]) -> dict[str, Any]:
    return {
        "ticks": len(history),
        "seconds": history.seconds,
        "suspects": [{
            "koid": s.koid,
            "name": s.name,
            "apss_per_minute": s.trend.per_minute,
            "pss_per_minute": history.per_minute(s.koid, "pss"),
            "fit": s.trend.fit,
            "grew": s.trend.grew,
            "vmos": [{"koid": v.koid, "name": v.name, "per_minute": v.per_minute,
                      "pager_backed": v.pager_backed} for v in s.vmos],
        } for s in found],
    }


def eta(history: History) -> list[tuple[str, float]]:
    """(level, seconds) to the next pressure level and to OOM at free memory's trend."""
    return time_to_levels(history.free[-1], history.free_trend())


def eta_line(history: History) -> str:
    """`time to pressure: Warning in ~3m  OOM in ~7m (free -48.0M/min over 60 ticks (…))`,
    or why there is none."""
    found = history.free_trend()
    if found is None:
        return f"time to pressure: no trend in {window_text(history)}\n"
    etas = eta(history)
    if etas:
        why = eta_text(etas)
    else:
        why = "none within a day" if found.per_minute < 0 else "none, free memory is not falling"
    return (f"time to pressure: {why} (free {rate(found.per_minute)}/min over "
            f"{window_text(history)})\n")


def eta_json(history: History) -> dict[str, Any]:
    found = history.free_trend()
    return {"ticks": len(history), "seconds": history.seconds,
            "free_per_minute": None if found is None else found.per_minute,
            "levels": [{"level": level, "seconds": seconds} for level, seconds in eta(history)]}
