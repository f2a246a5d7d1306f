"""Reading JSON from a device: strict decoding and typed access, every error one line.

Every problem becomes a `SourceError` whose text names what is wrong and where: a line and
column for bad JSON, a JSON path such as `Processes[3][2]` for a value of the wrong shape.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar, overload

import msgspec

_BYTE_AT = re.compile(r"\(byte (\d+)\)")
# Imported koids and byte counts are below this, so that what is derived from them (the
# synthetic root job's koid, one more than the largest) fits the recording's int64 columns.
COUNT_LIMIT = (1 << 63) - 1
# The most bytes read from a file or a poll: real captures are a few MB.
MAX_INPUT_BYTES = 256 << 20
# Zircon names hold at most 31 bytes (ZX_MAX_NAME_LEN, 32, counts the NUL).
MAX_NAME_BYTES = 31
# The gap (`ImportedSource.missing`) of data whose names were cut to MAX_NAME_BYTES.
LONG_NAMES = "names"


class SourceError(Exception):
    """Input that cannot be read as a source; the message is one line."""



def decode_json(data: bytes) -> Any:
    """Strict JSON; errors say line and column."""
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError as e:
        message = str(e)
        found = _BYTE_AT.search(message)
        offset = int(found.group(1)) if found else len(data)
        what = _BYTE_AT.sub("", message).strip()
        raise SourceError(f"{where(data, offset)}: invalid JSON ({what})") from None
    except UnicodeDecodeError as e:
        raise SourceError(f"{where(data, e.start)}: invalid UTF-8") from None
    except RecursionError:
        raise SourceError("invalid JSON (nested too deeply)") from None


def where(data: bytes, offset: int) -> str:
    """`line L column C` (both from 1) of a byte offset."""
    line = data.count(b"\n", 0, offset) + 1
    column = offset - data.rfind(b"\n", 0, offset)
    return f"line {line} column {column}"


# --- typed access to decoded JSON, with the JSON path in every error -------------------------


T = TypeVar("T")


@overload
def expect(value: Any, kind: type[T], path: str) -> T: ...
@overload
def expect(value: Any, kind: tuple[type, ...], path: str) -> Any: ...


def expect(value: Any, kind: type | tuple[type, ...], path: str) -> Any:
    """`value` if it is of `kind` (bool is not an int), else SourceError at `path`."""
    if isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool):
        return value
    names = kind if isinstance(kind, tuple) else (kind,)
    wanted = " or ".join(_KIND_NAMES[k] for k in names)
    raise SourceError(f"{path}: expected {wanted}, got {_KIND_NAMES.get(type(value), 'a value')}")


def counts(row: list[Any], columns: list[int], path: str) -> list[int]:
    """`row`'s values at `columns`, each checked as `count` does; the JSON path of a bad
    value is only spelled out when there is one (this runs once per row of a capture)."""
    values = [row[c] for c in columns]
    for value in values:
        if type(value) is not int or not 0 <= value < COUNT_LIMIT:
            for c in columns:
                count(row[c], f"{path}[{c}]")
    return values


def count(value: Any, path: str) -> int:
    """A byte count or koid: an integer from 0 to 2**63 - 2 (below COUNT_LIMIT)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < COUNT_LIMIT:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        raise SourceError(f"{path}: {value} is out of range (0 to 2**63-2)")
    return expect(value, int, path)


def member(obj: dict[str, Any], key: str, path: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        raise SourceError(f"{path}: missing \"{key}\"") from None


_KIND_NAMES = {
    int: "an integer", str: "a string", list: "an array", dict: "an object", bool: "a boolean",
    float: "a number", type(None): "null",
}


def cut_name(name: str) -> str:
    """`name` cut to MAX_NAME_BYTES of UTF-8, on a character boundary."""
    data = name.encode("utf-8", "surrogatepass")
    if len(data) <= MAX_NAME_BYTES:
        return name
    return data[:MAX_NAME_BYTES].decode("utf-8", "ignore")


def cut_names(names: list[str]) -> list[str] | None:
    """`names` with each cut as `cut_name` does, or None when none is too long (checked in
    bulk: a character takes at most 4 bytes)."""
    if max(map(len, names), default=0) * 4 <= MAX_NAME_BYTES:
        return None
    cut = list(map(cut_name, names))
    return None if cut == names else cut
