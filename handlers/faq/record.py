"""Counting what the FAQ could not answer, and whether its answers helped.

A question is stored as text only (at most 200 characters), once per way of writing it
(normalised), with a count and the first and last day it was asked: never who asked.
Staff read and delete them in /admin (admin.py). Greetings and stray letters are not
questions: only a message with a content word the city could answer about is kept.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db import insert_for
from bot.lookup import normalize

from .search import Analyser, is_english
from .tables import FaqFeedback, UnansweredQuestion

_analyser = Analyser()
_KATAKANA = re.compile(r"[\u30a1-\u30fa][\u30a1-\u30fa\u30fc]")


def is_question(text: str) -> bool:
    """Worth a place on the staff's list: a word with kanji or katakana (住民票, マイナ),
    or two English words — not 「ありがとう」, 「ほげほげ」 or a lone letter. The analyser's
    words are folded to hiragana (マイナンバーカード is まいなんばーかーど there), so katakana
    is looked for in the text as typed: two or more together, with a content word said."""
    if is_english(text):
        return len(_analyser.english(text).words) >= 2
    words = _analyser.japanese(text).words
    return (any(any("\u4e00" <= ch <= "\u9fff" for ch in word) for word in words)
            or bool(words and _KATAKANA.search(unicodedata.normalize("NFKC", text)))
            or len(normalize(text)) >= 12)


def unanswered(session: Session, text: str, lang: str, now: datetime, reason: str = "unanswered") -> bool:
    """Count the question (insert, or one more on the same wording); False when it is no question."""
    shown = " ".join(text.replace("\x00", "").split())[:200]  # PostgreSQL text holds no NUL
    key = normalize(shown)[:200]
    if not key or not is_question(shown):
        return False
    session.execute(insert_for(session, UnansweredQuestion).values(
        key=key, text=shown, lang=lang, reason=reason, count=0, first_at=now, last_at=now)
        .on_conflict_do_nothing(index_elements=["key"]))
    session.execute(update(UnansweredQuestion).where(UnansweredQuestion.key == key)
                    .values(count=UnansweredQuestion.count + 1, last_at=now, reason=reason)
                    .execution_options(synchronize_session=False))
    return True


def feedback(session: Session, entry_id: str, helpful: bool, now: datetime) -> None:
    if not entry_id:
        return
    entry_id = entry_id[:64]
    session.execute(insert_for(session, FaqFeedback).values(entry_id=entry_id, helpful=0, unhelpful=0, updated_at=now)
                    .on_conflict_do_nothing(index_elements=["entry_id"]))
    column = FaqFeedback.helpful if helpful else FaqFeedback.unhelpful
    session.execute(update(FaqFeedback).where(FaqFeedback.entry_id == entry_id)
                    .values({column.key: column + 1, "updated_at": now}).execution_options(synchronize_session=False))


def listed(session: Session, limit: int = 500) -> list[UnansweredQuestion]:
    return list(session.scalars(select(UnansweredQuestion)
                                .order_by(UnansweredQuestion.count.desc(), UnansweredQuestion.last_at.desc())
                                .limit(limit)))
