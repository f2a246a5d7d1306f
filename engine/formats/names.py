"""Names from a device are untrusted: escaped before they reach a terminal."""

from __future__ import annotations

# C0/C1 controls and DEL as `\xNN`; bidi overrides and isolates, and zero-width characters,
# which can make one name look like another, as `\uNNNN`.
_SPOOFING = (*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_CONTROL_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
_CONTROL_ESCAPES |= {c: f"\\u{c:04x}" for c in _SPOOFING}
# What JSON text written with ensure_ascii=False still holds raw: DEL, C1 and the above, all
# as JSON's own `\uNNNN` escapes (the same string to a JSON reader).
_JSON_ESCAPES = {c: f"\\u{c:04x}" for c in (*range(0x7F, 0xA0), *_SPOOFING)}


def safe_name(name: str) -> str:
    """Untrusted text (a name, a message from a device) made safe to print: C0/C1 controls
    and DEL as `\\xNN`, bidi controls (U+202A-U+202E, U+2066-U+2069) and zero-width
    characters (U+200B-U+200F) as `\\uNNNN`. Nothing else changes, so it is idempotent."""
    return name.translate(_CONTROL_ESCAPES)


def json_safe(text: str) -> str:
    """JSON text with the controls and spoofing characters a JSON writer leaves raw escaped
    as `\\uNNNN`: the same value to any JSON reader, safe on a terminal."""
    return text.translate(_JSON_ESCAPES)
