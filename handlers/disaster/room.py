"""Room at the open sites: 空きあり / 混雑 / 満員 / 閉鎖, set during an incident.

The desk page (desk_rooms.py) or the site's staff link (site_link.py) sets a site's state;
the nearest-shelter answer (nearest.py) shows it and never sends a resident to a full or
closed site. A state belongs to the incidents it was set during: one set before the
earliest active incident began is left over from an earlier emergency (a gym full last
summer is not full today), so it is ignored rather than trusted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.statuses import move

from .tables import Incident, Room, ShelterRoom

#: how the desk names each state (the residents' words are content: shelters.room_<state>)
LABELS: dict[Room, str] = {Room.OPEN: "空きあり", Room.CROWDED: "混雑", Room.FULL: "満員", Room.CLOSED: "閉鎖"}
#: states a resident is never sent to
NOT_OFFERED = frozenset({Room.FULL, Room.CLOSED})


def states(session: Session, incidents: Sequence[Incident]) -> dict[str, Room]:
    """The state of each site set since the earliest of `incidents` began ({} without any)."""
    if not incidents:
        return {}
    since = min(i.started_at for i in incidents)
    rows = session.scalars(select(ShelterRoom).where(ShelterRoom.updated_at >= since))
    return {row.site_id: row.state for row in rows}


def offered(state: Room | None) -> bool:
    """Whether a resident may be sent to a site in this state (unknown: yes, it is open)."""
    return state not in NOT_OFFERED


def set_state(session: Session, site_id: str, state: Room, *, by: str, now: datetime,
              since: datetime | None = None) -> Room | None:
    """Set a site's state; the state it had before (None when it had none, or only one set
    before `since`, the start of the active incidents: stale). The caller checks the site
    is open, audits and commits. Setting the state it already has is a ValueError
    (nothing to record)."""
    row = session.get(ShelterRoom, site_id)
    if row is None:
        session.add(ShelterRoom(site_id=site_id, state=state, updated_at=now, updated_by=by))
        return None
    before: Room | None = row.state
    if since is not None and row.updated_at < since:
        before = None
        row.state = state  # a stale state is replaced, not moved on from
    elif before == state:
        raise ValueError(f"{site_id} is already {state.value}")
    else:
        move(row, state, column="state")
    row.updated_at, row.updated_by = now, by
    return before
