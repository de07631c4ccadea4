"""避難報告・安否: residents report in a few taps during an incident; the desk counts them by
division and status, sees who needs help only with the permission (audited), can remind
those who have not reported once; reports go after the city's retention, on データ削除
and on a block."""

from __future__ import annotations

import csv
import io
from urllib.parse import unquote

from sqlalchemy import func, select

from bot.admin.models import AuditEntry
from bot.models import Push
from bot.scheduler import Clock
from handlers.disaster.tables import SafetyReport
from tests.conftest import quick_data, quick_labels
from tests.integration.test_admin_desk import desk  # noqa: F401
from tests.integration.test_disaster import declare, end, resident_in


def reports(services) -> list[SafetyReport]:
    with services.sessions() as s:
        rows = s.scalars(select(SafetyReport).order_by(SafetyReport.id)).all()
        s.expunge_all()
        return list(rows)


def counts(client, incident_id: int) -> dict:
    data = client.get("/admin/safety/counts.json").get_json()
    return next(i for i in data["incidents"] if i["id"] == incident_id)


def needs_help(hana, where=(34.70, 135.50), note="2階に取り残されています。母は足が悪いです"):
    hana.says("助けが必要")
    hana.taps("action=safety.status&step=status&is=help")
    *_, location = hana.taps("action=safety.people&step=people&n=2")
    assert location["quickReply"]["items"][0]["action"]["type"] == "location"
    *_, ask_note = hana.sends_location(*where)
    assert "200文字まで" in ask_note["text"]
    return hana.says(note)


def test_safe_at_home_three_people_counted_under_their_district(chat, services, desk):  # noqa: F811
    incident = declare(services, ["kita"])
    hana = resident_in(chat, services, "kita", "花子")
    *_, ask = hana.says("安否")
    assert ask["text"].startswith("洪水（警戒レベル4）について")
    assert quick_labels(ask)[:5] == ["自宅で無事", "車の中で無事", "親せき・知人宅で無事", "避難所にいる", "助けが必要"]
    *_, people = hana.taps("action=safety.status&step=status&is=home")
    assert quick_labels(people)[:6] == ["1人", "2人", "3人", "4人", "5人", "6人以上"]
    *_, saved = hana.taps("action=safety.people&step=people&n=3")
    assert saved["text"].startswith("市に報告しました: 自宅で無事・3人")
    assert any(d.startswith("action=safety.add") for d in quick_data(saved))
    [family] = [i["action"] for i in saved["quickReply"]["items"] if i["action"]["label"] == "家族に知らせる"]
    assert family["type"] == "uri" and family["uri"].startswith("https://line.me/R/share?text=")
    assert unquote(family["uri"].split("text=", 1)[1]) == "市のLINEで安否を報告しました: 自宅で無事・3人"
    [row] = reports(services)
    assert (row.incident_id, row.status, row.people) == (incident, "home", 3)

    client = desk("desk-a")
    got = counts(client, incident)
    assert got["cells"]["kita"]["home"] == {"reports": 1, "people": 3}
    assert got["reports"] == 1 and got["people"] == 3
    page = client.get("/admin/safety").get_data(as_text=True)
    assert 'data-testid="safety-cell-%d-kita-home"' % incident in page


def test_at_a_shelter_from_the_incidents_open_sites_and_typed_answers(chat, services, desk):  # noqa: F811
    incident = declare(services, ["kita"])
    taro = resident_in(chat, services, None, "太郎")  # no district: every incident concerns them, 不明 on the desk
    taro.says("避難報告")
    *_, sites = taro.says("避難所にいる")
    data = [d for d in quick_data(sites) if "action=safety.shelter" in d]
    assert len(data) >= 2 and data[-1].endswith("id=")  # the open sites, then ほかの避難所
    site_label = quick_labels(sites)[0]
    taro.says(site_label)                     # a site's name typed
    *_, saved = taro.says("７人")            # a typed number, full-width
    assert "避難所にいる（" in saved["text"] and "7人" in saved["text"]
    [row] = reports(services)
    assert row.shelter_id and row.people == 7
    assert counts(desk("desk-a"), incident)["cells"][""]["shelter"] == {"reports": 1, "people": 7}


def test_an_update_replaces_the_earlier_report(chat, services):
    declare(services, ["kita"])
    hana = resident_in(chat, services, "kita")
    needs_help(hana)
    *_, before, ask = hana.says("安否")
    assert before["text"].startswith("前回の報告: 助けが必要・2人") and ask["text"].startswith("洪水")
    hana.taps("action=safety.status&step=status&is=relatives")
    hana.taps("action=safety.people&step=people&n=6")
    [row] = reports(services)
    assert (row.status, row.people, row.latitude, row.note) == ("relatives", 6, None, None)


def test_needs_help_with_its_place_only_for_permitted_roles_and_audited(chat, services, desk):  # noqa: F811
    incident = declare(services, ["kita"])
    hana = resident_in(chat, services, "kita")
    *_, done = needs_help(hana, note="=HYPERLINK(\"http://x\")")
    assert done["text"].startswith("「助けが必要」と市の災害対策本部に伝えました（助けが必要・2人）")
    assert "119" in done["text"]

    desk_user = desk("desk-a")
    page = desk_user.get("/admin/safety").get_data(as_text=True)
    assert 'data-testid="safety-help-%d"' % incident in page
    assert "https://www.google.com/maps/search/?api=1&amp;query=34.700000,135.500000" in page
    csv_text = desk_user.get(f"/admin/safety/{incident}/help.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))
    assert rows[1][2] == "北区" and rows[1][3] == "2" and rows[1][-1].startswith("'=HYPERLINK")

    viewer = desk("viewer-a", role="viewer")
    page = viewer.get("/admin/safety").get_data(as_text=True)
    assert "safety-help-" not in page and "34.7" not in page and "HYPERLINK" not in page
    assert 'data-testid="safety-cell-%d-kita-help"' % incident in page  # the numbers, yes
    assert viewer.get(f"/admin/safety/{incident}/help.csv").status_code == 403
    with services.sessions() as s:
        actions = [(a.actor, a.action) for a in s.scalars(select(AuditEntry).where(AuditEntry.action.like("safety.%")))]
    assert actions == [("desk-a", "safety.view_help"), ("desk-a", "safety.export_help")]


def test_after_the_retention_the_reports_are_gone(chat, services, clock, desk):  # noqa: F811
    incident = declare(services, ["kita"])
    hana = resident_in(chat, services, "kita")
    needs_help(hana)
    end(services, incident)
    client = desk("desk-a")
    assert counts(client, incident)["reports"] == 1   # ended, still within the retention
    job = services.router.jobs["safety.erase"]
    Clock(services).run_job(job, clock())
    assert len(reports(services)) == 1
    clock.advance(days=30, minutes=1)  # content/safety.yaml: retention_days 30
    client = desk("desk-b")
    assert client.get("/admin/safety/counts.json").get_json() == {"incidents": []}
    assert 'data-testid="safety-none"' in client.get("/admin/safety").get_data(as_text=True)
    Clock(services).run_job(job, clock())
    assert reports(services) == []


def test_delete_data_and_a_block_erase_the_reports_at_once(chat, services, config):
    declare(services, ["kita"])
    hana, jiro = resident_in(chat, services, "kita", "花子"), resident_in(chat, services, "kita", "次郎")
    for person in (hana, jiro):
        person.says("安否")
        person.taps("action=safety.status&step=status&is=car")
        person.taps("action=safety.people&step=people&n=1")
    assert len(reports(services)) == 2
    hana.says("データ削除")
    hana.taps("action=delete_data.confirm")
    assert len(reports(services)) == 1
    services.config = config.with_(unfollow_grace_hours=48.0)  # the resident is kept a while; the report is not
    jiro.blocks()
    assert reports(services) == []


def test_nothing_declared_or_elsewhere_says_so(chat, services):
    declare(services, ["minami"])
    hana = resident_in(chat, services, "kita")
    *_, answer = hana.says("安否")
    assert answer["text"].startswith("いま、あなたの地域に安否の報告を受け付けている災害情報はありません")


def test_the_reminder_goes_once_to_those_who_have_not_reported(chat, services, desk):  # noqa: F811
    incident = declare(services, ["kita"])
    hana = resident_in(chat, services, "kita", "花子")
    resident_in(chat, services, "kita", "次郎")     # has not reported: reminded
    resident_in(chat, services, "minato", "三郎")  # another district: not reminded
    hana.says("安否")
    hana.taps("action=safety.status&step=status&is=home")
    hana.taps("action=safety.people&step=people&n=1")
    client = desk("desk-a")
    page = client.get("/admin/safety").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    for _ in range(2):
        client.post(f"/admin/safety/{incident}/remind", data={"csrf_token": token})
    with services.sessions() as s:
        pushes = s.scalars(select(Push).where(Push.kind == "safety-reminder")).all()
        assert [(p.source_key, p.recipients_total) for p in pushes] == [(f"safety-reminder:{incident}", 1)]
        [message] = pushes[0].messages["ja"]
        assert message["text"].startswith("【安否の確認】北区に洪水の警戒レベル4")
        assert message["quickReply"]["items"][0]["action"]["data"] == "action=safety"
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "safety.remind")) == 1


def test_an_evacuation_broadcast_carries_the_report_button(services):
    from handlers.disaster import broadcasts as bc

    content = services.content.current()
    texts = {"ja": "避難", "en": "Evacuate", "easy_ja": "にげて"}
    asked = bc.messages_for(content, texts, False, "evacuate")["ja"][0]
    assert [i["action"].get("data") for i in asked["quickReply"]["items"]] == [None, "action=safety"]
    lifted = bc.messages_for(content, texts, False, "lifted")["ja"][0]
    assert len(lifted["quickReply"]["items"]) == 1


def test_in_english_and_easy_japanese(chat, services):
    declare(services, ["kita"], hazard="flood", level=4)
    for lang, said in [("en", "Reported to the city: Safe in a car, 2 people"),
                       ("easy_ja", "しに しらせました: くるまで ぶじ・2にん")]:
        person = resident_in(chat, services, "kita", name=lang)
        person.taps(f"action=language.set&lang={lang}")
        person.taps("action=safety")
        person.taps("action=safety.status&step=status&is=car")
        *_, saved = person.taps("action=safety.people&step=people&n=2")
        assert saved["text"].startswith(said), saved["text"]


def test_quit_and_back(chat, services):
    declare(services, ["kita"])
    hana = resident_in(chat, services, "kita")
    hana.says("安否")
    *_, people = hana.taps("action=safety.status&step=status&is=home")
    assert "action=safety.back&step=people" in quick_data(people)
    *_, again = hana.taps("action=safety.back&step=people")
    assert again["text"].startswith("洪水（警戒レベル4）")
    *_, stopped = hana.says("やめる")
    assert stopped["text"].startswith("やめました")
    assert reports(services) == []
