"""The help screen reads at 80 columns: a long description wraps under itself."""

from __future__ import annotations

import pytest

from zmtop.tui.screens.help import KEY_WIDTH, HelpScreen


@pytest.mark.parametrize("size", [(80, 24), (60, 15), (160, 50)])
async def test_long_descriptions_wrap_under_themselves(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.query_one("#help-text")
        lines = [text.render_line(y).text.rstrip() for y in range(text.size.height)]
        titles = {title for title, _ in app.screen.sections()}
        wrapped = 0
        for line in lines:
            if line in titles or not line:
                continue
            assert line.startswith("  ") and not line[2].isspace() or (
                line.startswith(" " * KEY_WIDTH) and not line[KEY_WIDTH].isspace()), line
            wrapped += line.startswith(" " * KEY_WIDTH)
        if size[0] <= 80:
            assert wrapped  # the palette's line, at least, is longer than 80 columns allow
