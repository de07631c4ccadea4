"""The simulator page in a real browser (Chromium via Playwright), against the fake LINE
platform and a stand-in bot.

The stand-in `/callback` verifies the signature with line-bot-sdk's WebhookParser and
answers through line-bot-sdk's MessagingApi against the fake platform, so the whole path
page -> simulator API -> signed webhook -> SDK reply -> fake platform -> page is real.
Skipped when Chromium or Playwright is missing (set CITYBOT_REQUIRE_BROWSER=1 to fail
instead). A screenshot of the finished conversation is left at /tmp/simulator.png.
"""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import pytest
import requests
from flask import Flask, abort, request
from werkzeug.serving import make_server

from bot.config import DEV_ACCESS_TOKEN, Config
from bot.fakeline import FakeLineSettings, start_fake_line
from bot.simulator import bp

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = os.environ.get("CITYBOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SECRET = "browser-test-channel-secret"
SCREENSHOT = Path(os.environ.get("CITYBOT_SIMULATOR_SCREENSHOT", "/tmp/simulator.png"))
CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
expect = sync_api.expect


# -- a stand-in bot --------------------------------------------------------------------------------

def _flex_card() -> dict:
    return {
        "type": "flex", "altText": "ごみ収集カレンダー",
        "contents": {
            "type": "bubble",
            "header": {"type": "box", "layout": "vertical", "backgroundColor": "#06c755", "contents": [
                {"type": "text", "text": "堺区のごみ収集", "weight": "bold", "color": "#ffffff", "size": "lg"}]},
            "body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": [
                {"type": "box", "layout": "baseline", "spacing": "sm", "contents": [
                    {"type": "text", "text": "燃えるごみ", "flex": 2, "color": "#888888", "size": "sm"},
                    {"type": "text", "text": "月・木", "flex": 3, "weight": "bold", "wrap": True}]},
                {"type": "separator"},
                {"type": "box", "layout": "horizontal", "contents": [
                    {"type": "text", "text": "資源ごみ", "flex": 2, "color": "#888888", "size": "sm"},
                    {"type": "text", "contents": [
                        {"type": "span", "text": "第2・第4 ", "weight": "bold"},
                        {"type": "span", "text": "水曜", "color": "#e03c31"}], "flex": 3}]},
                {"type": "text", "text": "朝8時30分までに\n出してください。", "wrap": True, "size": "xs"}]},
            "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
                {"type": "button", "style": "primary", "height": "sm",
                 "action": {"type": "postback", "label": "通知を受け取る", "data": "notify=on",
                            "displayText": "通知を受け取る"}},
                {"type": "button", "style": "link", "height": "sm",
                 "action": {"type": "uri", "label": "市のページ", "uri": "https://www.city.sakai.lg.jp/"}}]},
        },
    }


def _confirm() -> dict:
    return {"type": "template", "altText": "確認", "template": {
        "type": "confirm", "text": "この地区でよろしいですか？",
        "actions": [{"type": "message", "label": "はい", "text": "はい"},
                    {"type": "postback", "label": "いいえ", "data": "area=retry"}]}}


def _stand_in_app(fake_url: str, seen: list) -> Flask:
    from linebot.v3 import WebhookParser
    from linebot.v3.exceptions import InvalidSignatureError
    from linebot.v3.messaging import (
        ApiClient,
        Configuration,
        FlexMessage,
        MessagingApi,
        ReplyMessageRequest,
        TemplateMessage,
        TextMessage,
    )
    from linebot.v3.webhooks import FollowEvent, LocationMessageContent, MessageEvent, PostbackEvent, TextMessageContent

    parser = WebhookParser(SECRET)
    configuration = Configuration(host=fake_url, access_token=DEV_ACCESS_TOKEN)

    def quick_reply() -> dict:
        return {"items": [
            {"type": "action", "action": {"type": "message", "label": "ごみの日", "text": "ごみの日"}},
            {"type": "action", "action": {"type": "postback", "label": "粗大ごみ", "data": "topic=sodai",
                                          "displayText": "粗大ごみを出したい"}},
            {"type": "action", "action": {"type": "location", "label": "位置情報を送る"}},
            {"type": "action", "action": {"type": "datetimepicker", "label": "日付を選ぶ", "data": "pick",
                                          "mode": "date", "initial": "2025-04-01"}},
        ]}

    def answer(event) -> list:
        if isinstance(event, FollowEvent):
            return [TextMessage(text="友だち追加ありがとうございます！\n堺市のLINEへようこそ。")]
        if isinstance(event, PostbackEvent):
            params = event.postback.params or {}
            extra = " ".join(f"{k}={v}" for k, v in sorted(params.items()))
            return [TextMessage(text=f"postback: {event.postback.data} {extra}".strip())]
        if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
            if event.message.text == "カード":
                return [FlexMessage.from_dict(_flex_card()), TemplateMessage.from_dict(_confirm())]
            return [TextMessage.from_dict({"type": "text", "text": f"「{event.message.text}」を受け取りました。\n次を選んでください。",
                                           "quickReply": quick_reply()})]
        if isinstance(event, MessageEvent) and isinstance(event.message, LocationMessageContent):
            return [TextMessage(text=f"位置: {event.message.latitude}, {event.message.longitude}")]
        return []

    app = Flask("stand-in-bot")
    app.register_blueprint(bp)

    @app.post("/callback")
    def callback():
        try:
            events = parser.parse(request.get_data(as_text=True), request.headers.get("X-Line-Signature", ""))
        except InvalidSignatureError:
            abort(400)
        with ApiClient(configuration) as client:
            api = MessagingApi(client)
            for event in events:
                seen.append(event)
                messages = answer(event)
                if messages and getattr(event, "reply_token", None):
                    api.reply_message(ReplyMessageRequest(reply_token=event.reply_token, messages=messages))
        return "OK"

    return app


def _menu_image(width: int, height: int, labels: list[str], colors: list[tuple]) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    try:
        font = ImageFont.truetype(CJK_FONT, 110)
    except OSError:
        font = ImageFont.load_default()
        labels = [f"AREA {i + 1}" for i in range(len(labels))]
    cell = width // len(labels)
    for i, (label, color) in enumerate(zip(labels, colors)):
        draw.rectangle([i * cell + 8, 8, (i + 1) * cell - 8, height - 8], fill=color)
        box = draw.textbbox((0, 0), label, font=font)
        draw.text((i * cell + (cell - (box[2] - box[0])) / 2, (height - (box[3] - box[1])) / 2 - box[1]),
                  label, fill=(255, 255, 255), font=font)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _setup_rich_menus(fake_url: str) -> tuple[str, str]:
    headers = {"Authorization": f"Bearer {DEV_ACCESS_TOKEN}"}

    def create(name: str, bar: str, areas: list, labels: list[str], colors: list[tuple]) -> str:
        definition = {"size": {"width": 2500, "height": 843}, "selected": True, "name": name,
                      "chatBarText": bar, "areas": areas}
        resp = requests.post(f"{fake_url}/v2/bot/richmenu", json=definition, headers=headers, timeout=10)
        resp.raise_for_status()
        menu_id = resp.json()["richMenuId"]
        resp = requests.post(f"{fake_url}/v2/bot/richmenu/{menu_id}/content", timeout=10,
                             data=_menu_image(2500, 843, labels, colors),
                             headers={**headers, "Content-Type": "image/png"})
        resp.raise_for_status()
        return menu_id

    def area(i: int, action: dict) -> dict:
        return {"bounds": {"x": i * 833, "y": 0, "width": 833 if i < 2 else 834, "height": 843}, "action": action}

    main = create("main", "メニュー", [
        area(0, {"type": "message", "label": "ごみ", "text": "ごみ"}),
        area(1, {"type": "postback", "label": "防災", "data": "menu=bosai", "displayText": "防災情報"}),
        area(2, {"type": "richmenuswitch", "label": "次へ", "richMenuAliasId": "page-2", "data": "menu=page2"}),
    ], ["ごみ", "防災", "次へ ▶"], [(6, 199, 85), (232, 110, 50), (60, 120, 200)])
    page2 = create("page 2", "メニュー2", [
        area(0, {"type": "message", "label": "子育て", "text": "子育て"}),
        area(1, {"type": "message", "label": "税金", "text": "税金"}),
        area(2, {"type": "richmenuswitch", "label": "戻る", "richMenuAliasId": "page-1", "data": "menu=page1"}),
    ], ["子育て", "税金", "◀ 戻る"], [(150, 90, 200), (200, 160, 30), (60, 120, 200)])
    for alias, menu_id in (("page-1", main), ("page-2", page2)):
        requests.post(f"{fake_url}/v2/bot/richmenu/alias", headers=headers, timeout=10,
                      json={"richMenuAliasId": alias, "richMenuId": menu_id}).raise_for_status()
    requests.post(f"{fake_url}/v2/bot/user/all/richmenu/{main}", headers=headers, timeout=10).raise_for_status()
    return main, page2


@pytest.fixture(scope="module")
def stack():
    fake = start_fake_line(FakeLineSettings(access_token=DEV_ACCESS_TOKEN))
    seen: list = []
    app = _stand_in_app(fake.url, seen)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["CITYBOT_CONFIG"] = Config(env="test", channel_secret=SECRET, line_api_base=fake.url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    menus = _setup_rich_menus(fake.url)
    yield {"url": url, "fake": fake, "seen": seen, "menus": menus}
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()
    fake.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_resident_chats_taps_quick_replies_and_the_rich_menu(stack, browser):
    page = browser.new_page(viewport={"width": 1000, "height": 1200}, locale="ja-JP")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(10_000)
    page.goto(stack["url"] + "/simulator/")

    # add a resident: it is selected, follows, and gets the welcome
    page.get_by_test_id("new-resident-name").fill("堺 花子")
    page.get_by_test_id("new-resident-language").select_option("ja")
    page.get_by_test_id("add-resident").click()
    expect(page.get_by_test_id("chat-title")).to_have_text("堺 花子")
    expect(page.locator("[data-testid=resident-item][aria-pressed=true]")).to_contain_text("堺 花子")
    bot = page.get_by_test_id("bot-message")
    expect(bot.last).to_contain_text("友だち追加ありがとうございます")
    expect(bot.last.get_by_test_id("via-tag")).to_have_text("reply")

    # type a message (Enter sends), the reply bubble keeps its line break
    box = page.get_by_test_id("message-input")
    box.fill("こんにちは")
    box.press("Enter")
    expect(page.get_by_test_id("my-message").last).to_contain_text("こんにちは")
    reply = bot.filter(has_text="「こんにちは」を受け取りました")
    expect(reply).to_have_count(1)
    assert "\n次を選んでください" in reply.get_by_test_id("bot-text").inner_text()
    expect(box).to_have_value("")

    # quick reply: a message action sends its text
    chips = page.get_by_test_id("quick-reply")
    expect(chips).to_have_count(4)
    chips.filter(has_text="ごみの日").click()
    expect(page.get_by_test_id("my-message").last).to_contain_text("ごみの日")
    expect(bot.filter(has_text="「ごみの日」を受け取りました")).to_have_count(1)

    # quick reply: a postback shows its displayText on the resident's side
    chips.filter(has_text="粗大ごみ").click()
    expect(page.get_by_test_id("my-message").last).to_contain_text("粗大ごみを出したい")
    expect(bot.filter(has_text="postback: topic=sodai")).to_have_count(1)
    expect(page.get_by_test_id("quick-replies")).to_be_hidden()

    # rich menu from the fake platform, areas positioned over the image
    menu = page.get_by_test_id("richmenu")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("data-rich-menu-id", stack["menus"][0])
    expect(page.locator(".richmenu-image")).to_be_visible()
    areas = page.get_by_test_id("richmenu-area")
    expect(areas).to_have_count(3)
    stage = page.get_by_test_id("richmenu-stage").bounding_box()
    first = areas.nth(0).bounding_box()
    assert abs(first["width"] - stage["width"] * 833 / 2500) < 2
    assert abs(first["height"] - stage["height"]) < 2
    areas.nth(0).click()
    expect(page.get_by_test_id("my-message").last).to_contain_text("ごみ")
    expect(bot.filter(has_text="「ごみ」を受け取りました")).to_have_count(1)
    page.screenshot(path=str(SCREENSHOT.with_name(SCREENSHOT.stem + "-quick-replies.png")))

    # the location quick reply opens the form, which defaults to Sakai city hall
    chips.filter(has_text="位置情報を送る").click()
    expect(page.get_by_test_id("location-form")).to_be_visible()
    expect(page.get_by_test_id("loc-lat")).to_have_value("34.5733")
    expect(page.get_by_test_id("loc-lon")).to_have_value("135.4830")
    page.get_by_test_id("loc-send").click()
    expect(page.get_by_test_id("location-form")).to_be_hidden()
    expect(page.get_by_test_id("location-card").last).to_contain_text("堺市役所")
    expect(bot.filter(has_text="位置: 34.5733, 135.483")).to_have_count(1)

    # richmenuswitch: the aliased menu shows and the bot gets the postback with params
    areas.nth(2).click()
    expect(menu).to_have_attribute("data-rich-menu-id", stack["menus"][1])
    expect(page.get_by_test_id("richmenu-bar")).to_contain_text("メニュー2")
    expect(bot.filter(has_text="postback: menu=page2 newRichMenuAliasId=page-2 status=SUCCESS")).to_have_count(1)

    # chat bar toggles the menu
    page.get_by_test_id("richmenu-bar").click()
    expect(page.get_by_test_id("richmenu-stage")).to_be_hidden()
    page.get_by_test_id("richmenu-bar").click()
    expect(page.get_by_test_id("richmenu-stage")).to_be_visible()

    # Flex and a confirm template render, and their actions work
    box.fill("カード")
    page.get_by_test_id("send-btn").click()
    flex = page.get_by_test_id("flex").last
    expect(flex).to_contain_text("堺区のごみ収集")
    expect(flex).to_contain_text("第2・第4 水曜")
    expect(page.get_by_test_id("template").last).to_contain_text("この地区でよろしいですか？")
    flex.get_by_test_id("flex-button").filter(has_text="通知を受け取る").click()
    expect(page.get_by_test_id("my-message").last).to_contain_text("通知を受け取る")
    expect(bot.filter(has_text="postback: notify=on")).to_have_count(1)
    page.get_by_test_id("template").last.get_by_test_id("template-action").filter(has_text="はい").click()
    expect(bot.filter(has_text="「はい」を受け取りました")).to_have_count(1)

    # datetime picker quick reply: pick a date, the bot gets it as params
    page.get_by_test_id("quick-reply").filter(has_text="日付を選ぶ").click()
    dialog = page.get_by_test_id("datetime-dialog")
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("datetime-input")).to_have_value("2025-04-01")
    page.get_by_test_id("datetime-input").fill("2025-04-15")
    page.get_by_test_id("datetime-ok").click()
    expect(bot.filter(has_text="postback: pick date=2025-04-15")).to_have_count(1)

    # a sticker goes out as a sticker event
    page.get_by_test_id("plus-btn").click()
    page.get_by_test_id("open-sticker").click()
    page.get_by_test_id("sticker").first.click()
    sticker = page.get_by_test_id("my-message").last
    expect(sticker).to_have_attribute("data-kind", "sticker")
    expect(sticker.get_by_test_id("read-state")).to_have_text("既読")  # the webhook answered

    # what the stand-in bot was sent, in order of kinds
    kinds = [type(e).__name__ for e in stack["seen"]]
    assert kinds[:2] == ["FollowEvent", "MessageEvent"]
    assert "PostbackEvent" in kinds and kinds[-1] == "MessageEvent"

    page.get_by_test_id("chat-log").evaluate("el => el.scrollTop = el.scrollHeight")
    page.screenshot(path=str(SCREENSHOT), full_page=False)
    assert not errors, errors

    # a reload keeps the conversation (bot side from the platform, resident side from storage)
    count = bot.count()
    page.reload()
    expect(page.get_by_test_id("chat-title")).to_have_text("堺 花子")
    expect(bot).to_have_count(count)
    expect(page.get_by_test_id("my-message").filter(has_text="粗大ごみを出したい")).to_have_count(1)
    page.close()


def test_block_and_follow_again(stack, browser):
    page = browser.new_page()
    page.set_default_timeout(10_000)
    page.goto(stack["url"] + "/simulator/")
    page.get_by_test_id("new-resident-name").fill("Alex")
    page.get_by_test_id("new-resident-language").select_option("en")
    page.get_by_test_id("new-resident-follow").uncheck()
    page.get_by_test_id("add-resident").click()
    expect(page.get_by_test_id("chat-title")).to_have_text("Alex")
    before = len(stack["seen"])

    page.get_by_test_id("block-btn").click()
    expect(page.get_by_test_id("follow-state")).to_contain_text("not following")
    expect(page.get_by_test_id("follow-btn")).to_be_enabled()
    page.get_by_test_id("follow-btn").click()
    expect(page.get_by_test_id("bot-message").last).to_contain_text("友だち追加ありがとうございます")
    expect(page.get_by_test_id("follow-state")).to_contain_text("following")
    names = [type(e).__name__ for e in stack["seen"][before:]]
    assert names == ["UnfollowEvent", "FollowEvent"]
    assert stack["seen"][-1].follow.is_unblocked is True
    page.close()


def test_fake_platform_down_shows_an_error(stack, browser):
    page = browser.new_page()
    page.route("**/simulator/api/residents", lambda route: route.fulfill(
        status=502, content_type="application/json",
        body='{"error": "the fake LINE platform at http://127.0.0.1:9 cannot be reached"}'))
    page.goto(stack["url"] + "/simulator/")
    expect(page.get_by_test_id("error-banner")).to_contain_text("cannot be reached")
    page.close()
