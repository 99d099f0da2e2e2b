"""`Semaphore`: a FIFO-fair, thread-safe counting semaphore with closable permits.

::

    sem = Semaphore(3)
    async with sem.acquire():          # one permit, released on exit
        ...
    permit = await sem.acquire(2)      # two permits, released by permit.release()

Fairness. Waiters are served strictly in arrival order: a request for ``n`` permits at
the head of the queue is not overtaken by smaller requests behind it, even when enough
permits for those are free (CPython #90155 was asyncio.Semaphore failing this), and an
acquire that finds anyone queued queues too. Whenever permits come back (`release`,
`Semaphore.add_permits`) or the head leaves (cancelled), the head is served while it
fits, under the semaphore's `threading.Lock`, so tasks on any loop and plain threads
share one semaphore.

Cancellation. The permits are handed to a waiter (its parker fired) before its task
runs. A waiter cancelled in that window *gives the permits back* and lets the next
waiters in before it raises CancelledError (python/asyncio#270: asyncio.Semaphore
stranded the others here); one cancelled before that withdraws under the lock, and its
leaving may let the waiters behind it in (anyio#1170 left those waiting forever). So a
cancelled acquire never holds permits and never strands anyone.

The request returned by `Semaphore.acquire` *is* the permit once acquired: one
allocation per acquire, and no future unless it waits.

The fast pool. Free permits live in ``_permits`` (guarded by ``_mu``) and in ``_fast``,
a deque of tokens, one per permit, taken and given back *without* ``_mu``: a one-permit
acquire that finds nobody queued pops a token (``deque.pop`` is atomic, under the GIL and
in free-threaded builds alike, and costs a third of a lock round trip), and a one-permit
release appends one. The pool only ever holds permits that were handed out and came
back, so it stays as small as the number of permits in use, whatever the semaphore's
size. Everything that decides under ``_mu`` first drains the pool into ``_permits``
(`_serve` does, and every slow acquire). The two lock-free sides race like the Mutex's::

    releaser:  append a token            then  anyone queued? -> _serve under _mu
    waiter:    (under _mu) queue itself  then  _serve (drains the pool first)

Either the waiter's drain sees the token, or the releaser sees the waiter: no wake-up is
lost. A lock-free acquire looks at the queue before it pops, so it only ever overtakes a
waiter that queued after it looked.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Awaitable, Generator
from typing import Any, Final, final

from ._errors import Closed, WouldBlock
from ._mutex import FRESH, HELD, PARKED, RELEASED
from ._op import NOT_READY, Op
from ._park import FIRED, READY, Parker, _budget, check_blocking_allowed, coop_yield

__all__ = ["Semaphore", "SemaphorePermit"]

_new = object.__new__
_ONE: Final = 1  # the int 1 is a cached singleton: `n is _ONE` is a valid int-1 test


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: what a waiter's parker is fired with when the semaphore closes
CLOSED: Final = _Marker("CLOSED")


def check_count(n: object, what: str) -> int:
    """Validate a permit count: an int >= 0 (TypeError / ValueError otherwise)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{what} must be an int, got {type(n).__name__} {n!r}")
    if n < 0:
        raise ValueError(f"{what} must be >= 0, got {n}")
    return n


def _closed_error() -> Closed:
    return Closed("semaphore closed: it hands out no more permits")


@final
class Semaphore:
    """A counting semaphore, FIFO-fair, usable from tasks on any loop and plain threads.

    Args:
        permits: The number of permits available at first (>= 0).

    Raises:
        ValueError: ``permits`` is negative.
        TypeError: ``permits`` is not an int.
    """

    __slots__ = ("__weakref__", "_closed", "_fast", "_mu", "_permits", "_waiters")

    def __init__(self, permits: int) -> None:
        self._permits = check_count(permits, "permits")
        self._fast: deque[None] = deque()  # free permits taken/returned without _mu
        self._mu = threading.Lock()
        self._closed = False
        # Invariant (between calls, under _mu): if anyone waits, the head's request does
        # not fit in the free permits; otherwise it would have been served.
        self._waiters: deque[SemaphorePermit] = deque()

    def acquire(self, n: int = 1) -> SemaphorePermit:
        """Request ``n`` permits: ``async with sem.acquire(n):`` or ``p = await sem.acquire(n)``.

        Nothing happens until the request is awaited (or passed to `gokio.select`); the
        awaited form returns a `SemaphorePermit` to ``release()`` (or use ``with p:``).

        Cancel safety: cancel-safe. A cancelled acquire never holds permits: permits
        handed over just as the cancellation landed are given back (serving the next
        waiters) before CancelledError propagates. The waiter loses its place in the queue.

        Raises:
            ValueError: ``n`` is negative.
            Closed: (when awaited) the semaphore is or gets closed.
        """
        if n is not _ONE and (type(n) is not int or n < 0):  # the default needs no check
            check_count(n, "n")
        permit = _new(SemaphorePermit)  # skips __init__: the hot path of every acquire
        permit._sem = self
        permit._n = n
        permit._state = FRESH
        return permit

    def try_acquire(self, n: int = 1) -> SemaphorePermit:
        """Take ``n`` permits now, or raise `WouldBlock`.

        Raises:
            WouldBlock: Not enough permits are free, or others queue before this request.
            Closed: The semaphore is closed.
            ValueError: ``n`` is negative.
        """
        if type(n) is not int or n < 0:
            check_count(n, "n")
        with self._mu:
            if self._closed:
                raise _closed_error()
            if self._fast:
                self._drain()
            if self._waiters or self._permits < n:
                raise WouldBlock(
                    f"{n} permit(s) requested, {self._permits} free and "
                    f"{len(self._waiters)} request(s) queued; wait with 'await sem.acquire(n)'"
                )
            self._permits -= n
        return SemaphorePermit(self, n, HELD)

    def blocking_acquire(self, n: int = 1) -> SemaphorePermit:
        """Take ``n`` permits from a plain thread, blocking it until they are free.

        Raises:
            RuntimeError: Called on a thread that runs an event loop (it would freeze it).
            Closed: The semaphore is or gets closed.
            ValueError: ``n`` is negative.
        """
        if type(n) is not int or n < 0:
            check_count(n, "n")
        check_blocking_allowed("blocking_acquire", "async with sem.acquire()")
        permit = SemaphorePermit(self, n, FRESH)
        with self._mu:
            if self._closed:
                raise _closed_error()
            if self._fast:
                self._drain()
            if not self._waiters and self._permits >= n:
                self._permits -= n
                permit._state = HELD
                return permit
            p = permit._parker = Parker("acquire", self)
            permit._index = 0
            permit._state = PARKED
            self._waiters.append(permit)
            self._serve()  # a lock-free release may have missed us (module docstring)
        p.wait_blocking()
        if p.value is CLOSED:
            permit._state = RELEASED
            raise _closed_error()
        permit._state = HELD
        return permit

    def add_permits(self, n: int) -> None:
        """Add ``n`` permits (>= 0), serving waiters in order. Works after `close` too.

        Raises:
            ValueError: ``n`` is negative.
        """
        check_count(n, "n")
        with self._mu:
            self._permits += n
            if self._waiters:
                self._serve()

    def available_permits(self) -> int:
        """The number of free permits now."""
        return self._permits + len(self._fast)

    def close(self) -> None:
        """Close: every waiter and every later acquire raises `Closed`.

        Permits held stay valid and may still be released; closing twice is harmless.
        """
        with self._mu:
            self._closed = True
            waiters = self._waiters
            self._waiters = deque()
            for permit in waiters:
                permit._parker.fire(CLOSED, permit._index)

    def _drain(self) -> None:
        """Move the fast pool's tokens into ``_permits``. Hold ``_mu``."""
        fast = self._fast
        taken = 0
        while fast:
            try:
                fast.pop()
            except IndexError:  # a lock-free acquire took the last one
                break
            taken += 1
        self._permits += taken

    def _serve(self) -> None:
        """Hand permits to waiters from the head while its request fits. Hold ``_mu``."""
        if self._fast:
            self._drain()
        waiters = self._waiters
        while waiters:
            permit = waiters[0]
            n = permit._n
            if n > self._permits:
                return  # strict FIFO: nobody overtakes the head
            waiters.popleft()
            # fire() fails for a select whose other case won, or a closed loop: skip it.
            if permit._parker.fire(permit, permit._index):
                self._permits -= n

    def _give_back(self, n: int) -> None:
        mu = self._mu
        mu.acquire()  # not `with`: half the cost on this hot path
        try:
            self._permits += n
            if self._waiters:
                self._serve()
        finally:
            mu.release()

    def __repr__(self) -> str:
        closed = ", closed" if self._closed else ""
        free = self.available_permits()
        return f"<Semaphore {free} free, {len(self._waiters)} waiting{closed}>"


@final
class SemaphorePermit(Op["SemaphorePermit"]):
    """A request from `Semaphore.acquire`, and the held permits once acquired.

    Release the permits with `release` (all, or some), or let ``async with`` /
    ``with`` release them on exit. `forget` drops them without giving them back.
    """

    __slots__ = ("_index", "_n", "_parker", "_sem", "_state")

    kind = "acquire"

    def __init__(self, sem: Semaphore, n: int, state: int) -> None:
        self._sem = sem
        self._n = n
        self._state = state
        self._parker: Parker

    @property
    def permits(self) -> int:
        """How many permits this holds now (0 once released or forgotten)."""
        return self._n if self._state == HELD else 0

    def release(self, n: int | None = None) -> None:
        """Give back all the permits held (default), or ``n`` of them.

        Raises:
            RuntimeError: Nothing is held (not acquired yet, or already released).
            ValueError: ``n`` is negative or more than this permit holds.
        """
        if self._state != HELD:
            raise self._not_held()
        held = self._n
        if n is None or n == held:
            n = held
            self._state = RELEASED
        else:
            check_count(n, "n")
            if n > held:
                raise ValueError(
                    f"cannot release {n} permits: this permit holds only {held}; "
                    f"release at most what was acquired"
                )
            self._n = held - n
        if n:
            self._sem._give_back(n)

    def forget(self) -> None:
        """Drop the held permits without giving them back (the semaphore shrinks)."""
        if self._state != HELD:
            raise self._not_held()
        self._state = RELEASED

    def _not_held(self) -> RuntimeError:
        if self._state == RELEASED:
            return RuntimeError(
                "this semaphore permit was already released (or forgotten); acquire again "
                "with 'await sem.acquire()'"
            )
        return RuntimeError(
            "this semaphore permit is not acquired yet; 'await' it or use "
            "'async with sem.acquire():'"
        )

    async def _acquire(self) -> SemaphorePermit:
        if self._state != FRESH:
            raise RuntimeError(
                "this sem.acquire() request is already being awaited"
                if self._state == PARKED
                else "this sem.acquire() request was already used; call sem.acquire() again"
            )
        # The coop budget (`_park.consume_budget`, inlined: this is the hot path), spent
        # before the permits are taken because the yield may be cancelled.
        budget = _budget
        budget[0] -= 1
        if budget[0] <= 0:
            await coop_yield()
        sem = self._sem
        n = self._n
        if n is _ONE and not sem._waiters and not sem._closed:  # the hot path: lock-free
            try:
                sem._fast.pop()
            except IndexError:
                pass
            else:
                self._state = HELD
                return self
        mu = sem._mu
        mu.acquire()
        try:
            if sem._closed:
                raise _closed_error()
            if sem._fast:
                sem._drain()
            if not sem._waiters and sem._permits >= n:
                sem._permits -= n
                self._state = HELD
                return self
            p = self._parker = Parker("acquire", sem)
            self._index = 0
            self._state = PARKED
            sem._waiters.append(self)
            sem._serve()  # a lock-free release may have missed us (module docstring)
        finally:
            mu.release()
        return await self._wait(p)

    async def _wait(self, p: Parker) -> SemaphorePermit:
        sem = self._sem
        try:
            await p.wait()
        except BaseException:
            with sem._mu:
                if p.withdraw():
                    sem._waiters.remove(self)
                    self._state = FRESH
                    # We may have been the head holding the others back.
                    sem._serve()
                elif p.state == FIRED and p.value is not CLOSED:
                    # Permits handed to us just before the interruption: give them back.
                    self._state = RELEASED
                    sem._permits += self._n
                    sem._serve()
            raise
        return self._finish(p.value)

    def __await__(self) -> Generator[Any, None, SemaphorePermit]:
        return self._acquire().__await__()

    __aenter__ = _acquire

    def __aexit__(self, *exc_info: object) -> Awaitable[None]:
        # Releasing never waits: a plain method returning a finished awaitable.
        if self._state == HELD:  # it may have been released inside the block
            self._state = RELEASED
            sem = self._sem
            if self._n is _ONE:  # the hot path: lock-free (module docstring)
                sem._fast.append(None)
                if sem._waiters:
                    with sem._mu:
                        sem._serve()
            else:
                sem._give_back(self._n)
        return READY

    def __enter__(self) -> SemaphorePermit:
        if self._state != HELD:
            raise self._not_held()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._state == HELD:
            self.release()

    # --- the Op steps, for gokio.select (each called with the semaphore's _mu held) ------

    def _lock(self) -> threading.Lock:
        return self._sem._mu

    def _obj(self) -> object:
        return self._sem

    def _try(self) -> Any:
        if self._state != FRESH:
            raise RuntimeError("this sem.acquire() request was already used")
        sem = self._sem
        if sem._closed:
            raise _closed_error()
        if sem._fast:
            sem._drain()
        if sem._waiters or sem._permits < self._n:
            return NOT_READY
        sem._permits -= self._n
        return self

    def _park(self, parker: Parker, index: int) -> None:
        self._parker = parker
        self._index = index
        self._state = PARKED
        self._sem._waiters.append(self)
        self._sem._serve()  # a lock-free release may have missed us (module docstring)

    def _unpark(self, parker: Parker) -> None:
        self._state = FRESH
        sem = self._sem
        try:
            sem._waiters.remove(self)
        except ValueError:  # already popped by _serve, which found the select taken
            return
        sem._serve()

    def _finish(self, raw: Any) -> SemaphorePermit:
        if raw is CLOSED:
            self._state = RELEASED
            raise _closed_error()
        self._state = HELD
        return self

    def __repr__(self) -> str:
        state = ("fresh", "waiting", "held", "released")[self._state]
        return f"<SemaphorePermit {self._n} {state} of {self._sem!r}>"
