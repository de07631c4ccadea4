"""Pushes as staff name them: 「年末年始のごみ収集のお知らせ（12月20日 10:00）」, not `notice:year-end@…`.

A push's `source_key` says what caused it, for the database (it makes a cause send
once); staff read a title made from it and the current content: a notice's `title`, a
broadcast's template and audience, a nursery's name and class, an area's name. Its kind
is named by what it is — a broadcast to districts is 区への緊急配信, never 一斉配信, which
in LINE's words is a message to every friend. A key nobody gave a title reads as its
kind and key, so nothing is hidden; the key itself stays one click away on the push's page.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from .. import delivery
from ..content.store import Content
from ..models import Push

#: A push's kind as staff read it; a service adds its own (handlers/<service>/admin.py).
KIND_LABELS = {
    "notice": "お知らせ",
    "reminder": "リマインダー",
    "handler": "個別の返信",
    "broadcast": "緊急配信",
    delivery.LINE_BROADCAST: "全友だちへの一斉配信（LINE）",
}
BROADCAST_KINDS = {"districts": "区への緊急配信", "segment": "グループへの緊急配信"}
WEEKDAYS_JA = "月火水木金土日"

Title = Callable[[list[str], Content, Session, ZoneInfo], str]
TITLES: dict[str, Title] = {}


def title(prefix: str) -> Callable[[Title], Title]:
    """Register the title of the pushes whose source key starts with `prefix:`."""
    def register(fn: Title) -> Title:
        TITLES[prefix] = fn
        return fn
    return register


def kind_label(push: Push | None, kind: str) -> str:
    segment = (push.segment or {}) if push is not None else {}
    if kind == "broadcast" and segment.get("training"):
        return "訓練の緊急配信（テスト用の住民だけ）"
    if kind == "broadcast":
        return BROADCAST_KINDS.get(segment.get("target"), KIND_LABELS["broadcast"])
    return KIND_LABELS.get(kind, kind)


def push_title(row: dict[str, Any], content: Content, session: Session, tz: ZoneInfo) -> str:
    key = str(row["source"])
    prefix, _, rest = key.partition(":")
    fn = TITLES.get(prefix)
    if fn is not None:
        try:
            return fn(rest.split(":"), content, session, tz)
        except (KeyError, ValueError, IndexError, TypeError, AttributeError):
            pass
    return f"{KIND_LABELS.get(row['kind'], row['kind'])}（{prefix}）"


def _day(day: date) -> str:
    return f"{day.month}月{day.day}日({WEEKDAYS_JA[day.weekday()]})"


@title("notice")
def _notice(parts: list[str], content: Content, session: Session, tz: ZoneInfo) -> str:
    from ..notices import notices

    name, _, when = ":".join(parts).partition("@")
    found = notices(content).get(name)
    at = datetime.fromisoformat(when)
    at = at.replace(tzinfo=tz) if at.tzinfo is None else at.astimezone(tz)
    return f"{found.title if found else name}（{_day(at.date())} {at:%H:%M}）"




@title("handler")
def _handler(parts: list[str], content: Content, session: Session, tz: ZoneInfo) -> str:
    return "チャットの続きで送ったメッセージ（1人あて）"
