"""指定緊急避難場所: the sites residents flee to, per hazard, and the nearest ones.

Under the Disaster Countermeasures Basic Act a city designates each emergency
evacuation site for particular hazards only: a school gym on a river plain is safe in an
earthquake but not in a flood, a park is safe from fire but not from a tsunami. So a
site is never "a shelter" in general; the bot must only ever send a resident to a site
designated for the hazard at hand. `HAZARDS` are the eight hazards the standard layouts
name, in their order, with their Japanese names as the standard writes them.

`content/disaster/shelters.yaml` holds the sites (reviewed like code; `citybot import
shelters` writes it from the city's open data). 指定避難所 (shelters where people stay)
are a different designation; `also_shelter` says a site is both.
"""

from __future__ import annotations

import re
from typing import Annotated, Iterable, Literal, Mapping, get_args

from pydantic import AfterValidator, Field, field_validator, model_validator

from bot import readable
from bot.content.models import NonEmpty, Strict
from bot.content.store import Content
from bot.content.yamlfile import Problem, YamlDocument
from bot.geo import distance_m

SHELTERS = "disaster/shelters"

HAZARDS: dict[str, str] = {
    "flood": "洪水",
    "landslide": "崖崩れ、土石流及び地滑り",
    "storm_surge": "高潮",
    "earthquake": "地震",
    "tsunami": "津波",
    "fire": "大規模な火事",
    "inland_flood": "内水氾濫",
    "volcano": "火山現象",
}
HazardId = Literal["flood", "landslide", "storm_surge", "earthquake", "tsunami", "fire", "inland_flood",
                   "volcano"]
assert get_args(HazardId) == tuple(HAZARDS), "HazardId and HAZARDS list the same hazards in the same order"


def _shelter_id(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", value):
        raise ValueError(f"id {value!r}: use letters, digits, - and _ (at most 64)")
    return value


ShelterId = Annotated[str, AfterValidator(_shelter_id)]


class Shelter(Strict):
    """One designated emergency evacuation site."""

    id: ShelterId                      # the city's ID, often the national 共通ID (E3820100602201)
    name: NonEmpty
    kana: str = ""                     # 名称_カナ: its reading (やさしい日本語, and English when name_en is blank)
    name_en: str = ""                  # 名称_英字
    address: NonEmpty
    lat: float = Field(ge=20, le=46)   # Japan
    lon: float = Field(ge=122, le=154)
    hazards: list[HazardId] = Field(min_length=1)   # designated for these only
    capacity: int | None = Field(default=None, ge=0)   # 想定収容人数
    district: str = ""                 # its division (a district id of settings.yaml); "" when unknown or none
    also_shelter: bool = False         # also a 指定避難所 (指定避難所との重複)
    phone: str = ""
    url: str = ""
    note: str = ""

    @field_validator("hazards")
    @classmethod
    def _standard_order(cls, hazards: list[str]) -> list[str]:
        return [h for h in HAZARDS if h in hazards]

    def designated_for(self, hazard: str) -> bool:
        return hazard in self.hazards

    def name_in(self, lang: str) -> str:
        """Its name as a resident reads it in `lang` (bot.readable)."""
        return readable.name_in(lang, self.name, self.kana, self.name_en)


class SheltersFile(Strict):
    shelters: list[Shelter] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "SheltersFile":
        seen: set[str] = set()
        for shelter in self.shelters:
            if shelter.id in seen:
                raise ValueError(f"shelter id {shelter.id!r} is listed twice")
            seen.add(shelter.id)
        return self

    def get(self, shelter_id: str) -> Shelter | None:
        return self.by_id().get(shelter_id)

    def by_id(self) -> dict[str, Shelter]:
        cached = self.__dict__.get("_by_id")
        if cached is None:
            cached = {s.id: s for s in self.shelters}
            object.__setattr__(self, "_by_id", cached)  # frozen model: cache once
        return cached


def shelters_of(content: Content) -> SheltersFile:
    return content[SHELTERS]


def check_shelters(content: Content, sources: Mapping[str, YamlDocument]) -> Iterable[Problem]:
    """Every site's district (when given) is a district of settings.yaml."""
    if SHELTERS not in content.documents or "settings" not in content.documents:
        return
    districts = {d.id for d in content["settings"].districts}
    for index, shelter in enumerate(shelters_of(content).shelters):
        if shelter.district and shelter.district not in districts:
            yield sources[SHELTERS].problem(("shelters", index, "district"),
                                            f"{shelter.name}: unknown district {shelter.district!r} "
                                            f"(a district of settings.yaml)")


def nearest(shelters: Iterable[Shelter], lat: float, lon: float, hazard: str | None = None,
            open_ids: Iterable[str] | None = None, limit: int | None = 5) -> list[tuple[Shelter, float]]:
    """The sites nearest to (lat, lon) with their distance in metres, nearest first (ties
    by id): only those designated for `hazard` when given, and only those whose id is in
    `open_ids` when given (the sites the city has opened). `limit` None: all of them."""
    if hazard is not None and hazard not in HAZARDS:
        raise ValueError(f"unknown hazard {hazard!r} (one of {', '.join(HAZARDS)})")
    opened = None if open_ids is None else set(open_ids)
    found = [(s, distance_m(lat, lon, s.lat, s.lon)) for s in shelters
             if (hazard is None or hazard in s.hazards) and (opened is None or s.id in opened)]
    found.sort(key=lambda pair: (pair[1], pair[0].id))
    return found if limit is None else found[:limit]
