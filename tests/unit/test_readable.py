"""Names residents can read: English from 名称_英字 or a Hepburn romanisation of 名称_カナ,
and the reading in hiragana for やさしい日本語."""

from __future__ import annotations

import pytest

from bot.readable import easy_name, english_name, has_japanese, hiragana, name_in, romanize


@pytest.mark.parametrize("kana, roman", [
    ("ｹﾝﾘﾂｺｸﾌﾞﾝｺｳｺｳ", "Kenritsu Kokubun Koko"),                       # half-width; long vowels as signs write them
    ("カワグチシリツサカエチョウホイクショ", "Kawaguchi Shiritsu Sakaecho Hoikusho"),
    ("ｵｵﾉｼｮｳｶﾞｯｺｳ", "Ono Shogakko"),                                   # おお -> o, っ doubles the consonant
    ("ﾐﾄﾞﾘﾖｳﾁｴﾝﾍﾞｲﾋﾞｰｾﾝﾀ-", "Midori Yochien Beibi Senta"),            # ー and a hyphen for it dropped
    ("ﾋﾅﾀﾎｲｸｴﾝ ｷﾞｮｳﾄｸｴｷﾏｴﾙｰﾑ", "Hinata Hoikuen Gyotokuekimaerumu"),  # a space in the reading is a word break
    ("シロヤマコウエン", "Shiroyama Koen"),
    ("ティーガーデン", "Ti Gaden"),                                     # ティ is ti, not tei
    ("ウィズキッズ", "Wizu Kizzu"),
    ("ﾏｯﾁ", "Matchi"),                                                   # っち -> tch
    ("キンイチ", "Kin'ichi"),                                            # ん before a vowel
    ("ｷｯﾄﾞ・ｽﾃｲ", "Kiddo Sutei"),
    ("", ""),
])
def test_romanize(kana, roman):
    assert romanize(kana) == roman
    assert not has_japanese(roman)


def test_english_name_prefers_the_citys_english_then_the_reading():
    assert english_name("梅ヶ丘小学校", "ウメガオカショウガッコウ", "Umegaoka Elementary School") == \
        "Umegaoka Elementary School"
    assert english_name("市川市立大洲保育園", "ｲﾁｶﾜｼﾘﾂｵｵｽﾎｲｸｴﾝ") == "Ichikawa Shiritsu Osu Hoikuen"
    assert english_name("KOALA KIDS", "ｺｱﾗｷｯｽﾞ") == "KOALA KIDS"          # already Latin: as the city wrote it
    assert english_name("どこか公園", "") == "どこか公園"                 # no reading at all: nothing else to show
    assert english_name("大洲保育園", "ｵｵｽﾎｲｸｴﾝ", "大洲 Nursery") == "Osu Hoikuen"   # an 英字 with kanji is no English


def test_easy_japanese_gives_the_reading():
    assert hiragana("ｵｵｽﾎｲｸｴﾝ") == "おおすほいくえん"
    assert easy_name("大洲保育園", "ｵｵｽﾎｲｸｴﾝ") == "大洲保育園（おおすほいくえん）"
    assert easy_name("さくらんぼ保育園", "サクランボホイクエン") == "さくらんぼ保育園（さくらんぼほいくえん）"
    assert easy_name("ひまわりえん", "ヒマワリエン") == "ひまわりえん"   # all kana already
    assert easy_name("大洲保育園", "") == "大洲保育園"


def test_name_in_each_language():
    args = ("市川市立平田保育園", "ヒラタホイクエン", "")
    assert [name_in(lang, *args) for lang in ("ja", "en", "easy_ja")] == [
        "市川市立平田保育園", "Hirata Hoikuen", "市川市立平田保育園（ひらたほいくえん）"]
