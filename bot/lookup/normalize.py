"""One normal form for the many ways people type the same word.

Full-width and half-width letters (ＰＥＴ, ﾍﾟｯﾄ), katakana and hiragana, upper and lower
case, spaces and punctuation all fold away, so "ﾍﾙﾌﾟ！", "へるぷ" and "ヘルプ" meet.
jaconv does the kana work; NFKC the width.
"""

from __future__ import annotations

import unicodedata

import jaconv


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = jaconv.kata2hira(text)
    return "".join(ch for ch in text if _keep(ch))


def _keep(ch: str) -> bool:
    category = unicodedata.category(ch)
    if ch == "ー":  # the long-vowel mark is a letter to Japanese readers (category Lm)
        return True
    return category[0] in {"L", "N"}
