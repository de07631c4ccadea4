"""The only module that talks to the Messaging API (through line-bot-sdk v3).

Messages travel through citybot as plain LINE JSON dicts (they are stored in the inbox
and in push batches); they become SDK models here, at the edge, where the SDK checks them.
Failures come back as `LineError` with what a caller needs to decide: retry or not.
"""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:
    from linebot.v3.messaging import Message, MessagingApi, MessagingApiBlob
    from linebot.v3.messaging.exceptions import ApiException


MAX_MESSAGES = 5
MAX_RECIPIENTS = 500


@dataclass
class LineError(Exception):
    status: int
    message: str
    request_id: str | None = None
    accepted_request_id: str | None = None

    def __str__(self) -> str:
        return f"LINE answered {self.status}: {self.message}"

    @property
    def retryable(self) -> bool:
        """429 and 5xx (and our own 0 for timeouts) may succeed later; 4xx never will."""
        return self.status == 0 or self.status == 429 or self.status >= 500

    @property
    def already_accepted(self) -> bool:
        """409 on a retry key: an earlier attempt was delivered; this one is a success."""
        return self.status == 409 and self.accepted_request_id is not None

    @property
    def invalid_reply_token(self) -> bool:
        return self.status == 400 and "reply token" in self.message.lower()


def _error(exc: ApiException) -> LineError:
    import json

    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    try:
        message = json.loads(exc.body or "{}").get("message", exc.reason or "")
    except (ValueError, AttributeError):
        message = str(exc.body or exc.reason)
    return LineError(int(exc.status or 0), str(message), headers.get("x-line-request-id"),
                     headers.get("x-line-accepted-request-id"))


def _sdk() -> Any:
    """line-bot-sdk's Messaging API, imported when first needed: importing it takes a second
    or two, and `citybot ask`, a content check or a test that never talks to LINE need not."""
    import linebot.v3.messaging

    return linebot.v3.messaging


def to_models(messages: Sequence[dict[str, Any]]) -> list[Message]:
    if not 1 <= len(messages) <= MAX_MESSAGES:
        raise ValueError(f"LINE takes 1 to {MAX_MESSAGES} messages per request, not {len(messages)}")
    return [_sdk().Message.from_dict(m) for m in messages]


def as_json(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages checked as SDK models, and the JSON those models send (what the SDK's
    request models would serialise them to)."""
    return [m.to_dict() for m in to_models(messages)]


class Messenger:
    def __init__(self, api_base: str, data_api_base: str, access_token: str, timeout: float = 10.0):
        self._api_base, self._data_api_base = api_base.rstrip("/"), data_api_base.rstrip("/")
        self._access_token = access_token
        self._timeout = timeout
        self._raw: dict[str, Any] = {}

    def prepare(self) -> "Messenger":
        """Load the SDK and build its clients now: a process that answers residents (web,
        worker, clock) pays for it at start, not in its first resident's reply."""
        _ = self.api, self.blob
        return self

    @functools.cached_property
    def api(self) -> MessagingApi:
        sdk = _sdk()
        return sdk.MessagingApi(sdk.ApiClient(sdk.Configuration(host=self._api_base, access_token=self._access_token)))

    @functools.cached_property
    def blob(self) -> MessagingApiBlob:
        sdk = _sdk()
        config = sdk.Configuration(host=self._data_api_base, access_token=self._access_token)
        return sdk.MessagingApiBlob(sdk.ApiClient(config))

    def _unchecked(self, method: str) -> Any:
        """The SDK's `<method>_with_http_info` without pydantic's `validate_arguments`
        (which keeps the undecorated function), for a body we pass as the JSON it becomes.

        Our messages are checked once, as SDK models (`to_models`); the decorated methods
        then validated the request model again, twice (the method and its `_with_http_info`
        each), before walking it once more to serialise it. That was a fifth of a worker's
        CPU per answered message, and most of a push batch's."""
        if method not in self._raw:
            raw = getattr(self.api, method + "_with_http_info").raw_function
            self._raw[method] = functools.update_wrapper(functools.partial(raw, self.api), raw)
        return self._raw[method]

    def _call(self, fn, *args, recipients: int = 1, **kwargs):
        """Every request goes through here: errors become LineError, and each request is
        counted by endpoint and status (bot/metrics.py), with its recipients when accepted."""
        from linebot.v3.messaging.exceptions import ApiException

        started, status = time.perf_counter(), 0
        try:
            result = fn(*args, _request_timeout=self._timeout, **kwargs)
            status = 200
            return result
        except ApiException as exc:
            error = _error(exc)
            status = error.status
            raise error from None
        except (OSError, TimeoutError) as exc:  # urllib3 timeouts and refused connections
            raise LineError(0, f"no answer from LINE: {exc.__class__.__name__}") from None
        except Exception as exc:  # urllib3's own errors do not share a base with OSError
            if exc.__class__.__module__.startswith("urllib3"):
                raise LineError(0, f"no answer from LINE: {exc.__class__.__name__}") from None
            raise
        finally:
            from . import metrics  # here: prometheus_client is for processes that call LINE

            metrics.observe_line_call(metrics.endpoint_name(fn), status, time.perf_counter() - started, recipients)

    # -- messages -----------------------------------------------------------------------
    def reply(self, reply_token: str, messages: Sequence[dict[str, Any]]) -> None:
        if not reply_token:
            raise ValueError("a reply needs its reply token")
        self._call(self._unchecked("reply_message"), {"replyToken": reply_token, "messages": as_json(messages)})

    def push(self, user_id: str, messages: Sequence[dict[str, Any]], retry_key: str) -> None:
        if not user_id:
            raise ValueError("a push needs the user id")
        self._call(self._unchecked("push_message"), {"to": user_id, "messages": as_json(messages)},
                   x_line_retry_key=retry_key)

    def multicast(self, user_ids: Sequence[str], messages: Sequence[dict[str, Any]], retry_key: str) -> None:
        """Up to 500 user ids in one request (a push batch).

        The messages are checked as everywhere (`to_models`), but the body goes to the
        SDK's own method (its undecorated function) as the JSON it becomes, without a
        MulticastRequest: pydantic would validate each of the 500 ids three times and walk
        them again to serialise, and at a district push's hundreds of batches a minute
        that was most of a worker's time per batch. The ids come from our own table."""
        if not 1 <= len(user_ids) <= MAX_RECIPIENTS:
            raise ValueError(f"multicast takes 1 to {MAX_RECIPIENTS} recipients, not {len(user_ids)}")
        body = {"to": list(user_ids), "messages": as_json(messages)}
        self._call(self._unchecked("multicast"), body, x_line_retry_key=retry_key, recipients=len(user_ids))

    def broadcast(self, messages: Sequence[dict[str, Any]], retry_key: str) -> None:
        request = _sdk().BroadcastRequest(messages=to_models(messages))
        self._call(self.api.broadcast, request, x_line_retry_key=retry_key)

    def message_content(self, message_id: str, max_bytes: int) -> tuple[bytes, str]:
        """(bytes, content type) of a photo (video, audio) a user sent, from the data
        endpoint. LINE keeps it only for a while. The SDK reads the whole body; one larger
        than `max_bytes` is refused with a LineError(413) before anyone stores it."""
        response = self._call(self.blob.get_message_content_with_http_info, message_id)
        data = bytes(response.data or b"")
        if len(data) > max_bytes:
            raise LineError(413, f"the content is {len(data)} bytes; at most {max_bytes} are taken")
        headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        return data, str(headers.get("content-type", "application/octet-stream")).split(";")[0].strip()

    def profile(self, user_id: str) -> dict[str, Any]:
        return self._call(self.api.get_profile, user_id).to_dict()

    # -- rich menus ---------------------------------------------------------------------
    def create_rich_menu(self, menu: dict[str, Any]) -> str:
        return self._call(self.api.create_rich_menu, _sdk().RichMenuRequest.from_dict(menu)).rich_menu_id

    def upload_rich_menu_image(self, rich_menu_id: str, image: bytes, content_type: str) -> None:
        self._call(self.blob.set_rich_menu_image, rich_menu_id, bytes(image), _headers={"Content-Type": content_type})

    def set_default_rich_menu(self, rich_menu_id: str) -> None:
        self._call(self.api.set_default_rich_menu, rich_menu_id)

    def default_rich_menu(self) -> str | None:
        """The menu every user sees unless linked to another; None when none is set."""
        try:
            return self._call(self.api.get_default_rich_menu_id).rich_menu_id
        except LineError as err:
            if err.status == 404:
                return None
            raise

    def rich_menu_ids(self) -> list[str]:
        return [m.rich_menu_id for m in self._call(self.api.get_rich_menu_list).richmenus]

    def delete_rich_menu(self, rich_menu_id: str) -> None:
        self._call(self.api.delete_rich_menu, rich_menu_id)

    def rich_menu_aliases(self) -> dict[str, str]:
        return {a.rich_menu_alias_id: a.rich_menu_id for a in self._call(self.api.get_rich_menu_alias_list).aliases}

    def put_rich_menu_alias(self, alias: str, rich_menu_id: str) -> None:
        if alias in self.rich_menu_aliases():
            request = _sdk().UpdateRichMenuAliasRequest(richMenuId=rich_menu_id)
            self._call(self.api.update_rich_menu_alias, alias, request)
        else:
            self._call(self.api.create_rich_menu_alias,
                       _sdk().CreateRichMenuAliasRequest(richMenuAliasId=alias, richMenuId=rich_menu_id))

    def link_rich_menu(self, user_id: str, rich_menu_id: str) -> None:
        self._call(self.api.link_rich_menu_id_to_user, user_id, rich_menu_id)


def retry_key_for(*parts: Any) -> str:
    """A stable X-Line-Retry-Key for one logical send, so every retry reuses it."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "citybot:" + ":".join(str(p) for p in parts)))


def chunks(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
