"""format_size against the pretty library's test vectors (reference section 2.1)."""

import pytest

from zmtop.engine.formats.sizes import format_size

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


@pytest.mark.parametrize(
    ("nbytes", "expected"),
    [
        (0, "0B"),
        (1023, "1023B"),
        (1024, "1k"),
        (1025, "1025B"),
        (9217, "9217B"),
        (9999, "9999B"),
        (10000, "9.8k"),
        (10700, "10.4k"),
        (10701, "10.5k"),
        (MiB - 1, "1024.0k"),
        (MiB + MiB // 3, "1365.3k"),
        (MiB + KiB, "1025k"),
        (9999 * KiB + 1, "9999.0k"),
        (10000 * KiB, "9.8M"),
        (69887590, "66.6M"),
        (69887591, "66.7M"),
        (2**64 - 1, "16.0E"),
        (MiB + 1, "1.0M"),
        (2048 * MiB, "2G"),
        (2 * MiB, "2M"),
    ],
)
def test_natural_unit(nbytes, expected):
    assert format_size(nbytes) == expected


@pytest.mark.parametrize(
    ("nbytes", "unit", "expected"),
    [
        (GiB, "k", "1048576k"),
        (MiB // 10, "M", "0.1M"),
        (GiB, "q", "?1G"),
        (KiB + 1, "#", "?1025B"),
        (KiB + 1, "B", "1025B"),
        (0, "M", "0M"),
        (2048 * MiB, "M", "2048M"),
        (4096, "M", "0.0M"),
    ],
)
def test_fixed_unit(nbytes, unit, expected):
    assert format_size(nbytes, unit) == expected
