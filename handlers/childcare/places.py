"""保育施設の空き: the facilities, their vacancies, age classes, and who to tell when a place opens.

Japanese nurseries group children by 年齢クラス: the class of a fiscal year (April to
March) is the child's age on April 1 of that year, and it stays the same all year. A
vacancy table is published for one date, so a child's class is always taken for the
fiscal year of the table's as-of date (a list "as of April 1" published in February is
for the new classes). Residents register a birth year-month only; a child born in April
is taken as born after April 1 (the younger class), as nearly all April births are.

`content/childcare/facilities.yaml` holds the facilities and `content/childcare/
vacancies.yaml` the latest vacancy table (both reviewed like code; `citybot import
childcare|vacancies` writes them from a city's open data). What the bot remembers of
them, and who follows which facility, is in tables.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Iterable, Literal, Mapping

from pydantic import AfterValidator, Field, field_validator, model_validator

from bot import readable
from bot.content.models import NonEmpty, Strict
from bot.content.store import Content
from bot.content.yamlfile import Problem, YamlDocument
from bot.geo import distance_m

FACILITIES = "childcare/facilities"
VACANCIES = "childcare/vacancies"
AGE_CLASSES = (0, 1, 2, 3, 4, 5)
FacilityType = Literal["nursery", "kodomoen", "small", "workplace", "home"]


def _facility_id(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", value):
        raise ValueError(f"id {value!r}: use letters, digits, - and _ (at most 64)")
    return value


FacilityId = Annotated[str, AfterValidator(_facility_id)]
AgeClass = Annotated[int, Field(ge=0, le=5)]


# -- content ------------------------------------------------------------------------------------
class Facility(Strict):
    """One nursery that takes applications through the city (認可 and the like)."""

    id: FacilityId
    name: NonEmpty
    kana: str = ""               # 名称_カナ: its reading (やさしい日本語, and English when name_en is blank)
    name_en: str = ""            # 名称_英字
    type: FacilityType
    type_text: str = ""          # 種別 as the city wrote it
    ward: str = ""               # its division (a district id of settings.yaml); "" when unknown or none
    address: NonEmpty
    lat: float = Field(ge=20, le=46)   # Japan
    lon: float = Field(ge=122, le=154)
    phone: str = ""
    hours: str = ""
    ages: list[AgeClass] = Field(min_length=1)   # the classes it takes
    ages_text: str = ""          # 受入年齢 as the city wrote it
    capacity: int | None = Field(default=None, ge=0)
    url: str = ""

    @field_validator("ages")
    @classmethod
    def _sorted(cls, ages: list[int]) -> list[int]:
        return sorted(set(ages))

    def name_in(self, lang: str) -> str:
        """Its name as a resident reads it in `lang` (bot.readable)."""
        return readable.name_in(lang, self.name, self.kana, self.name_en)


class FacilitiesFile(Strict):
    facilities: list[Facility] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "FacilitiesFile":
        seen: set[str] = set()
        for facility in self.facilities:
            if facility.id in seen:
                raise ValueError(f"facility id {facility.id!r} is listed twice")
            seen.add(facility.id)
        return self

    def get(self, facility_id: str) -> Facility | None:
        return self.by_id().get(facility_id)

    def by_id(self) -> dict[str, Facility]:
        cached = self.__dict__.get("_by_id")
        if cached is None:
            cached = {f.id: f for f in self.facilities}
            object.__setattr__(self, "_by_id", cached)  # frozen model: cache once
        return cached


class VacanciesFile(Strict):
    """The latest vacancy table: places per facility and class on one date.

    A class missing for a facility has no places to offer (or is not taken there)."""

    as_of: date
    source: str = ""
    places: dict[FacilityId, dict[AgeClass, Annotated[int, Field(ge=0, le=999)]]] = {}

    def places_for(self, facility_id: str, age_class: int) -> int:
        return self.places.get(facility_id, {}).get(age_class, 0)


def facilities_of(content: Content) -> FacilitiesFile:
    return content[FACILITIES]


def vacancies_of(content: Content) -> VacanciesFile:
    return content[VACANCIES]


def check_childcare(content: Content, sources: Mapping[str, YamlDocument]) -> Iterable[Problem]:
    """Wards (when given) are districts of settings.yaml; vacancies name known facilities and classes they take."""
    if FACILITIES not in content.documents:
        return
    facilities = facilities_of(content)
    if "settings" in content.documents:
        wards = {d.id for d in content["settings"].districts}
        for index, facility in enumerate(facilities.facilities):
            if facility.ward and facility.ward not in wards:
                yield sources[FACILITIES].problem(("facilities", index, "ward"),
                                                  f"unknown ward {facility.ward!r} (a district of settings.yaml)")
    if VACANCIES not in content.documents:
        return
    known = facilities.by_id()
    for facility_id, classes in vacancies_of(content).places.items():
        facility = known.get(facility_id)
        if facility is None:
            yield sources[VACANCIES].problem(("places", facility_id),
                                             f"unknown facility {facility_id!r} (childcare/facilities.yaml)")
            continue
        for age_class in classes:
            if age_class not in facility.ages:
                yield sources[VACANCIES].problem(
                    ("places", facility_id, age_class),
                    f"{facility.name} does not take the {age_class}-year class (ages: {facility.ages})")


# -- age classes ------------------------------------------------------------------------------------
def fiscal_year(day: date) -> int:
    """The Japanese fiscal (and nursery) year a day belongs to: April to March."""
    return day.year if day.month >= 4 else day.year - 1


def cohort(birth_month: int) -> int:
    """The fiscal year in which a child is 0 on April 1 (born April–March before it).

    `birth_month` is year * 12 + (month - 1), as registered. Born in April: after April 1."""
    year, month = divmod(birth_month, 12)
    return year + (1 if month + 1 >= 4 else 0)


def class_of(cohort_year: int, on: date) -> int:
    """The 年齢クラス in the fiscal year of `on`: the age on April 1, and 0 for babies born
    during that year (they join the 0歳児 class)."""
    return max(0, fiscal_year(on) - cohort_year)


def child_class(birth_month: int, on: date) -> int | None:
    """The class of a registered child on `on`; None when not born by then."""
    if birth_month > on.year * 12 + on.month - 1:
        return None
    return class_of(cohort(birth_month), on)


def cohort_for(age: int, on: date) -> int:
    """The cohort of a child said to be in class `age` on `on` (class 0: born before April 1)."""
    return fiscal_year(on) - age


@dataclass(frozen=True)
class Found:
    facility: Facility
    places: int
    distance: float | None = None  # metres, when the resident shared a location


def search(content: Content, age: int, *, wards: Iterable[str] = (), near: tuple[float, float] | None = None,
           with_places: bool = True) -> list[Found]:
    """Facilities taking class `age` (in `wards`, or all), with places when `with_places`.

    Nearest first when `near` is given, else most places first, then by name."""
    table = vacancies_of(content)
    wanted = set(wards)
    found = []
    for facility in facilities_of(content).facilities:
        if age not in facility.ages or (wanted and facility.ward not in wanted):
            continue
        places = table.places_for(facility.id, age)
        if with_places and places <= 0:
            continue
        distance = distance_m(near[0], near[1], facility.lat, facility.lon) if near else None
        found.append(Found(facility, places, distance))
    if near:
        found.sort(key=lambda f: (f.distance, f.facility.id))
    else:
        found.sort(key=lambda f: (-f.places, f.facility.kana or f.facility.name, f.facility.id))
    return found
