"""The one thing the garbage service keeps about a resident: their collection area.

It is a column of `residents` (added here, so the engine's Resident names no service)
because segments select on it in SQL and registration stores it with the district; the
migrations created it with the table. Registration offers the areas of
content/garbage/areas.yaml, and notices may target them (`garbage_areas:` in a segment).
"""

from __future__ import annotations

from sqlalchemy import Index, String
from sqlalchemy.orm import mapped_column

from bot import profile, segments
from bot.models import Resident

if "garbage_area" not in Resident.__table__.c:
    Resident.garbage_area = mapped_column(String(64))
    Index("ix_residents_garbage_area", Resident.__table__.c.garbage_area)

profile.add_field("garbage_area")
profile.areas_from("garbage/areas")
segments.add_condition("garbage_areas", "garbage_area", lambda content: {a.id for a in profile.areas(content).all})
