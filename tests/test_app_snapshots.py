"""SVG snapshots of every screen and theme, from the same scenes as `make screenshots`.

Fixed scenario, seed and tick, and no wall clock on screen, so they are stable. After a
deliberate change of look: `pytest tests/test_app_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import pytest

from zmtop.screenshots import SCENES, scene_app

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("scene", SCENES, ids=[s.name for s in SCENES])
def test_screen(scene, snap_compare):
    assert snap_compare(scene_app(scene), terminal_size=scene.size, run_before=scene.setup)
