"""Choosing the language the city speaks: 日本語, English or やさしい日本語."""

from bot.content.models import LANGUAGES
from bot.messages import taps
from bot.router import Intent

intent = Intent("language", texts=["choose", "changed"])


@intent.entry
def choose_language(reply, content, lang):
    reply(content.text("language.choose", lang), quick=taps(content["language"].choices, lang))


@intent.postback("language.set")
def set_language(reply, content, resident, params, lang):
    chosen = params.get("lang")
    if chosen not in LANGUAGES:
        return choose_language(reply, content, lang)
    resident.language = chosen
    reply(content.text("language.changed", chosen))
