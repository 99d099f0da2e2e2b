"""`interval`: ticks every period, with Tokio's three policies for missed ticks."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Final, Literal, final

from ._park import record_wait
from ._time import Instant, _now, check_seconds

__all__ = ["Interval", "interval"]

MissedTick = Literal["burst", "delay", "skip"]
_POLICIES: Final = ("burst", "delay", "skip")
#: a tick later than this is "missed" and the policy applies (Tokio uses 5 ms too)
_LATE: Final = 0.005


@final
class Interval:
    """Ticks at a fixed period (Tokio's ``Interval``); made by `interval`.

    The first tick completes at once. When ticks were missed (the consumer stalled):

    * ``"burst"`` (default): the missed ticks fire back to back until caught up; the
      schedule stays on the original grid.
    * ``"delay"``: the next tick fires now, and later ones one period after each other
      from here (the grid moves).
    * ``"skip"``: the next tick fires now, missed ticks are dropped, and later ones stay
      on the original grid.
    """

    __slots__ = ("_next", "_period", "_policy")

    def __init__(self, period: float, missed_tick: MissedTick) -> None:
        self._period = period
        self._policy = missed_tick
        self._next = _now()

    @property
    def period(self) -> float:
        """Seconds between ticks."""
        return self._period

    @property
    def missed_tick(self) -> MissedTick:
        """The policy for missed ticks."""
        return self._policy

    async def tick(self) -> Instant:
        """Wait for the next tick and return the instant it was scheduled for.

        Cancel safety: a cancelled ``tick()`` consumes no tick; the next call waits for
        the same one.
        """
        scheduled = self._next
        delay = scheduled - _now()
        if delay > 0:
            with record_wait("interval", self):
                await asyncio.sleep(delay)
        else:
            await asyncio.sleep(0)
        now = _now()
        period = self._period
        if now > scheduled + _LATE:
            if self._policy == "burst":
                self._next = scheduled + period
            elif self._policy == "delay":
                self._next = now + period
            else:  # skip: the first grid point after now
                self._next = scheduled + period * (math.floor((now - scheduled) / period) + 1)
        else:
            self._next = scheduled + period
        return Instant(scheduled)

    def reset(self) -> None:
        """Restart the schedule: the next tick comes one period from now."""
        self._next = _now() + self._period

    def __aiter__(self) -> AsyncIterator[Instant]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Instant]:
        while True:
            yield await self.tick()

    def __repr__(self) -> str:
        return f"<Interval period={self._period} missed_tick={self._policy!r}>"


def interval(period: float, *, missed_tick: MissedTick = "burst") -> Interval:
    """Make an `Interval` that ticks every ``period`` seconds, the first tick at once.

    Raises:
        ValueError: ``period`` is not positive, or ``missed_tick`` is not one of
            ``"burst"``, ``"delay"``, ``"skip"``.
    """
    p = check_seconds(period, "period")
    if p == 0:
        raise ValueError("interval period must be positive, got 0")
    if missed_tick not in _POLICIES:
        raise ValueError(f"missed_tick must be 'burst', 'delay' or 'skip', got {missed_tick!r}")
    return Interval(p, missed_tick)
