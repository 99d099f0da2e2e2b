"""`RwLock[T]`: an async readers-writer lock owning the value it protects, FIFO-fair.

::

    cache = RwLock({})
    async with cache.read() as guard:      # many readers at once
        hit = guard.value.get(key)
    async with cache.write() as guard:     # one writer, no readers
        guard.value[key] = fresh

Fairness (no writer starvation). Requests are served strictly in arrival order, as
Tokio's RwLock does: a reader that arrives while a writer is queued waits behind that
writer, even though the lock is only read-held, so a stream of readers cannot starve a
writer. When the lock frees up, the queue's head is served, then every reader directly
behind it (they share the lock), stopping at the next writer.

Cancellation is handled as in `Mutex`: a waiter interrupted after the lock was handed to
it releases it again (serving the next waiters) before CancelledError propagates, and a
waiter that withdraws may unblock the readers queued behind it (it may have been the
writer they waited for). Tasks on any loop and plain threads (``blocking_*``) share one
lock; its state is guarded by a `threading.Lock`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Awaitable, Generator
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar, final

from ._errors import WouldBlock
from ._mutex import FRESH, HELD, PARKED, RELEASED, not_held_error, reuse_error
from ._op import NOT_READY, Op
from ._park import FIRED, READY, Parker, _budget, check_blocking_allowed, coop_yield

__all__ = ["RwLock", "RwLockReadGuard", "RwLockWriteGuard"]

T = TypeVar("T")

_new = object.__new__


@final
class RwLock(Generic[T]):
    """An async, FIFO-fair, thread-safe readers-writer lock owning a value of type ``T``.

    Args:
        value: The value the lock protects; reach it through a guard's ``value`` (read
            guards can only read it).
    """

    __slots__ = ("__weakref__", "_mu", "_readers", "_value", "_waiters", "_writer")

    def __init__(self, value: T) -> None:
        self._value = value
        self._mu = threading.Lock()
        self._readers = 0
        self._writer = False
        # Invariant (between calls, under _mu): if anyone waits, the head cannot be served.
        self._waiters: deque[_RwGuard[T]] = deque()

    def read(self) -> RwLockReadGuard[T]:
        """Request shared read access: ``async with rw.read() as guard:``.

        Cancel safety: cancel-safe. A cancelled wait never holds the lock: read access
        handed over just as the cancellation landed is released again (serving the next
        waiters) before CancelledError propagates. The waiter loses its place in the queue.
        """
        guard = _new(RwLockReadGuard)
        guard._rw = self
        guard._state = FRESH
        return guard

    def write(self) -> RwLockWriteGuard[T]:
        """Request exclusive write access: ``async with rw.write() as guard:``.

        Cancel safety: cancel-safe, as for `read`.
        """
        guard = _new(RwLockWriteGuard)
        guard._rw = self
        guard._state = FRESH
        return guard

    def try_read(self) -> RwLockReadGuard[T]:
        """Take read access now, or raise `WouldBlock` (a writer holds or waits for it)."""
        return self._try_now(self.read())

    def try_write(self) -> RwLockWriteGuard[T]:
        """Take write access now, or raise `WouldBlock` (anyone holds or waits for it)."""
        return self._try_now(self.write())

    def blocking_read(self) -> RwLockReadGuard[T]:
        """Take read access from a plain thread, blocking it until granted.

        Raises:
            RuntimeError: Called on a thread that runs an event loop (it would freeze it).
        """
        check_blocking_allowed("blocking_read", "async with rw.read() as guard")
        return self._block(self.read())

    def blocking_write(self) -> RwLockWriteGuard[T]:
        """Take write access from a plain thread, blocking it until granted.

        Raises:
            RuntimeError: Called on a thread that runs an event loop (it would freeze it).
        """
        check_blocking_allowed("blocking_write", "async with rw.write() as guard")
        return self._block(self.write())

    def _try_now(self, guard: _G) -> _G:
        with self._mu:
            if not guard._grant():
                what = "write" if guard._write else "read"
                raise WouldBlock(
                    f"the lock is not free for {what} access now; wait with "
                    f"'async with rw.{what}()' (tasks) or 'rw.blocking_{what}()' (threads)"
                )
        guard._state = HELD
        return guard

    def _block(self, guard: _G) -> _G:
        with self._mu:
            if guard._grant():
                guard._state = HELD
                return guard
            p = guard._parker = Parker(guard.kind, self)
            guard._index = 0
            guard._state = PARKED
            self._waiters.append(guard)
        p.wait_blocking()
        guard._state = HELD
        return guard

    def _serve(self) -> None:
        """Serve the queue from its head while the head can be granted. Hold ``_mu``."""
        waiters = self._waiters
        while waiters:
            guard = waiters[0]
            if guard._write:
                if self._writer or self._readers:
                    return
            elif self._writer:
                return
            waiters.popleft()
            # fire() fails for a select whose other case won, or a closed loop: skip it.
            if guard._parker.fire(guard, guard._index):
                if guard._write:
                    self._writer = True
                    return
                self._readers += 1

    def __repr__(self) -> str:
        held = "write-locked" if self._writer else f"{self._readers} reader(s)"
        return f"<RwLock {held}, {len(self._waiters)} waiting>"


class _RwGuard(Op[Any], Generic[T]):
    """What read and write guards share: the request, the wait, release, the Op steps."""

    __slots__ = ("_index", "_parker", "_rw", "_state")

    _write: ClassVar[bool]
    _rw: RwLock[T]
    _state: int
    _parker: Parker
    _index: int

    def _grant(self) -> bool:
        """Take the access now if FIFO order and the lock state allow. Hold ``_mu``."""
        rw = self._rw
        if rw._waiters or rw._writer:
            return False
        if self._write:
            if rw._readers:
                return False
            rw._writer = True
        else:
            rw._readers += 1
        return True

    def _get(self) -> T:
        if self._state != HELD:
            raise not_held_error(self._state, self._what(), self._again())
        return self._rw._value

    def _what(self) -> str:
        return "write guard" if self._write else "read guard"

    def _again(self) -> str:
        return "async with rw.write() as guard" if self._write else "async with rw.read() as guard"

    def release(self) -> None:
        """Release the access, serving the waiters it held back.

        Raises:
            RuntimeError: The guard does not hold the lock (never acquired, or released).
        """
        if self._state != HELD:
            raise not_held_error(self._state, self._what(), self._again())
        self._state = RELEASED
        self._unlock()

    def _unlock(self) -> None:
        rw = self._rw
        mu = rw._mu
        mu.acquire()  # not `with`: half the cost on this hot path
        try:
            if self._write:
                rw._writer = False
            else:
                rw._readers -= 1
            if rw._waiters:
                rw._serve()
        finally:
            mu.release()

    async def _acquire(self) -> Self:
        if self._state != FRESH:
            raise reuse_error(self._state, "this lock request", self._again())
        # The coop budget (`_park.consume_budget`, inlined: this is the hot path), spent
        # before the lock is taken because the yield may be cancelled.
        budget = _budget
        budget[0] -= 1
        if budget[0] <= 0:
            await coop_yield()
        rw = self._rw
        mu = rw._mu
        mu.acquire()
        try:
            if self._grant():
                self._state = HELD
                return self
            p = self._parker = Parker(self.kind, rw)
            self._index = 0
            self._state = PARKED
            rw._waiters.append(self)
        finally:
            mu.release()
        return await self._wait(p)

    async def _wait(self, p: Parker) -> Self:
        rw = self._rw
        try:
            await p.wait()
        except BaseException:
            with rw._mu:
                if p.withdraw():
                    rw._waiters.remove(self)
                    self._state = FRESH
                    rw._serve()  # we may have been the writer the readers behind us waited for
                elif p.state == FIRED:
                    # Access handed to us just before the interruption: pass it on.
                    self._state = RELEASED
                    if self._write:
                        rw._writer = False
                    else:
                        rw._readers -= 1
                    rw._serve()
            raise
        self._state = HELD
        return self

    def __await__(self) -> Generator[Any, None, Self]:
        return self._acquire().__await__()

    __aenter__ = _acquire

    def __aexit__(self, *exc_info: object) -> Awaitable[None]:
        # Releasing never waits: a plain method returning a finished awaitable.
        if self._state == HELD:  # it may have been released inside the block
            self._state = RELEASED
            self._unlock()
        return READY

    def __enter__(self) -> Self:
        if self._state != HELD:
            raise not_held_error(self._state, self._what(), self._again())
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._state == HELD:
            self.release()

    # --- the Op steps, for gokio.select (each called with the lock's _mu held) -----------

    def _lock(self) -> threading.Lock:
        return self._rw._mu

    def _obj(self) -> object:
        return self._rw

    def _try(self) -> Any:
        if self._state != FRESH:
            raise reuse_error(self._state, "this lock request", self._again())
        return self if self._grant() else NOT_READY

    def _park(self, parker: Parker, index: int) -> None:
        self._parker = parker
        self._index = index
        self._state = PARKED
        self._rw._waiters.append(self)

    def _unpark(self, parker: Parker) -> None:
        self._state = FRESH
        rw = self._rw
        try:
            rw._waiters.remove(self)
        except ValueError:  # already popped by _serve, which found the select taken
            return
        rw._serve()

    def _finish(self, raw: Any) -> Self:
        self._state = HELD
        return self

    def __repr__(self) -> str:
        state = ("fresh", "waiting", "held", "released")[self._state]
        return f"<{type(self).__name__} {state} of {self._rw!r}>"


_G = TypeVar("_G", bound=_RwGuard[Any])


def _read_only(self: object, value: object) -> None:
    raise AttributeError(
        "a read guard's value is read-only; take write access with "
        "'async with rw.write() as guard:' to change it"
    )


@final
class RwLockReadGuard(_RwGuard[T]):
    """Shared read access to an `RwLock`'s value: ``guard.value`` (read-only)."""

    __slots__ = ()

    _write = False
    kind = "read"

    if TYPE_CHECKING:

        @property
        def value(self) -> T:
            """The protected value (only while the guard holds the lock)."""
            return self._get()

    else:
        value = property(_RwGuard._get, _read_only, doc="The protected value (read-only).")


@final
class RwLockWriteGuard(_RwGuard[T]):
    """Exclusive write access to an `RwLock`'s value: ``guard.value`` reads and writes."""

    __slots__ = ()

    _write = True
    kind = "write"

    @property
    def value(self) -> T:
        """The protected value (only while the guard holds the lock)."""
        return self._get()

    @value.setter
    def value(self, value: T) -> None:
        if self._state != HELD:
            raise not_held_error(self._state, "write guard", self._again())
        self._rw._value = value
