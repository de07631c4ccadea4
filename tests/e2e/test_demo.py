"""`citybot demo` as a newcomer runs it: the simulator answers, and a resident there gets
the menu, help and a "did you mean" answer from the real bot — by API and in a browser."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CITYBOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    instance = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "CITYBOT_INSTANCE_DIR": str(instance), "CITYBOT_ENV": "development"}
    env.pop("DATABASE_URL", None)
    citybot = Path(sys.executable).parent / "citybot"
    proc = subprocess.Popen([str(citybot), "demo", "--port", "0", "--fake-port", "0"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    url, lines = None, []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and url is None:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
        found = re.search(r"simulator:\s+(http://\S+)", line)
        url = found.group(1) if found else None
    if url is None:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("demo printed no simulator URL:\n" + "".join(lines))
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def wait_messages(api: str, user: str, count: int, after: int = 0) -> list[dict]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        got = requests.get(f"{api}/messages", params={"userId": user, "after": after}, timeout=5).json()["messages"]
        if len(got) >= count:
            return got
        time.sleep(0.1)
    raise AssertionError(f"expected {count} message(s), got {got}")


def test_simulator_api_conversation_with_the_demo_bot(demo):
    assert requests.get(demo, timeout=5).status_code == 200
    api = demo.rstrip("/") + "/api"
    user = requests.post(f"{api}/residents", json={"displayName": "デモ 太郎", "language": "ja"}, timeout=5).json()["userId"]

    def say(text: str, seen: int) -> dict:
        answer = requests.post(f"{api}/send", json={"userId": user, "kind": "text", "text": text}, timeout=10)
        assert answer.json()["status"] == 200
        return wait_messages(api, user, 1, after=seen)[-1]

    menu = say("メニュー", 0)
    assert menu["message"]["type"] == "flex" and menu["via"] == "reply"
    help_ = say("ヘルプ", menu["seq"])
    assert "LINE窓口" in help_["message"]["text"]
    maybe = say("めにゅ", help_["seq"])
    assert "どれ" in maybe["message"]["text"]
    assert maybe["message"]["quickReply"]["items"][0]["action"]["data"] == "action=menu"
    menu_state = requests.get(f"{api}/richmenu", params={"userId": user}, timeout=5).json()
    assert menu_state["richMenu"]["chatBarText"] == "メニュー / Menu"


@pytest.mark.browser
def test_resident_chats_with_the_demo_bot_in_a_browser(demo):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    expect = sync_api.expect
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(demo)
        page.get_by_test_id("new-resident-name").fill("ブラウザ 花子")
        page.get_by_test_id("add-resident").click()
        bot = page.get_by_test_id("bot-message")
        expect(bot.last).to_contain_text("友だち追加ありがとうございます", timeout=15000)

        box = page.get_by_test_id("message-input")
        box.fill("メニュー")
        box.press("Enter")
        expect(bot.last).to_contain_text("ご用件をボタンで選んでください", timeout=15000)

        box.fill("めにゅ")
        box.press("Enter")
        expect(bot.last).to_contain_text("次のどれのことですか", timeout=15000)
        page.get_by_test_id("quick-reply").filter(has_text="使い方").click()
        expect(bot.last).to_contain_text("知りたいことを短い言葉で送ってください", timeout=15000)

        areas = page.get_by_test_id("richmenu-area")
        expect(areas).to_have_count(6, timeout=15000)
        areas.nth(4).click()  # 問い合わせ先
        expect(bot.last).to_contain_text("06-0000-0000", timeout=15000)

        box.fill("保育園の空き")  # a parent with nothing registered: class, then ward, then the carousel
        box.press("Enter")
        expect(bot.last).to_contain_text("何歳児クラス", timeout=15000)
        page.get_by_test_id("quick-reply").filter(has_text="1歳児").click()
        expect(bot.last).to_contain_text("どの区で探しますか", timeout=15000)
        page.get_by_test_id("quick-reply").filter(has_text="北区").click()
        expect(bot.last).to_contain_text("申し込みは", timeout=15000)
        expect(page.get_by_text("北区で1歳児クラスに空きのある施設は")).to_be_visible(timeout=15000)
        expect(page.get_by_text("電話する").first).to_be_visible()
        page.screenshot(path=os.environ.get("CITYBOT_DEMO_SCREENSHOT", "/tmp/citybot-demo.png"), full_page=True)
        browser.close()
