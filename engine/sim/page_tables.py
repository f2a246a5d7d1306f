"""A process's x86-64 page tables, counted as the kernel's `mmu` figure counts them.

Four levels of 4 KiB tables of 512 entries: a leaf table maps 2 MiB, a page directory
1 GiB, a PDPT 512 GiB, and the PML4 the whole address space. A table exists while some
page under it is mapped and committed; the PML4 lives as long as the process.
"""

from __future__ import annotations

LEAF_SHIFT = 21  # a leaf table maps 2 MiB
DIRECTORY_SHIFT = 30  # a page directory maps 1 GiB
PDPT_SHIFT = 39  # a PDPT maps 512 GiB


class PageTables:
    """The leaf tables, page directories and PDPTs of one address space, each with the
    count of what is under it (pages, leaf tables, directories)."""

    __slots__ = ("leaves", "directories", "pdpts")

    def __init__(self) -> None:
        self.leaves: dict[int, int] = {}  # 2 MiB window -> mapped pages in it
        self.directories: dict[int, int] = {}  # 1 GiB window -> leaf tables in it
        self.pdpts: dict[int, int] = {}  # 512 GiB window -> directories in it

    @property
    def pages(self) -> int:
        """Table pages below the PML4."""
        return len(self.leaves) + len(self.directories) + len(self.pdpts)

    def map_pages(self, window: int, count: int) -> int:
        """`count` pages mapped (negative: unmapped) in 2 MiB window `window`; how many
        table pages that made or freed."""
        before = self.leaves.get(window, 0)
        after = before + count
        if after:
            self.leaves[window] = after
        else:
            del self.leaves[window]
        if bool(before) == bool(after):
            return 0
        step = 1 if after else -1
        made = step + _tally(self.directories, window >> (DIRECTORY_SHIFT - LEAF_SHIFT), step)
        if made != step:
            made += _tally(self.pdpts, window >> (PDPT_SHIFT - LEAF_SHIFT), step)
        return made


def _tally(counts: dict[int, int], key: int, step: int) -> int:
    """Count one more (or fewer) table under `key`; 1 or -1 if `key`'s own table came or
    went, else 0."""
    left = counts.get(key, 0) + step
    if left:
        counts[key] = left
    else:
        del counts[key]
    return step if left == (step > 0) else 0
