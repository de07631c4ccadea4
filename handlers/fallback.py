"""When nothing matched: offer the near misses as buttons, never a dead end."""

from bot.messages import MAX_QUICK_REPLIES, Link, Tap, taps
from bot.router import Intent

from .menu import menu_chip

intent = Intent("fallback")


@intent.on("fallback")
def did_you_mean(reply, content, lang, match, text, location):
    if location is not None:
        return reply(content.text("messages.location_unused", lang), quick=[menu_chip(content, lang)])
    intents = content.intents()
    suggested = [Tap(intents[name].label.get(lang), f"action={name}", intents[name].label.get(lang))
                 for name in match.suggestions if name in intents and intents[name].label]
    if suggested:
        chips = suggested + [c for c in fallback_chips(content, lang) if c.data not in {s.data for s in suggested}]
        return reply(content.text("messages.did_you_mean", lang, text=_short(text)), quick=chips)
    reply(content.text("messages.not_understood", lang, text=_short(text)), quick=not_understood_chips(content, lang))


@intent.on("unsupported")
def unsupported(reply, content, lang):
    reply(content.text("messages.unsupported_message", lang), quick=not_understood_chips(content, lang))


def fallback_chips(content, lang):
    return taps(content["fallback"].choices, lang)


def not_understood_chips(content, lang) -> list[Tap]:
    chips = service_chips(content, lang)
    chips += [c for c in fallback_chips(content, lang) if c.data not in {s.data for s in chips}]
    return chips[:MAX_QUICK_REPLIES]


def service_chips(content, lang) -> list[Tap]:
    """What the city offers (the main menu's buttons), then a button that calls City Hall:
    a resident the bot did not understand always has a next step and a person to ask."""
    chips = [c for c in taps(content["menu"].items, lang) if c.data != "action=contact"]
    contact = content.documents.get("contact")
    if contact is not None and contact.label is not None:
        chips.append(Link(contact.label.get(lang), f"tel:{contact.phone}"))
    return chips


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 30 else text[:29] + "…"
