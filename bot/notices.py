"""Announcements staff schedule in content/notices/*.yaml, and named segments.

A notice says when (one date-time, or a cron line in the city's time zone), to whom
(a segment, inline or named in content/segments.yaml), and what (a text in the three
languages, optional choices). The scheduler turns each due occurrence into one push;
the occurrence is part of the push's key, so it is sent once whoever gets there first.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .content.models import LANGUAGES, Choice, Text
from .content.store import Content
from .content.yamlfile import Problem, YamlDocument
from .messages import taps
from .messages import text as text_message
from .profile import known_ids
from .segments import Segment

if TYPE_CHECKING:
    from apscheduler.triggers.combining import OrTrigger
    from apscheduler.triggers.cron import CronTrigger

WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cron_trigger(line: str, zone: ZoneInfo | str, start: datetime | None = None,
                 end: datetime | None = None) -> CronTrigger | OrTrigger:
    """A cron line read as cron means it, unlike APScheduler's from_crontab: staff who know
    crontab must get what they wrote.

    - weekday numbers as crontab reads them (0 or 7 = Sunday; APScheduler says 0 = Monday);
    - a line restricting both the day of the month and the weekday fires on days matching
      *either* (`0 9 1,15 * 1` is the 1st, the 15th and every Monday), as cron does, where
      APScheduler alone would want both. As in cron, a field starting with `*` (`*/10`
      too) counts as unrestricted, and then a day must match both fields.
    """
    from apscheduler.triggers.combining import OrTrigger  # here: only checking notices and the clock need them
    from apscheduler.triggers.cron import CronTrigger

    fields = line.split()
    if len(fields) != 5:
        raise ValueError(f"a cron line has 5 fields (minute hour day month weekday), not {len(fields)}")
    minute, hour, day, month, weekday = fields
    weekday = ",".join(_weekdays(part) for part in weekday.split(","))

    def trigger(day: str, weekday: str) -> CronTrigger:
        return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone=zone,
                           start_date=start, end_date=end)

    if not day.startswith("*") and not fields[4].startswith("*"):
        return OrTrigger([trigger(day, "*"), trigger("*", weekday)])
    return trigger(day, weekday)


def _weekdays(part: str) -> str:
    """One comma part of a crontab weekday field, numbers read as crontab reads them
    (0 and 7 = Sunday), as day names APScheduler cannot misread: 1-5 -> mon,tue,...,fri."""
    found = re.fullmatch(r"(\*|[0-7])(?:-([0-7]))?(?:/(\d+))?", part)
    if not found:
        return part  # names (mon-fri) mean the same to both
    first, last, step = found.group(1), found.group(2), int(found.group(3) or 1)
    if first == "*":
        start, end = 0, 6
    else:
        start = int(first)
        end = int(last) if last is not None else (6 if found.group(3) else start)
    if step < 1 or end < start:
        raise ValueError(f"weekday {part!r}: a range goes from low to high, with a step of 1 or more")
    return ",".join(dict.fromkeys(WEEKDAYS[n] for n in range(start, end + 1, step)))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class SegmentsContent(Strict):
    """Segments with names, so notices and the desk can say `segment: families`."""

    segments: dict[str, Segment] = {}


class Notice(Strict):
    title: str = Field(min_length=1, max_length=100)  # for staff: `citybot push status`, the admin pages
    at: datetime | None = None
    cron: str | None = None
    start: date | None = None
    until: date | None = None
    segment: Segment | str
    urgent: bool = False
    text: Text
    choices: list[Choice] = Field(default=[], max_length=13)

    @field_validator("cron")
    @classmethod
    def _cron_parses(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                cron_trigger(value, "Asia/Tokyo")
            except ValueError as exc:
                raise ValueError(f"not a cron line (minute hour day month weekday): {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> "Notice":
        if (self.at is None) == (self.cron is None):
            raise ValueError("give exactly one of at (a date-time) or cron (a recurrence)")
        if self.at is not None and (self.start or self.until):
            raise ValueError("start/until only go with cron")
        return self

    def trigger(self, zone: str) -> Any:
        """An APScheduler trigger for this notice, in the city's time zone."""
        from apscheduler.triggers.date import DateTrigger

        tz = ZoneInfo(zone)
        if self.at is not None:
            return DateTrigger(run_date=self.at if self.at.tzinfo else self.at.replace(tzinfo=tz), timezone=tz)
        start = datetime.combine(self.start, datetime.min.time(), tz) if self.start else None
        end = datetime.combine(self.until, datetime.max.time(), tz) if self.until else None
        return cron_trigger(self.cron, tz, start, end)

    def messages(self, content: Content) -> dict[str, list[dict[str, Any]]]:
        return {lang: [text_message(self.text.get(lang).replace("{city}", content.city(lang)),
                                    quick=taps(self.choices, lang))] for lang in LANGUAGES}


def resolve_segment(content: Content, notice: Notice) -> Segment:
    if isinstance(notice.segment, Segment):
        return notice.segment
    return content["segments"].segments[notice.segment]


def notices(content: Content) -> dict[str, Notice]:
    return {name: doc for name, doc in content.folder("notices").items() if isinstance(doc, Notice)}


def check_notices(content: Content, sources: Mapping[str, YamlDocument]) -> Iterable[Problem]:
    """Named segments exist; districts, areas and topics are ones content declares."""
    settings = content.documents.get("settings")
    if settings is None:  # no intent declares districts, areas and topics: nothing to check against
        return
    districts, _, topics = known_ids(content)
    named: dict[str, Segment] = content["segments"].segments if "segments" in content.documents else {}
    for name, segment in named.items():
        for message in segment.unknown_values(districts, topics, content):
            yield sources["segments"].problem(("segments", name), message)
    for name, notice in notices(content).items():
        source = sources[f"notices/{name}"]
        if isinstance(notice.segment, str):
            if notice.segment not in named:
                yield source.problem(("segment",), f"segment {notice.segment!r} is not in segments.yaml "
                                                   f"(known: {', '.join(sorted(named)) or 'none'})")
            continue
        for message in notice.segment.unknown_values(districts, topics, content):
            yield source.problem(("segment",), message)
