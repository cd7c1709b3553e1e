"""The circuit breaker on generated sequences of outcomes and pauses, against its rules: open after
`failures` failures in a row, refuse until `reset_after` has passed, then one probe at a time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientstrata.graph.stores.breaker import CircuitBreaker, Open


class Down(Exception):
    pass


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _call(breaker: CircuitBreaker, outcome: str) -> str:
    try:
        with breaker.guard((Down,)):
            if outcome == "down":
                raise Down()
            if outcome == "rejected":  # the server answered with an error: it is up
                raise ValueError()
    except Open:
        return "refused"
    except (Down, ValueError):
        pass
    return "ran"


@given(
    failures=st.integers(1, 4),
    steps=st.lists(st.one_of(st.sampled_from(["ok", "down", "rejected"]), st.floats(0, 3)), max_size=40),
)
def test_the_breaker_follows_its_rules(failures, steps):
    clock = Clock()
    breaker = CircuitBreaker(failures, reset_after=1.0, clock=clock)
    in_a_row, opened_at = 0, None
    for step in steps:
        if isinstance(step, float):
            clock.now += step
            continue
        due = opened_at is None or clock.now - opened_at >= 1.0
        assert breaker.state == ("closed" if opened_at is None else "half-open" if due else "open")
        got = _call(breaker, step)
        assert got == ("ran" if due else "refused"), (step, clock.now, opened_at)
        if got == "refused":
            continue
        probe = opened_at is not None
        if step == "down":
            in_a_row += 1
            if probe or in_a_row >= failures:
                opened_at = clock.now
        else:
            in_a_row, opened_at = 0, None


def test_a_stuck_probe_is_given_up_after_reset_after():
    clock = Clock()
    breaker = CircuitBreaker(1, reset_after=1.0, clock=clock)
    _call(breaker, "down")
    clock.now = 1.0
    stuck = breaker.guard((Down,))
    stuck.__enter__()  # the probe never returns (a frozen server)
    with pytest.raises(Open):
        breaker.guard((Down,)).__enter__()
    breaker.failed()  # its caller gave up on it
    clock.now = 2.5
    assert _call(breaker, "ok") == "ran" and breaker.state == "closed"
