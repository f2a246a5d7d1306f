"""The statistics that tell a simulated device from a real one, read off a memory_monitor
capture: counts, clone and commit shares, VMO name families, scudo's commits, kernel figures.

`python tests/device_stats.py [SCENARIO]` prints them for the scenario's export beside the real
capture's (tests/fixtures), the table issue 14's note carries.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_capture import CAPTURE  # noqa: E402

from zmtop.engine.formats.capture import capture_json  # noqa: E402
from zmtop.engine.sim.simulation import Simulation  # noqa: E402

MIB = 1 << 20
# Name families, by what a folded name starts with or is.
FAMILIES = {
    "scudo:primary": lambda n: n == "scudo:primary",
    "bootfs (image and clones)": lambda n: n.endswith("uncompressed-bootfs"),
    "blob (image and clones)": lambda n: "blob-#" in n and not n.startswith(("mrkl", "inactive")),
    "ld.so.#-internal-heap": lambda n: n == "ld.so.#-internal-heap",
    "stack: msg of #": lambda n: n == "stack: msg of #",
    "initial-thread": lambda n: n == "initial-thread",
    "pthread_t/thrd_t stacks": lambda n: n.startswith(("pthread_t:", "thrd_t:")),
    "InspectHeap": lambda n: n == "InspectHeap",
    "go-runtime-heap-vmo": lambda n: n == "go-runtime-heap-vmo",
    "*-async-loop": lambda n: n.endswith("async-loop"),
    "unnamed": lambda n: n == "",
}


def fold(name: str) -> str:
    """A VMO name with each run of hex digits that holds a decimal digit as `#`: the family
    that names like `blob-405d17d9` and `pthread_t:0x2a61ec34b18` belong to."""
    return re.sub(r"(0x)?[0-9a-f]*[0-9][0-9a-f]*", "#", name)


def rows(capture: dict) -> list[tuple[int, str, int, int, int]]:
    """(koid, name, parent, committed, size) of every VMO."""
    names = capture["VmoNames"]
    return [(k, names[n], parent, committed, size)
            for k, n, parent, committed, size in capture["Vmos"][1:]]


def device_stats(capture: dict, real_names: set[str] | None = None) -> dict[str, float]:
    """The statistics of one capture. `real_names`: the folded names of the real device, for
    the share of VMOs whose name a real device has."""
    vmos = rows(capture)
    folded = [fold(name) for _, name, *_ in vmos]
    refs = [len(listed) for _, _, listed in capture["Processes"][1:]]
    scudo = [committed for (_, name, _, committed, _) in vmos if name == "scudo:primary"]
    scudo_full = sum(1 for (_, name, _, committed, size) in vmos
                     if name == "scudo:primary" and committed >= size)
    kernel = capture["Kernel"]
    count = len(vmos)
    out: dict[str, float] = {
        "processes": len(refs),
        "VMOs": count,
        "VMO refs per process (median)": statistics.median(refs),
        "clones (share of VMOs)": sum(1 for v in vmos if v[2]) / count,
        "uncommitted (share of VMOs)": sum(1 for v in vmos if v[3] == 0) / count,
    }
    if real_names is not None:
        out["names a real device has (share)"] = sum(n in real_names for n in folded) / count
    families: Counter[str] = Counter()
    for name in folded:
        for family, member in FAMILIES.items():
            if member(name):
                families[family] += 1
                break
    for family in FAMILIES:
        out[f"family {family} (share)"] = families[family] / count
    out["scudo:primary count"] = len(scudo)
    out["scudo:primary committed median (KiB)"] = statistics.median(scudo) / 1024 if scudo else 0
    out["scudo:primary fully committed (share)"] = scudo_full / len(scudo) if scudo else 0
    for field in ("vmo", "mmu", "ipc", "wired"):
        out[f"kernel {field} (MiB)"] = kernel[field] / MIB
    out["kernel heap (MiB)"] = kernel["total_heap"] / MIB
    return out


def real_capture() -> dict:
    return json.loads(CAPTURE.read_text())


def scenario_capture(scenario: str = "default", seed: int = 1) -> dict:
    """The scenario's system as booted, as `zmtop export --format capture` writes it."""
    return json.loads(capture_json(Simulation(scenario, seed).snapshot))


def side_by_side(scenario: str = "default") -> str:
    real = real_capture()
    names = {fold(name) for _, name, *_ in rows(real)}
    ours, theirs = device_stats(scenario_capture(scenario), names), device_stats(real, names)
    lines = [f"| {'statistic':44} | {'real':>9} | {scenario:>9} |", f"|{'-' * 46}|{'-' * 11}|{'-' * 11}|"]
    for key, value in theirs.items():
        lines.append(f"| {key:44} | {value:9.3g} | {ours[key]:9.3g} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(side_by_side(*sys.argv[1:]))
