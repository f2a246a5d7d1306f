"""SVG snapshots of the digest, the handle panes, the event log and an imported capture
(MORE_SCENES).

After a deliberate change of look: `pytest tests/test_app_more_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import pytest

from zmtop.screenshots import MORE_SCENES, scene_app

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("scene", MORE_SCENES, ids=[s.name for s in MORE_SCENES])
def test_screen(scene, snap_compare):
    assert snap_compare(scene_app(scene), terminal_size=scene.size, run_before=scene.setup)
