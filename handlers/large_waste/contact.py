"""The three questions a large-waste booking asks about the resident: name, address, phone.

Asked after the place, before the summary, and only after saying plainly why (the crew
finds the house, the office can call when a pickup cannot be made) and for how long
(until the collection day, or the day it is cancelled, plus the city's `contact.keep_days`).
What is typed stays in the conversation until 確定 and then in the booking's contact row
(bot/large_waste_contact.py), nowhere else. A resident whose earlier booking still keeps
a contact gets 「前回と同じ」 instead of typing it all again; one who kept an address on
their profile (「この住所を登録する」 after an earlier booking) gets 「登録した住所: …」 at the
address question. A typed address is remembered as typed (`TYPED`), so that the booked
message offers to keep it — only when it differs from the one registered.

Each step is (ask, take) like the other steps of handlers/large_waste.py; `flow` is that
module's Flow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot import profile
from bot.conversation import Answer
from bot.messages import Tap

from . import contact_data as lc

if TYPE_CHECKING:
    from .chat import Flow

STEPS = ("name", "address", "phone")
KEY = lc.CONVERSATION_KEY
TYPED = "typed_address"  # in the conversation: the address was typed, not tapped


def typed(flow: "Flow") -> dict[str, str]:
    return dict(flow.data.get(KEY) or {})


def kept(flow: "Flow") -> lc.Contact | None:
    return lc.kept_contact(flow.session, flow.resident.id)


def _same(flow: "Flow", label: str, step: str) -> list[Tap]:
    return [flow.chip(label, f"action=large_waste.same&step={step}")] if kept(flow) else []


def ask_name(flow: "Flow") -> tuple[str, list[Tap], list[Tap]]:
    question = flow.say("ask_name", days=flow.rules.contact.keep_days)
    earlier = kept(flow)
    if earlier is not None:
        question += "\n\n" + flow.say("kept_contact", name=earlier.name, address=earlier.address,
                                      phone=lc.shown_phone(earlier.phone))
    return question, _same(flow, "same_all", "name"), []


def registered(flow: "Flow") -> str | None:
    return flow.resident.collection_address or None


def ask_address(flow: "Flow") -> tuple[str, list[Tap], list[Tap]]:
    """The address question, with the registered address (its full text in the question, a
    shortened one on the button) and the last booking's when it is another."""
    question, options = flow.say("ask_address"), []
    address = registered(flow)
    if address:
        question += "\n\n" + flow.say("registered_address", address=address)
        template = flow.words.labels["registered"].get(flow.lang)
        room = 20 - len(template.replace("{address}", ""))
        label = flow.content.fill(template, flow.lang, address=profile.short(address, room))
        options.append(Tap(label, "action=large_waste.registered&step=address", label))
    earlier = kept(flow)
    if earlier is not None and earlier.address != address:
        options += _same(flow, "same_address", "address")
    return question, options, []


def ask_phone(flow: "Flow") -> tuple[str, list[Tap], list[Tap]]:
    return flow.say("ask_phone"), _same(flow, "same_phone", "phone"), []


def _store(flow: "Flow", state: str, **values: str) -> None:
    flow.conversation.goto(state, **{KEY: {**typed(flow), **values}})


def take_name(flow: "Flow", answer: Answer) -> str:
    if answer.verb == "same":
        earlier = kept(flow)
        if earlier is None:
            return "unknown"
        flow.conversation.goto("confirm", **{KEY: earlier.as_dict(), TYPED: False})
        return "confirm"
    name = lc.clean_name(answer.text) if not answer.verb else None
    if name is None:
        flow.note("bad_name", most=lc.NAME_MAX)
        return "again"
    _store(flow, "address", name=name)
    return "address"


def take_address(flow: "Flow", answer: Answer) -> str:
    earlier = kept(flow) if answer.verb == "same" else None
    if answer.verb == "registered":
        address = registered(flow)
    elif earlier is not None:
        address = earlier.address
    else:
        address = lc.clean_address(answer.text) if not answer.verb else None
    if address is None:
        flow.note("bad_address", most=lc.ADDRESS_MAX)
        return "again"
    flow.conversation.goto("phone", **{KEY: {**typed(flow), "address": address}, TYPED: not answer.verb})
    return "phone"


def take_phone(flow: "Flow", answer: Answer) -> str:
    earlier = kept(flow) if answer.verb == "same" else None
    phone = earlier.phone if earlier else (lc.clean_phone(answer.text) if not answer.verb else None)
    if phone is None:
        flow.note("bad_phone")
        return "again"
    _store(flow, "confirm", phone=phone)
    return "confirm"


def complete(flow: "Flow") -> dict[str, str] | None:
    """The contact to book with, once all three were given."""
    values = typed(flow)
    return values if all(values.get(k) for k in STEPS) else None


def address_to_offer(flow: "Flow") -> str | None:
    """The address to offer to keep on the profile once booked: a typed one that is not
    already the registered one."""
    address = typed(flow).get("address")
    return address if flow.data.get(TYPED) and address and address != registered(flow) else None


def summary_values(flow: "Flow") -> dict[str, Any]:
    values = typed(flow)
    return {"name": values.get("name", ""), "address": values.get("address", ""),
            "phone": lc.shown_phone(values.get("phone", ""))}
