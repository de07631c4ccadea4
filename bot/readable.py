"""Names residents can read in their language: a place's name in English or with its reading.

The standard open-data layouts carry three spellings of a facility's name: 名称 (kanji),
名称_カナ (its reading in katakana, often half-width: ｹﾝﾘﾂｺｸﾌﾞﾝｺｳｺｳ) and 名称_英字 (English,
usually left blank). A resident who chose English cannot read 市川市立大洲保育園, and one who
chose やさしい日本語 may not read its kanji, so answers say:

    en       名称_英字, else a Hepburn romanisation of 名称_カナ ("Ichikawa Shiritsu Osu
             Hoikuen"), else the name itself when it is already Latin ("KOALA KIDS"); only
             when there is no reading at all the Japanese name (there is nothing else)
    easy_ja  the name with its reading in hiragana: 大洲保育園（おおすほいくえん）
    ja       the name

Romanisation: jaconv's kana -> alphabet, corrected where it is not Hepburn (ティ ti, ウィ
wi, ン before a vowel n', a final ッ dropped, ッチ tch), long vowels written as road signs
write them (おう ou -> o, うう -> u, おお -> o, ー dropped: コウコウ koko, センター senta),
and words cut where a reading has spaces or where a generic word of facility names starts
or ends (ホイクエン, ショウガッコウ, コウエン, シリツ ...), each word capitalised. A reading
has no word boundaries of its own, so a proper noun stays one word (Sakaecho, Minamigyotoku).
"""

from __future__ import annotations

import functools
import re
import unicodedata

import jaconv

# Generic words of facility names (hiragana), longest first when cutting: a word boundary
# before and after each. Only words of three kana or more: shorter ones hide in proper nouns.
GENERIC_WORDS = sorted({
    "ほいくえん", "ほいくしょ", "ほいくじょ", "ほいくるーむ", "ほいくしつ", "ようちえん", "ようほえん",
    "にんていこどもえん", "こどもえん", "なーさりー", "きっず", "がーでん", "じどうかん", "じどうくらぶ",
    "しょうがっこう", "ちゅうがっこう", "こうとうがっこう", "ぎむきょういくがっこう", "とくべつしえんがっこう",
    "がっこう", "こうこう", "だいがく", "たんきだいがく", "がくえん", "がくいん", "こうえん", "りょくち",
    "うんどうじょう", "うんどうこうえん", "ぐらうんど", "ぐらんど", "こうみんかん", "たいいくかん", "かいかん",
    "しみんかいかん", "ぶんかかいかん", "しゅうかいじょ", "しゅうかいしょ", "こみゅにてぃ", "せんたー",
    "ひろば", "しりつ", "けんりつ", "とりつ", "ふりつ", "どうりつ", "こくりつ", "ちょうりつ", "そんりつ",
    "しやくしょ", "やくば", "ししょ", "ふれあいかん", "じんじゃ", "ちゅうしゃじょう", "はくぶつかん", "びじゅつかん",
    "としょかん", "ぷーる", "すぽーつせんたー", "ほいくぶんえん", "ぶんえん",
}, key=len, reverse=True)

_HEPBURN_FIXES = (   # katakana the alphabet conversion gets wrong, written before it runs (hiragana)
    ("てぃ", "ti"), ("でぃ", "di"), ("とぅ", "tu"), ("どぅ", "du"), ("うぃ", "wi"), ("うぇ", "we"),
    ("うぉ", "wo"), ("ゔぁ", "va"), ("ゔぃ", "vi"), ("ゔぇ", "ve"), ("ゔぉ", "vo"), ("ゔ", "vu"),
    ("ふぁ", "fa"), ("ふぃ", "fi"), ("ふぇ", "fe"), ("ふぉ", "fo"), ("しぇ", "she"), ("じぇ", "je"),
    ("ちぇ", "che"), ("つぁ", "tsa"), ("つぇ", "tse"), ("つぉ", "tso"), ("ゐ", "i"), ("ゑ", "e"), ("を", "o"),
)
_KANA = re.compile(r"[\u3041-\u309F\u30A0-\u30FF\uFF66-\uFF9F]")
_JAPANESE = re.compile(r"[\u3040-\u30FF\u31F0-\u31FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\uFF66-\uFF9F"
                       r"\u3005\u3006\u3007\u303B]")


def has_japanese(text: str) -> bool:
    """Whether `text` holds hiragana, katakana or kanji (what an English reader cannot read)."""
    return bool(_JAPANESE.search(text or ""))


def hiragana(kana: str) -> str:
    """A reading as hiragana: half-width and full-width katakana both, spaces dropped, a
    hyphen standing for a long vowel mark made ー (ｾﾝﾀ- is センター)."""
    text = unicodedata.normalize("NFKC", kana or "")
    text = re.sub(r"(?<=[\u3041-\u30FF])[-‐‑–—―−](?![0-9A-Za-z])", "ー", text)
    return jaconv.kata2hira(re.sub(r"\s+", "", text))


def _words(reading: str) -> list[str]:
    """A spaceless hiragana reading cut before and after the generic words it holds."""
    words: list[str] = []
    current = ""
    i = 0
    while i < len(reading):
        found = next((w for w in GENERIC_WORDS if reading.startswith(w, i)), None)
        if found:
            if current:
                words.append(current)
                current = ""
            words.append(found)
            i += len(found)
        else:
            current += reading[i]
            i += 1
    if current:
        words.append(current)
    return words


def _roman(word: str) -> str:
    """One hiragana word in Hepburn as signs write it (no macrons), lower case."""
    text = word.replace("ー", "")
    text = re.sub(r"っ$", "", text)
    text = re.sub(r"ん(?=[あいうえおやゆよ])", "n'", text)
    for kana, latin in _HEPBURN_FIXES:
        text = text.replace(kana, latin)
    text = jaconv.kana2alphabet(text)
    text = text.replace("xtsu", "").replace("cch", "tch")
    text = re.sub(r"ou|oo", "o", text)
    text = re.sub(r"uu", "u", text)
    text = re.sub(r"x(?=[a-z])", "", text)   # a small kana left alone (ぁ, ゃ) by the conversion
    return text


@functools.lru_cache(maxsize=4096)
def romanize(kana: str) -> str:
    """A reading in katakana or hiragana (half-width too) as capitalised Hepburn words:
    ｹﾝﾘﾂｺｸﾌﾞﾝｺｳｺｳ -> Kenritsu Kokubun Koko. Latin letters and digits in it are kept;
    "" for a blank reading."""
    parts = re.split(r"[\s・･/／,、()（）「」]+", unicodedata.normalize("NFKC", kana or ""))
    out: list[str] = []
    for part in parts:
        reading = hiragana(part)
        if not reading:
            continue
        for word in _words(reading):
            latin = _roman(word).strip("'")
            latin = re.sub(r"[^0-9A-Za-z'&.\-]", "", latin)
            if latin:
                out.append(latin[:1].upper() + latin[1:])
    return " ".join(out)


def english_name(name: str, kana: str = "", name_en: str = "") -> str:
    """What an English answer calls a place (see the module docstring)."""
    if name_en.strip() and not has_japanese(name_en):
        return name_en.strip()
    if name and not has_japanese(name):
        return name
    romanized = romanize(kana) if kana and _KANA.search(unicodedata.normalize("NFKC", kana)) else ""
    return romanized or name


def easy_name(name: str, kana: str = "") -> str:
    """The name with its reading, for やさしい日本語: 大洲保育園（おおすほいくえん）. The name
    alone when it is already all kana (or Latin) or there is no reading."""
    reading = hiragana(kana)
    if not reading or not re.search(r"[\u3400-\u9FFF\uF900-\uFAFF\u3005]", name or ""):
        return name
    return f"{name}（{reading}）"


def name_in(lang: str, name: str, kana: str = "", name_en: str = "") -> str:
    """The name a resident reads in `lang` (ja, en or easy_ja)."""
    if lang == "en":
        return english_name(name, kana, name_en)
    if lang == "easy_ja":
        return easy_name(name, kana)
    return name
