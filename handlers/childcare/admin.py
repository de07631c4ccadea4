"""How /admin names this service's pushes: 「保育施設の空き: 大洲保育園 1歳児クラス（2026-12-01 時点）」."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.admin.titles import KIND_LABELS, title
from bot.content.store import Content

from .places import facilities_of

KIND_LABELS["childcare"] = "保育施設の空き"


@title("childcare")
def opening_title(parts: list[str], content: Content, session: Session, tz: ZoneInfo) -> str:
    """A key `childcare:opening:<facility>:<class>:<as of>` (tables.source_key)."""
    _opening, facility_id, age, as_of = parts[0], parts[1], parts[2], parts[3]
    facility = facilities_of(content).get(facility_id)
    return f"保育施設の空き: {facility.name if facility else facility_id} {age}歳児クラス（{as_of} 時点）"
