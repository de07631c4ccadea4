"""The rich menu from content/richmenu.yaml reaches the platform, and resyncs cleanly."""

import pytest

from bot import richmenu

pytestmark = pytest.mark.contract


def test_sync_creates_uploads_aliases_and_sets_default(services, line):
    content = services.content.current()
    created = richmenu.sync(services.messenger, content)
    assert set(created) == {"main", "disaster"}
    assert services.messenger.rich_menu_aliases() == created
    user = line.add_user("花子")
    shown = line.menu_shown_to(user)
    assert shown["richMenuId"] == created["main"]
    areas = shown["richMenu"]["areas"]
    assert [a["action"]["data"] for a in areas] == ["action=garbage", "action=garbage.day&when=tomorrow", "action=settings",
                                                    "action=menu", "action=contact", "action=language"]
    image, content_type = line.rich_menu_image(created["main"])
    assert content_type == "image/png" and image == (content.root / "richmenu/main.png").read_bytes()


def test_resync_points_the_alias_at_the_new_menu_and_deletes_the_old(services, line):
    first = richmenu.sync(services.messenger, services.content.current())
    second = richmenu.sync(services.messenger, services.content.current())
    assert first["main"] != second["main"]
    assert sorted(services.messenger.rich_menu_ids()) == sorted(second.values())
    assert services.messenger.rich_menu_aliases() == second
