"""Names from a device are untrusted: escaped before they reach a terminal."""

from __future__ import annotations

# C0/C1 controls and DEL as `\xNN`. As `\uNNNN`, every character that is invisible or
# steers the text around it, so that one name cannot pass for another or break a line: Unicode's
# format characters (Cf: bidi marks, overrides and isolates, zero-width characters, the soft
# hyphen, BOM, tags) and its line and paragraph separators (Zl, Zp).
_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F),
    (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x2028, 0x202E),
    (0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)
_SPOOFING = tuple(c for first, last in _INVISIBLE_RANGES for c in range(first, last + 1))
_CONTROL_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
_CONTROL_ESCAPES |= {c: f"\\u{c:04x}" if c <= 0xFFFF else f"\\U{c:08x}" for c in _SPOOFING}


def _json_escape(c: int) -> str:
    """JSON's own escape of a code point: a surrogate pair past the BMP."""
    if c <= 0xFFFF:
        return f"\\u{c:04x}"
    c -= 0x10000
    return f"\\u{0xD800 | c >> 10:04x}\\u{0xDC00 | c & 0x3FF:04x}"


# What JSON text written with ensure_ascii=False still holds raw: DEL, C1 and the above, all
# as JSON's own `\uNNNN` escapes (the same string to a JSON reader).
_JSON_ESCAPES = {c: _json_escape(c) for c in (*range(0x7F, 0xA0), *_SPOOFING)}


def safe_name(name: str) -> str:
    """Untrusted text (a name, a message from a device) made safe to print: C0/C1 controls
    and DEL as `\\xNN`; format characters (bidi controls, zero-width characters and the
    like) and line separators as `\\uNNNN` (`\\UNNNNNNNN` past the BMP). Nothing else
    changes, so it is idempotent."""
    # Speed: bench "ui default: CPU at 1 s ticks" (ui_bench): most names are printable
    # ASCII, which holds nothing to escape; a translate costs 2 us a name, the test 0.1 us.
    if name.isascii() and name.isprintable():
        return name
    return name.translate(_CONTROL_ESCAPES)


def json_safe(text: str) -> str:
    """JSON text with the controls and spoofing characters a JSON writer leaves raw escaped
    as `\\uNNNN`: the same value to any JSON reader, safe on a terminal."""
    return text.translate(_JSON_ESCAPES)
