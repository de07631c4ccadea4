"""What /admin says about the garbage service: the title of a collection reminder push."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.admin.titles import _day, title
from bot.content.store import Content


@title("garbage-reminder")
def _garbage(parts: list[str], content: Content, session: Session, tz: ZoneInfo) -> str:
    area_id, rest = parts[0], ":".join(parts[1:])
    day, _, slot = rest.partition("@")
    areas = {a.id: a.name.ja for a in content["garbage/areas"].areas}
    return f"ごみ収集のリマインダー: {areas.get(area_id, area_id)} {_day(date.fromisoformat(day))}分（{slot} 送信）"
