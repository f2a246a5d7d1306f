"""Hostile text from a device or a file (issue 13): names and pressure levels that would
drive a terminal."""

from __future__ import annotations

import pytest
from msgspec import structs

from zmtop.engine.formats.names import safe_name
from zmtop.engine.recording.reader import Recording
from zmtop.engine.recording.writer import Recorder, metadata_for
from zmtop.engine.sim.pressure import LEVELS
from zmtop.engine.sim.simulation import Simulation

TAKEOVER = "\x1b]0;title\x07\x1b[2J\x1b[7m"  # set the title, clear the screen, reverse video
SPOOF = "\u202eexe.txt\u200b\u2066x\u2069"  # bidi override, zero-width space, isolate
# What must never reach a terminal raw: C0/C1 controls, DEL, bidi and zero-width characters.
RAW = {*map(chr, range(0x20)), *map(chr, range(0x7F, 0xA0)), *map(chr, range(0x200B, 0x2010)),
       *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}


def raw_in(text: str) -> set[str]:
    """The characters of `text` that must not reach a terminal (a line's own \\n aside)."""
    return set(text.replace("\n", "")) & RAW



# --- 1. terminal takeover through names ------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [
    ("\u202eevil", "\\u202eevil"),
    ("a\u202ab\u202cc\u202dd", "a\\u202ab\\u202cc\\u202dd"),
    ("zw\u200b\u200c\u200d\u200e\u200f", "zw\\u200b\\u200c\\u200d\\u200e\\u200f"),
    ("\u2066iso\u2067\u2068\u2069", "\\u2066iso\\u2067\\u2068\\u2069"),
    ("\u2010\u2029\u202f\u2065\u206a\u200a", "\u2010\u2029\u202f\u2065\u206a\u200a"),  # neighbours
    (TAKEOVER, "\\x1b]0;title\\x07\\x1b[2J\\x1b[7m"),
])
def test_safe_name_escapes_bidi_and_zero_width(name, expected):
    assert safe_name(name) == expected
    assert safe_name(expected) == expected  # idempotent: escaping twice changes nothing


def test_a_forged_pressure_level_is_shown_escaped(tmp_path):
    sim = Simulation("default", 1)
    path = tmp_path / "forged.zmrec"
    with Recorder(path, metadata_for(sim), keyframe_every=2) as recorder:
        recorder.append(sim.snapshot)
        recorder.append(structs.replace(sim.step(), pressure=TAKEOVER))  # a delta
        recorder.append(structs.replace(sim.step(), pressure=SPOOF))  # a keyframe
        recorder.append(sim.step())
    recording = Recording.open(path)
    assert recording.errors == []
    shown = [recording.snapshot_at(tick).pressure for tick in recording.ticks]
    assert shown[1:3] == [safe_name(TAKEOVER), safe_name(SPOOF)]
    assert shown[0] in LEVELS and shown[3] in LEVELS  # known levels pass as they are
    assert all(raw_in(level) == set() for level in shown)
