"""What the fake LINE platform keeps and says: its settings, LINE's refusals, and the
records of users, reply tokens, retry keys, rich menus, photos and injected faults.

Plain data, no lock and no behaviour beyond describing itself: `FakeLine` (state.py)
holds these under its lock and decides what LINE would do.
"""

from __future__ import annotations

import io
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from PIL import Image, UnidentifiedImageError

from bot.fakeline.spec import DEFAULT_OPENAPI_DIR
from bot.fakeline.webhook_events import DEFAULT_DESTINATION

DEV_ACCESS_TOKEN = "citybot-dev-access-token"
USER_ID = re.compile(r"^U[0-9a-f]{32}$")
MAX_IMAGE_BYTES = 1024 * 1024
MAX_CONTENT_BYTES = 50 * 1024 * 1024  # what the fake keeps of one message a user sends
IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG"}
QUOTABLE_TYPES = {"text", "textV2", "sticker", "image", "video"}
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


def request_id() -> str:
    """LINE's `x-line-request-id` is a UUID."""
    return str(uuid.uuid4())
