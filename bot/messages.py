"""Builders for LINE message objects (plain dicts), so handlers read like what they say.

They produce exactly what the Messaging API spec describes; the fake platform validates
every one of them in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence
from urllib.parse import quote

from .content.models import Choice

MAX_QUICK_REPLIES = 13
MAX_URI = 1000  # a URI action's `uri`, in characters (LINE's limit; not in the OpenAPI spec)
SHARE_URI = "https://line.me/R/share?text="


@dataclass(frozen=True)
class Tap:
    """One quick-reply chip or button: a postback, echoed as `display` in the chat."""

    label: str
    data: str
    display: str | None = None

    def action(self) -> dict[str, Any]:
        action: dict[str, Any] = {"type": "postback", "label": self.label[:20], "data": self.data}
        if self.display:
            action["displayText"] = self.display
        return action


@dataclass(frozen=True)
class DatePick(Tap):
    """A chip or button that opens LINE's date picker. Its postback brings the choice as
    `params["date"]` ("YYYY-MM-DD"); `initial`, `min` and `max` are written the same way.
    LINE shows no bubble for the tap, so `display` is not used."""

    initial: str | None = None
    min: str | None = None
    max: str | None = None

    def action(self) -> dict[str, Any]:
        action: dict[str, Any] = {"type": "datetimepicker", "label": self.label[:20], "data": self.data,
                                  "mode": "date"}
        for key in ("initial", "min", "max"):
            if getattr(self, key):
                action[key] = getattr(self, key)
        return action


@dataclass(frozen=True)
class Link(Tap):
    """A button that opens `data` as a link: a web page, a map, or `tel:` to call."""

    def action(self) -> dict[str, Any]:
        return {"type": "uri", "label": self.label[:20], "uri": self.data}


@dataclass(frozen=True)
class Share(Tap):
    """A chip or button that opens LINE's "share with friends" picker holding `data` as the
    message: the resident picks who gets it (family, a group) and sends it as themselves."""

    def action(self) -> dict[str, Any]:
        return {"type": "uri", "label": self.label[:20], "uri": share_uri(self.data)}


def share_uri(message: str) -> str:
    """The share link for `message`, cut short (at a character) until the link fits in
    MAX_URI: a Japanese character takes nine characters of the link once encoded, so a
    long address would otherwise make LINE refuse the whole reply."""
    body = message
    while True:
        uri = SHARE_URI + quote(body, safe="")
        if len(uri) <= MAX_URI:
            return uri
        body = body[:len(body) - max(1, (len(uri) - MAX_URI) // 9)]


@dataclass(frozen=True)
class ShareLocation(Tap):
    """A quick-reply chip that opens LINE's location picker; the resident's choice comes
    back as a location message. LINE allows it in quick replies only."""

    data: str = ""

    def action(self) -> dict[str, Any]:
        return {"type": "location", "label": self.label[:20]}


@dataclass(frozen=True)
class Camera(Tap):
    """A quick-reply chip that opens the phone's camera; the photo comes back as an image
    message. LINE allows it in quick replies only."""

    data: str = ""

    def action(self) -> dict[str, Any]:
        return {"type": "camera", "label": self.label[:20]}


@dataclass(frozen=True)
class CameraRoll(Tap):
    """A quick-reply chip that opens the phone's photo library (an image message back)."""

    data: str = ""

    def action(self) -> dict[str, Any]:
        return {"type": "cameraRoll", "label": self.label[:20]}


def listing(items: Iterable[str], lang: str, *, names: bool = False) -> str:
    """Items as a resident reads a list: 「A、B」 (「A・B」 for short names in a row), "A, B"."""
    return (", " if lang == "en" else "・" if names else "、").join(items)


def taps(choices: Iterable[Choice], lang: str) -> list[Tap]:
    return [Tap(c.label.get(lang), c.postback, (c.display or c.label).get(lang)) for c in choices]


def text(body: str, quick: Sequence[Tap] = ()) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "text", "text": body}
    return with_quick_reply(message, quick)


def with_quick_reply(message: dict[str, Any], quick: Sequence[Tap]) -> dict[str, Any]:
    if not quick:
        return message
    if len(quick) > MAX_QUICK_REPLIES:
        raise ValueError(f"LINE shows at most {MAX_QUICK_REPLIES} quick replies, not {len(quick)}")
    items = [{"type": "action", "action": tap.action()} for tap in quick]
    return {**message, "quickReply": {"items": items}}


def flex(alt_text: str, contents: dict[str, Any], quick: Sequence[Tap] = ()) -> dict[str, Any]:
    return with_quick_reply({"type": "flex", "altText": alt_text[:1500], "contents": contents}, quick)


def bubble(title: str, body: str | None, buttons: Sequence[Tap], *, color: str = "#06C755") -> dict[str, Any]:
    """A bubble with a title, an optional paragraph and a column of buttons."""
    body_contents: list[dict[str, Any]] = [{"type": "text", "text": title, "weight": "bold", "size": "lg", "wrap": True}]
    if body:
        body_contents.append({"type": "text", "text": body, "size": "sm", "color": "#555555", "wrap": True,
                              "margin": "md"})
    out: dict[str, Any] = {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": body_contents}}
    if buttons:
        out["footer"] = {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
            {"type": "button", "style": "primary" if i == 0 else "secondary", "height": "sm",
             **({"color": color} if i == 0 else {}), "action": tap.action()}
            for i, tap in enumerate(buttons)
        ]}
    return out
