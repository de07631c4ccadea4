"""The main menu: every service as a button, for residents who would rather tap."""

from bot.content.models import MenuContent
from bot.content.store import Content
from bot.messages import Tap, bubble, flex, taps
from bot.router import Intent

intent = Intent("menu", content=MenuContent, texts=["title", "intro"])


@intent.entry
def show_menu(reply, content, lang):
    reply(menu_message(content, lang))


def menu_message(content: Content, lang: str) -> dict:
    menu: MenuContent = content["menu"]
    title = content.text("menu.title", lang)
    buttons = taps(menu.items, lang)
    return flex(title, bubble(title, content.text("menu.intro", lang), buttons))


def menu_chip(content: Content, lang: str) -> Tap:
    label = content.text("messages.menu_chip", lang)
    return Tap(label, "action=menu", label)


def menu_chips(content: Content, lang: str) -> list[Tap]:
    """The menu button alone: what a conversation offers after やめる (`quit_chips`)."""
    return [menu_chip(content, lang)]
