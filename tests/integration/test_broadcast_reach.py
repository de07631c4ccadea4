"""A district broadcast that silently missed people: the preview now says how many friends
it cannot reach (no district registered, no consent), offers LINE's broadcast to all
friends with one click, the approver sees the same warning, and the home page shows
every desk user what waits for approval and what is declared."""

from __future__ import annotations

from sqlalchemy import select

from bot.models import Resident
from handlers.disaster import broadcasts as bc
from tests.integration.test_admin_auth import csrf  # noqa: F401
from tests.integration.test_admin_desk import (  # noqa: F401
    compose,
    deliver,
    desk,
    flashes,
    form_data,
    post_form,
    previewed,
    submitted,
    text_of,
)
from tests.integration.test_disaster import declare, resident_in


def friends_of_kita(chat, services):
    """3 friends: one registered in kita, one who agreed but gave no district, one who
    never agreed to registration (the evacuation broadcast reached 1 of 3)."""
    kita = resident_in(chat, services, "kita", "北区の住民")
    no_district = chat.resident("区なし")
    no_district.says("こんにちは")
    never = chat.resident("未同意")
    never.says("こんにちは")
    with services.sessions() as s:
        row = s.scalars(select(Resident).where(Resident.line_user_id == no_district.user_id)).one()
        row.consented_at = services.now()
        s.commit()
    for person in (no_district, never):
        person.received()
    return kita, no_district, never


def test_the_preview_says_who_a_district_cannot_reach_and_switches_to_all_friends(chat, services, desk, line, clock):
    people = friends_of_kita(chat, services)
    incident_id = declare(services, ["kita"])
    sato = desk("sato")
    page, data = previewed(sato, compose(sato, incident_id))
    assert text_of(page, "preview-count") == "1"
    assert text_of(page, "reach-missed") == "2" and text_of(page, "reach-not-consented") == "1"
    warning = text_of(page, "reach-warning")
    assert "区を登録していない友だち 2 人に届きません" in warning and "友だち 3 人のうち、届くのは 1 人" in warning

    switched = post_form(sato, "/admin/broadcasts/new", data, switch_all="友だち全員（LINEの一斉配信）に切り替える")
    page = switched.get_data(as_text=True)
    assert switched.status_code == 200
    assert "配信先を「友だち全員（LINEの一斉配信）」に切り替えました。" in flashes(page)[0]
    assert 'data-testid="reach-warning"' not in page and "LINEの一斉配信" in text_of(page, "preview")
    data = form_data(page, "compose-form")
    assert data["target"] == ["all"] and "districts" not in data
    broadcast_id = submitted(sato, data)
    assert broadcasts_target(services, broadcast_id) == "all"

    kato, url = desk("kato"), f"/admin/broadcasts/{broadcast_id}"
    assert kato.post(f"{url}/approve", data={"csrf_token": csrf(kato, url)}).status_code == 302
    deliver(services, clock)
    for person in people:  # LINE's broadcast: every friend, registered or not
        assert person.received()[0]["text"].startswith("【避難指示】北区に洪水の警戒レベル4")


def broadcasts_target(services, broadcast_id):
    with services.sessions() as s:
        return s.get(bc.Broadcast, broadcast_id).target


def test_the_approver_sees_the_warning_and_the_home_page_lists_what_waits(chat, services, desk):
    friends_of_kita(chat, services)
    incident_id = declare(services, ["kita"])
    sato = desk("sato")
    _, data = previewed(sato, compose(sato, incident_id))
    broadcast_id = submitted(sato, data)

    suzuki = desk("suzuki")
    detail = suzuki.get(f"/admin/broadcasts/{broadcast_id}").get_data(as_text=True)
    assert text_of(detail, "reach-missed") == "2"
    home = suzuki.get("/admin/").get_data(as_text=True)
    assert "北区：洪水 警戒レベル4 避難指示" in text_of(home, "home-incidents")
    pending = text_of(home, f"home-pending-{broadcast_id}")
    assert f"#{broadcast_id}" in pending and "区: 北区・1 人" in pending and "あなたが承認できます" in pending
    assert "区を登録していない友だちが 2 人います" in text_of(home, "home-no-district")
    mine = sato.get("/admin/").get_data(as_text=True)
    assert "あなたが承認できます" not in text_of(mine, f"home-pending-{broadcast_id}")

    viewer = desk("mori", role="viewer")
    seen = viewer.get("/admin/").get_data(as_text=True)
    assert "洪水" in text_of(seen, "home-incidents") and 'data-testid="home-pending"' not in seen


def test_a_segment_says_who_is_outside_it_and_is_named_by_its_label(chat, services, desk):
    friends_of_kita(chat, services)
    sato = desk("sato")
    compose_page = sato.get("/admin/broadcasts/new?template=evacuate").get_data(as_text=True)
    assert ">防災の情報を受け取る人</option>" in compose_page
    page, _ = previewed(sato, compose(sato, None, target=["segment"], segment=["disaster_followers"]))
    assert text_of(page, "preview-count") == "0" and text_of(page, "reach-missed") == "3"
    assert "このグループに入らない友だち 3 人には届きません" in text_of(page, "reach-warning")


def test_no_warning_when_everyone_is_reached_or_for_a_drill(chat, services, desk):
    resident_in(chat, services, "kita", "北区")
    resident_in(chat, services, "chuo", "中央区", tester=True)
    incident_id = declare(services, ["kita"])
    sato = desk("sato")
    page, _ = previewed(sato, compose(sato, incident_id))
    assert 'data-testid="reach-warning"' not in page  # the chuo resident is known to be elsewhere
    page, _ = previewed(sato, compose(sato, incident_id, training=["y"]))
    assert 'data-testid="reach-warning"' not in page
