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
  - a button of a conversation that has ended (or lapsed): said so, nothing is done.
  - the timeout and its message (`expired_text`), shown once on the next message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, ClassVar, Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .models import ConversationState, Resident

Handler = Callable[..., Any]
STEP_KINDS = ("text", "postback", "location", "image")

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


@dataclass(frozen=True)
class Answer:
    """What the resident sent in a step: a tap (`verb`, the postback action without the
    conversation's prefix, and its params) or typed text (`verb` empty)."""

    verb: str
    params: dict[str, str]
    text: str


class Phrasebook:
    """What a conversation's step flow says, in one place: `say`, `note`, `chip`, `means`.

    Mixed into a handler's flow object, which provides `content`, `lang` and `notes`; the
    texts, button labels and command words live in content/<intent>.yaml.
    """

    intent: ClassVar[str]

    def say(self, key: str, **values: Any) -> str:
        return self.content.text(f"{self.intent}.{key}", self.lang, **values)  # type: ignore[attr-defined]

    def note(self, key: str, **values: Any) -> None:
        self.notes.append(self.say(key, **values))  # type: ignore[attr-defined]

    def chip(self, key: str, data: str) -> Any:
        from .messages import Tap

        label = self.content[self.intent].labels[key].get(self.lang)  # type: ignore[attr-defined]
        label = self.content.fill(label, self.lang)[:20]  # type: ignore[attr-defined]  # {division}: 区, 地区
        return Tap(label, data, label)

    def means(self, command: str, answer: Answer) -> bool:
        """Typed text (not a tap) that is one of the command's words (やめる, スキップ...)."""
        return not answer.verb and self.content[self.intent].means(command, answer.text)  # type: ignore[attr-defined]


class Conversation:
    def __init__(self, name: str, intent: str, *, timeout: timedelta = timedelta(minutes=30),
                 action_prefix: str | None = None, expired_text: str | None = None,
                 free_text: Iterable[str] = (), resume_label: str | None = None):
        self.name = name
        self.intent = intent
        self.timeout = timeout
        self.action_prefix = action_prefix if action_prefix is not None else f"{name}."
        self.expired_text = expired_text
        self.free_text = frozenset(free_text)  # states whose question takes any words
        self.resume_label = resume_label  # key of the 「…に戻る」 label in the intent's content
        self.resumer: Handler | None = None
        self._steps: dict[tuple[str, str], Handler] = {}

    def on_resume(self, handler: Handler) -> Handler:
        """Register what asks the current question again when a paused conversation is picked up."""
        if self.resumer is not None:
            raise ValueError(f"{self.name} already has a resume handler")
        self.resumer = handler
        return handler

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
        return list(dict.fromkeys([*self._steps.values(), *([self.resumer] if self.resumer else [])]))

    def takes_any_words(self, state: str) -> bool:
        return state in self.free_text

    def owns_action(self, action: str) -> bool:
        return bool(self.action_prefix) and action.startswith(self.action_prefix)

    def answer(self, incoming: Any, params: dict[str, str], text: str) -> Answer:
        """The step's input, read the same way by every conversation, from the turn's
        `incoming` (a step that still names `event` passes the SDK's event: read alike)."""
        from .router import parse_postback

        if hasattr(incoming, "kind"):
            action = incoming.action if incoming.kind == "postback" else ""
        else:
            postback = getattr(incoming, "postback", None)
            action = parse_postback(postback.data)[0] if postback is not None else ""
        return Answer(action.removeprefix(self.action_prefix), params, text)


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


def said_ended(reply: Any, content: Any, lang: str) -> None:
    """A button of a conversation that is over (finished, stopped, timed out or replaced):
    said so, and nothing is done with it."""
    reply(content.text("messages.conversation_ended", lang))
