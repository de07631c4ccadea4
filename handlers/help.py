"""How to use the bot, in the resident's language."""

from bot.messages import taps
from bot.router import Intent

intent = Intent("help", texts=["body"])


@intent.entry
def show_help(reply, content, lang):
    reply(content.text("help.body", lang), quick=taps(content["help"].choices, lang))
