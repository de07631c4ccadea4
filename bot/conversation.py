"""Multi-step conversations as explicit state machines kept in the database.

A conversation (say, booking a pickup) is a set of named states, each with the handler
that answers the resident's next message in that state. Where a resident is lives in
`conversation_states` (resident x conversation, with an expiry), written in the same
transaction as the step's other effects, so a restart resumes exactly where they were and
a step is never half done.
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
                 action_prefix: str | None = None, expired_text: str | None = None):
        self.name = name
        self.intent = intent
        self.timeout = timeout
        self.action_prefix = action_prefix if action_prefix is not None else f"{name}."
        self.expired_text = expired_text
        self._steps: dict[tuple[str, str], Handler] = {}

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
        return list(dict.fromkeys(self._steps.values()))

    def owns_action(self, action: str) -> bool:
        return bool(self.action_prefix) and action.startswith(self.action_prefix)

    def answer(self, event: Any, params: dict[str, str], text: str) -> Answer:
        """The step's input, read the same way by every conversation."""
        from linebot.v3.webhooks import PostbackEvent

        from .router import parse_postback

        action = parse_postback(event.postback.data)[0] if isinstance(event, PostbackEvent) else ""
        return Answer(action.removeprefix(self.action_prefix), params, text)


@dataclass
class ConversationControl:
    """What a handler gets as `conversation`: read and move the resident's state."""

    session: Session
    resident: Resident
    now: datetime
    conversations: dict[str, Conversation]
    active: ConversationState | None = None

    @property
    def state(self) -> str | None:
        return self.active.state if self.active else None

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.active.data) if self.active else {}

    def start(self, name: str, state: str, **data: Any) -> None:
        conv = self.conversations[name]
        self.session.execute(delete(ConversationState).where(ConversationState.resident_id == self.resident.id))
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


def load_active(session: Session, resident: Resident, now: datetime) -> tuple[ConversationState | None, ConversationState | None]:
    """(active, expired): the resident's live conversation, or the one that just lapsed."""
    row = session.scalars(select(ConversationState).where(ConversationState.resident_id == resident.id)
                          .order_by(ConversationState.updated_at.desc())).first()
    if row is None:
        return None, None
    if row.expires_at <= now:
        session.delete(row)
        return None, row
    return row, None
