"""A circuit breaker for a store that lives on another machine.

While the server is down every call would wait out its connection timeout, and callers pile up
behind one another. After `failures` calls in a row failed for want of the server, the breaker
opens: calls fail at once, without touching the network. `reset_after` seconds later it lets one
call through (half-open) as a probe; if that one succeeds the breaker closes, otherwise it opens
for another `reset_after`. Only unavailability counts: a query the server rejects proves it is up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["CircuitBreaker", "Open"]


class Open(Exception):
    """The breaker refused the call: the server failed recently and no probe is due yet."""


class CircuitBreaker:
    def __init__(self, failures: int = 3, reset_after: float = 10.0, clock: Callable[[], float] = time.monotonic):
        if failures < 1 or reset_after < 0:
            raise ValueError("failures must be ≥ 1 and reset_after ≥ 0")
        self.failures, self.reset_after, self._clock = failures, reset_after, clock
        self._lock = threading.Lock()
        self._failed = 0  # consecutive unavailability failures
        self._opened_at: float | None = None
        self._probe_started: float | None = None  # a probe older than reset_after is given up

    def __repr__(self) -> str:
        return f"CircuitBreaker(state={self.state!r}, failed={self._failed}, failures={self.failures})"

    @property
    def state(self) -> str:
        with self._lock:
            if self._opened_at is None:
                return "closed"
            return "half-open" if self._probing() or self._due() else "open"

    def _probing(self) -> bool:
        return self._probe_started is not None and self._clock() - self._probe_started < self.reset_after

    def _due(self) -> bool:
        return self._clock() - self._opened_at >= self.reset_after

    def _admit(self) -> bool:
        """Whether this call may go to the server; True for the one probe of a half-open breaker."""
        with self._lock:
            if self._opened_at is None:
                return False
            if self._probing() or not self._due():
                raise Open()
            self._probe_started = self._clock()
            return True

    def _settle(self, probe: bool, ok: bool) -> None:
        with self._lock:
            if probe:
                self._probe_started = None
            if ok:
                self._failed, self._opened_at = 0, None
                return
            self._failed += 1
            if probe or self._opened_at is not None or self._failed >= self.failures:
                self._opened_at = self._clock()

    def failed(self) -> None:
        """A call given up on from outside (it outlived its caller's wait): it counts as a failure."""
        self._settle(probe=False, ok=False)

    @contextmanager
    def guard(self, unavailable: tuple[type[BaseException], ...]) -> Iterator[None]:
        """Run the body unless the breaker is open (then `Open`); an exception of the
        `unavailable` types counts as a failure, anything else (or none) as the server answering."""
        probe = self._admit()
        try:
            yield
        except unavailable:
            self._settle(probe, ok=False)
            raise
        except BaseException:
            self._settle(probe, ok=True)
            raise
        self._settle(probe, ok=True)
