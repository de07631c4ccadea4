"""Adding the city as a friend, and blocking it.

A follow greets and asks, in plain words, whether the resident wants to register
(handlers/settings.py); until they say yes the city keeps only their LINE userId and
language. A block (unfollow) deletes everything kept about them: LINE will not let us
reach them any more, so there is no reason to hold it (bot/profile.py).
"""

from datetime import timedelta

from bot import profile
from bot.messages import taps
from bot.router import Intent

from .settings import consent_chips, consent_text, settings_chip

intent = Intent("follow", texts=["welcome", "welcome_back"])


@intent.on("follow")
def welcome(reply, content, lang, resident):
    resident.following = True
    resident.unfollowed_at = None
    greeting = content.text("follow.welcome", lang)
    choices = taps(content["follow"].choices, lang)
    if resident.consented_at is not None:  # back within the grace period: nothing was deleted
        return reply(f"{greeting}\n{content.text('follow.welcome_back', lang)}",
                     quick=[settings_chip(content, lang), *choices])
    reply(f"{greeting}\n\n{consent_text(content, lang)}", quick=[*consent_chips(content, lang), *choices])


@intent.on("unfollow")
def forget(session, resident, now, config):
    profile.unfollow(session, resident, now, grace=timedelta(hours=config.unfollow_grace_hours))


@intent.every("*/10 * * * *")
def purge_blocked(session, now, config):
    """Residents who blocked the account and did not come back within the grace period."""
    profile.purge_unfollowed(session, now, timedelta(hours=config.unfollow_grace_hours))
