"""The fake LINE platform's memory: users, reply tokens, deliveries, rich menus, faults.

`FakeLine` holds every piece of state behind one lock and implements what LINE does with a
request once it has been authenticated and validated (app.py does that part). Its methods
raise `LineError` with LINE's status and body when LINE would refuse. The same object is
the inspection API for in-process tests (`messages_for`, `requests`, `inject`, ...).
"""

from __future__ import annotations

import io
import itertools
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from PIL import Image, UnidentifiedImageError

from bot.fakeline.spec import DEFAULT_OPENAPI_DIR
from bot.fakeline.webhook_events import DEFAULT_DESTINATION

DEV_ACCESS_TOKEN = "citybot-dev-access-token"
USER_ID = re.compile(r"^U[0-9a-f]{32}$")
MAX_IMAGE_BYTES = 1024 * 1024
MAX_CONTENT_BYTES = 50 * 1024 * 1024  # what the fake keeps of one message a user sends
IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG"}
QUOTABLE_TYPES = {"text", "textV2", "sticker", "image", "video"}
PURGE_THRESHOLD = 10_000  # expired reply tokens / retry keys are dropped past this many
AUTH_FAILED = ("Authentication failed. Confirm that the access token in the authorization "
               "header is valid.")


def default_rate_limits() -> dict[str, tuple[int, float]]:
    """(requests, window seconds) per endpoint name; `*` applies to every other endpoint,
    each counted separately (line-facts.md, "Rate limits")."""
    return {
        "multicast": (200, 1.0),
        "narrowcast": (60, 3600.0),
        "broadcast": (60, 3600.0),
        "richmenu.create": (100, 3600.0),
        "richmenu.delete": (100, 3600.0),
        "richmenu.alias.delete": (100, 3600.0),
        "*": (2000, 1.0),
    }


@dataclass
class FakeLineSettings:
    """How the fake platform behaves; every LINE number that is only M/L-confident in
    line-facts.md is a field here so a test can change it."""

    access_token: str = DEV_ACCESS_TOKEN
    openapi_dir: str = str(DEFAULT_OPENAPI_DIR)
    reply_token_ttl: float = 60.0
    retry_key_ttl: float = 24 * 3600.0
    rate_limits: dict[str, tuple[int, float]] = field(default_factory=default_rate_limits)
    monthly_quota: int | None = None  # None: quota type "none" (unlimited)
    timeout_fault_seconds: float = 15.0  # how long an injected timeout holds the request
    check_image_size: bool = True  # rich menu image must match the menu's size, as LINE asks
    bot_user_id: str = DEFAULT_DESTINATION  # the `destination` of webhooks
    bot_display_name: str = "citybot"
    # how long a user's image stays downloadable; LINE says only "a certain period" (L)
    content_ttl: float = 7 * 24 * 3600.0
    clock: Callable[[], float] = time.time

    @classmethod
    def from_config(cls, config: Any, **overrides: Any) -> "FakeLineSettings":
        """Settings matching a `bot.config.Config` (same token, same spec folder)."""
        values = {"access_token": config.access_token, "openapi_dir": config.openapi_dir}
        values.update(overrides)
        return cls(**values)


class LineError(Exception):
    """A refusal in LINE's words: HTTP status, JSON body and extra headers."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(f"{status} {body.get('message')}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def bad_request(message: str) -> LineError:
    return LineError(400, {"message": message})


def not_found(message: str = "Not found") -> LineError:
    return LineError(404, {"message": message})


@dataclass
class User:
    user_id: str
    display_name: str
    language: str = "ja"
    following: bool = True
    picture_url: str | None = None
    status_message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"userId": self.user_id, "displayName": self.display_name,
                "language": self.language, "following": self.following}

    def profile(self) -> dict[str, Any]:
        """LINE's profile response: optional fields only when set."""
        out = {"userId": self.user_id, "displayName": self.display_name, "language": self.language}
        if self.picture_url:
            out["pictureUrl"] = self.picture_url
        if self.status_message:
            out["statusMessage"] = self.status_message
        return out


@dataclass
class ReplyToken:
    user_id: str
    issued_at: float
    used: bool = False


@dataclass
class AcceptedKey:
    """A retry key spent by an accepted request, and what that request answered."""

    request_id: str
    accepted_at: float
    sent_messages: list[dict[str, str]] | None


@dataclass
class RichMenu:
    rich_menu_id: str
    definition: dict[str, Any]
    image: bytes | None = None
    image_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"richMenuId": self.rich_menu_id, **self.definition}


@dataclass(frozen=True)
class MessageContent:
    """What a user sent as an image (video, audio) message, kept for the data endpoint."""

    data: bytes
    content_type: str
    received_at: float


@dataclass
class Fault:
    """An injected failure for endpoints matching `endpoint` (exact name, a dotted prefix
    such as `richmenu`, or `*`). `remaining` None means until cleared."""

    fault_id: int
    endpoint: str = "*"
    status: int | None = None
    remaining: int | None = None
    latency: float = 0.0
    timeout: bool = False
    timeout_seconds: float = 15.0
    lose_response: bool = False

    @property
    def fails(self) -> bool:
        return bool(self.status or self.timeout or self.lose_response)

    def matches(self, endpoint: str) -> bool:
        return self.endpoint in ("*", endpoint) or endpoint.startswith(self.endpoint + ".")

    def to_dict(self) -> dict[str, Any]:
        return {"faultId": self.fault_id, "endpoint": self.endpoint, "status": self.status,
                "remaining": self.remaining, "latency": self.latency, "timeout": self.timeout,
                "timeoutSeconds": self.timeout_seconds, "loseResponse": self.lose_response}


def iso_time(epoch: float) -> str:
    """LINE's timestamp form: `2020-12-03T10:15:30.121Z`."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def image_format(data: bytes) -> tuple[str, tuple[int, int]] | None:
    """(format, (width, height)) of a PNG or JPEG, None if it is neither. Pillow reads
    only the header here; the image is not decoded."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.format, image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None


class FakeLine:
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

    # -- rich menus -----------------------------------------------------------------------
    def _menu(self, rich_menu_id: str) -> RichMenu:
        menu = self._rich_menus.get(rich_menu_id)
        if menu is None:
            raise not_found()
        return menu

    def _menu_with_image(self, rich_menu_id: str) -> RichMenu:
        menu = self._menu(rich_menu_id)
        if menu.image is None:
            raise bad_request("must upload richmenu image before applying it to user")
        return menu

    def create_rich_menu(self, definition: dict[str, Any]) -> dict[str, str]:
        rich_menu_id = "richmenu-" + secrets.token_hex(16)
        with self._lock:
            self._rich_menus[rich_menu_id] = RichMenu(rich_menu_id, dict(definition))
        return {"richMenuId": rich_menu_id}

    def rich_menu(self, rich_menu_id: str) -> dict[str, Any]:
        with self._lock:
            return self._menu(rich_menu_id).to_dict()

    def rich_menus(self) -> dict[str, Any]:
        with self._lock:
            return {"richmenus": [m.to_dict() for m in self._rich_menus.values()]}

    def delete_rich_menu(self, rich_menu_id: str) -> None:
        """Also unlinks it from users and stops it being the default. Aliases that point
        to it are left in place (switching to them then fails on the device)."""
        with self._lock:
            self._menu(rich_menu_id)
            del self._rich_menus[rich_menu_id]
            self._user_menus = {u: m for u, m in self._user_menus.items() if m != rich_menu_id}
            if self._default_menu == rich_menu_id:
                self._default_menu = None

    def upload_rich_menu_image(self, rich_menu_id: str, data: bytes, content_type: str) -> None:
        mime = (content_type or "").split(";")[0].strip().lower()
        with self._lock:
            menu = self._menu(rich_menu_id)
            if menu.image is not None:
                raise bad_request("An image has already been uploaded to the richmenu")
            self._check_image(menu, data, mime)
            menu.image, menu.image_type = data, mime

    def _check_image(self, menu: RichMenu, data: bytes, mime: str) -> None:
        if mime not in IMAGE_TYPES:
            raise bad_request("The Content-Type must be image/jpeg or image/png")
        if not data:
            raise bad_request("The request body is empty")
        if len(data) > MAX_IMAGE_BYTES:
            raise bad_request("The image is larger than 1 MB")
        found = image_format(data)
        if found is None or found[0] != IMAGE_TYPES[mime]:
            raise bad_request(f"The image is not a valid {IMAGE_TYPES[mime]} file")
        size = menu.definition.get("size") or {}
        expected = (size.get("width"), size.get("height"))
        if self.settings.check_image_size and found[1] != expected:
            raise bad_request(f"The image size {found[1][0]}x{found[1][1]} does not match "
                              f"the rich menu size {expected[0]}x{expected[1]}")

    def rich_menu_image(self, rich_menu_id: str) -> tuple[bytes, str]:
        with self._lock:
            menu = self._menu(rich_menu_id)
            if menu.image is None:
                raise not_found()
            return menu.image, menu.image_type or "application/octet-stream"

    def set_default_rich_menu(self, rich_menu_id: str) -> None:
        with self._lock:
            self._menu_with_image(rich_menu_id)
            self._default_menu = rich_menu_id

    def default_rich_menu(self) -> dict[str, str]:
        with self._lock:
            if self._default_menu is None:
                raise not_found("no default richmenu")
            return {"richMenuId": self._default_menu}

    def cancel_default_rich_menu(self) -> None:
        with self._lock:
            self._default_menu = None

    def link_rich_menu(self, user_id: str, rich_menu_id: str) -> None:
        with self._lock:
            self._menu_with_image(rich_menu_id)
            if user_id not in self._users:
                raise not_found()
            self._user_menus[user_id] = rich_menu_id

    def bulk_link_rich_menu(self, rich_menu_id: str, user_ids: list[str]) -> None:
        """Unknown user ids are skipped (LINE processes bulk links asynchronously)."""
        with self._lock:
            self._menu_with_image(rich_menu_id)
            for user_id in user_ids:
                if user_id in self._users:
                    self._user_menus[user_id] = rich_menu_id

    def unlink_rich_menu(self, user_ids: Iterable[str]) -> None:
        with self._lock:
            for user_id in user_ids:
                self._user_menus.pop(user_id, None)

    def user_rich_menu_id(self, user_id: str) -> dict[str, str]:
        """The menu linked to this user by id (not the default), as LINE answers it."""
        with self._lock:
            if user_id not in self._user_menus:
                raise not_found("the user has no richmenu")
            return {"richMenuId": self._user_menus[user_id]}

    def create_alias(self, alias_id: str, rich_menu_id: str) -> None:
        with self._lock:
            if alias_id in self._aliases:
                raise bad_request("conflict richmenu alias id")
            if rich_menu_id not in self._rich_menus:
                raise bad_request("richmenu not found")
            self._aliases[alias_id] = rich_menu_id

    def update_alias(self, alias_id: str, rich_menu_id: str) -> None:
        with self._lock:
            if alias_id not in self._aliases:
                raise bad_request("richmenu alias not found")
            if rich_menu_id not in self._rich_menus:
                raise bad_request("richmenu not found")
            self._aliases[alias_id] = rich_menu_id

    def delete_alias(self, alias_id: str) -> None:
        with self._lock:
            if alias_id not in self._aliases:
                raise bad_request("richmenu alias not found")
            del self._aliases[alias_id]

    def alias(self, alias_id: str) -> dict[str, str]:
        with self._lock:
            if alias_id not in self._aliases:
                raise not_found("richmenu alias not found")
            return {"richMenuAliasId": alias_id, "richMenuId": self._aliases[alias_id]}

    def aliases(self) -> dict[str, Any]:
        with self._lock:
            return {"aliases": [{"richMenuAliasId": a, "richMenuId": m}
                                for a, m in self._aliases.items()]}

    def menu_shown_to(self, user_id: str) -> dict[str, Any] | None:
        """What the user's chat shows: the menu linked to them, else the default."""
        with self._lock:
            self.user(user_id)
            rich_menu_id = self._user_menus.get(user_id) or self._default_menu
            if rich_menu_id is None or rich_menu_id not in self._rich_menus:
                return None
            return {"richMenuId": rich_menu_id,
                    "richMenu": self._rich_menus[rich_menu_id].to_dict(),
                    "imageUrl": f"/__fake__/richmenu/{rich_menu_id}/image"}

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


def request_id() -> str:
    """LINE's `x-line-request-id` is a UUID."""
    return str(uuid.uuid4())

