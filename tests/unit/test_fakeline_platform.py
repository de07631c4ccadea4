"""The fake LINE platform over real HTTP, driven by line-bot-sdk v3 like the bot drives LINE.

Bodies the SDK's own models refuse to build (6 messages, unknown types) are sent raw with
`requests`, because a bot can build them some other way and LINE's answer is what counts.
"""

from __future__ import annotations

import io
import time
import uuid
from typing import Any, Iterator

import pytest
import requests
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    BroadcastRequest,
    ButtonsTemplate,
    Configuration,
    CreateRichMenuAliasRequest,
    FlexBox,
    FlexBubble,
    FlexMessage,
    FlexText,
    MessageAction,
    MessagingApi,
    MessagingApiBlob,
    MulticastRequest,
    NarrowcastRequest,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
    TemplateMessage,
    TextMessage,
)
from PIL import Image

from bot.fakeline import FakeLine, FakeLineSettings, SpecValidator, start_fake_line
from bot.fakeline.app import RATE_LIMITED
from bot.fakeline.server import RunningFakeLine
from bot.fakeline.state import AUTH_FAILED

TOKEN = "citybot-dev-access-token"


class Clock:
    """A settable clock for reply-token expiry and rate-limit windows."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def server() -> Iterator[RunningFakeLine]:
    running = start_fake_line(port=0)
    yield running
    running.stop()


@pytest.fixture
def fake(server: RunningFakeLine) -> FakeLine:
    server.state.settings = FakeLineSettings()
    server.state.reset()
    return server.state


@pytest.fixture
def clock(fake: FakeLine) -> Clock:
    clock = Clock()
    fake.settings.clock = clock
    return clock


@pytest.fixture
def client(server: RunningFakeLine) -> Iterator[ApiClient]:
    with ApiClient(Configuration(host=server.url, access_token=TOKEN)) as api_client:
        yield api_client


@pytest.fixture
def api(client: ApiClient) -> MessagingApi:
    return MessagingApi(client)


@pytest.fixture
def user(fake: FakeLine) -> str:
    return fake.add_user("市民 太郎")


def raw(server: RunningFakeLine, method: str, path: str, body: Any = None,
        token: str = TOKEN, **headers: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", **headers}
    return requests.request(method, server.url + path, json=body, headers=headers, timeout=5)


def hello(text: str = "こんにちは") -> TextMessage:
    return TextMessage(text=text)


def error_of(excinfo: pytest.ExceptionInfo) -> dict:
    import json
    return json.loads(excinfo.value.body)


# -- validation: the bodies generic validators miss -----------------------------------------
@pytest.mark.parametrize("message, prop", [
    ({"type": "text"}, "messages[0].text"),
    ({"type": "texty", "text": "x"}, "messages[0].type"),
    ({"type": "flex", "altText": "a", "contents": {"type": "bubble", "body": {
        "type": "box", "layout": "vertical", "contents": [{"type": "textt", "text": "x"}]}}},
     "messages[0].contents.body.contents[0].type"),
])
def test_bodies_generic_validators_miss_are_refused(server: RunningFakeLine, fake: FakeLine,
                                                    user: str, message: dict, prop: str) -> None:
    response = raw(server, "POST", "/v2/bot/message/push", {"to": user, "messages": [message]})
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "The request body has 1 error(s)"
    assert [d["property"] for d in body["details"]] == [prop]
    assert fake.messages_for(user) == []
    [logged] = fake.invalid_requests(user_agent_prefix="python-requests")
    assert logged["errors"] == body["details"] and logged["status"] == 400


def test_six_messages_and_501_recipients_are_refused(server: RunningFakeLine, user: str) -> None:
    six = raw(server, "POST", "/v2/bot/message/push",
              {"to": user, "messages": [{"type": "text", "text": "a"}] * 6})
    assert six.status_code == 400
    assert six.json()["details"] == [{"message": "Size must be between 1 and 5",
                                      "property": "messages"}]
    many = raw(server, "POST", "/v2/bot/message/multicast",
               {"to": [user] * 501, "messages": [{"type": "text", "text": "a"}]})
    assert many.status_code == 400
    assert many.json()["details"][0]["property"] == "to"


def test_5001_character_text_is_refused_through_the_sdk(api: MessagingApi, user: str) -> None:
    with pytest.raises(ApiException) as excinfo:
        api.push_message(PushMessageRequest(to=user, messages=[hello("あ" * 5001)]))
    assert excinfo.value.status == 400
    assert error_of(excinfo)["details"] == [
        {"message": "Length must be between 1 and 5000", "property": "messages[0].text"}]


def test_invalid_json_is_refused(server: RunningFakeLine) -> None:
    response = requests.post(server.url + "/v2/bot/message/push", data=b"{not json",
                             headers={"Authorization": f"Bearer {TOKEN}",
                                      "Content-Type": "application/json"}, timeout=5)
    assert response.status_code == 400


# -- valid messages are accepted and recorded --------------------------------------------
def test_valid_messages_are_accepted_and_recorded(api: MessagingApi, fake: FakeLine,
                                                  user: str) -> None:
    quick = QuickReply(items=[QuickReplyItem(action=MessageAction(label="ごみ", text="ごみ"))])
    flex = FlexMessage(alt_text="お知らせ", contents=FlexBubble(body=FlexBox(
        layout="vertical", contents=[FlexText(text="市役所からのお知らせ", wrap=True)])))
    buttons = TemplateMessage(alt_text="選択", template=ButtonsTemplate(
        text="種類は？", actions=[PostbackAction(label="燃える", data="garbage=burnable",
                                               display_text="燃えるごみ")]))
    messages = [TextMessage(text="こんにちは", quick_reply=quick), flex, buttons]
    response = api.push_message_with_http_info(PushMessageRequest(to=user, messages=messages))
    assert response.status_code == 200
    sent = response.data.sent_messages
    assert len(sent) == 3 and all(m.id.isdigit() for m in sent)
    assert sent[0].quote_token and sent[1].quote_token is None  # flex can't be quoted
    received = fake.messages_for(user)
    assert [m["message"]["type"] for m in received] == ["text", "flex", "template"]
    assert received[0]["message"]["quickReply"]["items"][0]["action"]["text"] == "ごみ"
    assert {m["via"] for m in received} == {"push"}
    assert {m["requestId"] for m in received} == {response.headers["x-line-request-id"]}
    assert fake.invalid_requests() == []
    assert fake.requests[-1]["userAgent"].startswith("line-bot-sdk-python")


def test_every_response_has_a_request_id(server: RunningFakeLine, user: str) -> None:
    for response in (raw(server, "GET", "/v2/bot/message/quota"),
                     raw(server, "GET", "/v2/bot/message/quota", token="wrong"),
                     raw(server, "POST", "/v2/bot/message/push", {"to": user})):
        uuid.UUID(response.headers["x-line-request-id"])


# -- auth --------------------------------------------------------------------------------
def test_bad_bearer_token_gets_401(server: RunningFakeLine, user: str) -> None:
    api = MessagingApi(ApiClient(Configuration(host=server.url, access_token="wrong")))
    with pytest.raises(ApiException) as excinfo:
        api.push_message(PushMessageRequest(to=user, messages=[hello()]))
    assert excinfo.value.status == 401
    assert error_of(excinfo) == {"message": AUTH_FAILED}
    missing = requests.get(server.url + "/v2/bot/message/quota", timeout=5)
    assert missing.status_code == 401


# -- reply tokens ------------------------------------------------------------------------
def test_reply_token_is_single_use_and_bound_to_its_user(api: MessagingApi, fake: FakeLine,
                                                         user: str) -> None:
    other = fake.add_user("別の人")
    token = fake.mint_reply_token(user)
    assert len(token) == 32 and int(token, 16) >= 0
    result = api.reply_message(ReplyMessageRequest(reply_token=token, messages=[hello()]))
    assert len(result.sent_messages) == 1
    assert [m["via"] for m in fake.messages_for(user)] == ["reply"]
    assert fake.messages_for(other) == []
    with pytest.raises(ApiException) as excinfo:
        api.reply_message(ReplyMessageRequest(reply_token=token, messages=[hello()]))
    assert excinfo.value.status == 400
    assert error_of(excinfo) == {"message": "Invalid reply token"}


def test_reply_token_expires(api: MessagingApi, fake: FakeLine, clock: Clock, user: str) -> None:
    fresh, stale = fake.mint_reply_token(user), fake.mint_reply_token(user)
    clock.now += 59
    api.reply_message(ReplyMessageRequest(reply_token=fresh, messages=[hello()]))
    clock.now += 2
    with pytest.raises(ApiException) as excinfo:
        api.reply_message(ReplyMessageRequest(reply_token=stale, messages=[hello()]))
    assert error_of(excinfo) == {"message": "Invalid reply token"}
    unknown = ReplyMessageRequest(reply_token="0" * 32, messages=[hello()])
    with pytest.raises(ApiException):
        api.reply_message(unknown)


def test_invalid_reply_body_does_not_spend_the_token(server: RunningFakeLine, fake: FakeLine,
                                                     user: str) -> None:
    token = fake.mint_reply_token(user)
    bad = raw(server, "POST", "/v2/bot/message/reply",
              {"replyToken": token, "messages": [{"type": "text"}]})
    assert bad.status_code == 400
    good = raw(server, "POST", "/v2/bot/message/reply",
               {"replyToken": token, "messages": [{"type": "text", "text": "ok"}]})
    assert good.status_code == 200


# -- retry keys --------------------------------------------------------------------------
def test_retry_key_on_reply_is_refused(server: RunningFakeLine, fake: FakeLine, user: str) -> None:
    response = raw(server, "POST", "/v2/bot/message/reply",
                   {"replyToken": fake.mint_reply_token(user),
                    "messages": [{"type": "text", "text": "x"}]},
                   **{"X-Line-Retry-Key": str(uuid.uuid4())})
    assert response.status_code == 400
    assert fake.messages_for(user) == []


def test_retry_key_must_be_a_uuid(server: RunningFakeLine, user: str) -> None:
    response = raw(server, "POST", "/v2/bot/message/push",
                   {"to": user, "messages": [{"type": "text", "text": "x"}]},
                   **{"X-Line-Retry-Key": "not-a-uuid"})
    assert response.status_code == 400


def test_repeated_push_retry_key_gets_409_and_one_delivery(api: MessagingApi, fake: FakeLine,
                                                           user: str) -> None:
    key = str(uuid.uuid4())
    request = PushMessageRequest(to=user, messages=[hello()])
    first = api.push_message_with_http_info(request, x_line_retry_key=key)
    with pytest.raises(ApiException) as excinfo:
        api.push_message_with_http_info(request, x_line_retry_key=key)
    assert excinfo.value.status == 409
    assert excinfo.value.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    body = error_of(excinfo)
    assert body["message"] == "The retry key is already accepted"
    assert body["sentMessages"][0]["id"] == first.data.sent_messages[0].id
    assert len(fake.messages_for(user)) == 1
    assert [r["retryKey"] for r in fake.requests] == [key, key]


def test_repeated_multicast_retry_key_gets_409(api: MessagingApi, fake: FakeLine, user: str) -> None:
    key = str(uuid.uuid4())
    request = MulticastRequest(to=[user], messages=[hello()])
    api.multicast(request, x_line_retry_key=key)
    with pytest.raises(ApiException) as excinfo:
        api.multicast(request, x_line_retry_key=key)
    assert excinfo.value.status == 409 and "sentMessages" not in error_of(excinfo)
    assert len(fake.messages_for(user)) == 1


def test_retry_after_injected_500_is_accepted_once(api: MessagingApi, fake: FakeLine,
                                                   user: str) -> None:
    fake.inject("push", status=500, count=1)
    key = str(uuid.uuid4())
    request = PushMessageRequest(to=user, messages=[hello()])
    with pytest.raises(ApiException) as excinfo:
        api.push_message(request, x_line_retry_key=key)
    assert excinfo.value.status == 500
    assert fake.messages_for(user) == []
    api.push_message(request, x_line_retry_key=key)
    with pytest.raises(ApiException) as again:
        api.push_message(request, x_line_retry_key=key)
    assert again.value.status == 409
    assert len(fake.messages_for(user)) == 1


def test_lost_response_then_retry_with_same_key_gets_409_not_a_duplicate(
        api: MessagingApi, fake: FakeLine, user: str) -> None:
    fake.inject("push", lose_response=True, count=1)
    key = str(uuid.uuid4())
    request = PushMessageRequest(to=user, messages=[hello()])
    with pytest.raises(ApiException) as lost:
        api.push_message(request, x_line_retry_key=key)
    assert lost.value.status == 500
    assert len(fake.messages_for(user)) == 1  # delivered although the client saw 500
    with pytest.raises(ApiException) as retry:
        api.push_message(request, x_line_retry_key=key)
    assert retry.value.status == 409
    assert len(fake.messages_for(user)) == 1


def test_timeout_fault_delivers_nothing_and_does_not_spend_the_key(
        api: MessagingApi, fake: FakeLine, user: str) -> None:
    fake.inject("push", timeout=True, timeout_seconds=0.6, count=1)
    key = str(uuid.uuid4())
    request = PushMessageRequest(to=user, messages=[hello()])
    with pytest.raises(Exception):  # urllib3 read timeout
        api.push_message(request, x_line_retry_key=key, _request_timeout=0.2)
    api.push_message(request, x_line_retry_key=key)
    time.sleep(0.6)  # let the held request finish: it must not deliver
    assert len(fake.messages_for(user)) == 1
    assert [r["status"] for r in fake.requests] == [200, 500]


# -- rate limits and other faults -------------------------------------------------------
def test_rate_limit_answers_429_and_counts_every_attempt(api: MessagingApi, fake: FakeLine,
                                                         clock: Clock, user: str) -> None:
    fake.settings.rate_limits = {"push": (2, 60.0), "*": (2000, 1.0)}
    request = PushMessageRequest(to=user, messages=[hello()])
    api.push_message(request)
    api.push_message(request)
    for _ in range(2):
        with pytest.raises(ApiException) as excinfo:
            api.push_message(request)
        assert excinfo.value.status == 429
        assert error_of(excinfo) == {"message": RATE_LIMITED}
    api.get_message_quota()  # other endpoints have their own budget
    clock.now += 60
    api.push_message(request)
    assert len(fake.messages_for(user)) == 3


def test_default_rate_limits_follow_line() -> None:
    limits = FakeLineSettings().rate_limits
    assert limits["multicast"] == (200, 1.0)
    assert limits["broadcast"] == limits["narrowcast"] == (60, 3600.0)
    assert limits["richmenu.create"] == limits["richmenu.delete"] == (100, 3600.0)
    assert limits["richmenu.alias.delete"] == (100, 3600.0)
    assert limits["*"] == (2000, 1.0)


def test_injected_status_latency_and_prefix_faults(api: MessagingApi, fake: FakeLine,
                                                   user: str) -> None:
    fake.inject("richmenu", status=503, count=2)
    for _ in range(2):
        with pytest.raises(ApiException) as excinfo:
            api.get_rich_menu_list()
        assert excinfo.value.status == 503
    assert api.get_rich_menu_list().richmenus == []
    fake.inject("profile", latency=0.3, count=1)
    started = time.monotonic()
    assert api.get_profile(user).display_name == "市民 太郎"
    assert time.monotonic() - started >= 0.3
    fault = fake.inject("*", status=500)
    assert fake.faults()[0]["faultId"] == fault
    with pytest.raises(ApiException):
        api.get_message_quota()
    fake.clear_faults()
    api.get_message_quota()


# -- delivery rules ----------------------------------------------------------------------
def test_broadcast_reaches_only_following_users(api: MessagingApi, fake: FakeLine) -> None:
    a, b, c = (fake.add_user(name) for name in ("a", "b", "c"))
    fake.unfollow(b)
    api.broadcast(BroadcastRequest(messages=[hello("お知らせ")]))
    assert [len(fake.messages_for(u)) for u in (a, b, c)] == [1, 0, 1]
    assert {m["via"] for m in fake.all_messages()} == {"broadcast"}


def test_push_and_multicast_to_blocked_users_are_accepted_silently(
        api: MessagingApi, fake: FakeLine, user: str) -> None:
    blocked = fake.add_user("blocked")
    fake.unfollow(blocked)
    assert api.push_message(PushMessageRequest(to=blocked, messages=[hello()])).sent_messages
    api.multicast(MulticastRequest(to=[user, blocked], messages=[hello()]))
    assert fake.messages_for(blocked) == []
    assert [m["via"] for m in fake.messages_for(user)] == ["multicast"]


def test_narrowcast_is_accepted_and_reports_progress(api: MessagingApi, fake: FakeLine,
                                                     user: str) -> None:
    response = api.narrowcast_with_http_info(NarrowcastRequest(messages=[hello()]))
    assert response.status_code == 202
    progress = api.get_narrowcast_progress(response.headers["x-line-request-id"])
    assert progress.phase == "succeeded" and progress.success_count == 1
    assert [m["via"] for m in fake.messages_for(user)] == ["narrowcast"]


def test_profile_and_quota(api: MessagingApi, fake: FakeLine, user: str) -> None:
    profile = api.get_profile(user)
    assert (profile.user_id, profile.display_name, profile.language) == (user, "市民 太郎", "ja")
    with pytest.raises(ApiException) as excinfo:
        api.get_profile("U" + "f" * 32)
    assert excinfo.value.status == 404 and error_of(excinfo) == {"message": "Not found"}
    api.push_message(PushMessageRequest(to=user, messages=[hello(), hello()]))
    assert api.get_message_quota().type == "none"
    assert api.get_message_quota_consumption().total_usage == 1  # counted per recipient


def test_exhausted_quota_answers_429(api: MessagingApi, fake: FakeLine, user: str) -> None:
    fake.settings.monthly_quota = 1
    api.push_message(PushMessageRequest(to=user, messages=[hello()]))
    with pytest.raises(ApiException) as excinfo:
        api.push_message(PushMessageRequest(to=user, messages=[hello()]))
    assert excinfo.value.status == 429
    assert error_of(excinfo) == {"message": "You have reached your monthly limit."}


# -- rich menus --------------------------------------------------------------------------
def png(width: int = 2500, height: int = 843) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (0, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def menu_request(name: str = "main") -> RichMenuRequest:
    return RichMenuRequest(
        size=RichMenuSize(width=2500, height=843), selected=True, name=name,
        chat_bar_text="メニュー",
        areas=[RichMenuArea(bounds=RichMenuBounds(x=0, y=0, width=1250, height=843),
                            action=PostbackAction(label="ごみ", data="menu=garbage")),
               RichMenuArea(bounds=RichMenuBounds(x=1250, y=0, width=1250, height=843),
                            action=MessageAction(label="防災", text="防災"))])


def test_rich_menu_flow_with_the_sdk(server: RunningFakeLine, client: ApiClient, fake: FakeLine,
                                     user: str) -> None:
    api, blob = MessagingApi(client), MessagingApiBlob(client)
    menu_id = api.create_rich_menu(menu_request()).rich_menu_id
    assert menu_id.startswith("richmenu-") and len(menu_id) == len("richmenu-") + 32
    with pytest.raises(ApiException) as early:  # LINE wants the image first
        api.set_default_rich_menu(menu_id)
    assert early.value.status == 400
    blob.set_rich_menu_image(menu_id, body=png(), _headers={"Content-Type": "image/png"})
    assert blob.get_rich_menu_image(menu_id) == png()
    api.set_default_rich_menu(menu_id)
    assert api.get_default_rich_menu_id().rich_menu_id == menu_id
    shown = requests.get(f"{server.url}/__fake__/users/{user}/richmenu", timeout=5).json()
    assert shown["richMenuId"] == menu_id and shown["richMenu"]["chatBarText"] == "メニュー"
    assert requests.get(server.url + shown["imageUrl"], timeout=5).content == png()

    second = api.create_rich_menu(menu_request("page-2")).rich_menu_id
    blob.set_rich_menu_image(second, body=png(), _headers={"Content-Type": "image/png"})
    api.create_rich_menu_alias(CreateRichMenuAliasRequest(rich_menu_alias_id="page-2",
                                                          rich_menu_id=second))
    with pytest.raises(ApiException) as conflict:
        api.create_rich_menu_alias(CreateRichMenuAliasRequest(rich_menu_alias_id="page-2",
                                                              rich_menu_id=menu_id))
    assert conflict.value.status == 400
    assert api.get_rich_menu_alias("page-2").rich_menu_id == second
    assert [a.rich_menu_alias_id for a in api.get_rich_menu_alias_list().aliases] == ["page-2"]

    api.link_rich_menu_id_to_user(user, second)
    assert api.get_rich_menu_id_of_user(user).rich_menu_id == second
    assert fake.menu_shown_to(user)["richMenuId"] == second
    api.unlink_rich_menu_id_from_user(user)
    assert fake.menu_shown_to(user)["richMenuId"] == menu_id  # back to the default
    assert {m.rich_menu_id for m in api.get_rich_menu_list().richmenus} == {menu_id, second}
    api.delete_rich_menu(menu_id)
    with pytest.raises(ApiException) as gone:
        api.get_default_rich_menu_id()
    assert gone.value.status == 404
    assert fake.invalid_requests() == []


@pytest.mark.parametrize("content_type, data, reason", [
    ("image/gif", png(), "type"),
    ("image/png", b"", "empty"),
    ("image/png", b"\x89PNG not really", "not an image"),
    ("image/jpeg", png(), "format mismatch"),
    ("image/png", png(1200, 405), "size mismatch"),
])
def test_rich_menu_image_upload_is_checked(server: RunningFakeLine, api: MessagingApi,
                                           content_type: str, data: bytes, reason: str) -> None:
    menu_id = api.create_rich_menu(menu_request()).rich_menu_id
    response = requests.post(f"{server.url}/v2/bot/richmenu/{menu_id}/content", data=data,
                             headers={"Authorization": f"Bearer {TOKEN}",
                                      "Content-Type": content_type}, timeout=5)
    assert response.status_code == 400, reason


def test_rich_menu_image_over_1mb_and_second_upload_are_refused(
        server: RunningFakeLine, api: MessagingApi) -> None:
    menu_id = api.create_rich_menu(menu_request()).rich_menu_id
    url, auth = f"{server.url}/v2/bot/richmenu/{menu_id}/content", f"Bearer {TOKEN}"
    big = requests.post(url, data=b"\0" * (1024 * 1024 + 1), timeout=5,
                        headers={"Authorization": auth, "Content-Type": "image/png"})
    assert big.status_code == 400
    ok = requests.post(url, data=png(), timeout=5,
                       headers={"Authorization": auth, "Content-Type": "image/png"})
    assert ok.status_code == 200
    again = requests.post(url, data=png(), timeout=5,
                          headers={"Authorization": auth, "Content-Type": "image/png"})
    assert again.status_code == 400
    unknown = requests.post(f"{server.url}/v2/bot/richmenu/richmenu-{'0' * 32}/content",
                            data=png(), timeout=5,
                            headers={"Authorization": auth, "Content-Type": "image/png"})
    assert unknown.status_code == 404


def test_bulk_link_and_unlink(api: MessagingApi, client: ApiClient, fake: FakeLine) -> None:
    from linebot.v3.messaging import RichMenuBulkLinkRequest, RichMenuBulkUnlinkRequest
    users = [fake.add_user(f"u{i}") for i in range(3)]
    menu_id = api.create_rich_menu(menu_request()).rich_menu_id
    MessagingApiBlob(client).set_rich_menu_image(menu_id, body=png(),
                                                 _headers={"Content-Type": "image/png"})
    api.link_rich_menu_id_to_users(RichMenuBulkLinkRequest(rich_menu_id=menu_id, user_ids=users))
    assert all(fake.menu_shown_to(u)["richMenuId"] == menu_id for u in users)
    api.unlink_rich_menu_id_from_users(RichMenuBulkUnlinkRequest(user_ids=users[:2]))
    assert [fake.menu_shown_to(u) is None for u in users] == [True, True, False]


# -- responses honour the spec -----------------------------------------------------------
def test_responses_validate_against_the_spec(server: RunningFakeLine, api: MessagingApi,
                                             client: ApiClient, fake: FakeLine, user: str) -> None:
    spec = SpecValidator()
    menu_id = api.create_rich_menu(menu_request()).rich_menu_id
    MessagingApiBlob(client).set_rich_menu_image(menu_id, body=png(),
                                                 _headers={"Content-Type": "image/png"})
    api.create_rich_menu_alias(CreateRichMenuAliasRequest(rich_menu_alias_id="main",
                                                          rich_menu_id=menu_id))
    api.set_default_rich_menu(menu_id)
    narrow = raw(server, "POST", "/v2/bot/message/narrowcast",
                 {"messages": [{"type": "text", "text": "x"}]})
    calls = [
        ("POST", "/v2/bot/message/push", {"to": user, "messages": [{"type": "text", "text": "x"}]}),
        ("POST", "/v2/bot/message/reply", {"replyToken": fake.mint_reply_token(user),
                                           "messages": [{"type": "text", "text": "x"}]}),
        ("GET", f"/v2/bot/message/progress/narrowcast?requestId="
                f"{narrow.headers['x-line-request-id']}", None),
        ("GET", "/v2/bot/message/quota", None),
        ("GET", "/v2/bot/message/quota/consumption", None),
        ("GET", f"/v2/bot/profile/{user}", None),
        ("GET", "/v2/bot/info", None),
        ("GET", "/v2/bot/followers/ids", None),
        ("GET", f"/v2/bot/richmenu/{menu_id}", None),
        ("GET", "/v2/bot/richmenu/list", None),
        ("GET", "/v2/bot/user/all/richmenu", None),
        ("GET", "/v2/bot/richmenu/alias/main", None),
        ("GET", "/v2/bot/richmenu/alias/list", None),
        ("POST", "/v2/bot/message/push", {"to": user, "messages": []}),
    ]
    for method, path, body in calls:
        response = raw(server, method, path, body)
        assert response.status_code < 500, path
        status = response.status_code if response.status_code < 400 else "400"
        errors = spec.validate_response(method, path.split("?")[0], status, response.json())
        assert errors == [], (path, errors)


# -- /__fake__ over HTTP -----------------------------------------------------------------
def test_fake_control_api_over_http(server: RunningFakeLine, fake: FakeLine) -> None:
    base = server.url + "/__fake__"
    created = requests.post(base + "/users", json={"displayName": "花子"}, timeout=5).json()
    user_id = created["userId"]
    assert len(user_id) == 33 and user_id.startswith("U")
    assert requests.post(base + "/users", json={"displayName": "x", "userId": "bad"},
                         timeout=5).status_code == 400
    assert requests.post(base + "/users/" + user_id + "/unfollow", timeout=5).json()["following"] is False
    assert requests.post(base + "/users/" + user_id + "/follow", timeout=5).json()["following"] is True
    assert requests.get(base + "/users", timeout=5).json()["users"] == [
        {"userId": user_id, "displayName": "花子", "language": "ja", "following": True}]
    token = requests.post(base + "/reply-tokens", json={"userId": user_id}, timeout=5).json()
    assert requests.post(base + "/reply-tokens", json={"userId": "U" + "0" * 32},
                         timeout=5).status_code == 404
    raw(server, "POST", "/v2/bot/message/reply",
        {"replyToken": token["replyToken"], "messages": [{"type": "text", "text": "はい"}]})
    listing = requests.get(base + "/messages", params={"userId": user_id}, timeout=5).json()
    assert [m["message"]["text"] for m in listing["messages"]] == ["はい"]
    assert requests.get(base + "/messages", params={"after": listing["last"]},
                        timeout=5).json() == {"messages": [], "last": listing["last"]}
    logged = requests.get(base + "/requests", timeout=5).json()["requests"]
    assert [(r["path"], r["status"], r["valid"]) for r in logged] == [
        ("/v2/bot/message/reply", 200, True)]

    fault = requests.post(base + "/faults", json={"endpoint": "push", "status": 500, "count": 1},
                          timeout=5).json()
    assert requests.get(base + "/faults", timeout=5).json()["faults"][0]["faultId"] == fault["faultId"]
    requests.delete(base + "/faults", timeout=5)
    assert fake.faults() == []
    requests.post(base + "/reset", timeout=5)
    assert fake.users() == [] and fake.requests == []


def test_messages_long_poll_returns_when_a_message_arrives(server: RunningFakeLine,
                                                           fake: FakeLine, user: str) -> None:
    import threading
    timer = threading.Timer(0.2, lambda: raw(server, "POST", "/v2/bot/message/push",
                                             {"to": user, "messages": [{"type": "text", "text": "遅れて"}]}))
    timer.start()
    started = time.monotonic()
    found = requests.get(server.url + "/__fake__/messages",
                         params={"userId": user, "wait": 3}, timeout=5).json()
    assert [m["message"]["text"] for m in found["messages"]] == ["遅れて"]
    assert time.monotonic() - started < 2
    timer.join()
    assert fake.wait_for_messages(user, count=1, timeout=0.1)


def test_reset_and_unknown_paths(server: RunningFakeLine, fake: FakeLine, user: str) -> None:
    assert raw(server, "GET", "/v2/bot/no/such/thing").status_code == 404
    assert raw(server, "GET", "/v2/bot/group/G1/summary").status_code == 501
    fake.reset()
    assert fake.users() == [] and fake.all_messages() == [] and fake.requests == []


# -- in process (no HTTP) ----------------------------------------------------------------
def test_app_factory_works_with_flasks_test_client() -> None:
    from bot.fakeline import create_fake_app
    line = FakeLine()
    user = line.add_user("テスト")
    client = create_fake_app(line).test_client()
    response = client.post("/v2/bot/message/push", headers={"Authorization": f"Bearer {TOKEN}"},
                           json={"to": user, "messages": [{"type": "text", "text": "hi"}]})
    assert response.status_code == 200 and response.headers["x-line-request-id"]
    assert [m["message"]["text"] for m in line.messages_for(user)] == ["hi"]


def test_settings_follow_the_project_config() -> None:
    from bot.config import Config
    config = Config(access_token="another-token", openapi_dir="/tmp/spec")
    settings = FakeLineSettings.from_config(config, reply_token_ttl=5)
    assert (settings.access_token, settings.openapi_dir, settings.reply_token_ttl) == \
        ("another-token", "/tmp/spec", 5)


def test_python_side_api_checks_its_input() -> None:
    line = FakeLine()
    with pytest.raises(ValueError):
        line.add_user("x", user_id="U1")
    with pytest.raises(KeyError):
        line.mint_reply_token("U" + "0" * 32)
    with pytest.raises(ValueError):
        line.inject("push", status=500, count=0)
    started = time.monotonic()
    assert line.wait_for_messages(line.add_user("y"), timeout=0.05) == []
    assert time.monotonic() - started < 1


def test_expired_tokens_and_keys_are_purged(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.fakeline import state as state_module
    monkeypatch.setattr(state_module, "PURGE_THRESHOLD", 10)
    clock = Clock()
    line = FakeLine(FakeLineSettings(clock=clock))
    user = line.add_user("x")
    old = [line.mint_reply_token(user) for _ in range(9)]
    clock.now += 61
    fresh = line.mint_reply_token(user)
    assert set(line._reply_tokens) == {fresh} and old[0] not in line._reply_tokens
