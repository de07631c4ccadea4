"""The disaster desk's pages: incidents declared, changed and ended through the forms (the
rich menu follows), broadcasts composed, previewed, submitted once, approved by a second
desk user or sent alone by a lead, delivered to exactly the residents of the districts,
and nothing of it reachable for a viewer."""

from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from bot import delivery, richmenu
from bot.admin.auth import hash_password
from bot.admin.models import AuditEntry, StaffUser
from bot.messenger import LineError
from bot.models import Push
from handlers.disaster import broadcasts as bc
from handlers.disaster import incidents as inc
from tests.integration.test_admin_auth import PASSWORD, admin_rules, cli, csrf, dummy_url, login  # noqa: F401
from tests.integration.test_disaster import SHELTERS, STATUS, declare, resident_in

HASH = hash_password(PASSWORD)  # one argon2 hash for every account of these tests
DESK_ENDPOINTS = {"admin.incident_new", "admin.incident_change", "admin.incident_end", "admin.broadcast_new",
                  "admin.broadcast_approve", "admin.broadcast_approve_alone", "admin.broadcast_reject",
                  "admin.broadcast_cancel"}


# -- helpers --------------------------------------------------------------------------------------
class _FormReader(HTMLParser):
    """What a browser would post from the form with a data-testid: hidden and text inputs,
    ticked boxes and radios, textareas, selected options (no submit buttons)."""

    def __init__(self, testid: str):
        super().__init__(convert_charrefs=True)
        self.testid, self.inside, self.data = testid, False, []
        self._textarea: str | None = None
        self._select: str | None = None
        self._first: str | bool | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("data-testid") == self.testid:
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name") and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.data.append((a["name"], a.get("value", "on")))
            elif kind != "submit":
                self.data.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], []
        elif tag == "select":
            self._select, self._first = a["name"], None
        elif tag == "option" and self._select:
            if self._first is None:
                self._first = a.get("value", "")
            if "selected" in a:
                self.data.append((self._select, a.get("value", "")))
                self._first = False

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self.data.append((self._textarea, text[2:] if text.startswith("\r\n") else text.removeprefix("\n")))
            self._textarea = None
        elif tag == "select" and self._select:
            if self._first not in (None, False):  # none selected: the browser sends the first
                self.data.append((self._select, self._first))
            self._select = None


def form_data(page: str, testid: str) -> dict[str, list[str]]:
    reader = _FormReader(testid)
    reader.feed(page)
    out: dict[str, list[str]] = {}
    for name, value in reader.data:
        out.setdefault(name, []).append(value)
    assert out, f"no form {testid}"
    return out


def text_of(page: str, testid: str) -> str:
    found = re.search(rf'<(\w+)[^>]*data-testid="{testid}"[^>]*>(.*?)</\1>', page, re.S)
    assert found, f"no element {testid}"
    return htmllib.unescape(re.sub(r"<[^>]+>", "", found.group(2))).strip()


def flashes(page: str) -> list[str]:
    return [htmllib.unescape(m) for m in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page, re.S)]


@pytest.fixture
def desk(app, services):
    """desk(name, role="desk", lead=False) -> a test client logged in as a new staff account."""

    def make(name: str, role: str = "desk", lead: bool = False):
        with services.sessions() as s:
            s.add(StaffUser(name=name, role=role, lead=lead, password_hash=HASH, disabled=False,
                            created_at=services.now()))
            s.commit()
        client = app.test_client()
        assert login(client, name).status_code == 302
        return client

    return make


def audits(services, prefix: str) -> list[tuple[str, str, str, dict | None]]:
    with services.sessions() as s:
        return [(e.actor, e.action, e.target, e.detail) for e in
                s.scalars(select(AuditEntry).where(AuditEntry.action.startswith(prefix)).order_by(AuditEntry.id))]


def broadcasts(services) -> list[bc.Broadcast]:
    with services.sessions() as s:
        return list(s.scalars(select(bc.Broadcast).order_by(bc.Broadcast.id)))


def deliver(services, clock) -> int:
    return delivery.deliver_due(services.sessions, services.messenger, clock, quiet_hours=None,
                                lease=timedelta(seconds=60))


def post_form(client, url: str, data: dict[str, list[str]], **extra: str):
    body = {k: list(v) for k, v in data.items()}
    for k, v in extra.items():
        body[k] = [v]
    return client.post(url, data=body)


def compose(client, incident_id: int | None = None, template: str = "evacuate", **changes) -> dict[str, list[str]]:
    """The compose page's form as first rendered, with `changes` (name -> list of values) applied."""
    query = f"?template={template}" + (f"&incident={incident_id}" if incident_id else "")
    page = client.get(f"/admin/broadcasts/new{query}")
    assert page.status_code == 200
    data = form_data(page.get_data(as_text=True), "compose-form")
    data.update(changes)
    return data


def previewed(client, data: dict[str, list[str]]) -> tuple[str, dict[str, list[str]]]:
    response = post_form(client, "/admin/broadcasts/new", data, preview="内容を確認する")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, flashes(page) or page
    return page, form_data(page, "compose-form")


def submitted(client, data: dict[str, list[str]]) -> int:
    response = post_form(client, "/admin/broadcasts/new", data, submit="承認を依頼する")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.location.rsplit("/", 1)[1])


def pending_broadcast(client, incident_id: int, districts=("kita", "chuo")) -> int:
    _, data = previewed(client, compose(client, incident_id, districts=list(districts)))
    return submitted(client, data)


def incident_form(**changes) -> dict[str, list[str]]:
    data = {"hazard": ["flood"], "level": ["4"], "districts": ["kita", "chuo"],
            "status_ja": [STATUS["ja"]], "status_en": [STATUS["en"]], "status_easy_ja": [STATUS["easy_ja"]]}
    data.update(changes)
    return data


# -- incidents --------------------------------------------------------------------------------------
@pytest.mark.contract
def test_an_incident_declared_changed_and_ended_through_the_forms(desk, services, line):
    created = richmenu.sync(services.messenger, services.content.current())
    hanako = line.add_user("花子")
    sato = desk("sato")
    form = sato.get("/admin/incidents/new").get_data(as_text=True)
    assert "土砂災害" in form and "緊急安全確保" in form and "中央区" in form and "訓練" in form

    flood_in_kita = [s["id"] for s in SHELTERS if s["district"] == "kita" and "flood" in s["hazards"]][:2]
    token = csrf(sato, "/admin/incidents/new")
    response = post_form(sato, "/admin/incidents/new", incident_form(shelters=flood_in_kita), csrf_token=token)
    assert response.status_code == 302
    incident_id = int(response.location.rsplit("/", 1)[1])
    with services.sessions() as s:
        row = s.get(inc.Incident, incident_id)
        assert (row.hazard, row.level, row.districts, row.shelters, row.status, row.training, row.created_by) == \
            ("flood", 4, ["kita", "chuo"], flood_in_kita, STATUS, False, "sato")
    assert audits(services, "incident.") == [("sato", "incident.declare", f"incident:{incident_id}",
                                              {"hazard": "flood", "level": 4, "districts": ["kita", "chuo"],
                                               "shelters": 2, "training": False})]
    assert line.menu_shown_to(hanako)["richMenuId"] == created["disaster"]  # switched right away
    page = sato.get(response.location).get_data(as_text=True)
    assert "リッチメニューを災害用に切り替えました" in page and "発令中" in page
    assert "開設した避難所が選ばれていません" not in page
    listing = sato.get("/admin/incidents").get_data(as_text=True)
    assert "警戒レベル4 避難指示" in listing and "北区・中央区" in listing

    # change: level 5, one more district, a site closed
    data = form_data(page, "incident-change-form")
    data.update(level=["5"], districts=["kita", "chuo", "minato"], shelters=flood_in_kita[:1])
    assert post_form(sato, f"/admin/incidents/{incident_id}", data).status_code == 302
    with services.sessions() as s:
        row = s.get(inc.Incident, incident_id)
        assert (row.level, row.districts, row.shelters) == (5, ["kita", "chuo", "minato"], flood_in_kita[:1])
    [change] = audits(services, "incident.change")
    assert change[3] == {"level": {"from": 4, "to": 5}, "districts": {"from": ["kita", "chuo"],
                                                                      "to": ["kita", "chuo", "minato"]},
                         "shelters": {"from": 2, "to": 1}}

    # end, after a confirmation page
    confirm = sato.get(f"/admin/incidents/{incident_id}/end").get_data(as_text=True)
    assert "解除しますか" in confirm
    token = csrf(sato, f"/admin/incidents/{incident_id}/end")
    assert sato.post(f"/admin/incidents/{incident_id}/end", data={"csrf_token": token}).status_code == 302
    with services.sessions() as s:
        assert s.get(inc.Incident, incident_id).ended_at is not None
    assert [a[1] for a in audits(services, "incident.")] == ["incident.declare", "incident.change", "incident.end"]
    assert line.menu_shown_to(hanako)["richMenuId"] == created["main"]
    ended = sato.get(f"/admin/incidents/{incident_id}").get_data(as_text=True)
    assert "解除済み" in ended and 'data-testid="incident-change-form"' not in ended
    token = csrf(sato, f"/admin/incidents/{incident_id}")
    assert post_form(sato, f"/admin/incidents/{incident_id}", data, csrf_token=token).status_code == 409


def test_a_site_not_designated_for_the_hazard_or_a_missing_text_is_refused(desk, services):
    sato = desk("sato")
    not_for_floods = next(s for s in SHELTERS if "flood" not in s["hazards"])
    token = csrf(sato, "/admin/incidents/new")
    refused = post_form(sato, "/admin/incidents/new", incident_form(shelters=[not_for_floods["id"]]), csrf_token=token)
    assert refused.status_code == 400
    message = text_of(refused.get_data(as_text=True), "shelters-error")
    assert message.startswith(f"{not_for_floods['name']} は洪水の指定緊急避難場所ではありません。")
    no_english = post_form(sato, "/admin/incidents/new", incident_form(status_en=[" "]), csrf_token=token)
    assert no_english.status_code == 400 and "状況を英語でも書いてください。" in no_english.get_data(as_text=True)
    no_district = post_form(sato, "/admin/incidents/new", incident_form(districts=[]), csrf_token=token)
    assert no_district.status_code == 400 and "対象の区を1つ以上選んでください。" in no_district.get_data(as_text=True)
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(inc.Incident)) == 0
    assert audits(services, "incident.") == []


def test_a_line_error_while_switching_the_menu_is_a_warning(desk, services, monkeypatch):
    def down(*_args, **_kwargs):
        raise LineError(500, "internal error")

    monkeypatch.setattr(services.messenger, "rich_menu_aliases", down)
    sato = desk("sato")
    token = csrf(sato, "/admin/incidents/new")
    response = post_form(sato, "/admin/incidents/new", incident_form(), csrf_token=token)
    assert response.status_code == 302
    page = sato.get(response.location).get_data(as_text=True)
    assert any("リッチメニューを切り替えられませんでした" in f and "1分ごと" in f for f in flashes(page))
    assert len(audits(services, "incident.declare")) == 1  # the incident stands


# -- broadcasts ---------------------------------------------------------------------------------------
def test_compose_preview_and_submit_once(chat, desk, services):
    for district in ("kita", "chuo", "minato"):
        resident_in(chat, services, district, district)
    incident_id = declare(services, ["kita", "chuo"])
    sato = desk("sato")
    data = compose(sato, incident_id)
    assert data["target"] == ["districts"] and data["districts"] == ["kita", "chuo"]
    assert data["text_ja"][0].startswith("【避難指示】北区・中央区に洪水の警戒レベル4「避難指示」を発令しました。")
    assert data["text_en"][0].startswith("[Evacuation order] Alert level 4")
    assert re.fullmatch(r"[0-9a-f]{32}", data["form_key"][0])

    typed = data["text_ja"][0]
    data["text_ja"] = [typed.replace("\n", "\r\n")]  # what a browser posts
    page, shown = previewed(sato, data)
    assert text_of(page, "preview-count") == "2"
    assert text_of(page, "preview-ja") == typed.strip()
    assert 'data-testid="submit-button"' in page and shown["form_key"] == data["form_key"]

    first = submitted(sato, shown)
    again = submitted(sato, shown)  # the same form sent twice (a double click, a reload)
    assert first == again and len(broadcasts(services)) == 1
    assert any("すでに承認依頼されています" in f for f in flashes(sato.get(f"/admin/broadcasts/{first}")
                                                              .get_data(as_text=True)))
    [row] = broadcasts(services)
    assert (row.status, row.target, row.districts, row.audience, row.created_by, row.incident_id) == \
        ("pending", "districts", ["kita", "chuo"], 2, "sato", incident_id)
    assert row.texts["ja"] == typed.strip() and "\r" not in row.texts["ja"]
    assert audits(services, "broadcast.") == [("sato", "broadcast.submit", f"broadcast:{first}",
                                               {"template": "evacuate", "incident": incident_id,
                                                "target": "districts", "districts": ["kita", "chuo"],
                                                "segment": None, "training": False, "audience": 2})]
    listing = sato.get("/admin/broadcasts").get_data(as_text=True)
    assert f'data-testid="open-broadcast-{first}"' in listing


def test_what_is_submitted_is_what_was_previewed(chat, desk, services):
    resident_in(chat, services, "kita")
    sato = desk("sato")
    data = compose(sato, target=["segment"], segment=[""])
    refused = post_form(sato, "/admin/broadcasts/new", data, preview="内容を確認する")
    assert refused.status_code == 400 and "配信するグループを選んでください。" in refused.get_data(as_text=True)
    _, shown = previewed(sato, compose(sato, target=["districts"], districts=["kita"]))
    shown["text_ja"] = ["書き換えた文面"]  # edited after the preview, then submitted straight away
    response = post_form(sato, "/admin/broadcasts/new", shown, submit="承認を依頼する")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and broadcasts(services) == []
    assert any("確認したあとに内容が変わりました" in f for f in flashes(page))
    assert text_of(page, "preview-ja") == "書き換えた文面"
    assert submitted(sato, form_data(page, "compose-form"))  # now it was seen
    assert broadcasts(services)[0].texts["ja"] == "書き換えた文面"
    unknown = post_form(sato, "/admin/broadcasts/new", compose(sato, incident=["999"]), preview="内容を確認する")
    assert unknown.status_code == 400 and "その災害・避難情報はありません" in unknown.get_data(as_text=True)


def test_a_training_preview_shows_the_mark_and_counts_testers(chat, desk, services):
    resident_in(chat, services, "kita")
    resident_in(chat, services, "minato", "職員", tester=True)
    sato = desk("sato")
    page, _ = previewed(sato, compose(sato, target=["districts"], districts=["kita"], training=["y"]))
    assert text_of(page, "preview-count") == "1"
    starts = [text_of(page, f"preview-{lang}") for lang in ("ja", "en", "easy_ja")]
    assert starts[0].startswith("【訓練】") and starts[1].startswith("[DRILL] ") and starts[2].startswith("【くんれん】")


def test_a_second_desk_user_approves_and_exactly_the_districts_get_it_once(chat, desk, services, clock):
    kita, chuo, minato = (resident_in(chat, services, d, d) for d in ("kita", "chuo", "minato"))
    incident_id = declare(services, ["kita", "chuo"])
    sato, kato, ito = desk("sato"), desk("kato"), desk("ito")
    broadcast_id = pending_broadcast(sato, incident_id)
    url = f"/admin/broadcasts/{broadcast_id}"

    mine = sato.get(url).get_data(as_text=True)
    assert 'data-testid="cancel"' in mine and 'data-testid="approve"' not in mine
    assert 'data-testid="alone-form"' not in mine  # not a lead
    refused = sato.post(f"{url}/approve", data={"csrf_token": csrf(sato, url)})
    assert refused.status_code == 409
    assert "別の窓口担当の承認が必要です" in "".join(flashes(refused.get_data(as_text=True)))
    alone = sato.post(f"{url}/approve-alone", data={"csrf_token": csrf(sato, url), "reason": "急ぎ"})
    assert alone.status_code == 409 and broadcasts(services)[0].status == "pending"

    theirs = kato.get(url).get_data(as_text=True)
    assert 'data-testid="approve"' in theirs and 'data-testid="reject"' in theirs
    assert 'data-testid="cancel"' not in theirs
    assert kato.post(f"{url}/approve", data={"csrf_token": csrf(kato, url)}).status_code == 302
    [row] = broadcasts(services)
    assert (row.status, row.decided_by) == ("sent", "kato") and row.push_id
    with services.sessions() as s:
        push = s.get(Push, row.push_id)
        assert push.urgent and push.source_key == f"broadcast:{broadcast_id}" and push.recipients_total == 2
    assert kato.get(f"{url}/progress").get_json() == {"total": 2, "sent": 0, "failed": 0, "pending": 2,
                                                      "percent": 0, "done": False, "status": "sent"}
    late = ito.post(f"{url}/approve", data={"csrf_token": csrf(ito, url)})  # a third one, a moment later
    assert late.status_code == 302
    assert any("すでに他の職員が判断しています" in f for f in flashes(ito.get(url).get_data(as_text=True)))

    assert deliver(services, clock) == 1
    [message] = kita.received()
    assert message["text"].startswith("【避難指示】北区・中央区に洪水の警戒レベル4")
    assert chuo.received() == [message] and minato.received() == []
    assert deliver(services, clock) == 0 and kita.received() == [] and chuo.received() == []
    assert ito.get(f"{url}/progress").get_json() == {"total": 2, "sent": 2, "failed": 0, "pending": 0,
                                                     "percent": 100, "done": True, "status": "sent"}
    done = ito.get(url).get_data(as_text=True)
    assert text_of(done, "progress-percent") == "100%" and text_of(done, "progress-done") == "送信完了"
    assert "progress.js" in done and "<script>" not in done
    assert [(a[0], a[1]) for a in audits(services, "broadcast.")] == [("sato", "broadcast.submit"),
                                                                      ("kato", "broadcast.approve")]


def test_a_lead_sends_alone_with_a_written_reason(chat, desk, services, clock):
    kita = resident_in(chat, services, "kita")
    incident_id = declare(services, ["kita"])
    yamada = desk("yamada", lead=True)
    broadcast_id = pending_broadcast(yamada, incident_id, districts=["kita"])
    url = f"/admin/broadcasts/{broadcast_id}"
    page = yamada.get(url).get_data(as_text=True)
    assert "責任者として単独で送信" in page and 'data-testid="approve"' not in page
    no_reason = yamada.post(f"{url}/approve-alone", data={"csrf_token": csrf(yamada, url), "reason": "  "})
    assert no_reason.status_code == 409
    assert "単独で送信する理由を書いてください。" in flashes(no_reason.get_data(as_text=True))
    reason = "夜間で二人目が登庁できないため"
    sent = yamada.post(f"{url}/approve-alone", data={"csrf_token": csrf(yamada, url), "reason": reason})
    assert sent.status_code == 302
    [row] = broadcasts(services)
    assert (row.status, row.decided_by, row.alone_reason) == ("sent", "yamada", reason)
    [entry] = audits(services, "broadcast.approve")
    assert entry[:3] == ("yamada", "broadcast.approve_alone", f"broadcast:{broadcast_id}")
    assert entry[3]["reason"] == reason and entry[3]["push"] == row.push_id
    deliver(services, clock)
    assert len(kita.received()) == 1
    assert text_of(yamada.get(url).get_data(as_text=True), "alone-reason") == reason


def test_reject_by_another_and_cancel_by_the_author(chat, desk, services):
    incident_id = declare(services, ["kita"])
    sato, kato = desk("sato"), desk("kato")
    first = pending_broadcast(sato, incident_id, ["kita"])
    second = pending_broadcast(sato, incident_id, ["kita"])
    one, two = f"/admin/broadcasts/{first}", f"/admin/broadcasts/{second}"
    assert sato.post(f"{one}/reject", data={"csrf_token": csrf(sato, one)}).status_code == 409  # own: cancel it
    assert kato.post(f"{two}/cancel", data={"csrf_token": csrf(kato, two)}).status_code == 409  # not theirs
    assert kato.post(f"{one}/reject", data={"csrf_token": csrf(kato, one), "reason": "区が違う"}).status_code == 302
    assert sato.post(f"{two}/cancel", data={"csrf_token": csrf(sato, two)}).status_code == 302
    assert [(b.status, b.decided_by, b.push_id) for b in broadcasts(services)] == [("rejected", "kato", None),
                                                                                  ("cancelled", "sato", None)]
    assert kato.post(f"{two}/approve", data={"csrf_token": csrf(kato, two)}).status_code == 302  # too late
    assert broadcasts(services)[1].status == "cancelled"
    assert [(a[0], a[1], a[3]) for a in audits(services, "broadcast.")][-2:] == [
        ("kato", "broadcast.reject", {"author": "sato", "reason": "区が違う"}), ("sato", "broadcast.cancel", None)]
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Push)) == 0


# -- who may do what ---------------------------------------------------------------------------------------
def test_a_viewer_sees_the_desk_but_no_action_and_every_post_is_403(app, desk, services):
    incident_id = declare(services, ["kita"])
    sato = desk("sato")
    broadcast_id = pending_broadcast(sato, incident_id, ["kita"])
    mori = desk("mori", role="viewer")
    for url in ("/admin/incidents", f"/admin/incidents/{incident_id}", "/admin/broadcasts",
                f"/admin/broadcasts/{broadcast_id}"):
        page = mori.get(url)
        html = page.get_data(as_text=True)
        assert page.status_code == 200, url
        for action in ("新しく発令する", "新しい配信を作成する", "承認して送信", "取り消す", "解除する",
                       "この情報を住民に配信する", "変更を保存する", "責任者として単独で送信"):
            assert action not in html, (url, action)
    home = mori.get("/admin/").get_data(as_text=True)
    assert "災害・避難情報" in home and "緊急配信" in home
    for url in ("/admin/incidents/new", "/admin/broadcasts/new", f"/admin/incidents/{incident_id}/end"):
        assert mori.get(url).status_code == 403, url
    assert mori.get(f"/admin/broadcasts/{broadcast_id}/progress").status_code == 200

    token = csrf(mori, "/admin/")
    mine = [r for r in admin_rules(app) if r.endpoint in DESK_ENDPOINTS and "POST" in r.methods]
    assert {r.endpoint for r in mine} == DESK_ENDPOINTS
    for rule in mine:
        url = re.sub(r"<(?:int|id):\w+>", lambda m: str(incident_id if "incident" in rule.rule else broadcast_id), rule.rule)
        response = mori.post(url, data={"csrf_token": token, "reason": "x", **incident_form()})
        assert response.status_code == 403, f"{url}: {response.status_code}"
    assert [(b.status, b.push_id) for b in broadcasts(services)] == [("pending", None)]
    with services.sessions() as s:
        assert s.get(inc.Incident, incident_id).ended_at is None


def test_a_post_without_its_csrf_token_is_refused(chat, desk, services):
    incident_id = declare(services, ["kita"])
    sato, kato = desk("sato"), desk("kato")
    assert post_form(sato, "/admin/incidents/new", incident_form()).status_code == 400
    broadcast_id = pending_broadcast(sato, incident_id, ["kita"])
    data = compose(sato, incident_id)
    del data["csrf_token"]
    assert post_form(sato, "/admin/broadcasts/new", data, preview="内容を確認する").status_code == 400
    assert kato.post(f"/admin/broadcasts/{broadcast_id}/approve").status_code == 400
    assert kato.post(f"/admin/incidents/{incident_id}/end").status_code == 400
    assert broadcasts(services)[0].status == "pending"


def test_every_desk_page_needs_a_login(app, client):
    for rule in admin_rules(app):
        if rule.endpoint.startswith(("admin.incident", "admin.broadcast")):
            response = client.open(dummy_url(rule), method="POST" if "POST" in rule.methods else "GET")
            assert response.status_code in (302, 401), rule.rule


# -- leads ---------------------------------------------------------------------------------------------------
def test_leads_are_made_on_the_command_line_and_shown_on_the_users_page(cli, desk, services):
    assert "added yamada (desk, lead)" in cli("users", "add", "yamada", "--role", "desk", "--lead",
                                              "--password-stdin", input=PASSWORD + "\n")
    assert "only desk or admin" in cli("users", "add", "mori", "--role", "viewer", "--lead", "--password-stdin",
                                       input=PASSWORD + "\n", code=1)
    cli("users", "add", "kato", "--role", "desk", "--password-stdin", input=PASSWORD + "\n")
    assert re.search(r"yamada\s+desk\s+active\s+lead", cli("users", "list"))
    cli("users", "set-lead", "kato", "on")
    cli("users", "set-lead", "yamada", "off")
    cli("users", "add", "suzuki", "--role", "editor", "--password-stdin", input=PASSWORD + "\n")
    assert "only desk or admin" in cli("users", "set-lead", "suzuki", "on", code=1)
    with services.sessions() as s:
        leads = dict(s.execute(select(StaffUser.name, StaffUser.lead)).all())
    assert leads == {"yamada": False, "kato": True, "suzuki": False}
    assert [(a[1], a[2], a[3]) for a in audits(services, "user.lead")] == [
        ("user.lead", "staff:kato", {"lead": True, "via": "cli"}),
        ("user.lead", "staff:yamada", {"lead": False, "via": "cli"})]
    page = desk("sato", role="admin").get("/admin/users").get_data(as_text=True)
    assert text_of(page, "lead-kato") == "責任者" and text_of(page, "lead-yamada") == "—"


def test_an_incident_without_open_sites_warns_the_desk(desk, services):
    sato = desk("sato")
    declared = post_form(sato, "/admin/incidents/new", incident_form(shelters=[]),
                         csrf_token=csrf(sato, "/admin/incidents/new"))
    assert declared.status_code == 302
    assert "開設した避難所が選ばれていません" in sato.get(declared.location).get_data(as_text=True)
