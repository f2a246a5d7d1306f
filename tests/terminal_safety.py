"""What must never reach a terminal raw, by Unicode's own tables rather than zmtop's list."""

from __future__ import annotations

import sys
import unicodedata

# C0 and C1 controls, DEL, every format character (bidi, zero-width, ...) and every line or
# paragraph separator.
RAW = frozenset({*map(chr, range(0x20)), *map(chr, range(0x7F, 0xA0)),
                 *(c for c in map(chr, range(sys.maxunicode + 1))
                   if unicodedata.category(c) in ("Cf", "Zl", "Zp"))})


def raw_in(text: str) -> set[str]:
    """The characters of `text` that must not reach a terminal (tabs and line ends aside)."""
    return set(text.replace("\n", "").replace("\t", "")) & RAW
