"""What residents reach outside a booking's steps: 「粗大ごみ」 and its questions about fees
and days, 「予約確認」 (the bookings list) with 取り消す and 日にちを変える, and the buttons of a
booking that is already made (確定 again)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.lookup import normalize
from bot.messages import bubble, flex
from handlers.garbage import format_date
from handlers.menu import menu_chip
from handlers.settings import settings_chip

from . import answers
from . import domain as lw
from .chat import OUTSIDE_HANDLERS, Flow
from .said import booking_text, label_chip, own_booking
from .words import LargeWasteContent, conv, intent


@intent.entry
def open_large_waste(turn):
    """「粗大ごみ」 starts a booking; 「予約確認」 lists the bookings."""
    words: LargeWasteContent = turn.content["large_waste"]
    typed = normalize(turn.text) if turn.kind == "text" else ""
    if typed and any(normalize(w) in typed for w in words.bookings_words):
        return show_bookings(turn, {})
    if typed and any(normalize(w) in typed for w in words.fee_words):
        return turn.reply(answers.fees(turn.content, turn.lang), quick=[answers.book_chip(turn.content, turn.lang)])
    if typed and any(normalize(w) in typed for w in words.when_words):
        return turn.reply(answers.when(turn.content, turn.lang, turn.resident, turn.session, turn.now,
                                       ZoneInfo(turn.config.timezone)),
                          quick=[answers.book_chip(turn.content, turn.lang)])
    start_booking(turn)


@intent.postback("large_waste.start")
def start_booking(turn) -> None:
    flow, area = Flow(turn), turn.resident.garbage_area
    if area in lw.rules_of(turn.content).days and area in flow.book.areas:
        return flow.start("item", area=area)
    flow.start("area", asked_area=True)


@intent.postback("large_waste.confirm")
def confirmed_before(turn):
    """確定 tapped again after the booking was made: the same booking, never a second (other
    buttons of a booking that is over are the driver's: 「もう終わっています」)."""
    booking = turn.session.scalars(select(lw.LargeWasteBooking).where(
        lw.LargeWasteBooking.request_key == f"chat:{turn.params.get('token', '')}",
        lw.LargeWasteBooking.resident_id == turn.resident.id)).first()
    if booking is None:
        return start_booking(turn)
    turn.reply(turn.say("large_waste.already_booked", number=booking.number),
               quick=[label_chip(turn.content, turn.lang, "bookings", "action=large_waste.bookings"),
                      menu_chip(turn.content, turn.lang)])


@intent.postback("large_waste.bookings")
def show_bookings(turn, params):
    content, lang, now, tz = turn.content, turn.lang, turn.now, ZoneInfo(turn.config.timezone)
    rules = lw.rules_of(content)
    bookings = lw.upcoming(turn.session, turn.resident.id, now.astimezone(tz).date())
    quick = [label_chip(content, lang, "book", "action=large_waste.start"), menu_chip(content, lang)]
    if not bookings:
        return turn.reply(turn.say("large_waste.no_bookings"), quick=quick)
    title = turn.say("large_waste.bookings")
    bubbles = []
    for booking in bookings[:10]:
        body = booking_text(content, lang, booking)
        buttons = [label_chip(content, lang, "change", f"action=large_waste.change&number={booking.number}"),
                   label_chip(content, lang, "cancel", f"action=large_waste.cancel&number={booking.number}")] \
            if rules.changeable(booking.date, now, tz) else []
        bubbles.append(bubble(title, body, buttons))
    alt = title + "\n" + "\n\n".join(booking_text(content, lang, b) for b in bookings[:10])
    turn.reply(flex(alt, {"type": "carousel", "contents": bubbles}, quick=quick))


@intent.postback("large_waste.cancel")
def cancel_booking(turn, params):
    content, lang, now, tz = turn.content, turn.lang, turn.now, ZoneInfo(turn.config.timezone)
    booking = own_booking(turn.session, turn.resident, params.get("number", ""))
    if booking is None or booking.status != lw.BookingStatus.BOOKED:
        return turn.reply(turn.say("large_waste.unknown_booking"))
    when = format_date(content, lang, booking.date)
    rules = lw.rules_of(content)
    if not rules.changeable(booking.date, now, tz):
        return turn.reply(turn.say("large_waste.booking_locked", number=booking.number, date=when))
    if params.get("sure") != "yes":
        return turn.reply(turn.say("large_waste.ask_cancel", number=booking.number, date=when), quick=[
            label_chip(content, lang, "cancel_yes", f"action=large_waste.cancel&number={booking.number}&sure=yes"),
            label_chip(content, lang, "cancel_no", "action=large_waste.bookings")])
    lw.cancel(turn.session, rules, booking, now, tz)
    turn.reply(turn.say("large_waste.cancelled", number=booking.number),
               quick=[label_chip(content, lang, "bookings", "action=large_waste.bookings"), menu_chip(content, lang)])


@intent.postback("large_waste.change")
def change_date(turn, params):
    content, lang, tz = turn.content, turn.lang, ZoneInfo(turn.config.timezone)
    booking = own_booking(turn.session, turn.resident, params.get("number", ""))
    if booking is None or booking.status != lw.BookingStatus.BOOKED:
        return turn.reply(turn.say("large_waste.unknown_booking"))
    if not lw.rules_of(content).changeable(booking.date, turn.now, tz):
        return turn.reply(turn.say("large_waste.booking_locked", number=booking.number,
                                   date=format_date(content, lang, booking.date)))
    turn.conversation.start(conv.name, "date", mode="change", number=booking.number, area=booking.area,
                            was=booking.date.isoformat(), items=[], page=0)
    Flow(turn).ask("date")


@intent.postback("large_waste.keep_address")
def keep_address(turn, params):
    """「この住所を登録する」 under a booked message: the booking's address goes on the profile
    (to be offered next time; 設定 changes or deletes it). The address is read from the
    booking's contact, never carried in the button; tapping twice keeps it once. 「登録しない」
    keeps nothing."""
    content, lang = turn.content, turn.lang
    quick = [settings_chip(content, lang), menu_chip(content, lang)]
    if params.get("answer") != "yes":
        return turn.reply(turn.say("large_waste.address_not_kept"), quick=quick)
    booking = own_booking(turn.session, turn.resident, params.get("number", ""))
    contact = lw.contacts_of(turn.session, [booking]).get(booking.id) if booking is not None else None
    if contact is None:  # erased by the clock (or the booking is not theirs)
        return turn.reply(turn.say("large_waste.address_gone"), quick=quick)
    turn.resident.collection_address = contact.address
    turn.reply(turn.say("large_waste.address_kept", address=contact.address), quick=quick)


OUTSIDE_HANDLERS.update(bookings=show_bookings, cancel=cancel_booking, change=change_date, keep_address=keep_address)
