"""Signed but malformed, truncated and oddly typed bodies: never a 500, never a crash.

Every body is signed with the right secret, so it passes the signature check and reaches
the parser, the inbox and the processing. Whatever happens, the webhook answers 200, 400
or 413, and every stored event ends answered or skipped, with no exception escaping.
"""

import json
import logging

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from bot.fakeline import webhook_events as ev
from bot.messenger import to_models
from bot.models import InboxEvent
from bot.router import Incoming
from tests.conftest import signed_post

USER = "U" + "a" * 32

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def base_events():
    return st.sampled_from([
        ev.text_event(USER, "メニュー", reply_token="r" * 32),
        ev.postback_event(USER, "action=help", reply_token="r" * 32),
        ev.location_event(USER, 34.5, 135.5, reply_token="r" * 32),
        ev.follow_event(USER, reply_token="r" * 32),
        ev.unfollow_event(USER),
        ev.sticker_event(USER, reply_token="r" * 32),
    ])


@st.composite
def mangled_event(draw):
    event = json.loads(json.dumps(draw(base_events())))
    event["webhookEventId"] = ev.new_ulid()
    for _ in range(draw(st.integers(1, 3))):
        path = [event]
        node = event
        while isinstance(node, dict) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node)))
            path.append(key)
            node = node[key]
        container = event
        for key in path[1:-1]:
            container = container[key]
        if len(path) > 1:
            if draw(st.booleans()):
                container.pop(path[-1], None)
            else:
                container[path[-1]] = draw(json_values)
    return event


bodies = st.one_of(
    st.builds(lambda events: {"destination": USER, "events": events}, st.lists(mangled_event(), max_size=3)),
    st.builds(lambda events: {"destination": USER, "events": events}, st.lists(json_values, max_size=3)),
    json_values,
)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=bodies, cut=st.integers(min_value=0, max_value=40))
def test_signed_garbage_never_500_and_processing_never_crashes(client, services, body, cut, caplog):
    raw = json.dumps(body, ensure_ascii=False).encode()
    for payload in (raw, raw[: max(0, len(raw) - cut)]):
        with caplog.at_level(logging.ERROR, logger="bot.dispatch"):
            response = signed_post(client, payload)
            assert response.status_code in (200, 400, 413), (payload, response.status_code)
            services.dispatcher.drain()
            assert "processing inbox event" not in caplog.text
        with services.sessions() as s:
            leftover = s.scalars(select(InboxEvent).where(InboxEvent.status.in_(("pending", "processing", "delivering")))).all()
            assert leftover == [], [(r.status, r.error) for r in leftover]
            s.execute(delete(InboxEvent))
            s.commit()


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.text(max_size=300) | st.sampled_from(["", " ", "\u3000", "メニュー" * 500, "🗑️", "\x00"]),
       kind=st.sampled_from(["text", "postback"]))
@example(text="00\x000", kind="text")  # a question nobody prepared, with a NUL PostgreSQL cannot store
def test_router_and_handlers_answer_any_text_with_valid_messages(services, text, kind):
    content = services.content.current()
    incoming = Incoming("text", text=text) if kind == "text" else Incoming("postback", action=text[:50])
    assert services.router.match(incoming, content) is not None
    raw = ev.text_event(USER, text or "x", reply_token="r" * 32) if kind == "text" else \
        ev.postback_event(USER, ("action=" + text)[:300] or "action=", reply_token="r" * 32)
    with services.sessions() as session:
        handled = services.dispatcher.handle(session, raw)
        session.rollback()
    assert handled.error is None
    to_models(handled.messages)  # the SDK accepts them: LINE would too (see the fake's tests)
