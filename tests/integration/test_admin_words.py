"""Staff pages in words: pushes by title and by what they are (a district broadcast is no
一斉配信), segments by their label, the audit log in sentences with the raw entry one
click away."""

from __future__ import annotations

import html as htmllib
import re

from bot import delivery
from bot.admin.models import AuditEntry
from bot.models import Push
from handlers.childcare import facilities_of
from tests.integration.test_admin_auth import csrf, login, staff  # noqa: F401
from tests.integration.test_admin_desk import compose, desk, previewed, submitted  # noqa: F401
from tests.integration.test_admin_pages import table
from tests.integration.test_disaster import declare, resident_in


def push_rows(client):
    return {r[0]: r[1:3] for r in table(client.get("/admin/pushes").get_data(as_text=True), "pushes-table")}


def store_push(services, key, kind, **extra):
    with services.sessions() as s:
        push_id = delivery.create_push(s, source_key=key, kind=kind, messages={"*": [{"type": "text", "text": "x"}]},
                                       recipients=delivery.to_residents([]), now=services.now(), **extra)
        s.commit()
    return push_id


def test_pushes_are_listed_by_title_and_a_district_broadcast_is_not_a_line_broadcast(chat, services, desk, clock):
    resident_in(chat, services, "kita", "北区の住民")
    incident_id = declare(services, ["kita"])
    sato, kato = desk("sato"), desk("kato")
    to_kita = submitted(sato, previewed(sato, compose(sato, incident_id))[1])
    to_all = submitted(sato, previewed(sato, compose(sato, incident_id, target=["all"], districts=[]))[1])
    to_group = submitted(sato, previewed(sato, compose(sato, None, target=["segment"],
                                                         segment=["families_with_toddlers"]))[1])
    for broadcast_id in (to_kita, to_all, to_group):
        url = f"/admin/broadcasts/{broadcast_id}"
        assert kato.post(f"{url}/approve", data={"csrf_token": csrf(kato, url)}).status_code == 302
    facility = facilities_of(services.content.current()).facilities[0]
    store_push(services, "notice:year-end-garbage@2026-12-20T10:00:00+09:00", "notice")
    store_push(services, f"childcare:opening:{facility.id}:1:2026-12-01", "childcare")
    store_push(services, "garbage-reminder:kita-1:2026-12-08@19:00", "reminder")
    store_push(services, "large-waste-reminder:LW-2026-000123", "reminder")
    store_push(services, "large-waste-staff:LW-2026-000123:staff_moved:abc", "booking")
    store_push(services, "someone-new:42", "novel")

    rows = list(push_rows(kato).values())
    assert rows[::-1] == [
        ["区への緊急配信", "緊急配信 #1 避難の呼びかけ（北区）"],
        ["全友だちへの一斉配信（LINE）", "緊急配信 #2 避難の呼びかけ（友だち全員）"],
        ["グループへの緊急配信", "緊急配信 #3 避難の呼びかけ（グループ「0〜2歳の子どもがいる家庭」）"],
        ["お知らせ", "年末年始のごみ収集のお知らせ（12月20日(日) 10:00）"],
        ["保育施設の空き", f"保育施設の空き: {facility.name} 1歳児クラス（2026-12-01 時点）"],
        ["リマインダー", "ごみ収集のリマインダー: 青葉・桜が丘 12月8日(火)分（19:00 送信）"],
        ["リマインダー", "粗大ごみ収集の前日のお知らせ（受付番号 LW-2026-000123）"],
        ["粗大ごみ予約のお知らせ", "粗大ごみ予約の収集日の変更のお知らせ（受付番号 LW-2026-000123、電話での依頼）"],
        ["novel", "novel（someone-new）"],
    ]
    listing = kato.get("/admin/pushes").get_data(as_text=True)
    assert "notice:year-end" not in listing and "childcare:opening" not in listing and "一斉配信（LINE）" in listing
    with services.sessions() as s:
        first = s.query(Push).order_by(Push.id).first()
    detail = kato.get(f"/admin/pushes/{first.id}").get_data(as_text=True)
    assert re.search(r"<details[^>]*>\s*<summary>表示する</summary>\s*<code class=\"key\">broadcast:1</code>", detail)

    broadcasts = kato.get("/admin/broadcasts").get_data(as_text=True)
    assert "グループ: 0〜2歳の子どもがいる家庭" in broadcasts and "families_with_toddlers" not in broadcasts


def test_the_audit_log_reads_as_sentences_with_the_raw_entry_one_click_away(desk, services, app, clock):
    incident_id = declare(services, ["kita"])
    with services.sessions() as s:
        for action, target, detail in [
            ("incident.declare", f"incident:{incident_id}", {"hazard": "flood", "level": 4, "districts": ["kita"],
                                                            "shelters": 2, "training": False}),
            ("incident.change", f"incident:{incident_id}", {"level": {"from": 4, "to": 5}, "status": "changed"}),
            ("broadcast.submit", "broadcast:7", {"template": "evacuate", "target": "districts",
                                                 "districts": ["kita"], "audience": 1, "training": False}),
            ("broadcast.approve", "broadcast:7", {"author": "desk-a", "target": "all", "audience": 3}),
            ("user.role", "staff:mori", {"from": "viewer", "to": "desk", "via": "cli"}),
            ("login.failed", "staff:mori", {"reason": "wrong_password"}),
            ("booking.move", "booking:LW-2026-000001", {"area": "kita-1", "from": "2026-12-08", "to": "2026-12-15"}),
            ("report.status", "report:12", {"to": "done"}),
        ]:
            s.add(AuditEntry(at=services.now(), actor="desk-a" if action != "user.role" else "system", action=action,
                             target=target, detail=detail))
        s.commit()
    admin = desk("root", role="admin")
    page = admin.get("/admin/audit").get_data(as_text=True)
    sentences = [htmllib.unescape(s) for s in re.findall(r'data-testid="audit-sentence">([^<]*)<', page)]
    assert sentences[-8:][::-1] == [
        "desk-a が北区に洪水レベル4（避難指示）を発令",
        f"desk-a が災害・避難情報 #{incident_id} を変更（警戒レベル 4→5、状況の文面）",
        "desk-a が緊急配信 #7（避難の呼びかけ、北区・1 人）の承認を依頼",
        "desk-a が desk-a の緊急配信 #7（友だち全員（LINEの一斉配信）・3 人）を承認して送信",
        "system が mori の役割を「閲覧のみ」から「窓口担当」に変更（サーバーのコマンドで）",
        "mori としてのログインに失敗（パスワード違い）",
        "desk-a が粗大ごみ予約 LW-2026-000001 の収集日を 12月8日(火) から 12月15日(火) に変更（住民の電話による）",
        "desk-a が report.status を実行（report:12）",
    ]
    assert page.count('<details class="raw" data-testid="audit-raw">') == len(sentences)
    raw = re.search(r'<details class="raw" data-testid="audit-raw">(.*?)</details>', page, re.S).group(1)
    assert "<summary>記録そのもの</summary>" in raw and "<code>login.ok</code>" in raw  # the newest: root's login
