"""こんにちは and ありがとう: a kind word back and the services as buttons, never a dead end."""

from bot.content.models import IntentContent, NonEmpty
from bot.lookup import normalize
from bot.router import Intent

from .fallback import service_chips


class GreetingsContent(IntentContent):
    thanks_words: list[NonEmpty] = []


intent = Intent("greetings", content=GreetingsContent, texts=["hello", "thanks"])


@intent.entry
def greet(reply, content, lang, text):
    typed = normalize(text or "")
    thanks = any(normalize(word) in typed for word in content["greetings"].thanks_words)
    reply(content.text("greetings.thanks" if thanks else "greetings.hello", lang), quick=service_chips(content, lang))
