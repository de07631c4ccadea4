"""Multi-step conversations as explicit state machines kept in the database.

A conversation (say, booking a pickup) is a set of named states, each with the handler
that answers the resident's next message in that state. Where a resident is lives in
`conversation_states` (resident x conversation, with an expiry), written in the same
transaction as the step's other effects, so a restart resumes exactly where they were and
a step is never half done.

What every conversation shares is owned here and in the dispatcher, not by each one:
  - another subject: a message that clearly names another service (its keyword, or what
    its own lookup recognises with confidence) and that the step did not take
    (its handler returned NOT_UNDERSTOOD) is answered by that service; the conversation is
    paused, and the answer carries a 「…に戻る」 button (`resume_label`) that picks it up
    where it was. A step that takes any words (a place, a name: `free_text`) leaves only
    for a message that is, word for word, another service's keyword.
  - やめる (the `quit` button or one of the intent's `commands.quit` words, typed): the
    conversation's `on_quit` clean-up runs, it ends, and `<intent>.quit` is said.
  - 戻る (the `back` button or `commands.back` words): to the question `back` names for
    the current one (a mapping, or a function of the conversation for flows that branch),
    asked again by the conversation's `asks` handler.
  - a button of an older question (its `step=` is not the current state): said so
    (`<intent>.old_question`) and the current question asked again.
  - a button of a conversation that has ended (or lapsed): said so, nothing is done.
  - the timeout and its message (`expired_text`), shown once on the next message.

A step handler therefore sees only answers to its own question. The driver's part of a
turn is a short list of handlers the dispatcher calls in order (`Conversation.fallback`),
each injected like any handler, so a conversation's hooks ask for what they need by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Mapping, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .models import ConversationState, Resident

if TYPE_CHECKING:
    from .turn import Turn

Handler = Callable[..., Any]
STEP_KINDS = ("text", "postback", "location", "image")
#: What the driver does itself, before any step handler (see the module's docstring).
CONTROLS = ("quit", "back", "old_question")

#: The postback that picks a paused conversation up again (`name=<conversation>`).
RESUME_ACTION = "conversation.resume"
PAUSED = "_paused"  # in a state row's data: the resident left it for another subject


class _NotUnderstood:
    def __repr__(self) -> str:
        return "NOT_UNDERSTOOD"


#: What a step handler returns when the message was not an answer to its question (it
#: has re-asked, and changed nothing else): the driver may hand the message to another
#: service the resident named instead.
NOT_UNDERSTOOD = _NotUnderstood()

#: What taking an answer leads to, besides the name of the next question (Phrasebook.settle).
AGAIN, UNKNOWN, DONE = "again", "unknown", "done"


@dataclass(frozen=True)
class Answer:
    """What the resident sent in a step: a tap (`verb`, the postback action without the
    conversation's prefix, and its params) or typed text (`verb` empty)."""

    verb: str
    params: dict[str, str]
    text: str


@dataclass
class Phrasebook:
    """What a conversation's step flow says, in one place: `say`, `note`, `chip`, `means`.

    The base of a handler's flow object (`Flow(turn)`): the `turn` (bot/turn.py) and the
    `notes` said before the next question; a subclass names its `intent` and adds what its
    questions need. The texts, button labels and command words live in content/<intent>.yaml.
    """

    intent: ClassVar[str]
    turn: "Turn"
    notes: list[Any] = field(default_factory=list)

    # the turn's parts a flow reads most, by their usual names
    reply = property(lambda self: self.turn.reply)
    content = property(lambda self: self.turn.content)
    lang = property(lambda self: self.turn.lang)
    resident = property(lambda self: self.turn.resident)
    conversation = property(lambda self: self.turn.conversation)
    now = property(lambda self: self.turn.now)
    session = property(lambda self: self.turn.session)

    def say(self, key: str, **values: Any) -> str:
        return self.content.text(f"{self.intent}.{key}", self.lang, **values)

    def note(self, key: str, **values: Any) -> None:
        self.notes.append(self.say(key, **values))

    def chip(self, key: str, data: str) -> Any:
        from .messages import Tap

        label = self.content[self.intent].labels[key].get(self.lang)
        label = self.content.fill(label, self.lang)[:20]  # {division}: 区, 地区
        return Tap(label, data, label)

    def means(self, command: str, answer: Answer) -> bool:
        """Typed text (not a tap) that is one of the command's words (やめる, スキップ...)."""
        return not answer.verb and self.content[self.intent].means(command, answer.text)

    def ask(self, state: str) -> None:
        raise NotImplementedError  # the flow's question for `state`, with its buttons

    def go(self, state: str, **data: Any) -> None:
        raise NotImplementedError  # move the conversation to `state` and ask it

    def settle(self, state: str, outcome: str) -> Any:
        """Where a step's answer leads: DONE (it has answered), AGAIN (the same question),
        UNKNOWN (not an answer: said so, asked again, and another service the resident
        named may answer instead) or the next question's name."""
        if outcome == DONE:
            return None
        if outcome == AGAIN:
            return self.ask(state)
        if outcome == UNKNOWN:
            self.note("not_understood")
            self.ask(state)
            return NOT_UNDERSTOOD
        return self.go(outcome)


class Conversation:
    """A conversation's declaration: its steps, and how the driver's shared fallbacks apply.

    back: where 戻る goes from each state, a mapping or `fn(conversation, content)` that
          returns the state (or (state, data changes)), None where there is nothing before.
    quit_chips: `fn(content, lang)`, the buttons under 「やめました」 (the menu, say).
    """

    def __init__(self, name: str, intent: str, *, timeout: timedelta = timedelta(minutes=30),
                 action_prefix: str | None = None, expired_text: str | None = None,
                 free_text: Iterable[str] = (), resume_label: str | None = None,
                 back: Mapping[str, str] | Callable[[Any, Any], Any] | None = None,
                 quits: bool = False, quit_chips: Callable[[Any, str], Sequence[Any]] | None = None):
        self.name = name
        self.intent = intent
        self.timeout = timeout
        self.action_prefix = action_prefix if action_prefix is not None else f"{name}."
        self.expired_text = expired_text
        self.free_text = frozenset(free_text)  # states whose question takes any words
        self.resume_label = resume_label  # key of the 「…に戻る」 label in the intent's content
        self.back = back
        self.quits = quits or back is not None  # the driver answers やめる (and old buttons)
        self.quit_chips = quit_chips
        self.asker: Handler | None = None
        self.quitter: Handler | None = None
        self._steps: dict[tuple[str, str], Handler] = {}
        self._driver = self._make_driver() if self.quits else {}

    def asks(self, handler: Handler) -> Handler:
        """Register what asks the current question (again): after 戻る, an old button, a resume."""
        if self.asker is not None:
            raise ValueError(f"{self.name} already has a handler that asks its question")
        self.asker = handler
        return handler

    def on_quit(self, handler: Handler) -> Handler:
        """Register what is cleaned up when the resident stops (draft photos, say)."""
        if self.quitter is not None:
            raise ValueError(f"{self.name} already has an on_quit handler")
        self.quitter = handler
        return handler

    def on_back(self, where: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """Register `where(conversation, content)`, the question 戻る leads to, for a flow that
        branches (a mapping given as `back=` does for one that does not)."""
        if self.back is not None:
            raise ValueError(f"{self.name} already says where 戻る goes")
        self.back, self.quits = where, True
        if not self._driver:
            self._driver = self._make_driver()
        return where

    @property
    def resumer(self) -> Handler | None:
        return self.asker if self.resume_label else None

    def state(self, state: str, kinds: Iterable[str] = ("text", "postback")) -> Callable[[Handler], Handler]:
        """Register the handler that answers `kinds` of events while in `state`."""
        def register(handler: Handler) -> Handler:
            for kind in kinds:
                if kind not in STEP_KINDS:
                    raise ValueError(f"{kind!r} is not one of {STEP_KINDS}")
                if (state, kind) in self._steps:
                    raise ValueError(f"{self.name}:{state} already answers {kind}")
                self._steps[(state, kind)] = handler
            return handler
        return register

    def step(self, state: str, kind: str) -> Handler | None:
        return self._steps.get((state, kind))

    def steps(self) -> list[tuple[str, str, Handler]]:
        return [(state, kind, handler) for (state, kind), handler in self._steps.items()]

    def handlers(self) -> list[Handler]:
        own = [h for h in (self.asker, self.quitter) if h is not None]
        return list(dict.fromkeys([*self._steps.values(), *own, *self._driver.values()]))

    # -- the driver's shared fallbacks -------------------------------------------------------
    def control(self, kind: str, action: str, params: Mapping[str, str], text: str, state: str,
                content: Any) -> str | None:
        """Which of the shared fallbacks (CONTROLS) this event is, if any."""
        if not self.quits:
            return None
        words = content[self.intent] if content is not None and self.intent in content.intents() else None
        if kind == "postback" and self.owns_action(action):
            verb = action.removeprefix(self.action_prefix)
            if verb == "quit":
                return "quit"
            if "step" in params and params["step"] != state:
                return "old_question"
            return "back" if verb == "back" and self.back is not None else None
        if kind == "text" and words is not None:
            if words.means("quit", text):
                return "quit"
            if self.back is not None and words.means("back", text):
                return "back"
        return None

    def fallback(self, control: str) -> list[Handler]:
        """The handlers the dispatcher runs, in order, for one of the shared fallbacks."""
        if control == "quit":
            return [h for h in (self.quitter, self._driver["quit"]) if h is not None]
        ask = [self.asker] if self.asker is not None else []
        return [self._driver[control], *ask]

    def back_from(self, conversation: "ConversationControl", content: Any) -> tuple[str, dict[str, Any]] | None:
        """(the question 戻る leads to, data to change), or None where there is none before."""
        state = conversation.state
        if self.back is None or state is None:
            return None
        target = self.back.get(state) if isinstance(self.back, Mapping) else self.back(conversation, content)
        if target is None:
            return None
        return (target, {}) if isinstance(target, str) else (target[0], dict(target[1]))

    def chips(self, conversation: "ConversationControl", content: Any, lang: str) -> list[Any]:
        """戻る (where there is a question before) and やめる, for the end of every question."""
        from .messages import Tap

        labels = content[self.intent].labels
        chips = []
        if self.back_from(conversation, content) is not None:
            chips.append(Tap(labels["back"].get(lang)[:20], f"action={self.action_prefix}back&step={conversation.state}",
                             labels["back"].get(lang)))
        chips.append(Tap(labels["quit"].get(lang)[:20], f"action={self.action_prefix}quit", labels["quit"].get(lang)))
        return chips

    def _make_driver(self) -> dict[str, Handler]:
        """The driver's own handlers for this conversation, named for `citybot routes`."""
        def quit(reply: Any, content: Any, lang: str, conversation: "ConversationControl") -> None:
            conversation.end()
            chips = list(self.quit_chips(content, lang)) if self.quit_chips else []
            reply(content.text(f"{self.intent}.quit", lang), quick=chips)

        def back(content: Any, conversation: "ConversationControl") -> None:
            found = self.back_from(conversation, content)
            if found is not None:
                conversation.goto(found[0], **found[1])

        def old_question(reply: Any, content: Any, lang: str) -> None:
            reply(content.text(f"{self.intent}.old_question", lang))

        made: dict[str, Handler] = {"quit": quit, "back": back, "old_question": old_question}
        for verb, handler in made.items():
            handler.__qualname__ = f"Conversation({self.name!r}).{verb}"
        return made

    def takes_any_words(self, state: str) -> bool:
        return state in self.free_text

    def owns_action(self, action: str) -> bool:
        return bool(self.action_prefix) and action.startswith(self.action_prefix)

    def answer(self, turn: "Turn") -> Answer:
        """The step's input, read the same way by every conversation."""
        return Answer(turn.action.removeprefix(self.action_prefix) if turn.kind == "postback" else "",
                      dict(turn.params), turn.text)


@dataclass
class ConversationControl:
    """What a handler gets as `conversation`: read and move the resident's state."""

    session: Session
    resident: Resident
    now: datetime
    conversations: dict[str, Conversation]
    active: ConversationState | None = None
    paused: ConversationState | None = None  # left for another subject; a button picks it up

    @property
    def state(self) -> str | None:
        return self.active.state if self.active else None

    @property
    def data(self) -> dict[str, Any]:
        return {k: v for k, v in self.active.data.items() if k != PAUSED} if self.active else {}

    def start(self, name: str, state: str, **data: Any) -> None:
        conv = self.conversations[name]
        keep = self.paused.id if self.paused is not None and self.paused.conversation != name else None
        self.session.execute(delete(ConversationState).where(  # one live conversation; one left waiting
            ConversationState.resident_id == self.resident.id, ConversationState.id != (keep or -1)))
        if keep is None:
            self.paused = None
        self.active = ConversationState(resident_id=self.resident.id, conversation=name, state=state, data=data,
                                        updated_at=self.now, expires_at=self.now + conv.timeout)
        self.session.add(self.active)

    def goto(self, state: str, **data: Any) -> None:
        if self.active is None:
            raise RuntimeError("no active conversation to move")
        conv = self.conversations[self.active.conversation]
        self.active.state = state
        self.active.data = {**self.active.data, **data}
        self.active.updated_at = self.now
        self.active.expires_at = self.now + conv.timeout

    def end(self) -> None:
        if self.active is not None:
            self.session.delete(self.active)
            self.active = None

    def pause(self) -> None:
        """Keep where they were (until the conversation's timeout) while another service answers."""
        if self.active is not None:
            self.active.data = {**self.active.data, PAUSED: True}
            self.active.updated_at = self.now
            self.paused, self.active = self.active, None

    def resume(self) -> None:
        if self.paused is not None:
            if self.active is not None:  # a short one started since (a feedback question) gives way
                self.session.delete(self.active)
            conv = self.conversations[self.paused.conversation]
            self.paused.data = {k: v for k, v in self.paused.data.items() if k != PAUSED}
            self.paused.updated_at = self.now
            self.paused.expires_at = self.now + conv.timeout
            self.active, self.paused = self.paused, None


@dataclass(frozen=True)
class Loaded:
    active: ConversationState | None = None
    paused: ConversationState | None = None
    expired: ConversationState | None = None  # lapsed while the resident was in it


def load_active(session: Session, resident: Resident, now: datetime) -> Loaded:
    """The resident's live conversation, the one they left for another subject, or the one
    that just lapsed (a paused one lapses quietly: they had moved on)."""
    rows = session.scalars(select(ConversationState).where(ConversationState.resident_id == resident.id)
                           .order_by(ConversationState.updated_at.desc(), ConversationState.id.desc())).all()
    active = paused = expired = None
    for row in rows:
        left = bool((row.data or {}).get(PAUSED))
        if row.expires_at <= now:
            session.delete(row)
            if not left and active is None and expired is None:
                expired = row
        elif left:
            paused = paused or row
        else:
            active = active or row
    return Loaded(active=active, paused=paused, expired=None if active else expired)


def said_ended(reply: Any, content: Any, lang: str, match: Any) -> None:
    """A button of a conversation that is over (finished, stopped, timed out or replaced):
    said so, nothing is done with it, and the service's own button starts afresh."""
    from .messages import Tap

    doc = content.intents().get(match.intent) if match is not None else None
    label = doc.label.get(lang) if doc is not None and doc.label is not None else None
    again = [Tap(label[:20], f"action={match.intent}", label)] if label else []
    reply(content.text("messages.conversation_ended", lang), quick=again)
