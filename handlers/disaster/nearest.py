"""避難所: the nearest open evacuation sites for the hazard at hand, from a shared location.

A site is designated for some hazards only (shelters.py), so while an
incident is active only sites that are open AND designated for its hazard are offered;
sites are named as the resident reads them (bot.readable: in English, or with their reading
in やさしい日本語; the location message keeps the Japanese address, for the map app). A city
without divisions, or a site whose division is unknown, is one area for incidents;
the nearest comes with a LINE location message (one tap opens the map). With nothing
declared, the nearest designated sites are listed for the resident to know in advance,
saying plainly that none is open. A location sent outside any conversation comes here.

While an incident is active each site's room (room.py: 空きあり, 混雑) is shown after its
name, and a site the desk set 満員 or 閉鎖 is never offered, nor named as open; with open
sites found, a 「家族に知らせる」 chip opens LINE's share picker with the nearest one's
name, address and map, for the resident to tell family where they are going.
"""

from __future__ import annotations

from typing import Any

from bot.content.models import IntentContent
from bot.geo import distance_text
from bot.messages import Share, ShareLocation, Tap
from bot.messages import listing
from bot.router import Intent
from handlers.menu import menu_chip

from . import incidents as inc
from . import room
from .shelters import Shelter, nearest, shelters_of

SHOWN = 3
OUTSIDE_M = 20_000  # farther than this from every site: not in the city

intent = Intent("shelters", content=IntentContent, interrupts=True, narrower_than=["disaster"], texts=[
    "ask_location", "open_near", "none_open_near", "designated_near", "line", "open_in_district", "nothing_open",
    "not_affected", "outside", "room_open", "room_crowded", "full_left_out", "share_label", "share_text",
])


@intent.entry
def ask_location(turn):
    reply, content, lang = turn.reply, turn.content, turn.lang
    resident, session, now, conversation = turn.resident, turn.session, turn.now, turn.conversation
    if conversation.active is not None:  # the location asked for now is for shelters, not an earlier question
        conversation.end()
    active = inc.concerning(inc.seen_by(session, resident, now), resident.district)
    messages: list[Any] = []
    if active and resident.district:
        sites, states = shelters_of(content), room.states(session, active)
        names = [s.name_in(lang) for s in (sites.get(i) for i in sorted(inc.open_shelter_ids(active))) if s
                 and s.district == resident.district and room.offered(states.get(s.id))]
        district = content["settings"].district(resident.district)
        if names and district is not None:
            messages.append(content.text("shelters.open_in_district", lang, district=district.name.get(lang),
                                         shelters=listing(names, lang)))
    messages.append(content.text("shelters.ask_location", lang))
    reply(*messages, quick=[ShareLocation(content["disaster"].labels["location"].get(lang)), menu_chip(content, lang)])


@intent.on("location")
def nearest_shelters(turn):
    """The district of the place is taken as that of the nearest site (no ward polygons
    needed): an incident elsewhere in the city is not this place's emergency."""
    reply, content, lang = turn.reply, turn.content, turn.lang
    resident, session, now, location = turn.resident, turn.session, turn.now, turn.location
    lat, lon = float(location["latitude"]), float(location["longitude"])
    sites = shelters_of(content).shelters
    [(closest, metres)] = nearest(sites, lat, lon, limit=1)
    if metres > OUTSIDE_M:
        return reply(content.text("shelters.outside", lang, distance=distance_text(metres)),
                     quick=[ShareLocation(content["disaster"].labels["location"].get(lang)), menu_chip(content, lang)])
    active = inc.seen_by(session, resident, now)
    here = inc.concerning(active, closest.district) if active else []
    states: dict[str, room.Room] = {}
    share: Shelter | None = None
    if here:
        hazard = here[0].hazard
        states = room.states(session, active)
        usable = [s for s in sites if room.offered(states.get(s.id))]
        opened = inc.open_shelter_ids(active)
        found = nearest(usable, lat, lon, hazard=hazard, open_ids=opened, limit=SHOWN)
        hazard_name = inc.hazard_name(content, lang, hazard)
        if found:
            header = content.text("shelters.open_near", lang, hazard=hazard_name)
            share = found[0][0]
        else:
            header = content.text("shelters.none_open_near", lang, hazard=hazard_name)
            found = nearest(usable, lat, lon, hazard=hazard, limit=SHOWN)
        unfiltered = nearest(sites, lat, lon, hazard=hazard, open_ids=opened, limit=SHOWN)
        if any(not room.offered(states.get(site.id)) for site, _ in unfiltered):  # a nearer one is full
            header = content.text("shelters.full_left_out", lang) + "\n" + header
    else:
        district = content["settings"].district(closest.district) if closest.district else None
        where = district.name.get(lang) if district else content.city(lang)
        first = content.text("shelters.not_affected", lang, district=where) \
            if active else content.text("shelters.nothing_open", lang)
        header = first + "\n" + content.text("shelters.designated_near", lang)
        found = nearest(sites, lat, lon, limit=SHOWN)
    lines = [content.text("shelters.line", lang, n=n, name=site.name_in(lang), distance=distance_text(metres),
                          hazards=listing((inc.hazard_name(content, lang, h) for h in site.hazards), lang,
                                           names=True)) + room_words(content, lang, states.get(site.id))
             for n, (site, metres) in enumerate(found, start=1)]
    cards = [{"type": "location", "title": site.name_in(lang)[:100], "address": site.address[:100],
              "latitude": site.lat, "longitude": site.lon} for site, _ in found]
    quick: list[Tap] = [menu_chip(content, lang)]
    if share is not None:
        quick.insert(0, tell_family(content, lang, share))
    reply("\n".join([header, *lines]), *cards, quick=quick)


def room_words(content: Any, lang: str, state: room.Room | None) -> str:
    """「【混雑】」 after a site's line; nothing when the desk has set no state (full and
    closed sites are never listed)."""
    if state in (room.Room.OPEN, room.Room.CROWDED):
        return content.text(f"shelters.room_{state.value}", lang)
    return ""


def tell_family(content: Any, lang: str, site: Shelter) -> Share:
    """「家族に知らせる」: LINE's share picker with where the resident is going."""
    return Share(content.text("shelters.share_label", lang),
                 content.text("shelters.share_text", lang, name=site.name_in(lang), address=site.address,
                              lat=site.lat, lon=site.lon))
