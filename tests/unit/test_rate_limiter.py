"""The multicast pacer: LINE counts a channel's multicasts per second and answers 429
beyond 200, so a worker must never let a second's worth go at once."""

from __future__ import annotations

from bot.delivery import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def sent_times(limiter: RateLimiter, clock: Clock, count: int) -> list[float]:
    times = []
    for _ in range(count):
        limiter.wait()
        times.append(round(clock.now - 100.0, 6))
    return times


def test_a_fresh_worker_spaces_its_first_requests_instead_of_sending_a_seconds_worth_at_once():
    clock = Clock()
    limiter = RateLimiter(5, clock=clock, sleep=clock.sleep)
    assert sent_times(limiter, clock, 7) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2]


def test_no_second_ever_holds_more_than_the_rate():
    clock = Clock()
    limiter = RateLimiter(50, clock=clock, sleep=clock.sleep)
    times = [round(t * 1000) for t in sent_times(limiter, clock, 500)]  # ms
    assert max(sum(1 for t in times if start <= t < start + 1000) for start in times) == 50


def test_after_a_quiet_spell_the_pacer_does_not_catch_up_in_a_burst():
    clock = Clock()
    limiter = RateLimiter(5, clock=clock, sleep=clock.sleep)
    sent_times(limiter, clock, 3)
    clock.now += 60
    assert sent_times(limiter, clock, 3) == [60.4, 60.6, 60.8]


def test_threads_asking_together_each_get_their_own_slot():
    clock = Clock()
    limiter = RateLimiter(4, clock=clock, sleep=clock.slept.append)  # sleeping threads: the clock stands
    for _ in range(4):
        limiter.wait()
    assert clock.slept == [0.25, 0.5, 0.75]


def test_a_rate_of_zero_means_no_limit():
    clock = Clock()
    limiter = RateLimiter(0, clock=clock, sleep=clock.sleep)
    assert sent_times(limiter, clock, 3) == [0.0, 0.0, 0.0]
