"""Who to call: City Hall's number, opening hours and website, from content/contact.yaml.

「市役所」 or 「問い合わせ」 is asked for exactly this. A question that only mentions City
Hall on the way (「市役所の駐車場は有料ですか」, 「母が亡くなりました。市役所で何をすれば」)
gets its prepared answer when the FAQ has one it is sure of (handlers/faq), and the
contact otherwise.
"""

from bot.content.models import ContactContent
from bot.lookup import normalize
from bot.messages import taps
from bot.router import Intent

intent = Intent("contact", content=ContactContent, texts=["body"])


@intent.entry
def show_contact(reply, content, lang, text, conversation):
    from . import faq

    if len(normalize(text)) > max((len(normalize(k)) for k in content["contact"].keywords.all()), default=0) \
            and "faq" in content.documents:
        found = faq.search(content, text)
        if found.best is not None:
            return faq.answer_found(reply, content, lang, found, conversation=conversation, question=text)
    info: ContactContent = content["contact"]
    body = content.text("contact.body", lang, phone=info.phone, hours=info.hours.get(lang), url=info.url)
    reply(body, quick=taps(info.choices, lang))
