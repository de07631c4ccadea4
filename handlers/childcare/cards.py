"""A nursery as residents see it: its card (type, name, places, buttons), dates and places in words."""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.content.store import Content
from bot.geo import distance_text
from bot.messages import Link, Tap

from . import places as cc

if TYPE_CHECKING:
    from .chat import ChildcareContent


def date_text(content: Content, lang: str, day: date) -> str:
    return content.text("childcare.date", lang, year=day.year, month=day.month, day=day.day,
                        month_en=calendar.month_name[day.month])


def places_text(content: Content, lang: str, places: int) -> str:
    return content.text("childcare.places", lang, places=places) if places > 0 else content.text("childcare.full", lang)


def place_text(content: Content, lang: str, facility: cc.Facility) -> str:
    """Where a facility is, as the resident reads it: its division and address. The address
    is in Japanese only, so an English answer names the division (or the city) and leaves
    the way there to the 地図 button."""
    ward = content["settings"].district(facility.ward) if facility.ward else None
    where = ward.name.get(lang) if ward else ""
    if lang == "en":
        return where or content.city(lang)
    return f"{where} {facility.address}".strip()


def ward_or_city(content: Content, lang: str, facility: cc.Facility) -> str:
    ward = content["settings"].district(facility.ward) if facility.ward else None
    return ward.name.get(lang) if ward else content.city(lang)


def facility_bubble(content: Content, lang: str, facility: cc.Facility, age: int, places: int, as_of: date,
                    distance: float | None, *, follow: int | None) -> dict[str, Any]:
    """One facility: type, name, places for the class, as-of date, distance; call and map
    buttons, and unfollow when followed (`follow` None), else follow (with the child's
    cohort) when it is full."""
    words: ChildcareContent = content["childcare"]
    say = lambda key, **values: content.text(f"childcare.{key}", lang, **values)  # noqa: E731
    detail = [say("age_class", age=age), say("as_of", as_of=date_text(content, lang, as_of))]
    body: list[dict[str, Any]] = [
        {"type": "text", "text": words.types[facility.type].get(lang), "size": "xs", "color": "#888888"},
        {"type": "text", "text": facility.name_in(lang), "weight": "bold", "size": "md", "wrap": True},
        {"type": "text", "text": places_text(content, lang, places), "weight": "bold", "size": "xl", "margin": "md",
         "color": "#06C755" if places > 0 else "#999999"},
        {"type": "text", "text": " / ".join(detail), "size": "xs", "color": "#888888", "wrap": True},
    ]
    if distance is not None:
        body.append({"type": "text", "text": say("distance", distance=distance_text(distance)), "size": "sm",
                     "color": "#555555"})
    where = place_text(content, lang, facility)
    if where:
        body.append({"type": "text", "text": where, "size": "sm", "color": "#555555", "wrap": True, "margin": "md"})
    if facility.hours:
        body.append({"type": "text", "text": facility.hours, "size": "xs", "color": "#888888"})
    buttons: list[Tap] = []
    phone = re.sub(r"[^0-9+]", "", unicodedata.normalize("NFKC", facility.phone))
    if phone:
        buttons.append(Link(words.labels["call"].get(lang), f"tel:{phone}"))
    buttons.append(Link(words.labels["map"].get(lang),
                        f"https://www.google.com/maps/search/?api=1&query={facility.lat},{facility.lon}"))
    if follow is None:
        label = words.labels["unfollow"].get(lang)
        buttons.append(Tap(label, f"action=childcare.unfollow&f={facility.id}", label))
    elif places <= 0:  # with places now, the thing to do is apply, not wait for an alert
        label = words.labels["follow"].get(lang)
        buttons.append(Tap(label, f"action=childcare.follow&f={facility.id}&cohort={follow}", label))
    footer = [{"type": "button", "style": "primary" if i == 0 else "secondary", "height": "sm",
               **({"color": "#06C755"} if i == 0 else {}), "action": tap.action()} for i, tap in enumerate(buttons)]
    return {"type": "bubble", "size": "kilo",
            "body": {"type": "box", "layout": "vertical", "spacing": "xs", "contents": body},
            "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": footer}}
