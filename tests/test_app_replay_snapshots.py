"""SVG snapshots of the replay (timeline, marks) and of the diff of two marks.

The recording is the oom scenario, seed 1, made in memory, seeked to fixed ticks. After a
deliberate change of look: `pytest tests/test_app_replay_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import pytest

from zmtop.screenshots import REPLAY_SCENES, scene_app

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("scene", REPLAY_SCENES, ids=[s.name for s in REPLAY_SCENES])
def test_screen(scene, snap_compare):
    assert snap_compare(scene_app(scene), terminal_size=scene.size, run_before=scene.setup)
