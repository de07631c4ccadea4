"""Who a broadcast cannot reach, said before it is sent.

A district broadcast goes to the residents who registered that district; a friend who
never registered one — or never agreed to registration at all — is in no district, so a
北区 evacuation order reached 1 of 3 friends and nobody saw the other two were missing.
The preview now counts them: friends (residents who follow the account) the selection
cannot reach because the bot does not know where they live, and how many of those never
agreed to registration. For an evacuation order the answer is LINE's broadcast to all
friends, which the desk switches to with one click; the switch is the desk's decision,
not the bot's, since a notice for one district sent citywide has its own cost.

LINE's broadcast also reaches friends the bot never recorded (who added the account
before it was connected): they are in no count here, so the real "all friends" is larger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.content.store import Content
from bot.models import Resident

if TYPE_CHECKING:
    from .broadcasts import Audience


@dataclass(frozen=True)
class Reach:
    target: str          # districts | segment
    friends: int         # residents who follow the account
    reached: int         # those the selection sends to
    missed: int          # friends the selection cannot reach for want of what they registered
    not_consented: int   # ... of them, those who never agreed to registration

    @property
    def warns(self) -> bool:
        return self.missed > 0


def _count(session: Session, *conditions) -> int:
    return session.scalar(select(func.count()).select_from(Resident).where(Resident.following.is_(True),
                                                                           *conditions)) or 0


def reach(session: Session, content: Content, audience: "Audience", on: date) -> Reach | None:
    """What a district or segment selection leaves out; None for all friends and for drills
    (those go to testers only, by design)."""
    if audience.training or audience.target not in ("districts", "segment"):
        return None
    reached = audience.count(session, content, on)
    if audience.target == "districts":
        known = [d.id for d in content["settings"].districts]
        nowhere = or_(Resident.district.is_(None), Resident.district.not_in(known))  # none, or one content dropped
    else:  # not in the group, whatever else they registered
        nowhere = Resident.id.not_in(audience.recipients(content, on))
    missed = _count(session, nowhere)
    return Reach(audience.target, friends=_count(session), reached=reached, missed=missed,
                 not_consented=_count(session, nowhere, Resident.consented_at.is_(None)))


def unreached_everywhere(session: Session) -> int:
    """Friends who registered no district (for the desk's home: how many a district
    broadcast would leave out today)."""
    return _count(session, Resident.district.is_(None))
