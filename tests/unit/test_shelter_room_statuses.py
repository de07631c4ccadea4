"""The room at open sites: every state may follow every other, and the table, its CHECK and
migration 0017 list the same states."""

import importlib.util
from pathlib import Path

from sqlalchemy import CheckConstraint

from handlers.disaster import room
from handlers.disaster.tables import Room, ShelterRoom


def test_any_state_may_follow_any_other():
    for state in Room:
        assert state.allowed == frozenset(Room) - {state}
    assert not room.offered(Room.FULL) and not room.offered(Room.CLOSED)
    assert room.offered(Room.CROWDED) and room.offered(Room.OPEN) and room.offered(None)
    assert set(room.LABELS) == set(Room)


def test_the_check_and_the_migration_list_the_enums_states():
    [check] = [c for c in ShelterRoom.__table__.constraints if isinstance(c, CheckConstraint)]
    assert check.name == "ck_shelter_rooms_state"
    assert str(check.sqltext) == "state IN ('open', 'crowded', 'full', 'closed')"
    path = Path(__file__).resolve().parents[2] / "bot" / "migrations" / "versions" / "0017_shelter_room.py"
    spec = importlib.util.spec_from_file_location("m0017", path)
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.ROOM == tuple(Room) and migration.down_revision == "0016"
