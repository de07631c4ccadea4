"""A collection address kept on the profile: only after one tap under a booking made with
a typed address, offered back as a button the next time, shown, changed and deleted in
設定, and gone with データ削除 or a block; nothing is kept without the tap, nor logged."""

import logging

from sqlalchemy import select

from bot.models import Resident
from tests.conftest import quick_data, quick_labels, texts
from tests.integration.test_garbage import at, living_in
from tests.integration.test_large_waste import tap_label, up_to_confirm
from tests.integration.test_large_waste_contact import contacts
from tests.integration.test_registration import buttons, places_holding, summary

HOME = "北区梅ヶ丘4丁目13-10"


def kept_address(services, person):
    with services.sessions() as s:
        return s.scalar(select(Resident.collection_address).where(Resident.line_user_id == person.user_id))


def books_with_typed_address(taro, address=HOME):
    """A booking by taps and typing, confirmed; what the bot answers to 確定."""
    return tap_label(taro, up_to_confirm(taro, address=address), "確定")


def up_to_the_address(taro, day="12月15日(火)"):
    """A second booking, up to the address question (the name typed)."""
    taro.says("粗大ごみ")
    taro.says("電子レンジ")
    taro.says("1")
    [ask] = taro.says("これで全部")
    [ask] = tap_label(taro, ask, day)
    [ask] = tap_label(taro, ask, "自宅前")
    [ask] = taro.says("港 太郎")
    return ask


def test_a_typed_address_kept_with_one_tap_is_offered_at_the_next_booking(chat, services, clock):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    booked, _, offer = books_with_typed_address(taro)
    assert booked["text"].startswith("申し込みました。")
    assert offer["text"].startswith(f"この住所を登録しますか？\n{HOME}\n")
    assert "そのためだけに残します" in offer["text"] and "「設定」でいつでも変更・削除できます" in offer["text"]
    assert quick_labels(offer)[:2] == ["この住所を登録する", "登録しない"]
    assert kept_address(services, taro) is None  # nothing before the tap

    [kept] = tap_label(taro, offer, "この住所を登録する")
    assert kept["text"].startswith("住所を登録しました。") and quick_labels(kept)[0] == "設定"
    assert kept_address(services, taro) == HOME
    [again] = tap_label(taro, offer, "この住所を登録する")  # tapped twice: kept once, said the same
    assert again["text"] == kept["text"] and kept_address(services, taro) == HOME

    ask = up_to_the_address(taro)
    assert ask["text"].endswith(f"登録した住所でよければ「登録した住所」を押してください。\n{HOME}")
    label = quick_labels(ask)[0]
    assert label == "登録した住所: 北区梅ヶ丘4丁目13-…" and len(label) <= 20
    assert "前回と同じ住所" not in quick_labels(ask)  # the last booking's address is the same one
    [ask] = tap_label(taro, ask, label)
    assert ask["text"].startswith("当日に連絡がつく電話番号を送ってください")
    [summary_] = taro.says("090-1234-5678")
    assert f"住所：{HOME}" in summary_["text"]
    replies = tap_label(taro, summary_, "確定")
    assert len(replies) == 2 and "この住所を登録しますか" not in texts(replies)[-1]  # already the registered one
    assert contacts(services)[1] == ("港 太郎", HOME, "09012345678")


def test_typing_always_works_and_nothing_is_kept_without_the_tap(chat, services, clock):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    *_, offer = books_with_typed_address(taro)
    tap_label(taro, offer, "この住所を登録する")

    ask = up_to_the_address(taro)
    [ask] = taro.says("北区北町2丁目18-5")  # typed although one is registered
    [summary_] = taro.says("090-1234-5678")
    assert "住所：北区北町2丁目18-5" in summary_["text"]
    *_, offer = tap_label(taro, summary_, "確定")
    assert offer["text"].startswith("この住所を登録しますか？\n北区北町2丁目18-5")
    [no] = tap_label(taro, offer, "登録しない")
    assert no["text"] == "住所は登録しませんでした。"
    assert kept_address(services, taro) == HOME  # the registered one stays

    hanako = living_in(chat, services, "kita-1", "花子")
    *_, offer = books_with_typed_address(hanako, "北区北町3丁目1-1")
    hanako.says("粗大ごみ")  # she never answers: nothing is kept
    hanako.says("やめる")
    assert kept_address(services, hanako) is None
    [bubble] = hanako.says("設定")
    assert "収集に伺う住所：未登録" in summary(bubble)
    assert "action=settings.forget_address" not in buttons(bubble)


def test_a_keep_button_tapped_during_the_next_booking_keeps_it_and_the_booking_goes_on(chat, services, clock):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    *_, offer = books_with_typed_address(taro)
    [ask] = taro.says("粗大ごみ")
    kept, again = tap_label(taro, offer, "この住所を登録する")
    assert kept["text"].startswith("住所を登録しました。") and again["text"] == ask["text"]
    assert kept_address(services, taro) == HOME


def test_settings_shows_changes_and_deletes_the_address(chat, services, clock, caplog):
    caplog.set_level(logging.DEBUG)
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    *_, offer = books_with_typed_address(taro)
    tap_label(taro, offer, "この住所を登録する")

    [bubble] = taro.says("設定")
    assert f"収集に伺う住所：{HOME}" in summary(bubble).splitlines()
    assert "action=settings.edit&field=address" in buttons(bubble)
    assert "action=settings.forget_address" in buttons(bubble)
    [ask] = taro.taps("action=settings.edit&field=address")
    assert ask["text"].startswith(f"登録している収集の住所：\n{HOME}\n新しい住所を送ってください")
    assert quick_labels(ask) == ["スキップ", "やめる"]
    no, ask = taro.says("北区")  # too short to find a house
    assert no["text"].startswith("住所として受け取れませんでした。")
    saved, bubble = taro.says("北区秘密町9丁目9-9 コーポ202")  # any words, even a ward's name in them
    assert saved["text"] == "変更しました。"
    assert "収集に伺う住所：北区秘密町9丁目9-9 コーポ202" in summary(bubble)
    assert kept_address(services, taro) == "北区秘密町9丁目9-9 コーポ202"

    deleted, bubble = taro.taps("action=settings.forget_address")
    assert deleted["text"] == "住所を消しました。" and "収集に伺う住所：未登録" in summary(bubble)
    assert kept_address(services, taro) is None
    assert "action=settings.forget_address" not in buttons(bubble)
    taro.taps("action=settings.forget_address")  # an old summary's button: still nothing
    assert kept_address(services, taro) is None

    [ask] = taro.taps("action=settings.edit&field=address")  # 未登録: can be typed in 設定 too
    assert ask["text"].startswith("収集に伺う住所を送ってください")
    taro.says("北区北町2丁目18-5")
    assert kept_address(services, taro) == "北区北町2丁目18-5"
    assert "秘密町" not in caplog.text


def test_data_deletion_and_a_block_erase_the_address(chat, services, clock):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    *_, offer = books_with_typed_address(taro)
    tap_label(taro, offer, "この住所を登録する")
    jiro = living_in(chat, services, "kita-1", "次郎")
    *_, offer = books_with_typed_address(jiro, "北区北町2丁目18-5")
    tap_label(jiro, offer, "この住所を登録する")
    assert kept_address(services, jiro) == "北区北町2丁目18-5"

    taro.says("データ削除")
    taro.taps("action=delete_data.confirm")
    assert places_holding(services.engine, HOME) == []
    jiro.blocks()
    assert places_holding(services.engine, "北区北町2丁目18-5") == []


def test_a_resident_who_booked_without_registering_finds_the_address_in_settings(chat, services, clock):
    at(clock, 2026, 12, 3, 18, 0)
    taro = chat.resident("太郎")
    [ask] = taro.says("粗大ごみ")  # no area registered: asked in the booking
    [ask] = tap_label(taro, ask, quick_labels(ask)[0])
    taro.says("自転車")
    taro.says("1")
    [ask] = taro.says("これで全部")
    [ask] = taro.taps(next(d for d in quick_data(ask) if d.startswith("action=large_waste.date")))
    [ask] = tap_label(taro, ask, "自宅前")
    taro.says("港 太郎")
    taro.says(HOME)
    [summary_] = taro.says("090-1234-5678")
    *_, offer = tap_label(taro, summary_, "確定")
    tap_label(taro, offer, "この住所を登録する")
    [bubble] = taro.says("設定")  # no consent to the registration, but the address is theirs to see
    assert f"収集に伺う住所：{HOME}" in summary(bubble)
    deleted, _ = taro.taps("action=settings.forget_address")
    assert kept_address(services, taro) is None
