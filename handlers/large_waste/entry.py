"""What residents reach outside a booking's steps: 「粗大ごみ」 and its questions about fees
and days, 「予約確認」 (the bookings list) with 取り消す and 日にちを変える, and the buttons of a
booking that is already over."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.lookup import normalize
from bot.messages import bubble, flex
from handlers.garbage import format_date
from handlers.menu import menu_chip

from . import answers
from . import domain as lw
from .chat import OUTSIDE_HANDLERS, Flow
from .said import booking_text, label_chip, own_booking
from .words import LargeWasteContent, conv, intent


@intent.entry
def open_large_waste(reply, content, lang, text, resident, conversation, now, session, config):
    """「粗大ごみ」 starts a booking; 「予約確認」 lists the bookings."""
    words: LargeWasteContent = content["large_waste"]
    typed = normalize(text)
    if typed and any(normalize(w) in typed for w in words.bookings_words):
        return show_bookings(reply, content, lang, resident, conversation, now, session, config, {})
    if typed and any(normalize(w) in typed for w in words.fee_words):
        return reply(answers.fees(content, lang), quick=[answers.book_chip(content, lang)])
    if typed and any(normalize(w) in typed for w in words.when_words):
        return reply(answers.when(content, lang, resident, session, now, ZoneInfo(config.timezone)),
                     quick=[answers.book_chip(content, lang)])
    start_booking(reply, content, lang, resident, conversation, now, session, config)


def start_booking(reply, content, lang, resident, conversation, now, session, config) -> None:
    flow = Flow(reply, content, lang, resident, conversation, now, session, ZoneInfo(config.timezone))
    if resident.garbage_area in lw.rules_of(content).days and resident.garbage_area in flow.book.areas:
        return flow.start("item", area=resident.garbage_area)
    flow.start("area", asked_area=True)


@intent.postback("large_waste.start")
def restart(reply, content, lang, resident, conversation, now, session, config):
    start_booking(reply, content, lang, resident, conversation, now, session, config)


# Buttons of a booking that is over (stopped, booked, timed out) start a new one.
for _verb in ("area", "category", "kind", "item", "qty", "add", "done", "date", "place", "same", "back", "more"):
    intent.postback(f"large_waste.{_verb}")(restart)


@intent.postback("large_waste.quit")
def stopped(reply, content, lang):
    """やめる of a booking that is already over: nothing to stop."""
    reply(content.text("large_waste.quit", lang), quick=[menu_chip(content, lang)])


@intent.postback("large_waste.confirm")
def confirmed_before(reply, content, lang, resident, conversation, now, session, config, params):
    """確定 tapped again after the booking was made: the same booking, never a second."""
    booking = session.scalars(select(lw.LargeWasteBooking).where(
        lw.LargeWasteBooking.request_key == f"chat:{params.get('token', '')}",
        lw.LargeWasteBooking.resident_id == resident.id)).first()
    if booking is None:
        return start_booking(reply, content, lang, resident, conversation, now, session, config)
    reply(content.text("large_waste.already_booked", lang, number=booking.number),
          quick=[label_chip(content, lang, "bookings", "action=large_waste.bookings"), menu_chip(content, lang)])


@intent.postback("large_waste.bookings")
def show_bookings(reply, content, lang, resident, conversation, now, session, config, params):
    tz = ZoneInfo(config.timezone)
    rules = lw.rules_of(content)
    bookings = lw.upcoming(session, resident.id, now.astimezone(tz).date())
    quick = [label_chip(content, lang, "book", "action=large_waste.start"), menu_chip(content, lang)]
    if not bookings:
        return reply(content.text("large_waste.no_bookings", lang), quick=quick)
    title = content.text("large_waste.bookings", lang)
    bubbles = []
    for booking in bookings[:10]:
        body = booking_text(content, lang, booking)
        buttons = [label_chip(content, lang, "change", f"action=large_waste.change&number={booking.number}"),
                   label_chip(content, lang, "cancel", f"action=large_waste.cancel&number={booking.number}")] \
            if rules.changeable(booking.date, now, tz) else []
        bubbles.append(bubble(title, body, buttons))
    alt = title + "\n" + "\n\n".join(booking_text(content, lang, b) for b in bookings[:10])
    reply(flex(alt, {"type": "carousel", "contents": bubbles}, quick=quick))


@intent.postback("large_waste.cancel")
def cancel_booking(reply, content, lang, resident, conversation, now, session, config, params):
    tz = ZoneInfo(config.timezone)
    booking = own_booking(session, resident, params.get("number", ""))
    if booking is None or booking.status != lw.BookingStatus.BOOKED:
        return reply(content.text("large_waste.unknown_booking", lang))
    when = format_date(content, lang, booking.date)
    rules = lw.rules_of(content)
    if not rules.changeable(booking.date, now, tz):
        return reply(content.text("large_waste.booking_locked", lang, number=booking.number, date=when))
    if params.get("sure") != "yes":
        return reply(content.text("large_waste.ask_cancel", lang, number=booking.number, date=when), quick=[
            label_chip(content, lang, "cancel_yes", f"action=large_waste.cancel&number={booking.number}&sure=yes"),
            label_chip(content, lang, "cancel_no", "action=large_waste.bookings")])
    lw.cancel(session, rules, booking, now, tz)
    reply(content.text("large_waste.cancelled", lang, number=booking.number),
          quick=[label_chip(content, lang, "bookings", "action=large_waste.bookings"), menu_chip(content, lang)])


@intent.postback("large_waste.change")
def change_date(reply, content, lang, resident, conversation, now, session, config, params):
    tz = ZoneInfo(config.timezone)
    booking = own_booking(session, resident, params.get("number", ""))
    if booking is None or booking.status != lw.BookingStatus.BOOKED:
        return reply(content.text("large_waste.unknown_booking", lang))
    if not lw.rules_of(content).changeable(booking.date, now, tz):
        return reply(content.text("large_waste.booking_locked", lang, number=booking.number,
                                  date=format_date(content, lang, booking.date)))
    flow = Flow(reply, content, lang, resident, conversation, now, session, tz)
    conversation.start(conv.name, "date", mode="change", number=booking.number, area=booking.area,
                       was=booking.date.isoformat(), items=[], page=0)
    flow.ask("date")


OUTSIDE_HANDLERS.update(bookings=show_bookings, cancel=cancel_booking, change=change_date)
