"""One normal form for the many ways people type the same word.

Full-width and half-width letters (ＰＥＴ, ﾍﾟｯﾄ), katakana and hiragana, upper and lower
case, spaces and punctuation all fold away, so "ﾍﾙﾌﾟ！", "へるぷ" and "ヘルプ" meet.
jaconv does the kana work; NFKC the width.
"""

from __future__ import annotations

import re
import unicodedata

import jaconv

#: What `_keep` drops, as one regular expression: the same characters (every code point is
#: checked in tests/unit/test_normalize.py), removed in C rather than one call per character,
#: which mattered when an index of thousands of names is built at start.
_DROPPED = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = jaconv.kata2hira(text)
    return _DROPPED.sub("", text)


def _keep(ch: str) -> bool:
    """Letters and numbers stay (and the long-vowel mark, a letter: category Lm)."""
    category = unicodedata.category(ch)
    if ch == "ー":  # the long-vowel mark is a letter to Japanese readers (category Lm)
        return True
    return category[0] in {"L", "N"}
