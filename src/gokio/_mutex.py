"""`Mutex[T]`: an async mutual-exclusion lock that owns the value it protects.

As in Tokio, the protected value lives *inside* the mutex and is reached only through a
guard (``guard.value``), so it cannot be touched without holding the lock::

    m = Mutex(0)
    async with m.lock() as guard:
        guard.value += 1

Fairness. The lock is FIFO: a release with waiters queued hands the lock directly to
the longest waiter (Go's "starvation mode", always on) instead of unlocking and letting
whoever runs next barge in, and a newcomer that sees anyone queued queues behind them.

State. ``_free`` *is* the locked/unlocked bit: a deque holding one token while the mutex
is unlocked. The uncontended acquire is one atomic test-and-set on it (``pop()``, which
either takes the token or raises IndexError) and the uncontended release one
``append()``; no other lock is taken and no future is made. (``deque.pop``/``append``
are atomic, under the GIL and in free-threaded builds alike, and cost a third of a
``threading.Lock`` ``acquire(False)``/``release()`` pair, whose argument parsing
dominates the uncontended path.) ``_mu`` guards the wait queue. The two sides race like
this, and neither loses a wake-up::

    releaser:  put the token back        then  look at the queue -> hand off under _mu
    waiter:    (under _mu) append self   then  test-and-set the token again

If the waiter's second test-and-set fails, the lock was still held at that moment, so
its release comes later and sees the waiter in the queue; if it succeeds, the waiter
owns the lock and hands it to the queue's head itself (possibly itself). A newcomer
checks the queue *before* its test-and-set, so it can only win the lock over a queued
waiter that was queued after the newcomer looked: it was there first.

Cancellation. Hand-off makes one interleaving delicate (python/asyncio#270 and
bpo-27585 were this bug in asyncio.Lock)::

    holder: release() -> pops W1, fires its parker (W1 now owns the lock)
    W1's task: cancelled before it runs -> CancelledError at its await
    W2: still queued; nobody would ever release the lock if W1 just raised

So a waiter interrupted after its parker fired *passes the lock on* (to the next waiter,
or unlocks) and then raises its CancelledError: a cancelled lock() never holds the lock
and never strands it. A waiter interrupted before that withdraws its parker under
``_mu``, so no release can pick it afterwards.

The request object returned by `Mutex.lock` *is* the guard once acquired: one
allocation per lock.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Awaitable, Generator
from typing import Any, Final, Generic, TypeVar, final

from ._errors import WouldBlock
from ._op import NOT_READY, Op
from ._park import FIRED, READY, Parker, _budget, check_blocking_allowed, coop_yield

__all__ = ["Mutex", "MutexGuard"]

T = TypeVar("T")

_new = object.__new__

# The life of a guard: FRESH -> (PARKED ->) HELD -> RELEASED; PARKED -> FRESH if withdrawn.
FRESH: Final = 0
PARKED: Final = 1
HELD: Final = 2
RELEASED: Final = 3


def _try_take(free: deque[None]) -> bool:
    """Atomically take the mutex's token: True if it was unlocked (and now is ours)."""
    try:
        free.pop()
    except IndexError:
        return False
    return True


def not_held_error(state: int, what: str, again: str) -> RuntimeError:
    """The error for using a guard that does not hold its lock (shared by the locks)."""
    if state == RELEASED:
        return RuntimeError(
            f"{what} used after its block ended: the lock was released, so the value is no "
            f"longer protected; take the lock again with '{again}'"
        )
    return RuntimeError(
        f"{what} does not hold the lock yet; acquire it first with '{again}' "
        f"(or 'guard = await ...')"
    )


def reuse_error(state: int, what: str, again: str) -> RuntimeError:
    """The error for awaiting a lock request that is parked, held or already released."""
    if state == PARKED:
        return RuntimeError(f"{what} is already being awaited by another task or select")
    return RuntimeError(f"{what} was already acquired once; make a new request with '{again}'")


@final
class Mutex(Generic[T]):
    """An async, FIFO-fair, thread-safe mutex owning a value of type ``T``.

    Args:
        value: The value the mutex protects; reach it through a guard's ``value``.

    Example::

        async with m.lock() as guard:   # tasks, on any loop
            guard.value.append(x)
        with m.blocking_lock() as guard:   # plain threads
            guard.value.append(x)
    """

    __slots__ = ("__weakref__", "_free", "_mu", "_value", "_waiters")

    def __init__(self, value: T) -> None:
        self._value = value
        self._free: deque[None] = deque([None])  # one token: unlocked
        self._mu = threading.Lock()
        self._waiters: deque[MutexGuard[T]] = deque()

    def lock(self) -> MutexGuard[T]:
        """Request the lock: ``async with m.lock() as guard:`` or ``guard = await m.lock()``.

        Nothing happens until the request is awaited (or passed to `gokio.select`). The
        awaited form returns the held guard; release it with ``guard.release()`` or use it
        as ``with guard:``.

        Cancel safety: cancel-safe. A cancelled wait never holds the lock: if the lock was
        handed over just as the cancellation landed, it is passed on to the next waiter
        before CancelledError propagates. The waiter loses its place in the queue.
        """
        guard = _new(MutexGuard)  # skips __init__: this is the hot path of every lock
        guard._mutex = self
        guard._state = FRESH
        return guard

    def try_lock(self) -> MutexGuard[T]:
        """Take the lock now, or raise `WouldBlock` if it is held.

        Returns:
            The held guard: ``with m.try_lock() as guard:``.

        Raises:
            WouldBlock: The mutex is locked (by a task or a thread), or others queue for it.
        """
        if self._waiters or not _try_take(self._free):
            raise WouldBlock(
                "the mutex is locked; wait for it with 'async with m.lock()' (tasks) or "
                "'with m.blocking_lock()' (threads)"
            )
        guard = MutexGuard(self)
        guard._state = HELD
        return guard

    def blocking_lock(self) -> MutexGuard[T]:
        """Take the lock from a plain thread, blocking the thread until it is free.

        Returns:
            The held guard: ``with m.blocking_lock() as guard:``.

        Raises:
            RuntimeError: Called on a thread that runs an event loop (it would freeze it).
        """
        check_blocking_allowed("blocking_lock", "async with m.lock() as guard")
        guard = MutexGuard(self)
        if not self._waiters and _try_take(self._free):
            guard._state = HELD
            return guard
        p = self._enqueue(guard)
        if p is not None:
            p.wait_blocking()
        guard._state = HELD
        return guard

    def _enqueue(self, guard: MutexGuard[T]) -> Parker | None:
        """Slow path of an acquire: take the lock (None) or queue ``guard`` on a parker."""
        with self._mu:
            if not self._waiters and _try_take(self._free):
                return None
            p = guard._parker = Parker("lock", self)
            guard._index = 0
            guard._state = PARKED
            self._waiters.append(guard)
            # A release may have run between our test-and-set and the append and missed
            # us (it looks at the queue after releasing): test again now we are queued.
            if _try_take(self._free):
                self._pass_on()
            return p

    def _pass_on(self) -> None:
        """Hand the held lock to the longest waiter, or unlock. Call with ``_mu`` held."""
        waiters = self._waiters
        while waiters:
            guard = waiters.popleft()
            # fire() fails only for a select whose other case won (it unparks itself) or a
            # waiter whose loop is closed: skip those, the lock goes to the next one.
            if guard._parker.fire(guard, guard._index):
                return
        self._free.append(None)

    def _hand_off(self) -> None:
        """After a release that saw waiters: give the lock to the head, unless taken."""
        with self._mu:
            # Fails if a newcomer (there before the waiters) or a waiter's second
            # test-and-set took it since: that party hands it off when it releases.
            if self._waiters and _try_take(self._free):
                self._pass_on()

    def __repr__(self) -> str:
        state = "unlocked" if self._free else "locked"
        return f"<Mutex {state}, {len(self._waiters)} waiting>"


@final
class MutexGuard(Op["MutexGuard[T]"], Generic[T]):
    """A lock request from `Mutex.lock`, and the guard once the lock is held.

    ``guard.value`` reads and writes the protected value while the guard holds the lock;
    using it before the lock is taken or after the guard was released raises
    RuntimeError. The guard is both an async context manager (acquires, then releases on
    exit) and, once held, a plain context manager (releases on exit).
    """

    __slots__ = ("_index", "_mutex", "_parker", "_state")

    kind = "lock"

    def __init__(self, mutex: Mutex[T]) -> None:
        self._mutex = mutex
        self._state = FRESH
        self._parker: Parker

    @property
    def value(self) -> T:
        """The protected value (only while the guard holds the lock)."""
        if self._state != HELD:
            raise not_held_error(self._state, "mutex guard", "async with m.lock() as guard")
        return self._mutex._value

    @value.setter
    def value(self, value: T) -> None:
        if self._state != HELD:
            raise not_held_error(self._state, "mutex guard", "async with m.lock() as guard")
        self._mutex._value = value

    def release(self) -> None:
        """Release the lock, handing it to the longest waiter if there is one.

        Raises:
            RuntimeError: The guard does not hold the lock (never acquired, or released).
        """
        if self._state != HELD:
            raise not_held_error(self._state, "mutex guard", "async with m.lock() as guard")
        self._state = RELEASED
        m = self._mutex
        m._free.append(None)
        if m._waiters:
            m._hand_off()

    async def _acquire(self) -> MutexGuard[T]:
        if self._state:  # not FRESH (0): a request is awaited once
            raise reuse_error(self._state, "this m.lock() request", "m.lock()")
        # The coop budget (`_park.consume_budget`, inlined: this is the hot path), spent
        # before the lock is taken because the yield may be cancelled.
        budget = _budget
        budget[0] -= 1
        if budget[0] <= 0:
            await coop_yield()
        m = self._mutex
        if not m._waiters:
            try:
                m._free.pop()  # `_try_take`, inlined
            except IndexError:
                pass
            else:
                self._state = HELD
                return self
        p = m._enqueue(self)
        if p is None:
            self._state = HELD
            return self
        try:
            await p.wait()
        except BaseException:
            with m._mu:
                if p.withdraw():
                    m._waiters.remove(self)
                    self._state = FRESH
                elif p.state == FIRED:
                    # The lock was handed to us just before the interruption: pass it on
                    # rather than strand the waiters behind us (python/asyncio#270).
                    self._state = RELEASED
                    m._pass_on()
            raise
        self._state = HELD
        return self

    def __await__(self) -> Generator[Any, None, MutexGuard[T]]:
        return self._acquire().__await__()

    __aenter__ = _acquire

    def __aexit__(self, *exc_info: object) -> Awaitable[None]:
        # Releasing never waits, so this is a plain method returning a finished awaitable
        # (cheaper than a coroutine on the hottest path of every lock).
        if self._state == HELD:  # it may have been released inside the block
            self._state = RELEASED
            m = self._mutex
            m._free.append(None)
            if m._waiters:
                m._hand_off()
        return READY

    def __enter__(self) -> MutexGuard[T]:
        if self._state != HELD:
            raise not_held_error(self._state, "mutex guard", "async with m.lock() as guard")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._state == HELD:
            self.release()

    # --- the Op steps, for gokio.select (each called with the mutex's _mu held) ----------

    def _lock(self) -> threading.Lock:
        return self._mutex._mu

    def _obj(self) -> object:
        return self._mutex

    def _try(self) -> Any:
        if self._state != FRESH:
            raise reuse_error(self._state, "this m.lock() request", "m.lock()")
        m = self._mutex
        if m._waiters or not _try_take(m._free):
            return NOT_READY
        return self

    def _park(self, parker: Parker, index: int) -> None:
        m = self._mutex
        self._parker = parker
        self._index = index
        self._state = PARKED
        m._waiters.append(self)
        if _try_take(m._free):  # see Mutex._enqueue
            m._pass_on()

    def _unpark(self, parker: Parker) -> None:
        self._state = FRESH
        # Absent when a release already popped it and found the select won by another case.
        with contextlib.suppress(ValueError):
            self._mutex._waiters.remove(self)

    def _finish(self, raw: Any) -> MutexGuard[T]:
        self._state = HELD
        return self

    def __repr__(self) -> str:
        state = ("fresh", "waiting", "held", "released")[self._state]
        return f"<MutexGuard {state} of {self._mutex!r}>"
