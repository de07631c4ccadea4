"""避難所: the nearest open evacuation sites for the hazard at hand, from a shared location.

A site is designated for some hazards only (shelters.py), so while an
incident is active only sites that are open AND designated for its hazard are offered;
sites are named as the resident reads them (bot.readable: in English, or with their reading
in やさしい日本語; the location message keeps the Japanese address, for the map app). A city
without divisions, or a site whose division is unknown, is one area for incidents;
the nearest comes with a LINE location message (one tap opens the map). With nothing
declared, the nearest designated sites are listed for the resident to know in advance,
saying plainly that none is open. A location sent outside any conversation comes here.
"""

from __future__ import annotations

from typing import Any

from bot.content.models import IntentContent
from bot.geo import distance_text
from bot.messages import ShareLocation
from bot.messages import listing
from bot.router import Intent
from handlers.menu import menu_chip

from . import incidents as inc
from .shelters import nearest, shelters_of

SHOWN = 3
OUTSIDE_M = 20_000  # farther than this from every site: not in the city

intent = Intent("shelters", content=IntentContent, interrupts=True, narrower_than=["disaster"], texts=[
    "ask_location", "open_near", "none_open_near", "designated_near", "line", "open_in_district", "nothing_open",
    "not_affected", "outside",
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
        sites = shelters_of(content)
        names = [s.name_in(lang) for s in (sites.get(i) for i in sorted(inc.open_shelter_ids(active))) if s
                 and s.district == resident.district]
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
    if here:
        hazard = here[0].hazard
        found = nearest(sites, lat, lon, hazard=hazard, open_ids=inc.open_shelter_ids(active), limit=SHOWN)
        hazard_name = inc.hazard_name(content, lang, hazard)
        if found:
            header = content.text("shelters.open_near", lang, hazard=hazard_name)
        else:
            header = content.text("shelters.none_open_near", lang, hazard=hazard_name)
            found = nearest(sites, lat, lon, hazard=hazard, limit=SHOWN)
    else:
        district = content["settings"].district(closest.district) if closest.district else None
        where = district.name.get(lang) if district else content.city(lang)
        first = content.text("shelters.not_affected", lang, district=where) \
            if active else content.text("shelters.nothing_open", lang)
        header = first + "\n" + content.text("shelters.designated_near", lang)
        found = nearest(sites, lat, lon, limit=SHOWN)
    lines = [content.text("shelters.line", lang, n=n, name=site.name_in(lang), distance=distance_text(metres),
                          hazards=listing((inc.hazard_name(content, lang, h) for h in site.hazards), lang,
                                           names=True))
             for n, (site, metres) in enumerate(found, start=1)]
    cards = [{"type": "location", "title": site.name_in(lang)[:100], "address": site.address[:100],
              "latitude": site.lat, "longitude": site.lon} for site, _ in found]
    reply("\n".join([header, *lines]), *cards, quick=[menu_chip(content, lang)])
