"""「データ削除」: everything the city keeps about a resident, deleted when they ask.

After a confirmation the resident row goes, and with it (ON DELETE CASCADE) their
children, topics, conversation and place in pushes not yet sent. Their next message
meets the bot as a stranger's would, and they can register again any time.
"""

from bot import profile
from bot.messages import taps
from bot.router import Intent

from .menu import menu_chip

intent = Intent("delete_data", texts=["confirm", "deleted", "kept"])


@intent.entry
def confirm_deletion(reply, content, lang):
    reply(content.text("delete_data.confirm", lang), quick=taps(content["delete_data"].choices, lang))


@intent.postback("delete_data.confirm")
def delete_everything(reply, content, lang, session, resident):
    profile.delete_resident(session, resident)
    reply(content.text("delete_data.deleted", lang))


@intent.postback("delete_data.cancel")
def keep_everything(reply, content, lang):
    reply(content.text("delete_data.kept", lang), quick=[menu_chip(content, lang)])
