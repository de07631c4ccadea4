"""Who to call: City Hall's number, opening hours and website, from content/contact.yaml."""

from bot.content.models import ContactContent
from bot.messages import taps
from bot.router import Intent

intent = Intent("contact", content=ContactContent, texts=["body"])


@intent.entry
def show_contact(reply, content, lang):
    info: ContactContent = content["contact"]
    body = content.text("contact.body", lang, phone=info.phone, hours=info.hours.get(lang), url=info.url)
    reply(body, quick=taps(info.choices, lang))
