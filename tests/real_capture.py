"""The real device capture and its bucket config, kept in the repository (tests/fixtures) so
that a checkout on its own runs every test that reads them."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CAPTURE = FIXTURES / "fuchsia-capture-2021.json"
BUCKETS = FIXTURES / "fuchsia-capture-2021-buckets.json"


def trim_capture(doc: dict, keep: int) -> dict:
    """The first `keep` processes, their VMOs and ancestors, names re-indexed."""
    names = doc["VmoNames"]
    rows = {r[0]: r for r in doc["Vmos"][1:]}
    procs = doc["Processes"][1:keep + 1]
    wanted: set[int] = set()
    for _, _, listed in procs:
        for koid in listed:
            while koid in rows and koid not in wanted:
                wanted.add(koid)
                koid = rows[koid][2]
    used = sorted({rows[k][1] for k in wanted})
    index = {old: new for new, old in enumerate(used)}
    vmos = [[k, index[rows[k][1]], *rows[k][2:]] for k in sorted(wanted)]
    return doc | {"Processes": [doc["Processes"][0], *procs], "VmoNames": [names[i] for i in used],
                  "Vmos": [doc["Vmos"][0], *vmos]}
