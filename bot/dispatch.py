"""What happens to an event after the webhook stored it: the whole path in one file.

    webhook.callback      verify the signature, store the body, 200            (bot/webhook.py)
    Dispatcher.work_once  in a worker process (bot/worker.py), within milliseconds:
      split_bodies        the SDK parses the body; its events go to the inbox once
                          (a redelivered webhookEventId is dropped)            (bot/events.py)
      inbox.claim_next    the oldest event no one holds whose chat has nothing earlier
                          unfinished (one chat's events in order, across processes)
      middleware          guard errors -> logging context -> resident -> the intents' own
                          (Intent(middleware=...), in the order the intents are included: by
                          handler module name) -> conversation
      Router.match        conversation -> postback -> keyword -> fuzzy -> fallback
      handler(...)        gets what it names: resident, session, content, lang, now, reply,
                          push, text, params, location, match, conversation, media (an image
                          event's photo, fetched when called), turn (most of these as one
                          typed object, bot/turn.py), event (the SDK's object, built only
                          for a handler that names it)
      commit              the handler's changes, its pushes (push batches) and its answer
    Dispatcher.deliver    reply with the token, or push once it has expired; retried with
                          the same retry key until LINE accepts or refuses for good

`Dispatcher.handle` is the same path without the inbox and without LINE: `citybot ask`
and the tests use it to see what the bot would say and why.

An event with `mode: standby` belongs to a chat another channel answers (LINE's module
channels): it is stored and ignored, never answered. The one exception is a block
(unfollow): it never gets an answer anyway, and deleting what we keep about a resident who
blocked the account must not depend on which channel was active.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping, Sequence

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from . import events, inbox, upkeep
from .content.easy import unnest_messages
from .turn import Context, Handled, Media, Middleware, Push, Reply
from .db import insert_for
from .conversation import NOT_UNDERSTOOD, RESUME_ACTION, ConversationControl, load_active
from .messages import MAX_QUICK_REPLIES, Tap, text as text_message, with_quick_reply
from .messenger import MAX_MESSAGES, LineError, retry_key_for
from .models import InboxEvent, InboxStatus, Resident
from .router import Incoming, Match, parse_postback
from .statuses import move

log = logging.getLogger(__name__)

MAX_DELIVERY_ATTEMPTS = 10
#: residents.last_seen_at to the hour: a write per message would rewrite the resident's row
#: for nothing, and the hour is all anyone needs of it
LAST_SEEN_GRAIN = timedelta(hours=1)

#: Set while an event is processed; the logging filter adds them to every record.
log_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("citybot_log_context", default={})


def mask_user(user_id: str | None) -> str:
    """A stable pseudonym for logs: enough to follow one resident, never their id."""
    if not user_id:
        return "-"
    return "u:" + hashlib.sha256(user_id.encode()).hexdigest()[:10]


def incoming_of(raw: Mapping[str, Any]) -> Incoming | None:
    """The routable part of a stored event; None for kinds the city bot does not answer.

    Read from the JSON itself: the webhook's SDK parser has validated it before it was
    stored, and the SDK's webhook models take most of a second to import, which every
    `citybot ask` and worker start would pay (a handler that names `event` still gets the
    SDK's object, built when it is called). Raises KeyError, TypeError or AttributeError
    for a shape no webhook stores (the caller skips it as malformed)."""
    kind = raw.get("type")
    if kind == "message":
        message = raw["message"]
        if message["type"] == "text":
            return Incoming("text", text=(message["text"] or "").replace("\x00", ""))  # no database stores NUL
        if message["type"] == "location":
            return Incoming("location", params={"latitude": str(message["latitude"]),
                                                "longitude": str(message["longitude"]),
                                                "title": message.get("title") or "",
                                                "address": message.get("address") or ""})
        if message["type"] == "image" and message["contentProvider"]["type"] == "line":
            image_set = message.get("imageSet")
            return Incoming("image", params={"message_id": str(message["id"]),
                                             **({"set": image_set["id"], "total": str(image_set.get("total") or "")}
                                                if image_set is not None else {})})
        return Incoming("unsupported", params={"type": str(message["type"])})
    if kind == "postback":
        postback = raw["postback"]
        action, params = parse_postback(postback["data"])
        params.update({k: str(v) for k, v in (postback.get("params") or {}).items()})
        return Incoming("postback", action=action, params=params)
    if kind == "follow":
        return Incoming("follow")
    if kind == "unfollow":
        return Incoming("unfollow")
    return None


def user_of(raw: Mapping[str, Any]) -> str | None:
    """The resident an event came from: only a one-to-one chat has one (not a group's member)."""
    source = raw.get("source")
    return source.get("userId") if isinstance(source, dict) and source.get("type") == "user" else None


# -- middleware, outermost first -------------------------------------------------------------
def guard_errors(ctx: Context, call_next: Callable[[], None]) -> None:
    """A failing handler must not lose the event silently: roll back, apologise, record."""
    try:
        call_next()
    except Exception as exc:  # noqa: BLE001 - the guard exists to catch everything
        log.exception("handler failed")
        ctx.session.rollback()
        ctx.error = f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        ctx.reply = Reply()
        ctx.reply(ctx.content.text("messages.error", ctx.lang))


def logging_context(ctx: Context, call_next: Callable[[], None]) -> None:
    token = log_context.set({"event": str(ctx.raw.get("webhookEventId", "-")), "user": mask_user(ctx.user_id),
                             "kind": ctx.incoming.kind})
    try:
        call_next()
    finally:
        log_context.reset(token)


def upsert_resident(ctx: Context, call_next: Callable[[], None]) -> None:
    if ctx.user_id:
        resident = ctx.session.scalars(select(Resident).where(Resident.line_user_id == ctx.user_id)).first()
        if resident is None:  # two first events at once (two web processes): one insert wins
            language = ctx.first_language(ctx.user_id) if ctx.first_language else "ja"
            ctx.session.execute(insert_for(ctx.session, Resident).values(line_user_id=ctx.user_id, language=language, following=True,
                                                        created_at=ctx.now, last_seen_at=ctx.now)
                                .on_conflict_do_nothing(index_elements=["line_user_id"]))
            resident = ctx.session.scalars(select(Resident).where(Resident.line_user_id == ctx.user_id)).one()
        if ctx.now - resident.last_seen_at >= LAST_SEEN_GRAIN:
            resident.last_seen_at = ctx.now
        ctx.resident = resident
        ctx.lang = resident.language
    ctx.push = Push(ctx.session, ctx.now, ctx.user_id, cause=f"event:{ctx.raw.get('webhookEventId', '-')}")
    call_next()


def make_conversation_middleware(conversations: dict[str, Any]) -> Middleware:
    def load_conversation(ctx: Context, call_next: Callable[[], None]) -> None:
        if ctx.resident is not None:
            loaded = load_active(ctx.session, ctx.resident, ctx.now)
            ctx.conversation = ConversationControl(ctx.session, ctx.resident, ctx.now, conversations,
                                                   loaded.active, loaded.paused)
            lapsed = conversations.get(loaded.expired.conversation) if loaded.expired else None
            if lapsed is not None and lapsed.expired_text:
                ctx.notices.append(lapsed.expired_text)
        call_next()
    return load_conversation


def with_banner(line: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The banner first: its own message when there is room, else on top of the first text."""
    if len(messages) < MAX_MESSAGES:
        return [text_message(line), *messages]
    for index, message in enumerate(messages):
        if message.get("type") == "text":
            return [*messages[:index], {**message, "text": f"{line}\n\n{message['text']}"[:5000]},
                    *messages[index + 1:]]
    return messages


# -- the dispatcher --------------------------------------------------------------------------
class Dispatcher:
    def __init__(self, services: Any, middleware: Sequence[Middleware] | None = None):
        self.services = services
        self.router = services.router
        self.middleware = list(middleware) if middleware is not None else [
            guard_errors, logging_context, upsert_resident, *self.router.middleware,
            make_conversation_middleware(self.router.conversations),
        ]
        self._queue_vacuum: upkeep.QueueVacuum | None = None

    # the same path without inbox and LINE (citybot ask, tests)
    def handle(self, session: Session, raw: dict[str, Any], lang: str | None = None,
               first_language: Callable[[str], str] | None = None) -> Handled:
        incoming = incoming_of(raw)
        if incoming is None:
            return Handled([], None)
        ctx = Context(raw=raw, incoming=incoming, session=session,
                      content=self.services.content.current(), now=self.services.now(), user_id=user_of(raw),
                      config=self.services.config, first_language=first_language)
        if incoming.kind == "image":
            ctx.media = Media(self.services.messenger, incoming.params["message_id"],
                              int(self.services.config.media_max_mb * 1024 * 1024))

        def route_and_call() -> None:
            if lang:
                ctx.lang = lang
            control = ctx.conversation
            ctx.match = self.router.match(ctx.incoming, ctx.content, control.active if control else None,
                                          control.paused if control else None)
            if control is not None and ctx.match.how == "resume":
                control.resume()
            if control is not None and ctx.match.leaving:
                control.pause()
            if self._call(ctx, ctx.match) is NOT_UNDERSTOOD and ctx.match.instead is not None and control:
                # the step did not take it, and it clearly names another service: that one answers
                control.pause()
                ctx.reply, ctx.match = Reply(), ctx.match.instead
                self._call(ctx, ctx.match)

        chain = route_and_call
        for middleware in reversed(self.middleware):
            chain = (lambda mw, nxt: (lambda: mw(ctx, nxt)))(middleware, chain)
        chain()
        if ctx.match is not None and ctx.match.leaving and ctx.conversation and ctx.conversation.paused:
            self._offer_resume(ctx, ctx.match.leaving)
        messages = [text_message(ctx.content.text(key, ctx.lang)) for key in ctx.notices] + ctx.reply.messages
        if ctx.banner:
            messages = with_banner(ctx.banner, messages)
        if ctx.lang == "easy_ja":  # data filled into a text can nest brackets the content did not
            messages = unnest_messages(messages)
        return Handled(messages[:MAX_MESSAGES], ctx.match, ctx.error, ctx.lang)

    def _call(self, ctx: Context, match: Match) -> Any:
        outcome = None
        for handler in (match.handler, *match.then):
            outcome = handler(**ctx.dependencies(self.router.parameters(handler)))
        return outcome

    def _offer_resume(self, ctx: Context, name: str) -> None:
        """The answer of the other subject ends with a button back to where they were."""
        conv = self.router.conversations[name]
        messages = ctx.reply.messages
        if not conv.resume_label or not messages:
            return
        label = ctx.content[conv.intent].labels[conv.resume_label].get(ctx.lang)[:20]
        back = Tap(label, f"action={RESUME_ACTION}&name={name}", label)
        chips = [item["action"] for item in messages[-1].get("quickReply", {}).get("items", [])]
        taps = [back] + [Tap(a["label"], a["data"], a.get("displayText")) for a in chips
                         if a.get("type") == "postback"][:MAX_QUICK_REPLIES - 1]
        others = [{"type": "action", "action": a} for a in chips if a.get("type") != "postback"]
        if len(taps) + len(others) > MAX_QUICK_REPLIES:
            taps = taps[:MAX_QUICK_REPLIES - len(others)]
        message = with_quick_reply(messages[-1], taps)
        message["quickReply"]["items"] = message["quickReply"]["items"] + others
        messages[-1] = message

    # the webhook path, in the worker processes
    def split_bodies(self, limit: int = 50, connection: Connection | None = None) -> int:
        """Move stored webhook bodies' events into the inbox; the number of bodies taken."""
        services = self.services
        with services.spool.take(limit, connection) as bodies:
            if bodies:
                with services.sessions(**({"bind": connection} if connection is not None else {})) as session:
                    duplicates = inbox.store_received(session, (
                        (raw, datetime.fromtimestamp(body.received_ms / 1000, timezone.utc))
                        for body in bodies for raw in events.events_of(body.text))).duplicates
                    session.commit()
                if duplicates:
                    log.info("dropped %d redelivered event(s)", duplicates)
        return len(bodies)

    def work_once(self) -> bool:
        """Split what came in, then answer one event; False when there was nothing to do.

        The round holds one connection from start to end: taken from the pool each time a
        transaction began, it was pinged each time (pool_pre_ping), a round trip before
        each of the round's five transactions. The price: a connection the server dropped
        during a slow call to LINE fails the commit after it, and the event waits for its
        lease to lapse (its answer was sent; the next claim only finishes the row)."""
        services = self.services
        with services.engine.connect() as connection:
            try:
                split = self.split_bodies(connection=connection)
            except Exception:  # noqa: BLE001 - the bodies stay; the next round splits them
                log.exception("splitting stored webhook bodies failed; they stay for the next round")
                split = 0
            try:
                with services.sessions(bind=connection) as session:
                    row = inbox.claim_next(session, services.now(),
                                           timedelta(seconds=services.config.inbox_lease_seconds))
                    if row is not None:
                        self._work(session, row)
            except Exception:  # noqa: BLE001 - never kill the worker thread; the lease lets it go again
                log.exception("processing an inbox event failed; it will be retried")
                return True
        return bool(split) or row is not None

    def drain(self, rounds: int = 10_000) -> int:
        """Everything stored so far, answered in this thread (tests, `citybot sweep`); the
        number of rounds that found work."""
        for done in range(rounds):
            if not self.work_once():
                return done
        return rounds

    def process(self, inbox_id: int) -> None:
        services = self.services
        config = services.config
        try:
            with services.sessions() as session:
                row = inbox.claim(session, inbox_id, services.now(), timedelta(seconds=config.inbox_lease_seconds))
                if row is None:
                    return  # processed elsewhere, or already finished: a duplicate
                self._work(session, row)
        except Exception:  # noqa: BLE001 - never kill the worker thread; the sweep retries
            log.exception("processing inbox event %s failed; it will be retried", inbox_id)

    def _work(self, session: Session, row: InboxEvent) -> None:
        marked = self._answer(session, row) if row.status == InboxStatus.PROCESSING else False
        if row.status in (InboxStatus.ANSWERED, InboxStatus.DELIVERING):
            self.deliver(session, row, marked=marked)

    def _answer(self, session: Session, row: InboxEvent) -> bool:
        """Answer the event and commit the answer; True when the commit also put the reply
        attempt on record (see `deliver`): one commit fewer per resident's message."""
        raw = row.payload or {}
        try:
            incoming = incoming_of(raw)
        except Exception as exc:  # noqa: BLE001 - malformed events are skipped, not fatal
            log.warning("skipping malformed %s event %s: %s", row.event_type, row.webhook_event_id,
                        str(exc).splitlines()[0][:200])
            inbox.finish(row, InboxStatus.FAILED, self.services.now(), f"malformed: {str(exc)[:500]}")
            session.commit()
            return False
        standby = raw.get("mode") == "standby"
        if incoming is None or (standby and incoming.kind != "unfollow"):
            log.info("ignoring %s event %s%s", row.event_type, row.webhook_event_id,
                     " (standby: another channel answers this chat)" if standby else "")
            inbox.finish(row, InboxStatus.IGNORED, self.services.now())
            session.commit()
            return False
        handled = self.handle(session, raw, first_language=lambda user_id: self._language_outside(session, user_id))
        row = session.get(InboxEvent, row.id)  # the guard may have rolled back the session
        messages = [] if standby else handled.messages
        row.answer = {"messages": messages, "reply_token": raw.get("replyToken") if incoming.kind != "unfollow" else None,
                      "user_id": user_of(raw), "lang": handled.lang}
        row.error = handled.error
        marked = bool(messages) and self._should_reply(row, row.answer, self.services.now())
        if marked:
            row.answer = {**row.answer, "reply_maybe_sent": True}
        if messages:
            move(row, InboxStatus.DELIVERING)
        else:
            inbox.finish(row, InboxStatus.FAILED if handled.error else InboxStatus.DONE, self.services.now(),
                         handled.error)
        session.commit()
        return marked

    def _language_outside(self, session: Session, user_id: str) -> str:
        """A new resident's language, asked of LINE with no transaction open: the read that
        found no resident ends first, so neither PostgreSQL's snapshot nor SQLite's WAL
        waits on LINE's answer, which may take up to the API timeout. Nothing is lost by
        ending it: the claim was committed before, and nothing has been written since (the
        middleware before the resident's upsert writes nothing; should that change, the
        transaction is left open rather than a handler's changes committed half-way)."""
        if not (session.new or session.dirty or session.deleted):
            session.commit()
        return self.profile_language(user_id)

    def profile_language(self, user_id: str) -> str:
        """The language a new resident's LINE is set to (Get profile): English for anyone
        whose LINE is not in Japanese, so their very first answer is one they can read.
        LINE unreachable: Japanese, as before; they can still choose with 「言語」."""
        try:
            language = str(self.services.messenger.profile(user_id).get("language") or "ja")
        except Exception as exc:  # noqa: BLE001 - a greeting in Japanese beats no greeting
            log.warning("profile of a new resident not read (%s); answering in Japanese", exc.__class__.__name__)
            return "ja"
        return "ja" if language.lower().startswith("ja") else "en"

    def deliver(self, session: Session, row: InboxEvent, *, marked: bool = False) -> None:
        """Send the stored answer: reply while the token lives, else a push (never twice).

        A reply takes no retry key, so LINE cannot say "already have it" the way it does
        for a push; what it does say is that a reply token works once. So each reply
        attempt is on record (`reply_maybe_sent`, committed) before it leaves, and an
        attempt whose outcome we never learnt (the process died, LINE's answer was lost or
        late) is followed by a reply with the same token, whatever our clock thinks of
        its age: accepted means the earlier attempt never arrived, and now it has;
        "Invalid reply token" means it did arrive, or that the token expired, which LINE
        says in the same words. Then nothing is pushed: the attempt was sent, so it most
        likely arrived, and a push would most likely say it twice (an answer is lost only
        if the process died between this commit and the request reaching LINE and came
        back after the token's life). A token refused when no attempt is in doubt is a
        clean failure: the answer goes by push.

        `marked`: `_answer` found the token young and committed the answer with this
        attempt already on record, so the mark is this attempt's, not an earlier one's.
        """
        answer = dict(row.answer or {})
        if marked:
            answer.pop("reply_maybe_sent", None)
        now = self.services.now()
        final = InboxStatus.FAILED if row.error else InboxStatus.DONE
        try:
            in_doubt = bool(answer.get("reply_maybe_sent"))
            if marked or self._should_reply(row, answer, now):
                if not in_doubt and not marked:
                    row.answer = {**answer, "reply_maybe_sent": True}
                    session.commit()  # on record before it leaves: a crash now leaves a doubt, not a duplicate
                try:
                    self.services.messenger.reply(answer["reply_token"], answer["messages"])
                except LineError as err:
                    if 400 <= err.status < 500 and not in_doubt:  # refused: this attempt delivered nothing
                        row.answer = answer
                    if not err.invalid_reply_token:
                        raise
                    log.info("reply token of %s refused%s", row.webhook_event_id,
                             "" if in_doubt else "; pushing instead")
                    answer = {**(row.answer or answer), "token_failed": True}
                    row.answer = answer
                else:
                    inbox.finish(row, final, now, row.error)
                    session.commit()
                    return
            if answer.get("reply_maybe_sent"):
                # pushing now could say it twice; rather say it once (see above)
                log.warning("answer to %s may have been replied already; not pushing it again", row.webhook_event_id)
                inbox.finish(row, final, now, row.error)
                session.commit()
                return
            if not answer.get("user_id"):
                inbox.finish(row, InboxStatus.FAILED, now, "answer undeliverable: reply token expired and no user id")
            else:
                self.services.messenger.push(answer["user_id"], self._late(answer),
                                             retry_key_for("answer", row.webhook_event_id))
                inbox.finish(row, final, now, row.error)
        except LineError as err:
            if err.already_accepted:
                inbox.finish(row, final, now, row.error)
            elif err.retryable and row.attempts < MAX_DELIVERY_ATTEMPTS:
                move(row, InboxStatus.ANSWERED)
                log.warning("answer to %s not delivered yet (%s); will retry", row.webhook_event_id, err)
            else:
                inbox.finish(row, InboxStatus.FAILED, now, str(err))
                log.error("answer to %s failed: %s", row.webhook_event_id, err)
        session.commit()

    def _should_reply(self, row: InboxEvent, answer: dict[str, Any], now: datetime) -> bool:
        """A token not yet refused, young enough by our clock, or owed a second try to
        learn what became of an attempt in doubt (LINE, not our clock, judges its age)."""
        if not answer.get("reply_token") or answer.get("token_failed"):
            return False
        if answer.get("reply_maybe_sent"):
            return True
        return (now - row.occurred_at).total_seconds() < self.services.config.reply_token_ttl

    def _late(self, answer: dict[str, Any]) -> list[dict[str, Any]]:
        """A pushed answer arrives late: say so first, when there is room for it."""
        messages = answer["messages"]
        if len(messages) >= MAX_MESSAGES:
            return messages
        note = self.services.content.current().text("messages.late_answer", answer.get("lang", "ja"))
        return [text_message(note), *messages]

    # the safety net: events and pushes nobody is working on
    def sweep(self) -> int:
        services, config = self.services, self.services.config
        now = services.now()
        with services.sessions() as session:
            ids = inbox.deferred(session, now, older_than=timedelta(seconds=max(config.inbox_sweep_seconds, 1) * 2))
            inbox.prune(session, now, timedelta(hours=config.inbox_retention_hours))
            session.commit()
        for inbox_id in ids:
            self.process(inbox_id)
        try:
            if self._queue_vacuum is None:
                self._queue_vacuum = upkeep.QueueVacuum(services.engine)
            self._queue_vacuum(config.queue_vacuum_dead_rows)
        except Exception:  # noqa: BLE001 - a lean table is an optimisation; the next sweep tries again
            log.exception("vacuuming the queue tables failed")
        return len(ids)
