"""`Barrier`: ``n`` parties wait until all have arrived, then all go on together.

::

    barrier = Barrier(3)
    is_leader = await barrier.wait()   # returns once 3 waits are in; one of them is True

The ``n``-th arrival trips the barrier: it wakes the ``n - 1`` parked parties and is the
generation's *leader* (its ``wait`` returns True, every other one False). The count then
starts again from zero, so the barrier is reusable for any number of generations. State
is guarded by a `threading.Lock`; tasks on any loop may wait on one barrier.

Cancellation. A party cancelled before the barrier trips withdraws its arrival (it no
longer counts toward ``n``: the barrier then needs another arrival). A party cancelled
after the trip woke it cannot undo the trip: the generation has completed for everyone,
and the cancelled party just raises CancelledError (the leader, which never parks, is
not affected).
"""

from __future__ import annotations

import threading
from typing import final

from ._park import Parker, _budget, coop_yield

__all__ = ["Barrier"]


@final
class Barrier:
    """A reusable barrier for ``n`` parties.

    Args:
        n: How many parties each generation waits for (>= 1).

    Raises:
        ValueError: ``n`` is less than 1.
        TypeError: ``n`` is not an int.
    """

    __slots__ = ("__weakref__", "_arrived", "_mu", "_n", "_waiters")

    def __init__(self, n: int) -> None:
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"Barrier(n): n must be an int, got {type(n).__name__} {n!r}")
        if n < 1:
            raise ValueError(
                f"Barrier(n) needs n >= 1 parties, got {n}; a barrier for no party could never trip"
            )
        self._n = n
        self._mu = threading.Lock()
        self._arrived = 0
        self._waiters: list[Parker] = []

    async def wait(self) -> bool:
        """Arrive, and wait until ``n`` parties of this generation have arrived.

        Returns:
            True for exactly one party per generation (the last to arrive, the leader),
            False for the others.

        Cancel safety: cancel-safe until the barrier trips (a cancelled party's arrival
        is withdrawn: it does not count). Once tripped, the generation completes for
        every other party regardless, and the cancelled one raises CancelledError.
        """
        # The coop budget (`_park.consume_budget`, inlined), spent before arriving
        # because the yield may be cancelled.
        budget = _budget
        budget[0] -= 1
        if budget[0] <= 0:
            await coop_yield()
        with self._mu:
            self._arrived += 1
            if self._arrived >= self._n:
                waiters = self._waiters
                self._waiters = []
                self._arrived = 0
                for p in waiters:
                    p.fire(False)
                return True
            p = Parker("barrier", self)
            self._waiters.append(p)
        try:
            await p.wait()
        except BaseException:
            with self._mu:
                if p.withdraw():
                    self._waiters.remove(p)
                    self._arrived -= 1
            raise
        return False

    def __repr__(self) -> str:
        return f"<Barrier {self._arrived}/{self._n} arrived>"
