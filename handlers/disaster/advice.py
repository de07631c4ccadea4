"""いま何をすれば: what to do now, for the hazard and level declared and where the resident is.

An evacuation order means different things at home on a third floor, in a car on a
flooding road and outdoors, and cities publish exactly that table (自宅・職場や学校・屋外・
車の中). During an incident that concerns the resident's district the bot asks where
they are, and for home, where the city's advice distinguishes it, whether the home is in
a flood-risk area (浸水想定区域 / 土砂災害警戒区域: the hazard map) and on a high floor;
then it answers the city's advice for that hazard, level and situation
(content/disaster/advice.yaml, reviewed like the rest of the content). Where leaving is
right, the answer carries LINE's send-location button, whose location message is answered
with the nearest open shelter for the hazard (nearest.py); where staying high is right
(垂直避難), it says so. With nothing declared, it says what to prepare.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, Mapping

from pydantic import model_validator

from bot.content.models import ConversationContent, Strict, Text
from bot.conversation import NOT_UNDERSTOOD, Conversation, Phrasebook
from bot.messages import ShareLocation, Tap, listing
from bot.router import Intent
from bot.turn import Turn
from handlers.menu import menu_chip, menu_chips

from . import incidents as inc
from . import room
from .shelters import HAZARDS, shelters_of

ADVICE = "disaster/advice"
PLACES = ("home", "work", "outdoors", "car")
Situation = Literal["home", "home_at_risk", "home_high_floor", "home_safe_area", "work", "outdoors", "car"]


class Advice(Strict):
    text: Text
    leave: bool = False  # go to a shelter now: the answer offers the send-location button


class LevelAdvice(Strict):
    """One level's advice per situation; `home_at_risk` / `home_safe_area` (and then
    `home_high_floor`) split 自宅 by the hazard map, where the city's advice does."""

    situations: dict[Situation, Advice]

    @model_validator(mode="after")
    def _complete(self) -> "LevelAdvice":
        have = set(self.situations)
        missing = [p for p in ("work", "outdoors", "car") if p not in have]
        if "home" not in have and not {"home_at_risk", "home_safe_area"} <= have:
            missing.append("home (or home_at_risk and home_safe_area)")
        if "home_high_floor" in have and "home_at_risk" not in have:
            raise ValueError("home_high_floor needs home_at_risk (a high floor is asked only in a risk area)")
        if missing:
            raise ValueError(f"situations missing: {', '.join(missing)}")
        return self


class AdviceFile(Strict):
    """hazard -> level (3, 4, 5) -> advice; `any` serves hazards the city did not write."""

    hazards: dict[str, dict[int, LevelAdvice]]

    @model_validator(mode="after")
    def _known(self) -> "AdviceFile":
        unknown = sorted(set(self.hazards) - set(HAZARDS) - {"any"})
        if unknown:
            raise ValueError(f"unknown hazards: {', '.join(unknown)} (known: any, {', '.join(HAZARDS)})")
        if "any" not in self.hazards:
            raise ValueError("hazards: `any` is required (the advice for a hazard not written out)")
        for hazard, levels in self.hazards.items():
            if not levels or not set(levels) <= set(inc.LEVELS):
                raise ValueError(f"{hazard}: levels are {', '.join(map(str, inc.LEVELS))}")
        return self

    def for_(self, hazard: str, level: int) -> LevelAdvice:
        """This hazard's advice at this level, or at the nearest level written below it (above
        when none is below); the `any` hazard's when the city wrote none for this one."""
        levels = self.hazards.get(hazard) or self.hazards["any"]
        below = [lv for lv in levels if lv <= level]
        return levels[max(below)] if below else levels[min(levels)]


class AdviceContent(ConversationContent):
    pass


intent = Intent("advice", content=AdviceContent, files={ADVICE: AdviceFile}, narrower_than=["disaster"], texts=[
    "ask_where", "ask_area", "ask_floor", "said", "leave", "vertical", "nothing", "quit", "old_question",
    "expired", "not_understood",
])
conv = intent.conversation(Conversation("advice", "advice", timeout=timedelta(minutes=20), expired_text="advice.expired",
                                        resume_label="resume", quits=True,
                                        quit_chips=menu_chips))


class Adviser(Phrasebook):
    intent = "advice"

    @property
    def table(self) -> LevelAdvice:
        data = self.conversation.data
        return self.content[ADVICE].for_(data["hazard"], int(data["level"]))

    def ask(self, state: str) -> None:
        data, hazard = self.conversation.data, inc.hazard_name(self.content, self.lang, self.conversation.data["hazard"])
        if state == "where":
            options = [self.chip(p, f"action=advice.where&step=where&at={p}") for p in PLACES]
            question = self.say("ask_where", hazard=hazard, level=data["level"],
                                level_name=inc.level_name(self.content, self.lang, int(data["level"])))
        else:
            key = "area" if state == "area" else "floor"
            options = [self.chip(f"{key}_{a}", f"action=advice.{key}&step={state}&answer={a}")
                       for a in (("yes", "no", "unknown") if key == "area" else ("yes", "no"))]
            question = self.say(f"ask_{key}", hazard=hazard)
        self.reply(*self.notes, question, quick=[*options, *conv.chips(self.conversation, self.content, self.lang)])

    def answer(self, situation: str) -> None:
        advice = self.table.situations[situation]  # type: ignore[index]
        data = self.conversation.data
        self.conversation.end()
        said = self.say("said", hazard=inc.hazard_name(self.content, self.lang, data["hazard"]), level=data["level"],
                        place=self.content["advice"].labels[situation.split("_")[0]].get(self.lang))
        chips: list[Tap] = [menu_chip(self.content, self.lang)]
        lines = [said, advice.text.get(self.lang)]
        if advice.leave:
            lines += [*self.open_sites(int(data["incident"])), self.say("leave")]
            chips.insert(0, ShareLocation(self.content["disaster"].labels["location"].get(self.lang)))
        elif situation == "home_high_floor":
            lines.append(self.say("vertical"))
        self.reply(*self.notes, "\n\n".join(lines), quick=chips)


    def open_sites(self, incident_id: int) -> list[str]:
        """The incident's open sites in the resident's district (all of them when it has none
        there, or the resident registered none) that still take people, named for them."""
        incident = self.session.get(inc.Incident, incident_id)
        if incident is None:
            return []
        sites = [site for i in incident.shelters if (site := shelters_of(self.content).get(i))]
        here = [site for site in sites if site.district and site.district == self.resident.district]
        taking = room.states(self.session, [incident])
        names = [site.name_in(self.lang) for site in (here or sites) if room.offered(taking.get(site.id))]
        if not names:
            return []
        return [self.content.text("disaster.open_shelters", self.lang, shelters=listing(names[:5], self.lang))]


def home_situation(table: LevelAdvice) -> str | None:
    """`home` when the city's advice does not split 自宅 by the hazard map, else None (ask)."""
    return "home" if "home_at_risk" not in table.situations else None


# -- entry and steps ------------------------------------------------------------------------------
@intent.entry
def what_to_do(turn):
    """「いま何をすれば」, the disaster answer's chip or the menu: the most serious incident
    concerning the resident's district, then where they are."""
    incidents = inc.concerning(inc.seen_by(turn.session, turn.resident, turn.now), turn.resident.district)
    if not incidents:
        return turn.reply(turn.say("advice.nothing"),
                          quick=[ShareLocation(turn.content["disaster"].labels["location"].get(turn.lang)),
                                 menu_chip(turn.content, turn.lang)])
    incident = incidents[0]  # most serious first (incidents.active)
    turn.conversation.start(conv.name, "where", hazard=incident.hazard, level=incident.level, incident=incident.id)
    Adviser(turn).ask("where")


@conv.state("where")
def where(turn):
    adviser, got = Adviser(turn), conv.answer(turn)
    place = got.params.get("at") if got.verb == "where" else typed_choice(adviser, PLACES, got.text)
    if place not in PLACES:
        return unclear(adviser, "where")
    if place != "home":
        return adviser.answer(place)
    if home_situation(adviser.table):
        return adviser.answer("home")
    turn.conversation.goto("area")
    adviser.ask("area")


@conv.state("area")
def area(turn):
    adviser, got = Adviser(turn), conv.answer(turn)
    said = got.params.get("answer") if got.verb == "area" else typed_choice(
        adviser, ("yes", "no", "unknown"), got.text, prefix="area_")
    if said not in ("yes", "no", "unknown"):
        return unclear(adviser, "area")
    if said == "no":
        return adviser.answer("home_safe_area")
    if "home_high_floor" in adviser.table.situations:  # not knowing counts as at risk: the safer advice
        turn.conversation.goto("floor")
        return adviser.ask("floor")
    adviser.answer("home_at_risk")


@conv.state("floor")
def floor(turn):
    adviser, got = Adviser(turn), conv.answer(turn)
    said = got.params.get("answer") if got.verb == "floor" else typed_choice(
        adviser, ("yes", "no"), got.text, prefix="floor_")
    if said not in ("yes", "no"):
        return unclear(adviser, "floor")
    adviser.answer("home_high_floor" if said == "yes" else "home_at_risk")


@conv.asks
def ask_again(turn):
    Adviser(turn).ask(turn.conversation.state)


def typed_choice(adviser: Adviser, choices: tuple[str, ...], text: str, prefix: str = "") -> str | None:
    """A button's label typed instead of tapped (「車の中」, 「はい」)."""
    from bot.lookup import normalize

    typed = normalize(text)
    labels: Mapping[str, Any] = adviser.content["advice"].labels
    for choice in choices:
        label = labels[f"{prefix}{choice}"]
        if typed and typed in {normalize(label.get(lang)) for lang in ("ja", "en", "easy_ja")}:
            return choice
    return None


def unclear(adviser: Adviser, state: str) -> Any:
    adviser.note("not_understood")
    adviser.ask(state)
    return NOT_UNDERSTOOD
