"""The default scenario is the real 2021 device: its statistics held to the capture's.

The simulation draws its device from distributions read off the one real capture, so a
statistic of it sits near the capture's, not on it. Each tolerance says what spread is
honest. Three seeds are held to them: the first thing every user sees, and two more, so
that a tolerance does not fit one lucky draw.
"""

from __future__ import annotations

import pytest
from device_stats import FAMILIES, device_stats, fold, real_capture, rows, scenario_capture

SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def real() -> dict[str, float]:
    capture = real_capture()
    return device_stats(capture, {fold(name) for _, name, *_ in rows(capture)})


@pytest.fixture(scope="module", params=SEEDS)
def ours(request) -> dict[str, float]:
    capture = real_capture()
    names = {fold(name) for _, name, *_ in rows(capture)}
    return device_stats(scenario_capture("default", request.param), names)


def near(ours: float, real: float, relative: float) -> bool:
    return abs(ours - real) <= relative * real


def test_counts(ours, real):
    # A shell or two come and go; the device's 90 processes are all there.
    assert near(ours["processes"], real["processes"], 0.05)
    # Libraries per program and scudo regions per class are drawn: a tenth either way.
    assert near(ours["VMOs"], real["VMOs"], 0.10)
    assert near(ours["VMO refs per process (median)"], real["VMO refs per process (median)"], 0.15)


def test_clone_and_commit_shares(ours, real):
    # Which images have relro and data is drawn per image: five points either way.
    assert abs(ours["clones (share of VMOs)"] - real["clones (share of VMOs)"]) <= 0.05
    assert abs(ours["uncommitted (share of VMOs)"] - real["uncommitted (share of VMOs)"]) <= 0.05


def test_name_families(ours, real):
    assert ours["names a real device has (share)"] >= 0.95
    for family in ("scudo:primary", "bootfs (image and clones)", "blob (image and clones)"):
        key = f"family {family} (share)"
        assert abs(ours[key] - real[key]) <= 0.07, family  # the three big families
    for family in FAMILIES:  # the small ones: each there, within a factor of two
        key = f"family {family} (share)"
        assert real[key] / 2 <= ours[key] <= real[key] * 2, family


def test_scudo_commits_lightly(ours, real):
    assert near(ours["scudo:primary count"], real["scudo:primary count"], 0.15)
    # Most regions hold a page or three (the device's median is 8 KiB of 256).
    assert 4 <= ours["scudo:primary committed median (KiB)"] <= 12
    assert ours["scudo:primary fully committed (share)"] <= 0.01


def test_kernel_figures(ours, real):
    # Wired memory and queued messages are set to the device's; the heap follows the
    # objects; VMO memory and page tables follow what programs commit and where they map.
    assert near(ours["kernel wired (MiB)"], real["kernel wired (MiB)"], 0.01)
    assert near(ours["kernel ipc (MiB)"], real["kernel ipc (MiB)"], 0.25)
    assert near(ours["kernel heap (MiB)"], real["kernel heap (MiB)"], 0.15)
    assert near(ours["kernel vmo (MiB)"], real["kernel vmo (MiB)"], 0.15)
    assert near(ours["kernel mmu (MiB)"], real["kernel mmu (MiB)"], 0.25)
