"""What the FAQ keeps, so the city can grow its answers: questions it could not answer
and whether answers helped. Text only: no resident, no LINE id, no time of day beyond
the first and last time a question was asked. Staff delete questions once handled.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class UnansweredQuestion(Base):
    """A question nobody had written an answer for (or whose answer did not help), counted
    once per way of writing it (`key`: the normalised text)."""

    __tablename__ = "faq_unanswered"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    text: Mapped[str] = mapped_column(String(200))   # as first written, cut at 200 characters
    lang: Mapped[str] = mapped_column(String(8))     # the resident's language then
    reason: Mapped[str] = mapped_column(String(16))  # unanswered | unhelpful (「いいえ」 after an answer)
    count: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_faq_unanswered_last", "last_at"),)


class FaqFeedback(Base):
    """「役に立ちましたか」: はい and いいえ counted per prepared answer."""

    __tablename__ = "faq_feedback"

    entry_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    helpful: Mapped[int] = mapped_column(Integer)
    unhelpful: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
