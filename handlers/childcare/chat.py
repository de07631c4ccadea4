"""保育園の空き: places for the child's age class, by ward or nearest first, and a push when one opens.

「保育園の空き」 (or the menu) needs two things, each taken from what the resident
registered when it can be, else asked in a short conversation:

    age class (a registered child, several -> which one; none -> asked)
      -> where (the registered ward; else a ward chip or a shared location)
      -> a carousel of facilities with places, the as-of date and how to apply

A class is the child's age on April 1 of the vacancy table's fiscal year (places.py).
"Ward" here is the city's own division (settings.yaml `divisions`: 区, 地区...; texts say
{division}); a city without divisions is never asked about one: the search goes by a shared
location, or over the whole city (most places first). Facility names are shown as the
resident reads them (bot.readable: English, or with their reading in やさしい日本語).
A ward with no place says so, offers the neighbouring wards (with their counts) and shows
its full facilities, each with 「空きが出たら知らせる」: following a facility is kept per
child (as a cohort, so it moves up each April), and when a new vacancy table turns its
places for that class from 0 to more, the follower gets one push (`announce_openings`,
run by `citybot import vacancies` and every ten minutes by the clock for hand edits).

Conversation buttons are `childcare.ask.*` (owned by the conversation while it runs);
the buttons on results (`childcare.ward`, `.where`, `.follow`, `.unfollow`, `.following`, `.age`)
work at any time, without a conversation.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Mapping, Sequence

from sqlalchemy.orm import Session

from bot import profile
from bot.content.models import ConversationContent, IntentContent, Keywords, Label, NonEmpty, Text, keys_required
from bot.content.store import Content
from bot.geo import distance_m, distance_text
from bot.conversation import NOT_UNDERSTOOD, Answer, Conversation, ConversationControl, Phrasebook
from bot.messages import ShareLocation, Tap, flex, listing
from bot.models import Resident
from bot.router import Intent
from bot.turn import Turn

from ..menu import menu_chip, menu_chips
from ..settings import named_intent
from . import places as cc, tables
from .cards import date_text, facility_bubble, places_text

REQUIRED_LABELS = frozenset({"call", "map", "web", "follow", "unfollow", "location", "other_ward", "whole_city",
                             "other_age", "following", "search", "quit", "agree", "disagree", "in_settings"})
SHOWN = 10  # bubbles in one carousel (LINE allows 12)
OUTSIDE_M = 20_000  # farther than this from every facility: not in the city


class ChildcareContent(ConversationContent):
    """content/childcare.yaml: what the search says, the facility types' names, how to apply."""

    apply_url: NonEmpty
    types: dict[str, Text]
    labels: dict[str, Label]
    commands: dict[str, Keywords]

    _types = keys_required("types", cc.FacilityType.__args__)
    _labels = keys_required("labels", REQUIRED_LABELS)
    _commands = keys_required("commands", {"quit"})



intent = Intent("childcare", content=ChildcareContent, topics=["childcare"],
                files={cc.FACILITIES: cc.FacilitiesFile, cc.VACANCIES: cc.VacanciesFile},
                checks=[cc.check_childcare], texts=[
                    "ask_child", "child_choice", "ask_age", "age_class", "too_old", "ask_where", "ask_where_near",
                    "found_ward", "found_near", "found_city", "none_ward", "none_near", "none_city", "neighbours",
                    "neighbour_count", "how_to_apply", "outside_near",
                    "places", "full", "as_of", "distance", "date", "followed", "already_following", "unfollowed",
                    "not_following", "following", "following_line", "no_following", "opening", "unknown_facility",
                    "not_understood", "quit", "old_question", "expired", "follow_consent", "outside"])
conv = intent.conversation(Conversation("childcare", "childcare", timeout=timedelta(minutes=30),
                                        action_prefix="childcare.ask.", expired_text="childcare.expired",
                                        resume_label="resume", quits=True,
                                        quit_chips=menu_chips))


class Search(Phrasebook):
    """One event of a nursery search: who asks, in which language, and what to say."""

    intent = "childcare"

    @property
    def table(self) -> cc.VacanciesFile:
        return cc.vacancies_of(self.content)

    @property
    def on(self) -> date:
        """Classes are those of the vacancy table's date."""
        return self.table.as_of

    def age_of(self, cohort: int) -> int:
        return cc.class_of(cohort, self.on)

    def age_text(self, age: int) -> str:
        return self.say("age_class", age=age)

    def ward_name(self, ward: str) -> str:
        district = self.content["settings"].district(ward)
        return district.name.get(self.lang) if district else ward

    @property
    def divided(self) -> bool:
        """Whether the city has divisions to search by (else: location, or the whole city)."""
        return self.content["settings"].has_divisions

    def label(self, key: str) -> str:
        return self.content.fill(self.content["childcare"].labels[key].get(self.lang), self.lang)

    def as_of(self) -> str:
        return date_text(self.content, self.lang, self.on)

    def quit_chip(self) -> Tap:
        return conv.chips(self.conversation, self.content, self.lang)[-1]

    # -- the questions ----------------------------------------------------------------------------
    def ask_child(self, classes: list[tuple[int, int]]) -> None:
        self.conversation.start(conv.name, "child")
        chips = [Tap(child_label(self, birth_month, age)[:20], f"action=childcare.ask.child&cohort={cc.cohort(birth_month)}",
                     child_label(self, birth_month, age)) for birth_month, age in classes[:11]]
        self.reply(*self.notes, self.say("ask_child", fy=cc.fiscal_year(self.on)), quick=[*chips, self.quit_chip()])

    def ask_age(self) -> None:
        if self.conversation.state != "age":
            self.conversation.start(conv.name, "age")
        chips = [Tap(self.age_text(age), f"action=childcare.ask.age&n={age}", self.age_text(age))
                 for age in cc.AGE_CLASSES]
        fy = cc.fiscal_year(self.on)
        zero_from = date(fy - 1, 4, 2)  # born after 1 April of the year before: 0 on 1 April
        self.reply(*self.notes, self.say("ask_age", fy=fy, zero_from=date_text(self.content, "ja", zero_from),
                                         zero_from_en=date_text(self.content, "en", zero_from),
                                         zero_from_easy=date_text(self.content, "easy_ja", zero_from)),
                   quick=[*chips, self.quit_chip()])

    def ask_where(self, cohort: int) -> None:
        if self.conversation.active is None or self.conversation.active.conversation != conv.name:
            self.conversation.start(conv.name, "where", cohort=cohort)
        else:
            self.conversation.goto("where", cohort=cohort)
        location = ShareLocation(self.label("location"))
        age = self.age_text(self.age_of(cohort))
        if not self.divided:
            whole = Tap(self.label("whole_city"), f"action=childcare.ask.all&cohort={cohort}", self.label("whole_city"))
            return self.reply(*self.notes, self.say("ask_where_near", age=age),
                              quick=[location, whole, self.quit_chip()])
        wards = [Tap(d.name.get(self.lang), f"action=childcare.ask.ward&id={d.id}", d.name.get(self.lang))
                 for d in self.content["settings"].districts][:10]
        self.reply(*self.notes, self.say("ask_where", age=age), quick=[location, *wards, self.quit_chip()])

    def where_next(self, cohort: int, ward: str | None = None) -> None:
        """The age is known: search the ward given or registered, else ask where."""
        ward = ward or self.resident.district
        if self.divided and ward and self.content["settings"].district(ward):
            return self.show_ward(cohort, ward)
        self.ask_where(cohort)

    # -- the answers ------------------------------------------------------------------------------
    def show_ward(self, cohort: int, ward: str) -> None:
        age = self.age_of(cohort)
        self.keep_for_location(cohort)
        found = cc.search(self.content, age, wards=[ward])
        chips: list[Tap] = [ShareLocation(self.label("location"))]
        if found:
            intro = self.say("found_ward", ward=self.ward_name(ward), age=self.age_text(age), count=len(found))
            messages = [intro, self.carousel(found[:SHOWN], cohort)]
            chips.append(self.other_ward_chip(cohort))
        else:
            messages = self.none_in_ward(cohort, age, ward, chips)
        chips += [self.chip("other_age", "action=childcare.age"), menu_chip(self.content, self.lang)]
        self.reply(*self.notes, *messages, self.how_to_apply(), quick=chips[:13])

    def none_in_ward(self, cohort: int, age: int, ward: str, chips: list[Tap]) -> list[Any]:
        text = self.say("none_ward", ward=self.ward_name(ward), age=self.age_text(age), as_of=self.as_of())
        district = self.content["settings"].district(ward)
        counts = [(other, len(cc.search(self.content, age, wards=[other])))
                  for other in (district.neighbours if district else [])]
        if counts:
            listed = listing((self.say("neighbour_count", ward=self.ward_name(w), count=n) for w, n in counts),
                             self.lang)
            text += "\n" + self.say("neighbours", wards=listed)
            for other, count in counts:
                label = self.say("neighbour_count", ward=self.ward_name(other), count=count)
                chips.append(Tap(label[:20], f"action=childcare.ward&ward={other}&cohort={cohort}", label))
        full = cc.search(self.content, age, wards=[ward], with_places=False)
        return [text, self.carousel(full[:SHOWN], cohort)] if full else [text]

    def other_ward_chip(self, cohort: int) -> Tap:
        """「ほかの区」 (the city's word), or 「市内全体」 when the city has no divisions."""
        if self.divided:
            return Tap(self.label("other_ward"), f"action=childcare.where&cohort={cohort}", self.label("other_ward"))
        return Tap(self.label("whole_city"), f"action=childcare.all&cohort={cohort}", self.label("whole_city"))

    def show_all(self, cohort: int) -> None:
        """A city without divisions: its nurseries with places for the class, most places first."""
        age = self.age_of(cohort)
        self.keep_for_location(cohort)
        found = cc.search(self.content, age)
        chips = [ShareLocation(self.label("location")), self.chip("other_age", "action=childcare.age"),
                 menu_chip(self.content, self.lang)]
        if found:
            messages = [self.say("found_city", age=self.age_text(age), count=len(found)),
                        self.carousel(found[:SHOWN], cohort)]
        else:
            messages = [self.say("none_city", age=self.age_text(age), as_of=self.as_of())]
        self.reply(*self.notes, *messages, self.how_to_apply(), quick=chips)

    def show_near(self, cohort: int, lat: float, lon: float) -> None:
        age = self.age_of(cohort)
        self.keep_for_location(cohort)
        found = cc.search(self.content, age, near=(lat, lon))[:SHOWN]
        chips = [self.other_ward_chip(cohort), self.chip("other_age", "action=childcare.age"),
                 menu_chip(self.content, self.lang)]
        closest = min((distance_m(lat, lon, f.lat, f.lon) for f in cc.facilities_of(self.content).facilities))
        if closest > OUTSIDE_M:  # a place outside the city: say so rather than list nurseries 400 km away
            key = "outside" if self.divided else "outside_near"
            return self.reply(*self.notes, self.say(key, distance=distance_text(closest)), quick=chips)
        if found:
            messages = [self.say("found_near", age=self.age_text(age), count=len(found)), self.carousel(found, cohort)]
        else:
            messages = [self.say("none_near", age=self.age_text(age), as_of=self.as_of())]
        self.reply(*self.notes, *messages, self.how_to_apply(), quick=chips)

    def keep_for_location(self, cohort: int) -> None:
        """Results offer 「位置情報で探す」: a location sent next is for this search (and
        only a location: anything else typed goes where it would have gone)."""
        if self.conversation.active is None or self.conversation.active.conversation != conv.name:
            self.conversation.start(conv.name, "results", cohort=cohort)
        else:
            self.conversation.goto("results", cohort=cohort)

    def how_to_apply(self) -> str:
        return self.say("how_to_apply", as_of=self.as_of(), url=self.content["childcare"].apply_url)

    def carousel(self, found: Sequence[cc.Found], cohort: int) -> dict[str, Any]:
        followed = {f.facility_id for f in tables.follows_of(self.session, self.resident)}
        bubbles = [facility_bubble(self.content, self.lang, hit.facility, self.age_of(cohort), hit.places,
                                   self.on, hit.distance, follow=None if hit.facility.id in followed else cohort)
                   for hit in found]
        alt = "\n".join(f"{hit.facility.name_in(self.lang)}: {places_text(self.content, self.lang, hit.places)}"
                        for hit in found)
        return flex(alt, {"type": "carousel", "contents": bubbles})


def child_label(search: Search, birth_month: int, age: int) -> str:
    year, month = profile.month_of(birth_month)
    return search.say("child_choice", year=year, month=month, mm=f"{month:02d}", age=age)


# -- starting a search --------------------------------------------------------------------------
AGE_TYPED = re.compile(r"([0-5])\s*(?:歳|さい|才|-?year|yo\b|class)")


def typed_age(text: str) -> int | None:
    found = AGE_TYPED.search(unicodedata.normalize("NFKC", text or "").casefold())
    return int(found.group(1)) if found else None


@intent.entry
def find_places(turn):
    """From what is registered or typed ("北区 1歳児の保育園"): search, or ask what is missing."""
    search, content, text, resident = Search(turn), turn.content, turn.text, turn.resident
    named = profile.find(content["settings"].districts, text) if text and search.divided else None
    ward = named.id if named else None
    age = typed_age(text)
    if age is not None:
        return search.where_next(cc.cohort_for(age, search.on), ward)
    children = [(c.birth_month, cc.child_class(c.birth_month, search.on)) for c in resident.children]
    classes = [(month, age) for month, age in children if age is not None and age <= 5]
    if len(classes) == 1:
        return search.where_next(cc.cohort(classes[0][0]), ward)
    if len(classes) > 1:
        return search.ask_child(classes)
    search.ask_age()


@intent.postback("childcare.age")
def ask_other_age(turn):
    Search(turn).ask_age()


def cohort_of(params: Mapping[str, str]) -> int | None:
    """The birth cohort (a year) a results chip carries; None for anything else."""
    cohort = params.get("cohort", "")
    return int(cohort) if re.fullmatch(r"\d{4}", cohort) else None


@intent.postback("childcare.where")
def where_again(turn, content, params):
    """「ほかの区」 under results: the same class, somewhere else."""
    search, cohort = Search(turn), cohort_of(params)
    if cohort is None:
        return search.ask_age()
    search.ask_where(cohort)


@intent.postback("childcare.all")
def whole_city(turn, content, params):
    """「市内全体」 in a city without divisions: the same class, over the whole city."""
    search, cohort = Search(turn), cohort_of(params)
    if cohort is None:
        return search.ask_age()
    search.show_all(cohort)


@intent.postback("childcare.ward")
def ward_results(turn, content, params):
    """A neighbouring ward's chip: the same class, in that ward."""
    search, cohort = Search(turn), cohort_of(params)
    if cohort is None or not content["settings"].district(params.get("ward")):
        return search.ask_age()
    search.show_ward(cohort, params["ward"])


# -- the conversation -----------------------------------------------------------------------------
def answer(turn):
    """A question's answer (やめる is the driver's: bot/conversation.py)."""
    search, content, conversation = Search(turn), turn.content, turn.conversation
    state = conversation.state
    got = conv.answer(turn) if turn.location is None else Answer("location", turn.location, "")
    other = None if got.verb else named_intent(content, got.text)
    if other == intent.name:  # 「保育園の空き」 again: start over
        conversation.end()
        return find_places(turn)
    cohort = conversation.data.get("cohort")
    if got.verb == "location" and cohort is not None:
        try:
            return search.show_near(cohort, float(got.params["latitude"]), float(got.params["longitude"]))
        except (KeyError, ValueError):
            pass
    if got.verb == "all" and cohort is not None:   # 「市内全体」 (a city without divisions)
        return search.show_all(cohort)
    if state == "child":
        if got.verb == "child" and (chosen := cohort_of(got.params)) is not None:
            return search.where_next(chosen)
        if not got.verb and take_age(search, got):  # a birth month or a class typed instead
            return None
        return unclear(search, state)
    if state == "age":
        return take_age(search, got) or unclear(search, state)
    if state == "where" and cohort is not None:
        if got.verb == "ward" and content["settings"].district(got.params.get("id")):
            return search.show_ward(cohort, got.params["id"])
        chosen = profile.find(content["settings"].districts, got.text) if not got.verb and search.divided else None
        if chosen is not None:
            return search.show_ward(cohort, chosen.id)
        return unclear(search, state)
    return unclear(search, state)


def take_age(search: Search, got: Answer) -> bool:
    """A class chip, "1歳児", or a birth month ("2024年5月"): then on to where. False if none."""
    if got.verb == "age" and got.params.get("n", "").isdigit() and int(got.params["n"]) in cc.AGE_CLASSES:
        search.where_next(cc.cohort_for(int(got.params["n"]), search.on))
        return True
    if got.verb:
        return False
    month = profile.parse_month(got.text)
    if month is not None:
        age = cc.child_class(month, search.on)
        if age is not None and age > 5:
            search.conversation.end()
            search.reply(search.say("too_old"), quick=[menu_chip(search.content, search.lang)])
            return True
        if age is not None:
            search.where_next(cc.cohort(month))
            return True
        return False
    age = typed_age(got.text)
    if age is None and unicodedata.normalize("NFKC", got.text).strip() in {str(n) for n in cc.AGE_CLASSES}:
        age = int(unicodedata.normalize("NFKC", got.text).strip())
    if age is None:
        return False
    search.where_next(cc.cohort_for(age, search.on))
    return True


def unclear(search: Search, state: str | None) -> Any:
    """Not an answer: asked again; another service named instead answers (bot/conversation.py)."""
    search.note("not_understood")
    ask_again(search, state)
    return NOT_UNDERSTOOD


def ask_again(search: Search, state: str | None) -> None:
    if state in ("where", "results") and search.conversation.data.get("cohort") is not None:
        return search.ask_where(search.conversation.data["cohort"])
    search.ask_age()


@conv.asks
def resume(turn):
    """Back from another subject: the question they were at, again."""
    ask_again(Search(turn), turn.conversation.state)


conv.state("child")(answer)
conv.state("age")(answer)
conv.state("where", kinds=("text", "postback", "location"))(answer)
conv.state("results", kinds=("postback", "location"))(answer)
