"""CSV as ffx and memory_monitor write it: no header, `\\n` after each row, and (RFC 4180)
a field quoted only where it must be, so ordinary rows stay byte for byte theirs. Text is
escaped first (names.safe_name): no control character reaches a terminal or breaks a row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from zmtop.engine.formats.names import safe_name


def csv_text(rows: Iterable[Sequence[str | int]]) -> str:
    """The rows as CSV; a str field is escaped, then quoted if it holds a comma or a quote."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerows([safe_name(f) if isinstance(f, str) else f for f in row] for row in rows)
    return out.getvalue()
