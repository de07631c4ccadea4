"""A site's staff link: the desk hands the staff at 北小学校 a link; from their phone, with
no account, they set it 満員 and a resident standing there is sent elsewhere. The link
opens that site only, a changed character or another site's id is refused, it stops
when the flood warning is lifted or when the desk revokes it, and the log says who did what."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest

from tests.integration.test_admin_auth import PASSWORD, login  # noqa: F401
from tests.integration.test_admin_desk import HASH, desk  # noqa: F401 - desk: the fixture
from tests.integration.test_disaster import SHELTERS, declare, end, resident_in
from tests.integration.test_shelter_room import FLOOD_KITA, audits, set_room

SITE, OTHER = FLOOD_KITA[0], FLOOD_KITA[1]


def link_shown(desk_client, site_id: str) -> str:
    """The link as the desk copies it from its page (path and query)."""
    page = desk_client.get(f"/admin/shelter-rooms/{site_id}/link")
    assert page.status_code == 200
    url = urlsplit(html.unescape(re.search(r'value="([^"]+)" data-testid="site-link"', page.get_data(as_text=True)).group(1)))
    assert url.path == f"/shelter/{site_id}" and url.query.startswith("t=")
    return f"{url.path}?{url.query}"


def press(phone, link: str, state: str):
    """The staff open the link and press a button."""
    page = phone.get(link)
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return phone.post(link, data={"csrf_token": token, "state": state})


def refused(phone, link: str) -> str:
    page = phone.get(link)
    assert page.status_code == 403
    return html.unescape(re.search(r'data-testid="refused">([^<]+)<', page.get_data(as_text=True)).group(1))


@pytest.fixture
def phone(app):
    """A phone at the site: no /admin account, no login."""
    return app.test_client()


def test_the_staff_set_their_site_full_from_the_link_and_residents_go_elsewhere(chat, services, desk, phone):
    hanako = resident_in(chat, services, "kita")
    declare(services, ["kita"], hazard="flood")
    desk_a = desk("desk-a")
    rooms = desk_a.get("/admin/shelter-rooms").get_data(as_text=True)
    assert f'href="/admin/shelter-rooms/{SITE["id"]}/link"' in rooms
    link = link_shown(desk_a, SITE["id"])

    page = phone.get(link)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and SITE["name"] in text and "未設定" in text
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    assert [label for label in ("空きあり", "混雑", "満員", "閉鎖") if label in text] == ["空きあり", "混雑", "満員", "閉鎖"]

    done = press(phone, link, "full")
    assert done.status_code == 302 and done.headers["Location"].endswith(link)
    after = phone.get(link).get_data(as_text=True)
    assert 'data-state="full"' in after and "「満員」にしました。住民には案内されなくなります。" in after

    answer, *cards = hanako.sends_location(SITE["lat"], SITE["lon"])  # standing at the full one
    assert answer["text"].startswith("満員・閉鎖の避難所は除いてお知らせします。")
    assert SITE["name"] not in answer["text"] and SITE["name"] not in [c["title"] for c in cards]

    # the desk sees who set it; the log says the desk showed the link and the staff set the state
    rows = desk_a.get("/admin/shelter-rooms").get_data(as_text=True)
    assert f'data-site="{SITE["id"]}" data-state="full"' in rows and "避難所のスタッフ（リンク）" in rows
    [shown] = audits(services, "shelter.link")
    assert (shown.actor, shown.target, shown.detail["version"]) == ("desk-a", f"shelter:{SITE['id']}", 0)
    [set_] = audits(services, "shelter.room")
    assert (set_.actor, set_.detail["from"], set_.detail["to"]) == (f"link:{SITE['id']}", None, "full")
    log = desk("admin-a", role="admin").get("/admin/audit").get_data(as_text=True)
    assert f"desk-a が避難所「{SITE['name']}」のスタッフ用リンクを表示" in log
    assert f"避難所のスタッフ（リンク）が避難所「{SITE['name']}」を「満員」に" in log


def test_a_link_opens_its_own_site_only_and_a_changed_token_nothing(services, desk, phone):
    declare(services, ["kita"], hazard="flood")
    link = link_shown(desk("desk-a"), SITE["id"])
    path, token = link.split("?t=")
    assert "使えません" in refused(phone, f"/shelter/{OTHER['id']}?t={token}")
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert "使えません" in refused(phone, f"{path}?t={tampered}")
    assert "使えません" in refused(phone, path)                      # no token at all
    assert "使えません" in refused(phone, f"{path}?t=%00%ff")         # anything a browser can send
    assert phone.post(f"/shelter/{OTHER['id']}?t={token}", data={"state": "closed"}).status_code == 403
    assert audits(services, "shelter.room") == []


def test_a_post_without_the_pages_csrf_token_sets_nothing(services, desk, phone):
    declare(services, ["kita"], hazard="flood")
    link = link_shown(desk("desk-a"), SITE["id"])
    assert phone.post(link, data={"state": "closed"}).status_code == 400
    assert audits(services, "shelter.room") == []


def test_the_link_stops_when_the_incident_ends(services, desk, phone):
    incident = declare(services, ["kita"], hazard="flood")
    link = link_shown(desk("desk-a"), SITE["id"])
    assert press(phone, link, "crowded").status_code == 302
    end(services, incident)
    assert "解除されたため" in refused(phone, link)
    declare(services, ["kita"], hazard="flood")  # the next emergency gets new links
    assert "解除されたため" in refused(phone, link)


def test_the_desk_revokes_a_sites_links(services, desk, phone):
    declare(services, ["kita"], hazard="flood")
    desk_a = desk("desk-a")
    old = link_shown(desk_a, SITE["id"])
    other = link_shown(desk_a, OTHER["id"])
    page = desk_a.get(f"/admin/shelter-rooms/{SITE['id']}/link").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert desk_a.post(f"/admin/shelter-rooms/{SITE['id']}/link/revoke", data={"csrf_token": token}).status_code == 302
    assert "無効にしました" in refused(phone, old)
    assert press(phone, other, "open").status_code == 302  # another site's link still works
    new = link_shown(desk_a, SITE["id"])
    assert new != old and press(phone, new, "full").status_code == 302
    [revoked] = audits(services, "shelter.link_revoke")
    assert (revoked.actor, revoked.detail["version"]) == ("desk-a", 1)


def test_only_the_desk_shows_or_revokes_links(services, desk):
    declare(services, ["kita"], hazard="flood")
    viewer = desk("miru", role="viewer")
    assert 'data-testid="show-link"' not in viewer.get("/admin/shelter-rooms").get_data(as_text=True)
    assert viewer.get(f"/admin/shelter-rooms/{SITE['id']}/link").status_code == 403
    desk_a = desk("desk-a")
    assert desk_a.get("/admin/shelter-rooms/no-such-site/link").status_code == 404
    not_open = next(s for s in SHELTERS if s["id"] not in {x["id"] for x in FLOOD_KITA})
    refused_page = desk_a.get(f"/admin/shelter-rooms/{not_open['id']}/link", follow_redirects=True)
    assert "リンクは開設中の避難所にだけ作れます" in refused_page.get_data(as_text=True)
    set_room(desk_a, SITE["id"], "open")  # the desk's own buttons are unchanged
    assert audits(services, "shelter.link") == []
