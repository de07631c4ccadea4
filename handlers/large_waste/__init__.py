"""粗大ごみ: large-waste pickups residents book in the chat, and the office's pages for them.

The conversation is chat.py (its words and intent: words.py; what residents tap outside
it: entry.py; the clock's jobs: jobs.py); the booking service and its tables are
domain.py, tables.py and rules.py (content/large_waste/rules.yaml); contact_data.py keeps
and erases a booking's name, address and phone; staff.py is what the office does for a
caller; admin.py the /admin pages and commands.py `citybot bookings export`.
"""

from . import chat, entry, jobs  # noqa: F401 - the steps, the postbacks and the clock's jobs register on the intent
from .words import intent

#: the service packages this one cannot work without: the items and fees are the garbage
#: book's, and the dates are told as garbage tells them. Removing garbage removes this one
#: too (tests/integration/test_service_removal.py keeps this list honest).
DEPENDS_ON = ("garbage",)

__all__ = ["DEPENDS_ON", "intent"]
