"""`Notify`: wake one waiting task (or store one wake-up), or wake all current waiters.

::

    notify = Notify()
    # consumer                      # producer, any task or thread
    await notify.notified()         notify.notify_one()

The stored permit. `Notify.notify_one` with nobody waiting stores *one* permit (a second
call stores nothing more), and the next `Notify.notified` consumes it and returns at
once; that is what makes the "check a condition, then wait" pattern race-free. The
invariant, kept under the notify's `threading.Lock`: a stored permit implies an empty
queue (``notify_one`` fires a waiter instead of storing; a waiter takes the permit
instead of queueing).

Cancellation. ``notify_one`` picks the longest waiter and fires its parker; if that
waiter is cancelled before its task runs, it *passes the notification on* to the next
waiter (or back to the stored permit) before CancelledError propagates, so the
notification is never lost, and never doubled (the waiter did not consume it). A waiter
woken by `Notify.notify_waiters` passes nothing on: that wake-up was for everyone who
waited at the time, and stores nothing.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Generator
from typing import Any, Final, final

from ._op import NOT_READY, Op
from ._park import FIRED, Parker, _budget, coop_yield
from ._semaphore import _Marker

__all__ = ["Notified", "Notify"]

#: a waiter's parker is fired with ONE by notify_one (to be passed on if unused) ...
ONE: Final = _Marker("ONE")
#: ... and with ALL by notify_waiters (nothing to pass on)
ALL: Final = _Marker("ALL")

_new = object.__new__


@final
class Notify:
    """Notify one waiter (or store one permit), or all current waiters.

    Thread-safe and loop-agnostic: notify from any thread or task; wait from tasks on
    any loop.
    """

    __slots__ = ("__weakref__", "_mu", "_permit", "_waiters")

    def __init__(self) -> None:
        self._mu = threading.Lock()
        self._permit = False
        self._waiters: deque[Notified] = deque()

    def notify_one(self) -> None:
        """Wake the longest waiter; if nobody waits, store one permit (at most one)."""
        with self._mu:
            self._notify_one()

    def notify_waiters(self) -> None:
        """Wake every task waiting now. Stores no permit and leaves a stored one alone."""
        with self._mu:
            waiters = self._waiters
            if not waiters:
                return
            self._waiters = deque()
            for waiter in waiters:
                waiter._parker.fire(ALL, waiter._index)

    def notified(self) -> Notified:
        """Wait for a notification: ``await notify.notified()`` (also a `select` case).

        Returns at once if a permit is stored (consuming it).

        Cancel safety: cancel-safe. A cancelled wait consumes nothing: a notification
        from `notify_one` that reached the waiter just as the cancellation landed is
        passed on to the next waiter (or stored as the permit) before CancelledError
        propagates.
        """
        waiter = _new(Notified)
        waiter._notify = self
        waiter._parked = False
        return waiter

    def blocking_notified(self) -> None:
        """`notified` for plain threads: parks the thread until notified.

        Raises:
            RuntimeError: called on a thread that runs an event loop.
        """
        self.notified().blocking("blocking_notified", "await notify.notified()")

    def _notify_one(self) -> None:
        """Hand one notification to the longest waiter, or store it. Hold ``_mu``."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            # fire() fails for a select whose other case won, or a closed loop: skip it.
            if waiter._parker.fire(ONE, waiter._index):
                return
        self._permit = True

    def __repr__(self) -> str:
        permit = ", permit stored" if self._permit else ""
        return f"<Notify {len(self._waiters)} waiting{permit}>"


@final
class Notified(Op[None]):
    """A wait for a `Notify` notification, from `Notify.notified`."""

    __slots__ = ("_index", "_notify", "_parked", "_parker")

    kind = "notified"

    _notify: Notify
    _parked: bool
    _parker: Parker
    _index: int

    async def _wait(self) -> None:
        if self._parked:
            raise RuntimeError(
                "this notified() is already being awaited; call notify.notified() per wait"
            )
        # The coop budget (`_park.consume_budget`, inlined), spent before the permit is
        # consumed because the yield may be cancelled.
        budget = _budget
        budget[0] -= 1
        if budget[0] <= 0:
            await coop_yield()
        nt = self._notify
        with nt._mu:
            if nt._permit:
                nt._permit = False
                return
            p = self._parker = Parker("notified", nt)
            self._index = 0
            self._parked = True
            nt._waiters.append(self)
        try:
            await p.wait()
        except BaseException:
            with nt._mu:
                if p.withdraw():
                    nt._waiters.remove(self)
                elif p.state == FIRED and p.value is ONE:
                    nt._notify_one()  # unused: pass it on (or store it)
            raise
        finally:
            self._parked = False

    def __await__(self) -> Generator[Any, None, None]:
        return self._wait().__await__()

    # --- the Op steps, for gokio.select (each called with the notify's _mu held) ---------

    def _lock(self) -> threading.Lock:
        return self._notify._mu

    def _obj(self) -> object:
        return self._notify

    def _try(self) -> Any:
        nt = self._notify
        if nt._permit:
            nt._permit = False
            return None
        return NOT_READY

    def _park(self, parker: Parker, index: int) -> None:
        self._parker = parker
        self._index = index
        self._parked = True
        self._notify._waiters.append(self)

    def _unpark(self, parker: Parker) -> None:
        self._parked = False
        # Absent when a notify already popped it and found the select won by another case.
        with contextlib.suppress(ValueError):
            self._notify._waiters.remove(self)

    def _finish(self, raw: Any) -> None:
        self._parked = False

    def __repr__(self) -> str:
        return f"<Notified of {self._notify!r}>"
