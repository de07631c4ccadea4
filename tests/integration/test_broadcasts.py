"""Broadcasts of the disaster desk, below the web pages: approval by a second person, once,
training to testers only, and "all friends" through LINE's broadcast endpoint."""

from datetime import timedelta

import pytest

from bot import delivery
from bot.models import Push
from handlers.disaster import broadcasts as bc
from handlers.disaster import incidents as inc
from tests.integration.test_disaster import STATUS, resident_in


def send_all(services, clock):
    return delivery.deliver_due(services.sessions, services.messenger, clock, quiet_hours=None,
                                lease=timedelta(seconds=60))


@pytest.fixture
def incident(services):
    with services.sessions() as s:
        row = inc.declare(s, hazard="flood", level=4, districts=["kita", "chuo"], shelters=[], status=STATUS,
                          by="desk-a", now=services.now())
        s.commit()
        return row.id


def submit(services, incident_id, audience, form_key="form-1", by="desk-a"):
    content = services.content.current()
    with services.sessions() as s:
        texts = bc.fill(content, "evacuate", s.get(inc.Incident, incident_id))
        row, created = bc.submit(s, content, form_key=form_key, template="evacuate", texts=texts, audience=audience,
                                 incident_id=incident_id, by=by, now=services.now(), on=services.now().date())
        s.commit()
        return row.id, created


def approve(services, broadcast_id, by, **kwargs):
    with services.sessions() as s:
        push_id = bc.approve(s, services.content.current(), s.get(bc.Broadcast, broadcast_id), by=by,
                             now=services.now(), on=services.now().date(), **kwargs)
        s.commit()
        return push_id


def test_two_districts_approved_by_a_second_desk_user_reach_exactly_them_once(chat, services, clock, incident):
    kita, chuo, minato = (resident_in(chat, services, d, d) for d in ("kita", "chuo", "minato"))
    english = resident_in(chat, services, "chuo", "Tom")
    english.taps("action=language.set&lang=en")
    english.received()
    broadcast, created = submit(services, incident, bc.Audience("districts", ("kita", "chuo")))
    assert created and submit(services, incident, bc.Audience("districts", ("kita", "chuo")))[1] is False
    with pytest.raises(bc.NotAllowed):
        approve(services, broadcast, "desk-a")  # the author alone
    push_id = approve(services, broadcast, "desk-b")
    assert push_id is not None and approve(services, broadcast, "desk-c") is None  # a second approval sends nothing
    send_all(services, clock)
    [ja] = kita.received()
    assert ja["text"].startswith("【避難指示】北区・中央区に洪水の警戒レベル4「避難指示」を発令しました。川の水位が上がっています。")
    assert chuo.received() == [ja]
    assert [i["action"] for i in ja["quickReply"]["items"]] == [  # the evacuate template asks for safety too
        {"type": "location", "label": "位置情報を送る"},
        {"type": "postback", "label": "安否を知らせる", "data": "action=safety", "displayText": "安否を知らせる"}]
    [en] = english.received()
    assert en["text"].startswith("[Evacuation order] Alert level 4")
    assert en["quickReply"]["items"][0]["action"]["type"] == "location"
    *_, shelters = kita.sends_location(34.735, 135.500)  # one tap: the nearest open shelters
    assert shelters["type"] == "location"
    assert minato.received() == []
    with services.sessions() as s:
        assert bc.progress(s, push_id) == {"total": 3, "sent": 3, "failed": 0, "pending": 0, "percent": 100, "done": True}
        push = s.get(Push, push_id)
        assert push.urgent and push.source_key == f"broadcast:{broadcast}"


def test_a_lead_may_send_alone_with_a_reason(chat, services, clock, incident):
    kita = resident_in(chat, services, "kita")
    broadcast, _ = submit(services, incident, bc.Audience("districts", ("kita",)))
    with pytest.raises(bc.NotAllowed):
        approve(services, broadcast, "desk-a", is_lead=True, alone_reason="  ")
    assert approve(services, broadcast, "desk-a", is_lead=True, alone_reason="夜間で二人目がいない") is not None
    with services.sessions() as s:
        row = s.get(bc.Broadcast, broadcast)
        assert (row.status, row.decided_by, row.alone_reason) == ("sent", "desk-a", "夜間で二人目がいない")
    send_all(services, clock)
    assert len(kita.received()) == 1


def test_training_goes_to_testers_only_marked(chat, services, clock, incident):
    staff = resident_in(chat, services, "minato", "職員", tester=True)
    kita = resident_in(chat, services, "kita")
    broadcast, _ = submit(services, incident, bc.Audience("districts", ("kita",), training=True))
    approve(services, broadcast, "desk-b")
    send_all(services, clock)
    assert kita.received() == []
    assert staff.received()[0]["text"].startswith("【訓練】【避難指示】")


def test_all_friends_through_line_broadcast(chat, services, clock, line, incident):
    kita, minato = resident_in(chat, services, "kita"), resident_in(chat, services, "minato")
    stranger = line.add_user("まだ話していない人")  # a friend the bot has never heard from
    broadcast, _ = submit(services, incident, bc.Audience("all"))
    push_id = approve(services, broadcast, "desk-b")
    assert send_all(services, clock) == 1
    for person_messages in (kita.received(), minato.received(), line.messages_for(stranger)):
        texts = [m["text"] if "text" in m else m["message"]["text"] for m in person_messages]
        assert len(texts) == 3 and texts[0].startswith("【避難指示】")  # ja, easy_ja, en in one broadcast
    broadcasts = [r for r in line.requests if r.get("path", "").endswith("/message/broadcast")]
    assert len(broadcasts) == 1 and broadcasts[0].get("valid") is not False
    with services.sessions() as s:
        assert bc.progress(s, push_id)["percent"] == 100


def test_a_cancelled_broadcast_cannot_be_approved(services, incident):
    broadcast, _ = submit(services, incident, bc.Audience("districts", ("kita",)))
    with services.sessions() as s:
        assert bc.reject(s, s.get(bc.Broadcast, broadcast), by="desk-a", now=services.now(), status="cancelled")
        s.commit()
    assert approve(services, broadcast, "desk-b") is None


def test_preview_counts_and_refuses_what_is_incomplete(chat, services, incident):
    resident_in(chat, services, "kita"), resident_in(chat, services, "chuo")
    content = services.content.current()
    with services.sessions() as s:
        texts = bc.fill(content, "update", s.get(inc.Incident, incident))
        shown = bc.preview(s, content, texts, bc.Audience("districts", ("kita",)), services.now().date())
        assert shown["count"] == 1 and set(shown["messages"]) == {"ja", "en", "easy_ja"}
        with pytest.raises(ValueError, match="すべての言語"):
            bc.preview(s, content, {**texts, "en": " "}, bc.Audience("districts", ("kita",)), services.now().date())
        with pytest.raises(ValueError, match="登録されていない区"):
            bc.preview(s, content, texts, bc.Audience("districts", ("atlantis",)), services.now().date())
        with pytest.raises(ValueError, match="長すぎます"):
            bc.preview(s, content, {**texts, "ja": "🌊" * 2600}, bc.Audience("districts", ("kita",)),
                       services.now().date())  # 2600 characters, 5200 UTF-16 units
        assert bc.preview(s, content, texts, bc.Audience("segment", segment=next(iter(content["segments"].segments))),
                          services.now().date())["count"] >= 0


def test_a_drill_incident_can_only_be_sent_as_a_drill(chat, services, clock):
    staff = resident_in(chat, services, "kita", "職員", tester=True)
    kita = resident_in(chat, services, "kita")
    with services.sessions() as s:
        drill = inc.declare(s, hazard="earthquake", level=4, districts=["kita"], shelters=[], status=STATUS,
                            by="desk-a", now=services.now(), training=True).id
        s.commit()
    with pytest.raises(ValueError, match="訓練モード"):
        submit(services, drill, bc.Audience("all"))
    broadcast, _ = submit(services, drill, bc.Audience("all", training=True), form_key="drill")
    approve(services, broadcast, "desk-b")
    send_all(services, clock)
    assert kita.received() == []
    [ja] = staff.received()
    assert ja["text"].startswith("【訓練】【避難指示】")


def test_the_drill_mark_is_in_each_language(services):
    messages = bc.messages_for(services.content.current(), {"ja": "避難", "en": "Evacuate", "easy_ja": "にげて"}, True)
    assert [messages[lang][0]["text"] for lang in ("ja", "en", "easy_ja")] == ["【訓練】避難", "[DRILL] Evacuate",
                                                                                "【くんれん】にげて"]
