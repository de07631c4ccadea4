"""The process dies while its reply is on the way to LINE (issue 18, finding 6).

Whether the reply arrived is unknown to the next process. It must not guess "no" and push
the answer again (the resident would read it twice): the attempt is recorded before the
reply is sent, and the recovery asks LINE by replying again with the same token. An
unused token is accepted (the first attempt never arrived: now it has); a used one is
refused (it arrived: nothing more to send).
"""

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import inbox
from bot.fakeline import webhook_events as ev
from bot.models import InboxEvent

pytestmark = pytest.mark.contract


@pytest.fixture
def services(config, clock):
    """A short lease, as a deployment that restarts quickly would have: the next process
    takes the event over while its reply token still lives."""
    from bot.bootstrap import bootstrap

    svc = bootstrap(config.with_(inbox_lease_seconds=5), now=clock)
    yield svc
    svc.close()


class Died(BaseException):
    """The process is gone: nothing after this point runs, nothing uncommitted stays."""


def crash_during_reply(services, monkeypatch, *, reached_line: bool):
    real = services.messenger.reply

    def dying(reply_token, messages):
        if reached_line:
            real(reply_token, messages)
        raise Died()

    monkeypatch.setattr(services.messenger, "reply", dying)
    return lambda: monkeypatch.setattr(services.messenger, "reply", real)


def stored_event(services, clock, line, user):
    raw = ev.text_event(user, "問い合わせ", reply_token=line.mint_reply_token(user),
                        timestamp=int(clock().timestamp() * 1000))
    with services.sessions() as s:
        [inbox_id] = inbox.store_events(s, [raw], clock()).inserted
        s.commit()
    return inbox_id


def answers(line, user):
    delivered = line.messages_for(user)
    return [d for d in delivered if "06-0000-0000" in d["message"].get("text", "")], delivered


def die_then_restart(services, clock, line, monkeypatch, *, reached_line: bool, down_for: timedelta):
    user = line.add_user("市民 太郎")
    inbox_id = stored_event(services, clock, line, user)
    revive = crash_during_reply(services, monkeypatch, reached_line=reached_line)
    with pytest.raises(Died):
        services.dispatcher.process(inbox_id)
    revive()
    clock.advance(seconds=down_for.total_seconds())
    assert services.dispatcher.work_once()  # the next worker takes the dead claim over
    assert not services.dispatcher.work_once()
    with services.sessions() as s:
        assert s.get(InboxEvent, inbox_id).status == "done"
    return user


def test_reply_that_reached_line_is_not_pushed_again_after_a_crash(services, clock, line, monkeypatch):
    user = die_then_restart(services, clock, line, monkeypatch, reached_line=True,
                            down_for=timedelta(seconds=6))
    found, delivered = answers(line, user)
    assert [d["via"] for d in delivered] == ["reply"]
    assert len(found) == 1


def test_reply_that_reached_line_is_not_pushed_when_the_restart_is_late(services, clock, line, monkeypatch):
    """Past the token's life LINE's "Invalid reply token" cannot say whether it was used:
    the answer most likely arrived (the process died after sending), so nothing is pushed."""
    user = die_then_restart(services, clock, line, monkeypatch, reached_line=True, down_for=timedelta(minutes=3))
    assert [d["via"] for d in line.messages_for(user)] == ["reply"]


def test_reply_that_never_left_is_replied_after_the_restart(services, clock, line, monkeypatch):
    user = die_then_restart(services, clock, line, monkeypatch, reached_line=False,
                            down_for=timedelta(seconds=6))
    found, delivered = answers(line, user)
    assert [d["via"] for d in delivered] == ["reply"] and len(found) == 1


def test_reply_that_never_left_is_still_tried_with_its_token_after_a_late_restart(services, clock, line,
                                                                               monkeypatch):
    """Our own clock says the token is too old, but LINE is the judge: after a crash the
    token is tried once more, and LINE (the fake's token still lives) takes it."""
    user = die_then_restart(services, clock, line, monkeypatch, reached_line=False, down_for=timedelta(minutes=3))
    found, delivered = answers(line, user)
    assert [d["via"] for d in delivered] == ["reply"] and len(found) == 1


def test_reply_refused_at_the_first_attempt_is_pushed(services, clock, line):
    """No doubt, no crash: LINE refused the token of a reply that was never sent before,
    so the answer goes by push (the rule the crash recovery must not break)."""
    user = line.add_user("市民 花子")
    raw = ev.text_event(user, "問い合わせ", reply_token="0" * 32, timestamp=int(clock().timestamp() * 1000))
    with services.sessions() as s:
        [inbox_id] = inbox.store_events(s, [raw], clock()).inserted
        s.commit()
    services.dispatcher.process(inbox_id)
    found, delivered = answers(line, user)
    assert [d["via"] for d in delivered] == ["push", "push"] and len(found) == 1
    with services.sessions() as s:
        assert s.scalars(select(InboxEvent.status)).one() == "done"


def test_token_that_aged_while_the_answer_was_made_goes_by_push_and_stays_a_push(services, clock, line,
                                                                                 monkeypatch):
    """The answer is committed with its reply attempt on record when the token is young
    (one commit fewer); a token whose life ended while the handler worked is not tried,
    and a push LINE defers is retried as a push, never as a reply "in doubt"."""
    user = line.add_user("市民 次郎")
    inbox_id = stored_event(services, clock, line, user)
    handle = services.dispatcher.handle

    def slow_handler(*args, **kwargs):
        answered = handle(*args, **kwargs)
        clock.advance(seconds=services.config.reply_token_ttl + 1)
        return answered

    monkeypatch.setattr(services.dispatcher, "handle", slow_handler)
    line.inject("push", status=500, count=1)
    services.dispatcher.process(inbox_id)  # answered; the push is deferred
    with services.sessions() as s:
        row = s.get(InboxEvent, inbox_id)
        assert row.status == "answered" and "reply_maybe_sent" not in row.answer
    clock.advance(seconds=60)
    services.dispatcher.sweep()
    found, delivered = answers(line, user)
    assert [d["via"] for d in delivered] == ["push", "push"] and len(found) == 1
    with services.sessions() as s:
        assert s.get(InboxEvent, inbox_id).status == "done"
