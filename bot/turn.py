"""One turn of a conversation with a resident: everything about one event while it is handled.

The dispatcher (bot/dispatch.py) builds a `Context` per event, the middleware fill it in
(the resident, their language, their conversation), and a handler receives the parts it
names (`Context.dependencies`). A handler that needs most of them (a conversation's step:
who, in which language, where in the conversation, the database, the clock) names `turn`
instead, one typed object, rather than seven loose parameters. `Reply` and `Push` are
how a handler answers: never by calling LINE itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from sqlalchemy.orm import Session

from . import delivery
from .content.store import Content
from .conversation import ConversationControl
from .messages import Tap, with_quick_reply
from .messages import text as text_message
from .messenger import MAX_MESSAGES
from .models import Resident
from .router import Incoming, Match

if TYPE_CHECKING:
    from linebot.v3.webhooks import Event


class Reply:
    """The `reply` dependency: collects the answer; strings become text messages."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def __call__(self, *messages: str | dict[str, Any], quick: Sequence[Tap] = ()) -> None:
        built = [text_message(m) if isinstance(m, str) else dict(m) for m in messages]
        if quick and built:
            built[-1] = with_quick_reply(built[-1], quick)
        if len(self.messages) + len(built) > MAX_MESSAGES:
            raise ValueError(f"a reply holds at most {MAX_MESSAGES} messages")
        self.messages.extend(built)


class Push:
    """The `push` dependency: a push stored in the handler's own transaction.

    `push("...")` goes to the resident of the event; `push(..., to=[userIds])` to others.
    The workers send it after the handler's transaction commits, and never if it rolls back.
    """

    def __init__(self, session: Session, now: datetime, default_to: str | None, cause: str = "handler"):
        self._session, self._now, self._default_to, self._cause = session, now, default_to, cause
        self.push_ids: list[int] = []

    def __call__(self, *messages: str | dict[str, Any], to: Sequence[str] | None = None, urgent: bool = False) -> int:
        recipients = list(to) if to is not None else ([self._default_to] if self._default_to else [])
        if not recipients:
            raise ValueError("push() needs recipients")
        built = [text_message(m) if isinstance(m, str) else dict(m) for m in messages]
        push_id = delivery.create_push(self._session, source_key=f"{self._cause}:{uuid.uuid4()}", kind="handler",
                                       messages={"*": built}, recipients=delivery.to_residents(recipients),
                                       now=self._now, urgent=urgent)
        assert push_id is not None  # a fresh uuid cannot collide
        self.push_ids.append(push_id)
        return push_id


class Media:
    """The `media` dependency of an image event: `media()` fetches the photo from LINE's
    data endpoint (bot.messenger) and returns (bytes, content type). LINE keeps it only for
    a while, so a handler that wants it asks at once; nothing is fetched unless it asks.
    Raises LineError when LINE has it no longer or it is larger than `max_bytes`."""

    def __init__(self, messenger: Any, message_id: str, max_bytes: int):
        self._messenger, self.message_id, self.max_bytes = messenger, message_id, max_bytes

    def __call__(self) -> tuple[bytes, str]:
        return self._messenger.message_content(self.message_id, self.max_bytes)


@dataclass(frozen=True)
class Turn:
    """The `turn` dependency: one resident's event, as the handler sees it."""

    reply: Reply
    push: Push | None
    content: Content
    lang: str
    resident: Resident
    conversation: ConversationControl
    now: datetime
    session: Session
    config: Any
    kind: str = "text"  # text | postback | location | image | ...
    text: str = ""
    action: str = ""  # a tap's action (postback data's `action=`)
    params: Mapping[str, str] = field(default_factory=dict)
    media: Media | None = None

    def say(self, key: str, **values: Any) -> str:
        """A content text (`intent.key`) in the resident's language."""
        return self.content.text(key, self.lang, **values)

    @property
    def location(self) -> dict[str, Any] | None:
        return dict(self.params) if self.kind == "location" else None


@dataclass
class Context:
    """Everything about one event while it is being handled."""

    raw: dict[str, Any]
    incoming: Incoming
    session: Session
    content: Content
    now: datetime
    user_id: str | None
    reply: Reply = field(default_factory=Reply)
    resident: Resident | None = None
    lang: str = "ja"
    conversation: ConversationControl | None = None
    match: Match | None = None
    push: Push | None = None
    notices: list[str] = field(default_factory=list)  # content keys said before the answer
    banner: str | None = None  # one line before everything else (set by an intent's middleware)
    error: str | None = None
    config: Any = None
    first_language: Callable[[str], str] | None = None  # a new resident's language (LINE's profile)
    media: Media | None = None
    _event: Event | None = field(default=None, init=False, repr=False)

    @property
    def event(self) -> Event:
        """The SDK's model of the event, built the first time a handler names `event`: the
        engine reads the stored JSON (`incoming`), and the SDK's webhook models take most
        of a second to import, which a process that never needs them should not pay."""
        if self._event is None:
            from linebot.v3.webhooks import Event

            self._event = Event.from_dict(self.raw)
        return self._event

    def dependencies(self, names: Iterable[str]) -> dict[str, Any]:
        """What a handler named, by name (each one is in router.INJECTABLE)."""
        location = None
        if self.incoming.kind == "location":
            location = dict(self.incoming.params)
        available = {
            "resident": self.resident, "session": self.session,
            "content": self.content, "lang": self.lang, "now": self.now, "reply": self.reply,
            "push": self.push, "text": self.incoming.text, "params": dict(self.incoming.params),
            "location": location, "match": self.match, "conversation": self.conversation,
            "config": self.config, "media": self.media,
        }
        lazy = {"event": lambda: self.event, "turn": self.turn}  # built only for a handler that names them
        return {name: lazy[name]() if name in lazy else available[name] for name in names}

    def turn(self) -> Turn | None:
        if self.resident is None or self.conversation is None:
            return None  # an event without a resident (a group, an unfollow already forgotten)
        return Turn(self.reply, self.push, self.content, self.lang, self.resident, self.conversation, self.now,
                    self.session, self.config, self.incoming.kind, self.incoming.text, self.incoming.action,
                    dict(self.incoming.params), self.media)


@dataclass(frozen=True)
class Handled:
    messages: list[dict[str, Any]]
    match: Match | None
    error: str | None = None
    lang: str = "ja"


Middleware = Callable[[Context, Callable[[], None]], None]
