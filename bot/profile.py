"""The resident profile: what content lets residents choose, and how their data goes.

A resident tells the city where they live (district, garbage collection area), the birth
year and month of their children, the topics they follow and when reminders suit them
(handlers/settings.py asks, after consent). A resident who books a pickup may also keep the
address it comes to (`collection_address`, only after tapping to keep it: never asked
otherwise). The choices come from content/settings.yaml,
checked here so that a typo in an id is a `file:line` problem for staff, never a
resident registered to an area that does not exist.

Their data goes in one of two ways: they ask (「データ削除」, `delete_resident`), or they
block the account (`purge_unfollowed`, after a grace period that may be zero). Children,
topics, conversation state and pending push recipients go with the resident row
(ON DELETE CASCADE); what stays is anonymous (push counts).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal, Sequence, TypeVar

from pydantic import AfterValidator, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from sqlalchemy import delete
from sqlalchemy.orm import Session

from .content.models import ConversationContent, Keywords, Label, NonEmpty, Strict, Text
from .content.store import Content
from .lookup import normalize
from .models import Resident

#: Topics the engine requires besides those the services declare (`Intent(topics=...)`);
#: REQUIRED_TOPICS is both, and content may add more, never drop these.
OWN_TOPICS = ("city_news",)
#: Resident columns services add that registration fills in (`add_field`).
FIELDS: list[str] = []
#: Content documents listing the areas residents choose within their district (`areas_from`).
AREA_DOCUMENTS: list[str] = []
#: Button labels handlers/settings.py shows (content/settings.yaml `labels:`).
REQUIRED_LABELS = frozenset({
    "consent_yes", "consent_no", "skip", "quit", "more", "done", "pick_month", "add_child",
    "no_children", "no_reminder", "settings", "change_district", "change_area", "change_children",
    "change_topics", "change_reminder", "change_language", "delete", "change_address", "delete_address",
})
#: Words residents type instead of tapping (content/settings.yaml `commands:`).
REQUIRED_COMMANDS = frozenset({"quit", "skip", "done", "none"})

ADDRESS_MAX = 120  # residents.collection_address
CHILD_MAX_AGE = 30  # the oldest "child" a resident can register, in years (as segments allow)
MAX_CHILDREN = 8  # each registered child gets a "remove" chip; 13 quick replies in all


def required_topics() -> tuple[str, ...]:
    """The topics settings.yaml must offer: the services' (in the order bootstrap finds
    them), then the engine's own. Asked when content is checked, so that the services are
    all imported by then, whichever imported this module first."""
    from .bootstrap import handler_intents

    declared = [topic for intent in handler_intents() for topic in intent.topics]
    return tuple(dict.fromkeys([*declared, *OWN_TOPICS]))


def __getattr__(name: str) -> Any:
    if name == "REQUIRED_TOPICS":   # computed: see required_topics
        return required_topics()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _id(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", value):
        raise ValueError(f"id {value!r}: use lower-case letters, digits, - and _ (at most 64)")
    return value


def _time_of_day(value: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f"{value!r} is not a time of day written HH:MM (for example 07:00)")
    return value


def _reminder_slot(value: str) -> str:
    if value[3:] not in ("00", "30"):
        raise ValueError(f"{value}: reminders go out on the hour or the half hour (07:00, 07:30)")
    return value


Id = Annotated[str, AfterValidator(_id)]
TimeOfDay = Annotated[str, AfterValidator(_time_of_day)]
ReminderTime = Annotated[str, AfterValidator(_time_of_day), AfterValidator(_reminder_slot)]


class ChipName(Text):
    """A name shown on a toggle chip, with room for the "✓ " in front."""

    max_len: ClassVar[int] = 18


class Choosable(Strict):
    """Something a resident picks from a list; `words` are other ways of typing it."""

    id: Id
    name: Label
    words: list[NonEmpty] = []

    def spellings(self) -> list[str]:
        return [self.id, self.name.ja, self.name.en, self.name.easy_ja, *self.words]


class District(Choosable):
    """One division of the city: a ward (行政区), or a district made of towns (地区, 小学校区).

    Places (nurseries, shelters) are put in it by importers (bot.importers.divisions): by
    its names and words in an address (北区, 北 -> 北区), by `towns` (町字 such as 行徳駅前,
    matched at the start of 所在地_町字 or right after the city in an address), and, when the
    city gives a `nearest_km` rule, by the nearest `centre`."""

    neighbours: list[Id] = []  # divisions sharing a border: offered when one has nothing
    towns: list[NonEmpty] = []  # 町字 (town names) that make up this division
    centre: tuple[float, float] | None = None  # (lat, lon), for the nearest-division rule

    def spellings(self) -> list[str]:
        return [*super().spellings(), *self.towns]   # 「行徳駅前です」 names its district


class Divisions(Strict):
    """How the city is divided, and the word residents know its divisions by.

    `kind`: wards (行政区: 20 cities have them), districts (地区, 小学校区, エリア: towns grouped
    by the city) or none (most cities: then nothing asks residents where they live and
    everything goes by location). `word` is put into texts that say {division} (and
    {Division}, capitalised): 区 / ward / く, 地区 / district / ちく. `nearest_km`: a place an
    importer cannot put in a division by its address goes to the division whose centre is
    nearest, when that is at most this far (no rule when not given)."""

    kind: Literal["wards", "districts", "none"] = "wards"
    word: Label = Label(ja="区", en="ward", easy_ja="く")
    nearest_km: float | None = Field(default=None, gt=0)


class Topic(Choosable):
    name: ChipName


ChoosableT = TypeVar("ChoosableT", bound=Choosable)


class SettingsContent(ConversationContent):
    """content/settings.yaml: the choices registration offers and everything it says."""

    divisions: Divisions = Divisions()
    districts: list[District] = []  # the divisions (wards or districts); none when divisions.kind is none
    topics: list[Topic] = Field(min_length=1, max_length=10)  # + 完了, スキップ, やめる
    reminder_times: list[ReminderTime] = Field(min_length=1, max_length=10)  # + 通知しない, スキップ, やめる
    labels: dict[str, Label]
    commands: dict[str, Keywords]

    @model_validator(mode="after")
    def _consistent(self) -> "SettingsContent":
        errors: list[InitErrorDetails] = []

        def problem(loc: tuple, message: str, value: object) -> None:
            errors.append(InitErrorDetails(type=PydanticCustomError("settings", "{message}", {"message": message}),
                                           loc=loc, input=value))

        for field in ("districts", "topics"):
            seen: set[str] = set()
            for index, item in enumerate(getattr(self, field)):
                if item.id in seen:
                    problem((field, index, "id"), f"id {item.id!r} is listed twice", item.id)
                seen.add(item.id)
        if self.divisions.kind == "none" and self.districts:
            problem(("districts",), "divisions.kind is none: list no districts (or say how the city is divided)",
                    [d.id for d in self.districts])
        if self.divisions.kind != "none" and not self.districts:
            problem(("districts",), f"divisions.kind is {self.divisions.kind}: list them here (or kind: none)", [])
        if self.divisions.nearest_km is not None:
            for index, district in enumerate(self.districts):
                if district.centre is None:
                    problem(("districts", index, "centre"), "divisions.nearest_km needs a centre for every "
                            "district: [lat, lon]", district.id)
        known = {d.id for d in self.districts}
        for index, district in enumerate(self.districts):
            for other in district.neighbours:
                if other not in known or other == district.id:
                    problem(("districts", index, "neighbours"), f"{other!r} is not another district", other)
        missing = [name for name in required_topics() if name not in {topic.id for topic in self.topics}]
        if missing:
            problem(("topics",), f"topics the city services need are missing: {', '.join(missing)}", missing)
        for index, value in enumerate(self.reminder_times):
            if value in self.reminder_times[:index]:
                problem(("reminder_times", index), f"{value} is listed twice", value)
        for field, required in (("labels", REQUIRED_LABELS), ("commands", REQUIRED_COMMANDS)):
            absent = sorted(required - getattr(self, field).keys())
            if absent:
                problem((field,), f"missing: {', '.join(absent)}", absent)
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    # -- looking things up ----------------------------------------------------------------
    @property
    def has_divisions(self) -> bool:
        """Whether residents are asked for (and places shown by) a ward or district."""
        return self.divisions.kind != "none" and bool(self.districts)

    def district(self, district_id: str | None) -> District | None:
        return next((d for d in self.districts if d.id == district_id), None)

    def topic(self, topic_id: str | None) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)



def find(items: Sequence[ChoosableT], typed: str) -> ChoosableT | None:
    """The one item the resident typed: by any of its spellings, or named inside the text
    ("北区です"). None when nothing, or more than one, fits."""
    norm = normalize(typed)
    if not norm:
        return None
    exact = [item for item in items if norm in {normalize(s) for s in item.spellings()}]
    if exact:
        return exact[0] if len(exact) == 1 else None
    named = [item for item in items if any(len(s) >= 2 and s in norm for s in map(normalize, item.spellings()))]
    return named[0] if len(named) == 1 else None


# -- birth months -------------------------------------------------------------------------
def month_index(day: date) -> int:
    """How resident_children.birth_month stores a month: year * 12 + (month - 1)."""
    return day.year * 12 + day.month - 1


def month_of(birth_month: int) -> tuple[int, int]:
    """(year, month) of a stored birth month."""
    return birth_month // 12, birth_month % 12 + 1


def month_from_date(value: str | None) -> int | None:
    """The month of a date picker's "YYYY-MM-DD"; the day is dropped, never stored."""
    try:
        return month_index(date.fromisoformat(value or ""))
    except ValueError:
        return None


_ERAS = {"令和": 2018, "r": 2018, "平成": 1988, "h": 1988}
_ERA_MONTH = re.compile(r"(令和|平成|r|h)\s*(\d{1,2}|元)\s*(?:年|[./-])\s*(\d{1,2})\s*月?")
_MONTH = re.compile(r"(\d{4})\s*(?:年|[./-])\s*(\d{1,2})\s*月?")


def parse_month(typed: str) -> int | None:
    """A birth month as people type it: 2021年4月, 2021/4, 2021-04, 令和3年4月, R3.4."""
    text = unicodedata.normalize("NFKC", typed).casefold()
    era = _ERA_MONTH.search(text)
    if era:
        year = _ERAS[era.group(1)] + (1 if era.group(2) == "元" else int(era.group(2)))
        month = int(era.group(3))
    else:
        western = _MONTH.search(text)
        if not western:
            return None
        year, month = int(western.group(1)), int(western.group(2))
    return year * 12 + month - 1 if 1 <= month <= 12 else None


def birth_month_range(now: datetime) -> tuple[int, int]:
    """(oldest, newest) birth month a child may have: up to CHILD_MAX_AGE years back, and
    no later than this month (a day ahead of UTC covers every time zone the city can be in)."""
    newest = month_index((now + timedelta(days=1)).date())
    return newest - (CHILD_MAX_AGE + 1) * 12 + 1, newest


# -- reminder times ------------------------------------------------------------------------
_TIME = re.compile(r"(?<!\d)(\d{1,2})\s*(?::|時|じ)\s*(\d{1,2}|半|はん)?")


def parse_time(typed: str) -> str | None:
    """A time of day as people type it: 7:00, 19時, 午後7時半, ７じ, 7pm -> "HH:MM"."""
    text = unicodedata.normalize("NFKC", typed).strip().casefold()
    found = _TIME.search(text) or re.search(r"(?<!\d)(\d{1,2})()\s*(?:pm|am)?$", text)
    if not found:
        return None
    hour, minute = int(found.group(1)), found.group(2) or "0"
    minute = 30 if minute in ("半", "はん") else int(minute)
    if hour < 12 and any(word in text for word in ("午後", "ごご", "pm", "夜", "よる")):
        hour += 12
    return f"{hour:02d}:{minute:02d}" if hour < 24 and minute < 60 else None


# -- addresses --------------------------------------------------------------------------------
def clean_address(typed: str) -> str | None:
    """An address as typed, on one line (NFKC, spaces tidied), or None: fewer than 4
    characters says too little to find a house, more than ADDRESS_MAX is not an address."""
    address = " ".join(unicodedata.normalize("NFKC", typed or "").split())
    return address if 4 <= len(address) <= ADDRESS_MAX else None


def short(text: str, room: int) -> str:
    """`text` in at most `room` characters, cut with … (a button label that names an address)."""
    return text if len(text) <= room else text[:max(room - 1, 0)] + "…"


# -- the profile as a whole ------------------------------------------------------------------
def is_empty(resident: Resident) -> bool:
    """Nothing registered yet (consent alone does not count)."""
    return not (resident.district or resident.children or resident.topics or resident.reminder_time
                or resident.collection_address or any(getattr(resident, name, None) for name in FIELDS))


def delete_resident(session: Session, resident: Resident) -> None:
    """Everything the city keeps about one resident, gone in the caller's transaction."""
    session.delete(resident)
    session.flush()


def unfollow(session: Session, resident: Resident, now: datetime, grace: timedelta) -> None:
    """They blocked the account: mark it, and delete them at once when there is no grace
    period (otherwise `purge_unfollowed` does, once it has passed)."""
    resident.following = False
    resident.unfollowed_at = now
    if grace <= timedelta(0):
        delete_resident(session, resident)


def purge_unfollowed(session: Session, now: datetime, grace: timedelta) -> int:
    """Delete residents who blocked the account at least `grace` ago; how many went.

    One DELETE, however many there are; their children, topics, conversation state and
    pending push recipients cascade in the database. The caller commits.
    """
    result = session.execute(
        delete(Resident)
        .where(Resident.following.is_(False), Resident.unfollowed_at.is_not(None),
               Resident.unfollowed_at <= now - grace)
        .execution_options(synchronize_session="fetch"))
    return result.rowcount or 0


def known_ids(content: Content) -> tuple[set[str], set[str], set[str]]:
    """(districts, areas, topics) content declares, to validate segments against."""
    settings: SettingsContent = content["settings"]
    return ({d.id for d in settings.districts}, {a.id for a in areas(content).all},
            {t.id for t in settings.topics})


@dataclass(frozen=True)
class Areas:
    """The areas of a district a resident may choose (a service's document, `areas_from`), as
    registration offers them."""

    all: tuple[Any, ...]

    def get(self, area_id: str | None) -> Any | None:
        return next((a for a in self.all if a.id == area_id), None)

    def in_district(self, district_id: str | None) -> list[Any]:
        return [a for a in self.all if district_id and a.district == district_id]


def areas(content: Content) -> Areas:
    doc = next((content.documents[name] for name in AREA_DOCUMENTS if name in content.documents), None)
    return Areas(tuple(doc.areas) if doc is not None else ())


# -- what services add ------------------------------------------------------------------------
def add_field(name: str) -> None:
    """A resident column a service added and registration fills in: a profile holding it is not empty."""
    if name not in FIELDS:
        FIELDS.append(name)


def areas_from(document: str) -> None:
    """The content document (with `areas`: id, district, name) residents choose their area from."""
    if document not in AREA_DOCUMENTS:
        AREA_DOCUMENTS.append(document)

