"""SVG snapshots of the kernel screen and the memory map (KERNEL_SCENES).

After a deliberate change of look: `pytest tests/test_app_kernel_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import pytest

from zmtop.screenshots import KERNEL_SCENES, scene_app

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("scene", KERNEL_SCENES, ids=[s.name for s in KERNEL_SCENES])
def test_screen(scene, snap_compare):
    assert snap_compare(scene_app(scene), terminal_size=scene.size, run_before=scene.setup)
