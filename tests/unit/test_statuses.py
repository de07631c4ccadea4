"""Status types: each moves only as its table allows, and the database is told the same values."""

from types import SimpleNamespace

import pytest
from sqlalchemy import CheckConstraint, String

from bot.models import BatchStatus, InboxEvent, InboxStatus, PushBatch
from bot.statuses import IllegalTransition, Status, StatusType, check_in, move, transitions
from handlers.reports.tables import Report, ReportStatus, ReportUpdate
from handlers.reports.words import STATUSES


def walk(status_type, steps):
    """Move one row along `steps` (values as the database holds them) and return it."""
    row = SimpleNamespace(id=7, status=steps[0])
    for step in steps[1:]:
        move(row, status_type(step))
        assert row.status is status_type(step)
    return row


# -- inbox events ------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [
    ["pending", "processing", "delivering", "done"],
    ["pending", "processing", "delivering", "answered", "delivering", "failed"],
    ["pending", "processing", "processing", "ignored"],       # a lease ran out: claimed again
    ["pending", "processing", "failed"],                       # malformed, or a handler that failed silently
    ["pending", "processing", "done"],                         # nothing to say
])
def test_inbox_events_move_as_dispatch_moves_them(path):
    walk(InboxStatus, path)


@pytest.mark.parametrize("source, target", [
    ("pending", "done"), ("pending", "delivering"), ("answered", "done"), ("done", "pending"),
    ("failed", "processing"), ("ignored", "done"), ("processing", "answered"), ("answered", "processing"),
])
def test_inbox_events_refuse_other_moves(source, target):
    row = SimpleNamespace(id=12, status=source)
    with pytest.raises(IllegalTransition) as refused:
        move(row, InboxStatus(target))
    assert row.status == source  # unchanged
    assert f"{source} -> {target} is not allowed" in str(refused.value) and "SimpleNamespace 12 status" in str(refused.value)


def test_finished_inbox_statuses_are_final():
    assert {s for s in InboxStatus if s.final} == {InboxStatus.DONE, InboxStatus.FAILED, InboxStatus.IGNORED}
    assert "it is final" in _refusal(InboxStatus.DONE, InboxStatus.PENDING)


def test_the_inbox_claim_sql_moves_only_as_the_table_allows():
    """inbox.claim sets statuses in SQL (a conditional UPDATE); what it does must be in the table."""
    from bot import inbox

    for source in inbox.WAITING + inbox.CLAIMED:
        target = InboxStatus.DELIVERING if source in (InboxStatus.ANSWERED, InboxStatus.DELIVERING) \
            else InboxStatus.PROCESSING
        assert source.can_become(target), (source, target)
    assert set(InboxStatus.sources(InboxStatus.DELIVERING)) == {InboxStatus.PROCESSING, InboxStatus.DELIVERING,
                                                                InboxStatus.ANSWERED}


# -- push batches ------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [
    ["pending", "sending", "sent"],
    ["pending", "sending", "pending", "sending", "failed"],    # deferred (LINE asked to retry), then refused
    ["pending", "sending", "sending", "sent"],                # a worker died: the lease ran out
])
def test_push_batches_move_as_workers_move_them(path):
    walk(BatchStatus, path)


@pytest.mark.parametrize("source, target", [
    ("pending", "sent"), ("pending", "failed"), ("sent", "pending"), ("failed", "sending"), ("sent", "failed"),
])
def test_push_batches_refuse_other_moves(source, target):
    with pytest.raises(IllegalTransition):
        move(SimpleNamespace(status=source), BatchStatus(target))


# -- reports ------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [
    ["received", "in_progress", "done"],
    ["received", "cannot"],
    ["received", "done", "in_progress", "done"],             # closed by mistake: reopened
])
def test_reports_move_on_and_back(path):
    walk(ReportStatus, path)


@pytest.mark.parametrize("status", list(ReportStatus))
def test_a_report_status_change_to_itself_is_refused(status):
    with pytest.raises(IllegalTransition, match="is not allowed"):
        move(SimpleNamespace(status=status.value), status)


def test_report_statuses_are_the_contents_and_the_tables():
    assert STATUSES == (ReportStatus.RECEIVED, ReportStatus.IN_PROGRESS, ReportStatus.DONE, ReportStatus.CANNOT)
    assert [s.value for s in STATUSES] == ["received", "in_progress", "done", "cannot"]


# -- the engine --------------------------------------------------------------------------------
def test_a_row_holding_an_unknown_status_is_not_moved():
    row = SimpleNamespace(status="deliverd")
    with pytest.raises(ValueError, match="not a valid InboxStatus"):
        move(row, InboxStatus.DONE)
    assert row.status == "deliverd"


def test_a_status_of_another_type_is_refused():
    assert not InboxStatus.PENDING.can_become(BatchStatus.SENDING)
    with pytest.raises(IllegalTransition, match="not a InboxStatus"):
        InboxStatus.PENDING.check(BatchStatus.SENDING)


def test_statuses_are_the_strings_the_database_holds():
    assert InboxStatus.DONE == "done" and f"{InboxStatus.DONE}" == "done" and str(BatchStatus.SENT) == "sent"
    assert {"pending": 1}[InboxStatus.PENDING] == 1


def test_a_table_must_name_every_member_and_only_members():
    class Lamp(Status):
        ON = "on"
        OFF = "off"

    with pytest.raises(TypeError, match="no transitions given for off"):
        transitions(Lamp, {Lamp.ON: {Lamp.OFF}})
    with pytest.raises(TypeError, match="not members"):
        transitions(Lamp, {Lamp.ON: {Lamp.OFF}, Lamp.OFF: {InboxStatus.DONE}})  # type: ignore[dict-item]
    transitions(Lamp, {Lamp.ON: {Lamp.OFF}, Lamp.OFF: {Lamp.ON}})
    with pytest.raises(TypeError, match="declared once"):
        transitions(Lamp, {Lamp.ON: set(), Lamp.OFF: set()})
    assert Lamp.ON.allowed == {Lamp.OFF} and not Lamp.OFF.final

    class Undeclared(Status):
        X = "x"

    with pytest.raises(TypeError, match="no transitions declared"):
        Undeclared.X.allowed


def test_check_constraints_come_from_the_enums():
    constraint = check_in(BatchStatus, "push_batches")
    assert isinstance(constraint, CheckConstraint) and constraint.name == "ck_push_batches_status"
    assert str(constraint.sqltext) == "status IN ('pending', 'sending', 'sent', 'failed')"
    named = {c.name for table in (InboxEvent, PushBatch, Report, ReportUpdate)
             for c in table.__table__.constraints if isinstance(c, CheckConstraint)}
    assert named == {"ck_inbox_events_status", "ck_push_batches_status", "ck_reports_status",
                     "ck_report_updates_status_from", "ck_report_updates_status_to"}


def test_the_migration_lists_what_the_enums_hold():
    """0013 writes its values out (a migration is history); today they must be the enums'."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "bot" / "migrations" / "versions" / "0013_status_checks.py"
    spec = importlib.util.spec_from_file_location("m0013", path)
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.INBOX == tuple(InboxStatus) and migration.BATCH == tuple(BatchStatus)
    assert migration.REPORT == tuple(ReportStatus)


def test_a_status_column_loads_members_and_refuses_strangers():
    column = StatusType(ReportStatus)
    assert isinstance(column.impl, String) and column.impl.length == 16
    assert column.process_result_value("done", None) is ReportStatus.DONE
    assert column.process_bind_param(ReportStatus.CANNOT, None) == "cannot"
    assert column.process_bind_param("in_progress", None) == "in_progress"
    with pytest.raises(ValueError):
        column.process_bind_param("closed", None)


def _refusal(source: Status, target: Status) -> str:
    with pytest.raises(IllegalTransition) as refused:
        source.check(target)
    return str(refused.value)
