"""Adding the city as a friend, and blocking it.

A block (unfollow) deletes what we keep about the resident: LINE will not let us reach
them any more, so there is no reason to hold their data.
"""

from bot.messages import taps
from bot.router import Intent

intent = Intent("follow", texts=["welcome"])


@intent.on("follow")
def welcome(reply, content, lang, resident):
    resident.following = True
    reply(content.text("follow.welcome", lang), quick=taps(content["follow"].choices, lang))


@intent.on("unfollow")
def forget(session, resident):
    session.delete(resident)  # conversation state goes with it (ON DELETE CASCADE)
