"""A clock and sleep for AccountContext(clock=..., sleep=...): waiting advances time at once
and every wait is recorded, so polling schedules are asserted without sleeping."""

from __future__ import annotations


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
