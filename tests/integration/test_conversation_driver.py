"""The conversation driver's shared fallbacks, said the same way in every conversation.

やめる, 戻る, a button of an earlier question and a button of a conversation that is over
are answered by bot/conversation.py, never by the conversation's own step: each case is
walked here through every conversation that offers it, as a resident would.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.models import ConversationState
from tests.conftest import quick_data

# (how it starts, the conversation, a tap that answers its first question, that question's step)
STARTS = {
    "settings": (["action=settings.consent&answer=yes"], "settings",
                 "action=settings.pick&step=district&id=kita", "district"),
    "reports": (["action=reports"], "report", "action=report.kind&step=kind&id=road", "kind"),
    "large_waste": (["action=large_waste"], "large_waste", "action=large_waste.area&step=area&id=kita-1", "area"),
    "childcare": (["action=childcare"], "childcare", None, None),
}


def started(chat, intent: str):
    person = chat.resident()
    for tap in STARTS[intent][0]:
        person.taps(tap)
    return person


def live(services) -> list[tuple[str, str]]:
    with services.sessions() as s:
        return [(row.conversation, row.state) for row in s.scalars(select(ConversationState))]


def said(services, key: str) -> str:
    return services.content.current().text(key, "ja")


@pytest.mark.parametrize("intent", sorted(STARTS))
def test_yameru_typed_ends_any_conversation_with_its_own_words(chat, services, intent):
    hana = started(chat, intent)
    assert [name for name, _ in live(services)] == [STARTS[intent][1]]
    [stopped] = hana.says("やめる")
    assert stopped["text"] == said(services, f"{intent}.quit")
    assert quick_data(stopped), "after やめる there is always a way on (the menu)"
    assert live(services) == []


@pytest.mark.parametrize("intent", ["reports", "large_waste"])
def test_modoru_goes_to_the_question_before_and_asks_it_again(chat, services, intent):
    hana = started(chat, intent)
    _, name, answer_first, step = STARTS[intent]
    hana.taps(answer_first)
    assert live(services)[0][1] != step
    again = hana.says("戻る")
    assert live(services) == [(name, step)]
    assert f"step={step}" in " ".join(quick_data(again[-1])), "the first question's buttons again"


@pytest.mark.parametrize("intent", ["settings", "reports", "large_waste"])
def test_a_button_of_an_earlier_question_is_said_to_be_old_and_changes_nothing(chat, services, intent):
    hana = started(chat, intent)
    _, name, answer_first, step = STARTS[intent]
    hana.taps(answer_first)
    now_at = live(services)
    old, current = hana.taps(answer_first)  # the first question's button, tapped again
    assert old["text"] == said(services, f"{intent}.old_question")
    assert live(services) == now_at
    assert current["text"] and current.get("quickReply")


@pytest.mark.parametrize("intent", sorted(STARTS))
def test_a_button_of_a_conversation_that_is_over_says_so_and_offers_the_service(chat, services, intent):
    hana = started(chat, intent)
    _, name, answer_first, _ = STARTS[intent]
    hana.says("やめる")
    [over] = hana.taps(answer_first or "action=childcare.ask.age&n=1")
    assert over["text"] == said(services, "messages.conversation_ended")
    assert f"action={intent}" in quick_data(over)
    assert live(services) == []


def test_routes_show_the_drivers_fallbacks(services):
    table = "\n".join(" | ".join(row) for row in services.router.table())
    for name in ("settings", "report", "large_waste", "childcare"):
        assert f"{name}: action=" in table and "quit or commands.quit words -> end" in table
    assert "report: action=report.back or commands.back words -> the question before" in table
