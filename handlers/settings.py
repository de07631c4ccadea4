"""「設定」: what a resident tells the city, so the city can tell them what matters.

Nothing is kept before consent: 「設定」 (or the follow greeting) asks first, in plain
words. Registration is then a conversation (bot/conversation.py), one question at a time:

    district -> area -> children -> topics -> reminder -> summary

The district question names the city's own division (settings.yaml `divisions.word`: 区,
地区...) and is not asked at all in a city without divisions (`divisions.kind: none`).

Each question can be answered by tapping (quick replies; the date picker for a child's
birth month) or by typing ("北区", "2021年4月", "7時"), and each has スキップ (leave it as it
is) and やめる (stop; what was answered stays). Every answer is saved with its step. Once
something is registered, 「設定」 shows it all in one bubble, with a button per attribute
that asks just that question again ("edit" mode) and one for 「データ削除」.

The collection address is no question of the registration: the summary shows it, with a
button to change it and one to delete it (handlers/settings_address.py).

Buttons send `action=settings.<verb>&step=<question>&...`; while the conversation runs it
owns every `settings.` action, so a button of an earlier question is recognised by its
`step` and answered with the current question again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Callable, Sequence

from sqlalchemy.orm import Session

from bot import profile
from bot.content.models import LANGUAGES
from bot.content.store import Content
from bot.conversation import NOT_UNDERSTOOD, Answer, Conversation, ConversationControl, Phrasebook
from bot.lookup import normalize
from bot.messages import MAX_QUICK_REPLIES, DatePick, Tap, bubble, flex, listing
from bot.models import Resident, ResidentChild, ResidentTopic
from bot.profile import ChoosableT, SettingsContent
from bot.router import Intent
from bot.turn import Turn

from .menu import menu_chip

intent = Intent("settings", content=SettingsContent, texts=[
    "consent", "consent_thanks", "consent_later", "ask_district", "ask_area", "ask_area_all", "area_reset",
    "ask_children", "ask_more_children", "child", "child_short", "child_added", "child_removed",
    "child_bad_month", "children_full", "ask_topics", "ask_topics_again", "topic_on", "topic_off",
    "ask_reminder", "not_understood", "old_question", "quit", "done", "saved", "expired",
    "summary_title", "summary", "summary_without_district", "not_set", "none", "language_ja", "language_en",
    "language_easy_ja", "ask_address", "ask_address_new", "bad_address", "address_deleted",
])

conv = intent.conversation(Conversation(
    "settings", "settings", timeout=timedelta(hours=1), expired_text="settings.expired", resume_label="resume",
    free_text=("address",), quits=True, quit_chips=lambda content, lang: [settings_chip(content, lang), menu_chip(content, lang)]))

#: The questions of a full registration, in order; each can also be asked on its own.
ORDER = ("district", "area", "children", "topics", "reminder")
#: Asked only when the resident taps its button in the summary, never in a registration.
ON_REQUEST = ("address",)


def steps(content: Content) -> tuple[str, ...]:
    """The questions this city asks: no district in a city without divisions."""
    if content["settings"].has_divisions:
        return ORDER
    return tuple(step for step in ORDER if step != "district")


def editable(content: Content) -> tuple[str, ...]:
    """What a summary's button may ask again: the registration's questions and the address."""
    return (*steps(content), *ON_REQUEST)


@dataclass(frozen=True)
class Kept:
    """What a service keeps for a resident outside the registration (the nurseries they
    follow): 「設定」 links to it, and a resident who keeps any is not walked through the
    registration as if new. A service adds its own to KEPT; settings names none."""

    action: str                                 # the postback of its chip
    label: Callable[[Content, str], str]        # the chip's label, from the service's content
    has: Callable[[Session, Resident], bool]    # whether this resident keeps any


KEPT: list[Kept] = []


def kept_chip(content: Content, lang: str, kept: Kept) -> Tap:
    label = kept.label(content, lang)[:20]
    return Tap(label, kept.action, label)


# What answering a question leads to (or the name of the question to ask next).
NEXT, AGAIN, UNKNOWN = "next", "again", "unknown"


class Flow(Phrasebook):
    """One event of the registration: the resident, the conversation, what to say next."""

    intent = "settings"

    @property
    def settings(self) -> SettingsContent:
        return self.content["settings"]

    @property
    def areas(self) -> profile.Areas:
        return profile.areas(self.content)

    @property
    def mode(self) -> str:
        return self.conversation.data.get("mode", "register")

    def start(self, mode: str, state: str) -> None:
        self.conversation.start(conv.name, state, mode=mode, page=0)
        self.ask(state)

    def ask(self, state: str) -> None:
        question, options, fixed = QUESTIONS[state](self)
        fixed = [*fixed, self.chip("skip", f"action=settings.skip&step={state}"),
                 *conv.chips(self.conversation, self.content, self.lang)]
        chips = paged(options, fixed, self.conversation.data.get("page", 0),
                      lambda page: self.chip("more", f"action=settings.more&step={state}&page={page}"))
        self.reply(*self.notes, question, quick=chips)

    def go(self, state: str) -> None:
        self.conversation.goto(state, page=0)
        self.ask(state)

    def advance(self, state: str, changed: bool = True) -> None:
        """The question is answered (or skipped): the next one, or the summary at the end."""
        order = steps(self.content)
        following = order[order.index(state) + 1:] if self.mode == "register" and state in order else ()
        if following:
            return self.go(following[0])
        said = "done" if self.mode == "register" else "saved" if changed else None
        self.conversation.end()
        self.reply(*self.notes, *([self.say(said)] if said else []),
                   summary_message(self.content, self.lang, self.resident))


def paged(options: list[Tap], fixed: list[Tap], page: int, more: Callable[[int], Tap]) -> list[Tap]:
    """Options and the fixed chips in at most 13 quick replies; too many options are shown
    a page at a time, with a "次へ" chip that comes round to the first page again."""
    room = MAX_QUICK_REPLIES - len(fixed)
    if len(options) <= room:
        return [*options, *fixed]
    size = room - 1
    pages = -(-len(options) // size)
    page %= pages
    return [*options[page * size:(page + 1) * size], more((page + 1) % pages), *fixed]


# -- the questions: (text, options, fixed chips before スキップ and やめる) ------------------------
def ask_district(flow: Flow) -> tuple[str, list[Tap], list[Tap]]:
    return flow.say("ask_district"), [pick("district", d.id, d.name.get(flow.lang)) for d in flow.settings.districts], []


def ask_area(flow: Flow) -> tuple[str, list[Tap], list[Tap]]:
    district = flow.settings.district(flow.resident.district)
    areas = flow.areas.in_district(district.id) if district else []
    options = [pick("area", a.id, a.name.get(flow.lang)) for a in areas or flow.areas.all]
    if not areas:
        return flow.say("ask_area_all"), options, []
    return flow.say("ask_area", district=district.name.get(flow.lang)), options, []


def ask_children(flow: Flow) -> tuple[str, list[Tap], list[Tap]]:
    children = sorted(flow.resident.children, key=lambda c: c.birth_month)
    options: list[Tap] = []
    if len(children) < profile.MAX_CHILDREN:
        oldest, _ = profile.birth_month_range(flow.now)
        year, month = profile.month_of(oldest)
        latest = (flow.now + timedelta(days=1)).date().isoformat()  # today wherever the city is
        label = flow.settings.labels["add_child" if children else "pick_month"].get(flow.lang)
        options.append(DatePick(label, "action=settings.child&step=children", initial=latest,
                                min=date(year, month, 1).isoformat(), max=latest))
    if not children:
        options.append(flow.chip("no_children", "action=settings.none&step=children"))
        return flow.say("ask_children"), options, []
    options.append(flow.chip("done", "action=settings.done&step=children"))
    for child in children:
        label = "✕ " + child_text(flow.content, flow.lang, child.birth_month, "child_short")
        options.append(Tap(label, f"action=settings.drop&step=children&month={child.birth_month}", label))
    listed = listing((child_text(flow.content, flow.lang, c.birth_month) for c in children), flow.lang)
    return flow.say("ask_more_children", children=listed), options, []


def ask_topics(flow: Flow) -> tuple[str, list[Tap], list[Tap]]:
    chosen = {t.topic for t in flow.resident.topics}
    options = [pick("topics", t.id, t.name.get(flow.lang), checked=t.id in chosen) for t in flow.settings.topics]
    question = flow.say("ask_topics_again" if flow.notes else "ask_topics")
    return question, options, [flow.chip("done", "action=settings.done&step=topics")]


def ask_reminder(flow: Flow) -> tuple[str, list[Tap], list[Tap]]:
    options = [pick("reminder", time, time) for time in flow.settings.reminder_times]
    return flow.say("ask_reminder"), options, [flow.chip("no_reminder", "action=settings.none&step=reminder")]


QUESTIONS: dict[str, Callable[[Flow], tuple[str, list[Tap], list[Tap]]]] = {
    "district": ask_district, "area": ask_area, "children": ask_children, "topics": ask_topics,
    "reminder": ask_reminder,  # and the address: settings_address.py
}


def pick(step: str, value: str, name: str, checked: bool = False) -> Tap:
    return Tap(("✓ " if checked else "") + name, f"action=settings.pick&step={step}&id={value}", name)


# -- the answers ------------------------------------------------------------------------------
def picked(answer: Answer, items: Sequence[ChoosableT]) -> ChoosableT | None:
    """The item a "pick" tap names by id, or the one the resident typed."""
    if not answer.verb:
        return profile.find(items, answer.text)
    if answer.verb != "pick":
        return None
    return next((item for item in items if item.id == answer.params.get("id")), None)


def take_district(flow: Flow, answer: Answer) -> str:
    settings = flow.settings
    chosen = picked(answer, settings.districts)
    if chosen is None:
        return UNKNOWN
    flow.resident.district = chosen.id
    area = flow.areas.get(flow.resident.garbage_area)
    if flow.resident.garbage_area and (area is None or area.district != chosen.id):
        flow.resident.garbage_area = None  # an area of the old district would be wrong
        if flow.mode == "edit":
            flow.note("area_reset")
            return "area"
    return NEXT


def take_area(flow: Flow, answer: Answer) -> str:
    chosen = picked(answer, flow.areas.in_district(flow.resident.district)) or picked(answer, list(flow.areas.all))
    if chosen is None:
        return UNKNOWN
    flow.resident.garbage_area = chosen.id
    if flow.settings.district(chosen.district):   # an area lies in one district (of this city's)
        flow.resident.district = chosen.district
    return NEXT


def take_children(flow: Flow, answer: Answer) -> str:
    resident = flow.resident
    if answer.verb:
        month = profile.month_from_date(answer.params.get("date")) if answer.verb == "child" else None
    else:
        month = profile.parse_month(answer.text)
    if month is not None:
        oldest, newest = profile.birth_month_range(flow.now)
        if not oldest <= month <= newest:
            flow.note("child_bad_month", years=profile.CHILD_MAX_AGE)
        elif len(resident.children) >= profile.MAX_CHILDREN:
            flow.note("children_full", count=profile.MAX_CHILDREN)
        else:
            resident.children.append(ResidentChild(birth_month=month))
            flow.note("child_added", child=child_text(flow.content, flow.lang, month))
        return AGAIN
    if answer.verb == "drop":
        child = next((c for c in resident.children if str(c.birth_month) == answer.params.get("month")), None)
        if child is not None:
            resident.children.remove(child)
            flow.note("child_removed", child=child_text(flow.content, flow.lang, child.birth_month))
        return AGAIN
    if answer.verb == "none" or flow.means("none", answer):
        resident.children.clear()
        return NEXT
    if answer.verb == "done" or flow.means("done", answer):
        return NEXT
    return UNKNOWN


def take_topics(flow: Flow, answer: Answer) -> str:
    if answer.verb == "done" or flow.means("done", answer):
        return NEXT
    topic = picked(answer, flow.settings.topics)
    if topic is None:
        return UNKNOWN
    chosen = next((t for t in flow.resident.topics if t.topic == topic.id), None)
    if chosen is None:
        flow.resident.topics.append(ResidentTopic(topic=topic.id))
        flow.note("topic_on", topic=topic.name.get(flow.lang))
    else:
        flow.resident.topics.remove(chosen)
        flow.note("topic_off", topic=topic.name.get(flow.lang))
    return AGAIN


def take_reminder(flow: Flow, answer: Answer) -> str:
    if answer.verb == "none" or flow.means("none", answer):
        flow.resident.reminder_time = None
        return NEXT
    if answer.verb:
        time = answer.params.get("id") if answer.verb == "pick" else None
    else:
        time = profile.parse_time(answer.text)
    if time not in flow.settings.reminder_times:
        return UNKNOWN
    flow.resident.reminder_time = time
    return NEXT


ANSWERS: dict[str, Callable[[Flow, Answer], str]] = {
    "district": take_district, "area": take_area, "children": take_children, "topics": take_topics,
    "reminder": take_reminder,
}
#: Buttons of a summary answered outside any question (住所を消す: settings_address.py).
ASIDE: dict[str, Callable[[Turn], Any]] = {}


def answer(turn):
    """A question's answer (やめる and old buttons are the driver's: bot/conversation.py)."""
    flow, conversation, content, params = Flow(turn), turn.conversation, turn.content, turn.params
    state = conversation.state
    got = conv.answer(turn)
    if got.verb == "edit" and params.get("field") in editable(content):  # a button of an earlier summary
        conversation.goto(params["field"], mode="edit", page=0)
        return flow.ask(params["field"])
    if got.verb in ASIDE:  # the same
        conversation.end()
        return ASIDE[got.verb](turn)
    if got.verb and params.get("step") != state:  # a button of the registration's that asks nothing
        flow.note("old_question")
        return flow.ask(state)
    if got.verb == "skip" or flow.means("skip", got):
        return flow.advance(state, changed=False)
    if got.verb == "more":
        conversation.goto(state, page=int(params["page"]) if params.get("page", "").isdigit() else 0)
        return flow.ask(state)
    outcome = ANSWERS[state](flow, got)
    if outcome == NEXT:
        return flow.advance(state)
    if outcome == AGAIN:
        return flow.ask(state)
    if outcome != UNKNOWN:
        return flow.go(outcome)
    if not got.verb and named_intent(content, turn.text) == intent.name:  # 「設定」 again: this is it
        return flow.ask(state)
    flow.note("not_understood")
    flow.ask(state)
    return NOT_UNDERSTOOD  # another service named instead is answered by it (bot/conversation.py)


for _state in (*ORDER, *ON_REQUEST):
    conv.state(_state)(answer)


@conv.asks
def ask_again(turn):
    """The question they are at, again: after an old button, or back from another subject."""
    Flow(turn).ask(turn.conversation.state)


def named_intent(content: Content, text: str) -> str | None:
    """The service whose keyword the resident typed, word for word."""
    typed = normalize(text)
    for name, doc in content.intents().items():
        if doc.label and typed in {normalize(k) for k in doc.keywords.all()}:
            return name
    return None


# -- entry, consent, changing one thing --------------------------------------------------------
@intent.entry
def open_settings(turn):
    """Consent first; then the registration if nothing is registered yet, else the summary."""
    content, lang, resident, conversation = turn.content, turn.lang, turn.resident, turn.conversation
    kept = [k for k in KEPT if k.has(turn.session, resident)]
    if resident.consented_at is None and not resident.collection_address:  # nursery alerts need no registration
        extra = [kept_chip(content, lang, k) for k in kept]
        return turn.reply(consent_text(content, lang), quick=[*consent_chips(content, lang), *extra])
    if profile.is_empty(resident) and not kept:
        return Flow(turn).start("register", steps(content)[0])
    if conversation.active is not None and conversation.active.conversation == conv.name:
        conversation.end()
    turn.reply(summary_message(content, lang, resident))


@intent.postback("settings.consent")
def answer_consent(turn):
    if turn.params.get("answer") != "yes":
        return turn.reply(turn.say("settings.consent_later"), quick=[menu_chip(turn.content, turn.lang)])
    if turn.resident.consented_at is None:
        turn.resident.consented_at = turn.now
    flow = Flow(turn)
    flow.note("consent_thanks")
    flow.start("register", steps(turn.content)[0])


@intent.postback("settings.edit")
def change_one(turn):
    field = turn.params.get("field")
    if field in ON_REQUEST and turn.resident.collection_address:  # kept by a tap after booking, consent or not
        return Flow(turn).start("edit", field)
    if turn.resident.consented_at is None or field not in editable(turn.content):
        return open_settings(turn)
    Flow(turn).start("edit", field)


@intent.postback("settings.language")
def choose_language(turn):
    """A language chosen from the greeting: the consent question again, in that language."""
    if turn.params.get("lang") in LANGUAGES:
        turn.resident.language = turn.params["lang"]
        turn = replace(turn, lang=turn.params["lang"])
    turn.reply(turn.say("language.changed"))
    open_settings(turn)


# -- what is said ----------------------------------------------------------------------------
def consent_text(content: Content, lang: str) -> str:
    return content.text("settings.consent", lang)


def consent_chips(content: Content, lang: str) -> list[Tap]:
    labels = content["settings"].labels
    yes, no = labels["consent_yes"].get(lang), labels["consent_no"].get(lang)
    return [Tap(yes, "action=settings.consent&answer=yes", yes), Tap(no, "action=settings.consent&answer=no", no)]


def settings_chip(content: Content, lang: str) -> Tap:
    label = content["settings"].labels["settings"].get(lang)
    return Tap(label, "action=settings", label)


def child_text(content: Content, lang: str, birth_month: int, key: str = "child") -> str:
    year, month = profile.month_of(birth_month)
    return content.text(f"settings.{key}", lang, year=year, month=month, mm=f"{month:02d}")


def summary_message(content: Content, lang: str, resident: Resident) -> dict[str, Any]:
    """Everything registered, in one bubble, with a button to change each part."""
    settings: SettingsContent = content["settings"]

    def say(key: str, **values: Any) -> str:
        return content.text(f"settings.{key}", lang, **values)

    def chip(key: str, data: str) -> Tap:
        label = content.fill(settings.labels[key].get(lang), lang)[:20]   # {division}: 区, 地区
        return Tap(label, data, label)

    district, area = settings.district(resident.district), profile.areas(content).get(resident.garbage_area)
    chosen = {t.topic for t in resident.topics}
    children = sorted(resident.children, key=lambda c: c.birth_month)
    title = say("summary_title")
    body = say(
        "summary" if settings.has_divisions else "summary_without_district",
        language=say(f"language_{resident.language if resident.language in LANGUAGES else 'ja'}"),
        district=district.name.get(lang) if district else say("not_set"),
        area=area.name.get(lang) if area else say("not_set"),
        children=listing((child_text(content, lang, c.birth_month) for c in children), lang) or say("none"),
        topics=listing((t.name.get(lang) for t in settings.topics if t.id in chosen), lang) or say("none"),
        reminder=resident.reminder_time or say("not_set"),
        address=resident.collection_address or say("not_set"),
    )
    buttons = [chip(f"change_{name}", f"action=settings.edit&field={name}") for name in editable(content)]
    if resident.collection_address:
        buttons.append(chip("delete_address", "action=settings.forget_address"))
    buttons += [chip("change_language", "action=language"), *(kept_chip(content, lang, k) for k in KEPT),
                chip("delete", "action=delete_data")]
    return flex(f"{title}\n{body}", bubble(title, body, buttons), quick=[menu_chip(content, lang)])


from . import settings_address  # noqa: E402,F401 - the address question and 住所を消す register on the above
