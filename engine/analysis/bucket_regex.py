"""Bucket regexes as memory_monitor matches them: RE2, whole-string (RE2::FullMatch).

RE2 runs in time linear in the text, so a pattern from a capture such as `(a+)+$` cannot hang
a digest as a backtracking engine would; RE2 also refuses what it cannot promise that for
(backreferences, look-arounds), as memory_monitor does. Results are cached by text, as
memory_monitor's Digester caches them: a name is matched once per pattern, however many
digests (and configs read again, as a poll's captures carry theirs) ask.
"""

from __future__ import annotations

from functools import lru_cache

import re2  # google-re2

from zmtop.engine.formats.names import safe_name

CACHE_LIMIT = 1 << 13  # texts remembered per pattern; the cache starts over past it
PATTERNS = 128  # patterns kept compiled, with their caches
ERROR_CHARS = 80  # of RE2's complaint (which quotes the pattern) shown in a message


class RegexError(ValueError):
    """A pattern RE2 does not accept; the message is one line, safe to print."""


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # RE2 would print the (untrusted) pattern on stderr
    options.never_capture = True  # only whether it matches counts
    return options


_OPTIONS = _options()


class BucketRegex:
    """A compiled bucket pattern; `fullmatch(text)` says whether it matches all of `text`."""

    __slots__ = ("pattern", "_regex", "_cache")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        try:
            self._regex = re2.compile(pattern, _OPTIONS)
        except re2.error as error:
            raise RegexError(_reason(error)) from None
        self._cache: dict[str, bool] = {}

    def fullmatch(self, text: str) -> bool:
        hit = self._cache.get(text)
        if hit is None:
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            hit = self._cache[text] = self._regex.fullmatch(text) is not None
        return hit

    def __repr__(self) -> str:
        return f"BucketRegex({self.pattern!r})"


@lru_cache(maxsize=PATTERNS)
def bucket_regex(pattern: str) -> BucketRegex:
    """The BucketRegex of `pattern`, shared (with its cache) by every config that uses it;
    RegexError if RE2 does not accept it."""
    return BucketRegex(pattern)


def _reason(error: Exception) -> str:
    """RE2's complaint as one safe line (it comes as bytes and may quote the pattern)."""
    reason = error.args[0] if error.args else ""
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    reason = safe_name(str(reason))
    return reason if len(reason) <= ERROR_CHARS else reason[:ERROR_CHARS] + "..."
