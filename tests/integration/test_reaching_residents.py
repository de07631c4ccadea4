"""The city reaches the right residents without being asked — and forgets them on request.

Two residents register by tapping; a notice for 北区 goes out through the clock and the
worker; only the one in 北区 receives it. Then she deletes her data: no row anywhere holds
her userId any more, only the push's anonymous counts remain.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot import delivery
from bot.models import Push
from bot.scheduler import Clock
from tests.conftest import texts
from tests.integration.test_registration import YES, pick, places_holding


def register(person, district: str, area: str) -> None:
    person.follows()
    person.taps(YES)
    person.taps(pick("district", district))
    person.taps(pick("area", area))
    person.taps("action=settings.quit")


def test_a_ward_notice_reaches_that_ward_only_and_data_deletion_leaves_only_counts(city, clock, line):
    content_dir, services, chat = city
    hanako, jiro = chat.resident("北区 花子"), chat.resident("中央区 次郎")
    register(hanako, "kita", "kita-2")
    register(jiro, "chuo", "chuo-1")

    due = (clock() - timedelta(minutes=1)).astimezone(ZoneInfo("Asia/Tokyo")).isoformat()
    (content_dir / "notices" / "kita-water.yaml").write_text(f"""title: 北区 断水のお知らせ
at: {due}
segment: {{districts: [kita]}}
text:
  ja: "北区で明日9時から断水します。"
  en: "Water will be cut in Kita ward tomorrow from 9:00."
  easy_ja: "きたくは あした 9じ から みずが でません。"
""", encoding="utf-8")
    services.content.reload_if_changed()
    clock_process = Clock(services)
    clock_process.catch_up(clock())
    sent = delivery.deliver_due(services.sessions, services.messenger, clock, quiet_hours=None,
                                lease=timedelta(seconds=60))
    assert sent == 1
    assert texts(hanako.received()) == ["北区で明日9時から断水します。"]
    assert jiro.received() == []

    assert "削除" in hanako.says("データ削除")[0]["text"]
    assert texts(hanako.taps("action=delete_data.confirm"))[0].startswith("削除しました")
    assert places_holding(services.engine, hanako.user_id) == []
    with services.sessions() as s:
        push = s.scalars(select(Push)).one()
        assert (push.recipients_total, push.sent_count) == (1, 1)  # the anonymous delivery count
