"""The collection address in 「設定」: shown in the summary, changed by typing, deleted by a tap.

It is not a question of the registration (never asked of residents who do not book): a
booking's 「この住所を登録する」 keeps it (handlers/large_waste/entry.py), and the next
booking offers it back as a button. Here the summary's 住所を変える asks for it (any words:
the conversation's `free_text`, so an address naming a ward is not taken for another
subject) and 住所を消す deletes it at once. データ削除 and a block delete it with the
resident row.
"""

from __future__ import annotations

from bot import profile
from bot.conversation import Answer
from bot.messages import Tap

from . import settings as base


def ask_address(flow: base.Flow) -> tuple[str, list[Tap], list[Tap]]:
    """The address pickups come to, the one kept (if any) shown in full."""
    address = flow.resident.collection_address
    if address:
        return flow.say("ask_address", address=address), [], []
    return flow.say("ask_address_new"), [], []


def take_address(flow: base.Flow, answer: Answer) -> str:
    if answer.verb:
        return base.UNKNOWN
    address = profile.clean_address(answer.text)
    if address is None:
        flow.note("bad_address", most=profile.ADDRESS_MAX)
        return base.AGAIN
    flow.resident.collection_address = address
    return base.NEXT


@base.intent.postback("settings.forget_address")
def forget_address(turn):
    """住所を消す: the address goes at once; tapped again (an old summary) nothing changes."""
    turn.resident.collection_address = None
    turn.reply(turn.say("settings.address_deleted"), base.summary_message(turn.content, turn.lang, turn.resident))


base.QUESTIONS["address"] = ask_address
base.ANSWERS["address"] = take_address
base.ASIDE["forget_address"] = forget_address
