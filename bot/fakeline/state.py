"""The fake LINE platform's memory: users, reply tokens, deliveries, rich menus, faults.

`FakeLine` holds every piece of state behind one lock and implements what LINE does with a
request once it has been authenticated and validated (app.py does that part). Its methods
raise `LineError` with LINE's status and body when LINE would refuse. The same object is
the inspection API for in-process tests (`messages_for`, `requests`, `inject`, ...).
What it keeps is described in records.py; the rich menu endpoints are in richmenus.py.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from typing import Any, Callable, Iterable

from bot.fakeline.records import (
    AUTH_FAILED,
    MAX_CONTENT_BYTES,
    QUOTABLE_TYPES,
    USER_ID,
    AcceptedKey,
    FakeLineSettings,
    Fault,
    LineError,
    MessageContent,
    ReplyToken,
    RichMenu,
    User,
    bad_request,
    iso_time,
    not_found,
    request_id,
)
from bot.fakeline.richmenus import RichMenus

PURGE_THRESHOLD = 10_000  # expired reply tokens / retry keys are dropped past this many

#: what app.py, server.py and the tests take from here (the records live in records.py)
__all__ = ["AUTH_FAILED", "PURGE_THRESHOLD", "FakeLine", "FakeLineSettings", "LineError", "bad_request", "not_found",
           "request_id"]


class FakeLine(RichMenus):
    """In-memory LINE platform for one channel. Thread-safe: one re-entrant lock guards
    everything, and delivery-side operations run entirely under it, so a retry racing its
    original can never deliver twice."""

    def __init__(self, settings: FakeLineSettings | None = None):
        self.settings = settings or FakeLineSettings()
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._fault_ids = itertools.count(1)
        self._clear()

    def _clear(self) -> None:
        self._users: dict[str, User] = {}
        self._reply_tokens: dict[str, ReplyToken] = {}
        self._accepted_keys: dict[str, AcceptedKey] = {}
        self._messages: list[dict[str, Any]] = []
        self._messages_by_user: dict[str, list[dict[str, Any]]] = {}
        self._requests: list[dict[str, Any]] = []
        self._narrowcasts: dict[str, dict[str, Any]] = {}
        self._rich_menus: dict[str, RichMenu] = {}
        self._user_menus: dict[str, str] = {}
        self._default_menu: str | None = None
        self._aliases: dict[str, str] = {}
        self._faults: list[Fault] = []
        self._windows: dict[str, tuple[int, int]] = {}
        self._usage = 0
        self._purge_at = PURGE_THRESHOLD
        self._message_ids = itertools.count(500_000_000_000_000_000 + secrets.randbelow(10**15))
        self._contents: dict[str, MessageContent] = {}

    def now(self) -> float:
        return self.settings.clock()

    # -- users (inspection/control) ------------------------------------------------------
    def add_user(self, display_name: str = "テストユーザー", user_id: str | None = None,
                 language: str = "ja", following: bool = True,
                 picture_url: str | None = None) -> str:
        """Create (or update) a LINE user; returns its id (`U` + 32 hex if not given)."""
        user_id = user_id or "U" + secrets.token_hex(16)
        if not USER_ID.match(user_id):
            raise ValueError(f"a LINE user id is U followed by 32 lowercase hex digits: {user_id!r}")
        with self._lock:
            self._users[user_id] = User(user_id, display_name, language, following, picture_url)
        return user_id

    def user(self, user_id: str) -> User:
        with self._lock:
            if user_id not in self._users:
                raise KeyError(user_id)
            return self._users[user_id]

    def users(self) -> list[dict[str, Any]]:
        with self._lock:
            return [u.to_dict() for u in self._users.values()]

    def follow(self, user_id: str) -> None:
        """The user adds (or unblocks) the account."""
        with self._lock:
            self.user(user_id).following = True

    def unfollow(self, user_id: str) -> None:
        """The user blocks the account: LINE then accepts sends to them silently."""
        with self._lock:
            self.user(user_id).following = False

    block = unfollow

    def followers(self) -> list[str]:
        with self._lock:
            return [u.user_id for u in self._users.values() if u.following]

    # -- reply tokens ---------------------------------------------------------------------
    def mint_reply_token(self, user_id: str) -> str:
        """What LINE puts in a webhook event: a single-use token bound to this user."""
        self.user(user_id)
        token = secrets.token_hex(16)
        with self._lock:
            self._reply_tokens[token] = ReplyToken(user_id, self.now())
            self._purge_expired()
        return token

    def _purge_expired(self) -> None:
        """Drop dead reply tokens and retry keys once there are many, so a long benchmark
        does not grow memory without bound (checked rarely: the threshold doubles)."""
        if len(self._reply_tokens) + len(self._accepted_keys) < self._purge_at:
            return
        now, settings = self.now(), self.settings
        self._reply_tokens = {t: e for t, e in self._reply_tokens.items()
                              if not e.used and now - e.issued_at <= settings.reply_token_ttl}
        self._accepted_keys = {k: a for k, a in self._accepted_keys.items()
                               if now - a.accepted_at <= settings.retry_key_ttl}
        self._purge_at = max(PURGE_THRESHOLD,
                             2 * (len(self._reply_tokens) + len(self._accepted_keys)))

    def _claim_reply_token(self, token: str) -> str:
        entry = self._reply_tokens.get(token)
        fresh = entry is not None and self.now() - entry.issued_at <= self.settings.reply_token_ttl
        if not fresh or entry.used:
            raise bad_request("Invalid reply token")
        entry.used = True
        return entry.user_id

    # -- request bookkeeping (called by app.py) ---------------------------------------------
    def authorized(self, authorization: str | None) -> bool:
        expected = f"Bearer {self.settings.access_token}"
        return secrets.compare_digest((authorization or "").encode(), expected.encode())

    def count_attempt(self, endpoint: str) -> bool:
        """Count one request against the endpoint's fixed-window limit; True if it is over
        the limit (the attempt still counts, as on LINE)."""
        limit, window = self.settings.rate_limits.get(
            endpoint, self.settings.rate_limits.get("*", (2000, 1.0)))
        slot = int(self.now() // window)
        with self._lock:
            current, count = self._windows.get(endpoint, (slot, 0))
            count = count + 1 if current == slot else 1
            self._windows[endpoint] = (slot, count)
            return count > limit

    def take_faults(self, endpoint: str) -> list[Fault]:
        """The faults that apply to this request, each use counted down: every matching
        latency-only fault, plus the oldest matching failing one (so two `count=1`
        failures make two requests fail, not one)."""
        with self._lock:
            matching = [f for f in self._faults if f.matches(endpoint)]
            failing = [f for f in matching if f.fails]
            taken = [f for f in matching if not f.fails] + failing[:1]
            for fault in taken:
                if fault.remaining is not None:
                    fault.remaining -= 1
            self._faults = [f for f in self._faults if f.remaining is None or f.remaining > 0]
            return taken

    def record_request(self, **entry: Any) -> dict[str, Any]:
        """Remember one API request (method, path, status, valid, errors, userAgent, ...)."""
        with self._lock:
            entry = {"seq": len(self._requests) + 1, "at": self.now(), **entry}
            self._requests.append(entry)
            self._changed.notify_all()
            return entry

    # -- retry keys -----------------------------------------------------------------------
    def _refuse_spent_key(self, retry_key: str | None, echo_sent: bool) -> None:
        if retry_key is None:
            return
        accepted = self._accepted_keys.get(retry_key)
        if accepted is None or self.now() - accepted.accepted_at > self.settings.retry_key_ttl:
            return
        body: dict[str, Any] = {"message": "The retry key is already accepted"}
        if echo_sent and accepted.sent_messages:
            body["sentMessages"] = accepted.sent_messages
        raise LineError(409, body, {"x-line-accepted-request-id": accepted.request_id})

    def _spend_key(self, retry_key: str | None, request_id: str,
                   sent: list[dict[str, str]] | None) -> None:
        if retry_key is not None:
            self._accepted_keys[retry_key] = AcceptedKey(request_id, self.now(), sent)
            self._purge_expired()

    # -- delivery -------------------------------------------------------------------------
    def _sent_message(self, message: dict[str, Any]) -> dict[str, str]:
        sent = {"id": str(next(self._message_ids))}
        if message.get("type") in QUOTABLE_TYPES:
            sent["quoteToken"] = secrets.token_urlsafe(48)
        return sent

    def _deliver(self, user_id: str, messages: list[dict[str, Any]], via: str,
                 request_id: str) -> list[dict[str, str]]:
        """Record the messages as received by a following user; a user who blocked the
        account (or is unknown to a multicast) silently gets nothing, as on LINE."""
        sent = [self._sent_message(m) for m in messages]
        user = self._users.get(user_id)
        if user is None or not user.following:
            return sent
        inbox = self._messages_by_user.setdefault(user_id, [])
        for message, ids in zip(messages, sent):
            record = {"seq": len(self._messages) + 1, "userId": user_id, "via": via,
                      "message": message, "messageId": ids["id"], "requestId": request_id,
                      "at": self.now()}
            if "quoteToken" in ids:
                record["quoteToken"] = ids["quoteToken"]
            self._messages.append(record)
            inbox.append(record)
        self._changed.notify_all()
        return sent

    def _charge_quota(self, recipients: int) -> None:
        quota = self.settings.monthly_quota
        if quota is not None and self._usage + recipients > quota:
            raise LineError(429, {"message": "You have reached your monthly limit."})
        self._usage += recipients

    def _following(self, user_ids: Iterable[str]) -> list[str]:
        return [u for u in user_ids if u in self._users and self._users[u].following]

    def reply(self, body: dict[str, Any], request_id: str,
              wait: Callable[[], None] | None = None) -> dict[str, Any]:
        """The token is taken on receipt; a slow reply (`wait`, injected latency) is
        delivered afterwards, even if its sender has gone away meanwhile, so a second
        reply with the token while the first is in flight is refused, as on LINE."""
        with self._lock:
            user_id = self._claim_reply_token(body["replyToken"])
        if wait is not None:
            wait()
        with self._lock:
            return {"sentMessages": self._deliver(user_id, body["messages"], "reply", request_id)}

    def push(self, body: dict[str, Any], request_id: str, retry_key: str | None = None) -> dict[str, Any]:
        with self._lock:
            self._refuse_spent_key(retry_key, echo_sent=True)
            to = body["to"]
            if to not in self._users:
                raise bad_request("Failed to send messages")
            self._charge_quota(len(self._following([to])))
            sent = self._deliver(to, body["messages"], "push", request_id)
            self._spend_key(retry_key, request_id, sent)
            return {"sentMessages": sent}

    def multicast(self, body: dict[str, Any], request_id: str, retry_key: str | None = None) -> dict[str, Any]:
        with self._lock:
            self._refuse_spent_key(retry_key, echo_sent=False)
            recipients = list(dict.fromkeys(body["to"]))
            self._charge_quota(len(self._following(recipients)))
            for user_id in recipients:
                self._deliver(user_id, body["messages"], "multicast", request_id)
            self._spend_key(retry_key, request_id, None)
            return {}

    def broadcast(self, body: dict[str, Any], request_id: str, retry_key: str | None = None) -> dict[str, Any]:
        with self._lock:
            self._refuse_spent_key(retry_key, echo_sent=False)
            recipients = self.followers()
            self._charge_quota(len(recipients))
            for user_id in recipients:
                self._deliver(user_id, body["messages"], "broadcast", request_id)
            self._spend_key(retry_key, request_id, None)
            return {}

    def narrowcast(self, body: dict[str, Any], request_id: str, retry_key: str | None = None) -> dict[str, Any]:
        """Delivers to every following user: `recipient` and `filter` are validated but
        not evaluated (the fake has no audiences or demographics); `limit.max` is honoured."""
        with self._lock:
            self._refuse_spent_key(retry_key, echo_sent=False)
            accepted_at = self.now()
            recipients = self.followers()
            limit = (body.get("limit") or {}).get("max")
            if limit is not None:
                recipients = recipients[:limit]
            self._charge_quota(len(recipients))
            for user_id in recipients:
                self._deliver(user_id, body["messages"], "narrowcast", request_id)
            self._narrowcasts[request_id] = {
                "phase": "succeeded", "successCount": len(recipients), "failureCount": 0,
                "targetCount": len(recipients), "acceptedTime": iso_time(accepted_at),
                "completedTime": iso_time(self.now()),
            }
            self._spend_key(retry_key, request_id, None)
            return {}

    def narrowcast_progress(self, request_id: str) -> dict[str, Any]:
        with self._lock:
            if request_id not in self._narrowcasts:
                raise not_found()
            return dict(self._narrowcasts[request_id])

    def quota(self) -> dict[str, Any]:
        if self.settings.monthly_quota is None:
            return {"type": "none"}
        return {"type": "limited", "value": self.settings.monthly_quota}

    def quota_consumption(self) -> dict[str, Any]:
        with self._lock:
            return {"totalUsage": self._usage}

    def profile(self, user_id: str) -> dict[str, Any]:
        """LINE answers 404 for users it does not know and for users who blocked the
        account."""
        with self._lock:
            user = self._users.get(user_id)
            if user is None or not user.following:
                raise not_found()
            return user.profile()

    def bot_info(self) -> dict[str, Any]:
        return {"userId": self.settings.bot_user_id, "basicId": "@citybot",
                "displayName": self.settings.bot_display_name, "chatMode": "bot",
                "markAsReadMode": "auto"}

    def follower_ids(self, limit: int = 300, start: str | None = None) -> dict[str, Any]:
        ids = self.followers()
        offset = int(start) if start and start.isdigit() else 0
        page = ids[offset:offset + limit]
        out: dict[str, Any] = {"userIds": page}
        if offset + limit < len(ids):
            out["next"] = str(offset + limit)
        return out

    # -- what users send: photos ----------------------------------------------------------
    def put_content(self, data: bytes, content_type: str = "image/jpeg") -> str:
        """Keep what a user's image message holds, as LINE does on receipt; returns the
        message id the webhook event carries (`webhook_events.image_event(message_id=...)`),
        which `GET /v2/bot/message/{messageId}/content` then serves."""
        mime = (content_type or "").split(";")[0].strip().lower() or "application/octet-stream"
        if not data:
            raise ValueError("an image message holds at least one byte")
        if len(data) > MAX_CONTENT_BYTES:
            raise ValueError(f"the fake platform keeps contents up to {MAX_CONTENT_BYTES} bytes")
        with self._lock:
            message_id = str(next(self._message_ids))
            self._contents[message_id] = MessageContent(bytes(data), mime, self.now())
        return message_id

    def message_content(self, message_id: str) -> tuple[bytes, str]:
        """(bytes, content type) of a user's message; 404 for an id it never held or once
        the content has expired (LINE deletes it after a while)."""
        with self._lock:
            found = self._contents.get(message_id)
            if found is None or self.now() - found.received_at > self.settings.content_ttl:
                raise not_found()
            return found.data, found.content_type

    # -- inspection -----------------------------------------------------------------------
    def messages_for(self, user_id: str, after: int = 0) -> list[dict[str, Any]]:
        """Messages delivered to one user with seq > after, oldest first."""
        with self._lock:
            return [dict(m) for m in self._messages_by_user.get(user_id, []) if m["seq"] > after]

    def all_messages(self, after: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m) for m in self._messages[max(after, 0):]]

    def last_message_seq(self) -> int:
        with self._lock:
            return len(self._messages)

    def wait_for_messages(self, user_id: str | None = None, count: int = 1, after: int = 0,
                          timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block until at least `count` messages (for `user_id`, or for anyone) with
        seq > after exist, or `timeout` passes; returns what is there. The bot answers
        off the webhook request, so tests need to wait rather than look once."""
        deadline = time.monotonic() + timeout

        def current() -> list[dict[str, Any]]:
            return self.messages_for(user_id, after) if user_id else self.all_messages(after)

        with self._changed:
            found = current()
            while len(found) < count and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
                found = current()
            return found

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._requests]

    def requests_after(self, after: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._requests[max(after, 0):]]

    def invalid_requests(self, user_agent_prefix: str | None = None) -> list[dict[str, Any]]:
        """Requests whose body failed validation, optionally only from one client (e.g.
        `line-bot-sdk-python`): a bot's test suite asserts this stays empty."""
        return [r for r in self.requests if r.get("valid") is False
                and (user_agent_prefix is None
                     or (r.get("userAgent") or "").startswith(user_agent_prefix))]

    # -- faults ---------------------------------------------------------------------------
    def inject(self, endpoint: str = "*", status: int | None = None, count: int | None = None,
               latency: float = 0.0, timeout: bool = False, timeout_seconds: float | None = None,
               lose_response: bool = False) -> int:
        """Make matching requests fail, before anything is delivered:
        - `status=500, count=N`: answer `status` N times (None: until cleared);
        - `latency=s`: wait s seconds, then proceed normally;
        - `timeout=True`: hold the request `timeout_seconds` (longer than the client's
          timeout), then answer 500 without delivering;
        - `lose_response=True`: deliver, then answer 500, so the client cannot know it
          worked — what `X-Line-Retry-Key` exists for.
        Returns the fault id. `status` defaults to 500 unless only latency is asked for."""
        if status is None and (timeout or lose_response or not latency):
            status = 500
        if count is not None and count < 1:
            raise ValueError("count must be at least 1")
        fault = Fault(next(self._fault_ids), endpoint, status, count, float(latency), timeout,
                      timeout_seconds if timeout_seconds is not None
                      else self.settings.timeout_fault_seconds, lose_response)
        with self._lock:
            self._faults.append(fault)
        return fault.fault_id

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults = []

    def reset(self) -> None:
        """Forget everything (users, tokens, messages, requests, menus, faults, counters)."""
        with self._lock:
            self._clear()
            self._changed.notify_all()
