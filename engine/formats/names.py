"""Names from a device are untrusted: escaped before they reach a terminal."""

from __future__ import annotations

_CONTROL_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}


def safe_name(name: str) -> str:
    """Escape C0/C1 controls and DEL as `\\xNN`: names from a device must not drive a terminal."""
    return name.translate(_CONTROL_ESCAPES)
