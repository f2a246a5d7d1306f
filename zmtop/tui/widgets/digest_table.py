"""The bucket digest as a table: memory_monitor's Digester lines with their share and VMOs."""

from __future__ import annotations

from collections.abc import Sequence

from zmtop.engine.analysis.digest import Bucket, Digest
from zmtop.tui.widgets import cells
from zmtop.tui.widgets.line_table import Cell, Column, LineTable

SORTS = {
    "order": lambda row: row[0],
    "name": lambda row: row[1].name.casefold(),
    "size": lambda row: row[1].size,
    "share": lambda row: row[1].size,
    "vmos": lambda row: len(row[1].vmos),
}
NO_VMOS = frozenset({"Orphaned", "Kernel", "Free"})  # lines that are not sums of VMOs


def digest_total(d: Digest, total_bytes: int) -> int:
    """What a share is of: physical memory, or (with no kernel counters) the rows' sum."""
    if d.kernel is not None and total_bytes:
        return total_bytes
    return sum(b.size for b in d.rows() if b not in d.additional)


class DigestTable(LineTable[tuple[str, int]]):
    """One row per digest line, memory_monitor's order by default; sortable."""

    def __init__(self, d: Digest, total_bytes: int, note: str = "", *,
                 unit: str = "") -> None:
        self.unit = unit
        self.rows: dict[tuple[str, int], tuple[int, Bucket]] = {}
        self.total = 1
        self.note = note
        super().__init__(self._columns(), sort="order", title="Digest", id="digest")
        self.show(d, total_bytes, note)

    def _columns(self) -> list[Column]:
        return [
            Column("order", "#", 3, descending=False),
            Column("name", "BUCKET", 0, "left", descending=False),
            Column("size", "SIZE", cells.size_width(self.unit)),
            Column("share", "SHARE", 6),
            Column("vmos", "#VMO", 6),
        ]

    def show(self, d: Digest, total_bytes: int, note: str) -> None:
        """Take a new digest (names can repeat in a config, so a key is name and count)."""
        rows: dict[tuple[str, int], tuple[int, Bucket]] = {}
        seen: dict[str, int] = {}
        for i, bucket in enumerate(d.rows()):
            n = seen[bucket.name] = seen.get(bucket.name, -1) + 1
            rows[(bucket.name, n)] = (i, bucket)
        self.rows, self.total = rows, max(digest_total(d, total_bytes), 1)
        self.note = note
        self.rebuild()

    def subtitle(self) -> str:
        return f"{self.note} · total {cells.size(self.total, self.unit)}"

    def rebuild(self) -> None:
        column = next(c for c in self.columns if c.key == self.sort_key)
        descending = column.descending != self.sort_reverse
        value, rows = SORTS[self.sort_key], self.rows
        self.set_keys(sorted(rows, key=lambda k: (value(rows[k]), rows[k][0]),
                             reverse=descending))

    def set_unit(self, unit: str) -> None:
        self.unit = unit
        self.set_columns(self._columns())

    def cells(self, key: tuple[str, int]) -> Sequence[Cell]:
        order, bucket = self.rows[key]
        extra = bucket.name in NO_VMOS or bucket.name.startswith("[Addl]")
        return [
            Cell(str(order + 1), "line-table--dim"),
            Cell(bucket.name, "line-table--dim" if extra else ""),
            Cell(cells.size(bucket.size, self.unit)),
            Cell(f"{bucket.size * 100 / self.total:.1f}%"),
            Cell("" if extra else str(len(bucket.vmos))),
        ]

    def search_text(self, key: tuple[str, int]) -> str:
        return key[0].casefold()
