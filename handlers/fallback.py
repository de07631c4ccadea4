"""When nothing matched: the city's prepared answers first, then the near misses as
buttons, never a dead end.

No service took the message (bot/router.py), so it may be a city-hall question: the FAQ
(handlers/faq) answers it when it is sure, else its choices join the near misses, else
the resident gets the city's contact and the question is counted for staff.
"""

from bot.messages import MAX_QUICK_REPLIES, Link, Tap, taps
from bot.router import Intent

from . import faq
from .menu import menu_chip

intent = Intent("fallback")


@intent.on("fallback")
def did_you_mean(reply, content, lang, match, text, location, session=None, conversation=None, now=None):
    """the FAQ's prepared answer if one fits, else did-you-mean services, FAQ choices, City Hall's contact.

    Nothing else took the message: a city-hall question (「住民票を取りたい」) is answered
    from the prepared answers; unanswered ones are counted for staff (handlers/faq)."""
    if location is not None:
        return reply(content.text("messages.location_unused", lang), quick=[menu_chip(content, lang)])
    found = faq.search(content, text) if "faq" in content.documents else faq.Found()
    if found.best is not None:  # a city-hall question with a prepared answer
        return faq.answer_found(reply, content, lang, found, conversation=conversation, question=text)
    intents = content.intents()
    suggested = [Tap(intents[name].label.get(lang), f"action={name}", intents[name].label.get(lang))
                 for name in match.suggestions if name in intents and intents[name].label and name != "faq"]
    if suggested:
        asked = [hit.entry for hit in found.choices[:2]]
        chips = (suggested + [faq.choice_chip(lang, entry) for entry in asked]
                 + [c for c in fallback_chips(content, lang) if c.data not in {s.data for s in suggested}])
        reply(content.text("messages.did_you_mean", lang, text=_short(text)), quick=chips[:MAX_QUICK_REPLIES])
        return faq.remember_choices(conversation, text, asked)
    if found.choices:
        return faq.offer(reply, content, lang, found, fallback_chips(content, lang), conversation=conversation,
                         question=text)
    if "faq" in content.documents:  # nothing prepared: the city's contact, and the question counted
        return faq.not_found(reply, content, lang, text, session, now, not_understood_chips(content, lang))
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
