"""The spool's group commit: every body stored once, every caller told how it went."""

import threading

import pytest

from bot.db import make_engine
from bot.spool import Spool


@pytest.fixture
def spool(tmp_path):
    spool = Spool(make_engine(f"sqlite:///{tmp_path / 'bot.spool.sqlite3'}"), own_file=True)
    yield spool
    spool.dispose()


def test_a_burst_from_many_threads_is_stored_once_each_in_fewer_inserts(spool, monkeypatch):
    inserts = []
    real = spool._insert
    monkeypatch.setattr(spool, "_insert", lambda rows: (inserts.append(len(rows)), real(rows)))
    start = threading.Barrier(16)

    def request(n: int) -> None:
        start.wait()
        for i in range(25):
            spool.put(f'{{"events": [], "n": "{n}-{i}"}}', 1)
    threads = [threading.Thread(target=request, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with spool.take(limit=1000) as bodies:
        stored = sorted(body.text for body in bodies)
    assert stored == sorted(f'{{"events": [], "n": "{n}-{i}"}}' for n in range(16) for i in range(25))
    assert sum(inserts) == 400 and len(inserts) < 400  # some requests shared a commit


def test_a_failed_insert_is_an_error_for_every_request_in_it(spool, monkeypatch):
    def broken(rows):
        raise OSError("disk full")
    monkeypatch.setattr(spool, "_insert", broken)
    with pytest.raises(OSError):
        spool.put("{}", 1)
    monkeypatch.undo()
    spool.put('{"events": []}', 1)  # the next one is written: nobody is left holding the lead
    assert spool.backlog()[0] == 1


def test_taken_bodies_stay_when_the_split_fails(spool):
    spool.put('{"events": []}', 1)
    with pytest.raises(RuntimeError):
        with spool.take() as bodies:
            assert len(bodies) == 1
            raise RuntimeError("the worker died")
    assert spool.backlog() == (1, 1)
