"""Residents talking to the bot: what they send, what reaches their phone."""

from sqlalchemy import func, select

from bot.models import ConversationState, InboxEvent, Resident
from tests.conftest import quick_data, quick_labels, texts


def test_menu_by_keyword_shows_every_service_as_a_button(chat):
    hanako = chat.resident("山田 花子")
    [menu] = hanako.says("メニュー")
    assert menu["type"] == "flex"
    buttons = menu["contents"]["footer"]["contents"]
    assert [b["action"]["data"] for b in buttons] == [
        "action=help", "action=large_waste", "action=childcare", "action=disaster", "action=shelters", "action=reports",
        "action=faq", "action=contact", "action=language", "action=settings"]


def test_help_in_the_way_people_type_it(chat):
    taro = chat.resident()
    for typed in ("ヘルプ", "へるぷ", "ﾍﾙﾌﾟ", "使い方を教えて", "HELP"):
        [answer] = taro.says(typed)
        assert "LINE窓口" in answer["text"], typed
        assert "action=menu" in quick_data(answer)


def test_a_near_miss_gets_did_you_mean_with_choices_and_the_menu(chat):
    taro = chat.resident()
    [answer] = taro.says("メニュ")
    assert "どれ" in answer["text"]
    assert quick_labels(answer)[0] == "メニュー"
    assert "action=help" in quick_data(answer)


def test_nonsense_gets_a_kind_answer_and_a_way_out(chat):
    taro = chat.resident()
    [answer] = taro.says("ほげほげふがふが")
    assert "わかりませんでした" in answer["text"]
    data = quick_data(answer)  # the services of the main menu, a call to City Hall, the menu
    assert {"action=help", "action=large_waste", "action=childcare", "action=disaster", "action=shelters"} <= set(data)
    assert data[-1] == "action=menu"
    assert any(i["action"].get("uri") == "tel:06-0000-0000" for i in answer["quickReply"]["items"])


def test_rich_menu_tap_is_a_postback(chat):
    taro = chat.resident()
    [answer] = taro.taps("action=contact")
    assert "06-0000-0000" in answer["text"]


def test_unknown_postback_falls_back_instead_of_failing(chat):
    taro = chat.resident()
    [answer] = taro.taps("action=no-such-thing&x=1")
    assert "action=menu" in quick_data(answer)


def test_language_switch_changes_every_later_answer(chat, services):
    taro = chat.resident()
    [chooser] = taro.says("言語")
    assert quick_data(chooser) == ["action=language.set&lang=ja", "action=language.set&lang=en",
                                   "action=language.set&lang=easy_ja"]
    assert texts(taro.taps("action=language.set&lang=en")) == ["From now on I will answer in English."]
    assert taro.says("help")[0]["text"].startswith("This is Minato City's LINE service.")
    taro.taps("action=language.set&lang=easy_ja")
    assert texts(taro.says("めにゅー")) == ["みなとし LINE まどぐち"]
    [easy] = taro.says("つかいかた")
    assert easy["text"].startswith("みなとしの LINE です。")


def test_sticker_gets_please_use_text_or_the_menu(chat):
    taro = chat.resident()
    [answer] = taro.sends_sticker()
    assert "スタンプ" in answer["text"]


def test_a_location_out_of_the_blue_gets_the_nearest_evacuation_sites(chat):
    taro = chat.resident()
    answer, *cards = taro.sends_location(34.5733, 135.4830)
    assert answer["text"].startswith("いま開いている避難所はありません")
    assert [c["type"] for c in cards] == ["location"] * 3


def test_follow_greets_and_block_forgets_the_resident(chat, services):
    taro = chat.resident()
    [welcome] = taro.follows()
    assert "友だち追加ありがとう" in welcome["text"]
    assert "action=settings.language&lang=en" in quick_data(welcome)
    taro.taps("action=settings.language&lang=en")
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Resident)) == 1
    assert taro.blocks() == []
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Resident)) == 0
        assert s.scalar(select(func.count()).select_from(ConversationState)) == 0
        # events are kept only as ids, to drop redeliveries: no text, no user id
        for row in s.scalars(select(InboxEvent)):
            assert row.payload is None and row.answer is None
