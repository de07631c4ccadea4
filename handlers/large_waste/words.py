"""What the large-waste booking says and reads: content/large_waste.yaml's model, and the
intent with its conversation (the steps: chat.py; the rest of what residents tap: entry.py)."""

from __future__ import annotations

from datetime import timedelta

from bot.content.models import ConversationContent, IntentContent, Keywords, Label, NonEmpty, keys_required
from bot.conversation import Conversation
from handlers.menu import menu_chips
from bot.router import Intent

from . import domain as lw
from . import items as picker

REQUIRED_LABELS = frozenset({"back", "quit", "more", "previous", "add", "done", "confirm", "cancel", "cancel_yes",
                             "cancel_no", "change", "bookings", "book", "other_kind", "same_all", "same_address",
                             "same_phone", "registered", "keep_address", "keep_address_no"})
REQUIRED_COMMANDS = frozenset({"quit", "back", "done", "add", "confirm"})


class LargeWasteContent(ConversationContent):
    bookings_words: list[NonEmpty] = []  # 「予約確認」: the message asks for the bookings list
    fee_words: list[NonEmpty] = []       # 「粗大ごみの料金は？」: a question about fees, not a booking
    when_words: list[NonEmpty] = []      # 「次の粗大ごみはいつ」: a question about days, not a booking
    labels: dict[str, Label]
    commands: dict[str, Keywords]

    _labels = keys_required("labels", REQUIRED_LABELS)
    _commands = keys_required("commands", REQUIRED_COMMANDS)



intent = Intent("large_waste", content=LargeWasteContent, files={lw.RULES: lw.RulesFile}, narrower_than=["garbage"],
                checks=[lw.check_large_waste], warm=picker.warm, texts=[
                    "ask_area", "ask_item", "ask_item_area", "ask_kind_items", "choose", "not_found", "not_large",
                    "ask_quantity", "too_many", "ask_more", "line", "ask_date", "no_dates", "day_full",
                    "day_closed", "ask_place", "ask_place_other", "ask_name", "kept_contact", "ask_address",
                    "ask_phone", "registered_address", "offer_address", "address_kept", "address_not_kept", "address_gone",
                    "bad_name", "bad_address", "bad_phone", "summary", "booked", "already_booked", "quit",
                    "expired", "not_understood", "old_question", "bookings", "booking", "booking_locked",
                    "no_bookings", "ask_cancel", "cancelled", "ask_new_date", "moved", "unknown_booking",
                    "reminder", "staff_moved", "staff_cancelled", "fees", "fee_item", "next_days", "how_to_book"])
conv = intent.conversation(Conversation("large_waste", "large_waste", timeout=timedelta(minutes=30),
                                        expired_text="large_waste.expired", resume_label="resume",
                                        free_text=("place", "name", "address"), quits=True,
                                        quit_chips=menu_chips))
