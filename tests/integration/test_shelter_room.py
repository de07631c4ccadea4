"""Room at shelters, telling family, incidents from the command line: a drill declared with
`citybot incidents declare` reaches a tester; the desk sets a site 満員 and it is never
offered, 混雑 is shown as such; 「家族に知らせる」 opens LINE's share with where they go;
the desk page lists the states and every change is in the audit log."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.admin.models import AuditEntry
from bot.cli import main
from bot.messages import MAX_URI, Share
from handlers.disaster import incidents as inc
from handlers.disaster import room
from tests.conftest import SECRET, TOKEN
from tests.integration.test_admin_auth import PASSWORD, login  # noqa: F401
from tests.integration.test_admin_desk import HASH, desk  # noqa: F401 - desk: the fixture
from tests.integration.test_disaster import SHELTERS, declare, resident_in

FLOOD_KITA = [s for s in SHELTERS if "flood" in s["hazards"] and s["district"] == "kita"]


@pytest.fixture
def citybot(services, fake_line):
    """`citybot ...` as an operator runs it, on the test's database and fake LINE."""
    env = {"DATABASE_URL": services.config.database_url, "CITYBOT_ENV": "test",
           "CITYBOT_INSTANCE_DIR": services.config.instance_dir, "LINE_API_BASE": fake_line.url,
           "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN}

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(main, list(args), env=env)
        assert result.exit_code == code, result.output
        return result.output

    return run


def set_room(client, site_id: str, state: str):
    page = client.get("/admin/shelter-rooms").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post(f"/admin/shelter-rooms/{site_id}", data={"csrf_token": token, "state": state})


def audits(services, action: str) -> list[AuditEntry]:
    with services.sessions() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_a_drill_declared_on_the_command_line_reaches_testers_only(chat, services, citybot):
    staff = resident_in(chat, services, "kita", "職員", tester=True)
    hanako = resident_in(chat, services, "kita", "花子")
    out = citybot("incidents", "declare", "--hazard", "flood", "--level", "4", "--district", "kita",
                  "--open-designated", "--status-ja", "訓練です。川の水位が上がっています。",
                  "--status-en", "Drill: the river is rising.", "--status-easy-ja", "くんれん です。", "--training")
    number = int(re.search(r"declared #(\d+) \[DRILL\]", out).group(1))
    info = staff.says("災害情報")
    assert info[0]["text"].startswith("【訓練】これは訓練用の情報です。\n【警戒レベル4 避難指示】洪水\n対象: 北区")
    assert "訓練です。川の水位が上がっています。" in info[0]["text"]
    assert hanako.says("災害情報")[0]["text"] == "いま、北区に出ている災害情報はありません。"
    assert f"#{number} [DRILL] flood level 4" in citybot("incidents", "list")

    [declared] = audits(services, "incident.declare")
    assert declared.actor.startswith("cli:") and declared.target == f"incident:{number}"
    assert declared.detail == {"hazard": "flood", "level": 4, "districts": ["kita"], "shelters": len(FLOOD_KITA),
                               "training": True}

    assert "changed" in citybot("incidents", "update", str(number), "--level", "5")
    assert audits(services, "incident.change")[0].detail == {"level": {"from": 4, "to": 5}}
    assert "ended" in citybot("incidents", "end", str(number))
    assert audits(services, "incident.end")[0].actor.startswith("cli:")
    assert "no active incident" in citybot("incidents", "list")
    assert staff.says("災害情報")[0]["text"] == "いま、北区に出ている災害情報はありません。"


def test_the_command_line_keeps_the_desks_rules(services, citybot):
    status = ["--status-ja", "状況", "--status-en", "Situation", "--status-easy-ja", "じょうきょう"]
    not_for_floods = next(s for s in SHELTERS if "flood" not in s["hazards"])
    refused = citybot("incidents", "declare", "--hazard", "flood", "--level", "6", "--district", "atlantis",
                      "--shelter", not_for_floods["id"], *status, code=1)
    assert "alert level must be one of 3, 4, 5" in refused and "unknown district(s) atlantis" in refused
    assert f"not designated for flood: {not_for_floods['id']}" in refused
    assert "name at least one district" in citybot("incidents", "declare", "--hazard", "flood", "--level", "4",
                                                   *status, code=1)
    assert audits(services, "incident.declare") == []
    with services.sessions() as s:
        assert inc.active(s, services.now(), include_training=True) == []


def test_a_full_site_is_never_offered_and_a_crowded_one_says_so(chat, services, desk):
    hanako = resident_in(chat, services, "kita")
    declare(services, ["kita"], hazard="flood")
    nearest_site, second = FLOOD_KITA[0], FLOOD_KITA[1]
    answer, first_card, *_ = hanako.sends_location(nearest_site["lat"], nearest_site["lon"])
    assert first_card["title"] == nearest_site["name"]

    desk_a = desk("desk-a")
    assert set_room(desk_a, nearest_site["id"], "full").status_code == 302
    assert set_room(desk_a, second["id"], "crowded").status_code == 302
    answer, *cards = hanako.sends_location(nearest_site["lat"], nearest_site["lon"])  # standing at the full one
    assert answer["text"].startswith("満員・閉鎖の避難所は除いてお知らせします。\n近くの開いている避難所（洪水に対応）:")
    assert nearest_site["name"] not in answer["text"]
    assert nearest_site["name"] not in [c["title"] for c in cards]
    assert f"{second['name']}（約" in answer["text"]
    crowded_line = next(line for line in answer["text"].splitlines() if second["name"] in line)
    assert crowded_line.endswith("【混雑】")

    # every open site full or closed: still none of them is offered
    for site in FLOOD_KITA[1:]:
        set_room(desk_a, site["id"], "closed")
    answer, *cards = hanako.sends_location(nearest_site["lat"], nearest_site["lon"])
    assert all(s["name"] not in answer["text"] for s in FLOOD_KITA)
    assert [c["title"] for c in cards if c["title"] in {s["name"] for s in FLOOD_KITA}] == []


def test_tell_family_opens_line_share_with_where_they_are_going(chat, services):
    hanako = resident_in(chat, services, "kita")
    declare(services, ["kita"], hazard="flood")
    site = FLOOD_KITA[0]
    *_, last = hanako.sends_location(site["lat"], site["lon"])
    share = last["quickReply"]["items"][0]["action"]
    assert share["type"] == "uri" and share["label"] == "家族に知らせる"
    url = urlsplit(share["uri"])
    assert (url.scheme, url.netloc, url.path) == ("https", "line.me", "/R/share")
    text = parse_qs(url.query)["text"][0]
    assert text.startswith(f"{site['name']}に避難します。\n住所: {site['address']}")
    assert len(share["uri"]) <= MAX_URI  # the fake platform validated the whole reply against the spec too

    # no incident where the place is: nothing to tell family about
    elsewhere = next(s for s in SHELTERS if s["district"] not in ("kita", ""))
    *_, last = hanako.sends_location(elsewhere["lat"], elsewhere["lon"])
    assert [i["action"]["type"] for i in last["quickReply"]["items"]] == ["postback"]


def test_a_long_share_text_is_cut_to_fit_lines_limit():
    action = Share("家族に知らせる", "避難" * 400).action()
    assert action["type"] == "uri" and len(action["uri"]) <= MAX_URI
    assert parse_qs(urlsplit(action["uri"]).query)["text"][0].startswith("避難避難")


def test_the_desk_page_lists_the_states_and_the_audit_log_says_who(chat, services, desk):
    declare(services, ["kita"], hazard="flood")
    desk_a, viewer = desk("desk-a"), desk("miru", role="viewer")
    assert set_room(desk_a, FLOOD_KITA[0]["id"], "crowded").status_code == 302
    assert set_room(desk_a, FLOOD_KITA[0]["id"], "full").status_code == 302
    page = desk_a.get("/admin/shelter-rooms").get_data(as_text=True)
    rows = dict(re.findall(r'data-site="([^"]+)" data-state="([^"]*)"', page))
    assert rows[FLOOD_KITA[0]["id"]] == "full" and rows[FLOOD_KITA[1]["id"]] == ""
    assert set(rows) == {s["id"] for s in FLOOD_KITA}
    assert "満員" in page and "desk-a" in page

    seen = viewer.get("/admin/shelter-rooms")
    assert seen.status_code == 200 and 'data-testid="set-full"' not in seen.get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', seen.get_data(as_text=True)).group(1)
    refused = viewer.post(f"/admin/shelter-rooms/{FLOOD_KITA[1]['id']}", data={"csrf_token": token, "state": "full"})
    assert refused.status_code == 403

    closed_site = next(s for s in SHELTERS if s["id"] not in {x["id"] for x in FLOOD_KITA})
    set_room(desk_a, closed_site["id"], "full")  # not opened by any incident: refused
    entries = audits(services, "shelter.room")
    assert [(e.actor, e.target, e.detail["from"], e.detail["to"]) for e in entries] == [
        ("desk-a", f"shelter:{FLOOD_KITA[0]['id']}", None, "crowded"),
        ("desk-a", f"shelter:{FLOOD_KITA[0]['id']}", "crowded", "full")]
    log = desk("admin-a", role="admin").get("/admin/audit").get_data(as_text=True)
    assert f"desk-a が避難所「{FLOOD_KITA[0]['name']}」を「満員」に（混雑から）" in log


def test_a_state_from_an_earlier_incident_is_not_trusted(services, clock):
    incident = declare(services, ["kita"], hazard="flood")
    with services.sessions() as s:
        room.set_state(s, FLOOD_KITA[0]["id"], room.Room.FULL, by="desk-a", now=services.now())
        s.commit()
        assert room.states(s, inc.active(s, services.now())) == {FLOOD_KITA[0]["id"]: room.Room.FULL}
        inc.end(s.get(inc.Incident, incident), services.now())
        s.commit()
    clock.advance(minutes=5)
    declare(services, ["kita"], hazard="flood")  # started a minute before now: after the old state
    with services.sessions() as s:
        assert room.states(s, inc.active(s, services.now())) == {}
