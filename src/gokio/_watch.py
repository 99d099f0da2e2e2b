"""Tokio's watch channel: one latest value, many receivers told when it changes.

The shared state is the value and a ``version`` counter bumped by every update; each
receiver remembers the version it last saw (``seen``). "Changed" means ``seen !=
version``: a receiver never sees every value, only that the latest one is new to it.

A parked ``changed()`` is fired by the update itself, under the channel lock, and the
update marks the new version seen for that receiver at the same moment, so a fired
``changed()`` has taken effect even if a cancellation lands afterwards (it then
returns and the cancellation is re-delivered at the next await).

Writers (``send``, ``send_replace``, ``send_modify``, ``close``) are serialised by a
separate re-entrant writer lock, so ``send_modify`` can run the user's function
*outside* the state lock (the function may call ``borrow()`` without deadlocking) and
no concurrent write can slip in between reading the value and storing the result.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, Final, Generic, TypeVar, final

from ._errors import Closed
from ._oneshot import run_finalizer
from ._op import NOT_READY, Op
from ._park import Parker

__all__ = ["WatchReceiver", "WatchSender", "channel"]

T = TypeVar("T")


class _ClosedSignal:
    __slots__ = ()


#: fired into a parked ``changed()`` when the sender goes away
_CLOSED: Final = _ClosedSignal()


@final
class _Shared(Generic[T]):
    __slots__ = ("closed", "closed_waiters", "lock", "nrx", "value", "version", "waiters", "wlock")

    def __init__(self, value: T) -> None:
        self.lock = threading.Lock()
        self.wlock = threading.RLock()
        self.value = value
        self.version = 0
        #: the sender is gone (closed or dropped)
        self.closed = False
        self.nrx = 1
        #: parked ``changed()`` calls: (parker, select index, receiver)
        self.waiters: list[tuple[Parker, int, WatchReceiver[T]]] = []
        #: parked ``tx.closed()`` calls
        self.closed_waiters: list[tuple[Parker, int]] = []

    def __repr__(self) -> str:
        return f"<gokio.watch channel at {id(self):#x}>"

    # The methods below run with `lock` held.

    def publish(self) -> None:
        version = self.version + 1
        self.version = version
        waiters = self.waiters
        if waiters:
            kept = []
            for entry in waiters:
                p, idx, rx = entry
                if rx._seen == version:
                    kept.append(entry)  # another changed() of this receiver took it
                elif p.fire(None, idx):
                    rx._seen = version
                # else: withdrawn, or its select won elsewhere: drop the entry
            self.waiters = kept

    def close_tx(self) -> None:
        if self.closed:
            return
        self.closed = True
        waiters, self.waiters = self.waiters, []
        for p, idx, _ in waiters:
            p.fire(_CLOSED, idx)

    def drop_rx(self) -> None:
        self.nrx -= 1
        if not self.nrx:
            waiters, self.closed_waiters = self.closed_waiters, []
            for p, idx in waiters:
                p.fire(None, idx)


def _remove(waiters: list[Any], parker: Parker) -> None:
    for k, entry in enumerate(waiters):
        if entry[0] is parker:
            del waiters[k]
            return


class _Changed(Op[None]):
    __slots__ = ("_rx",)
    kind = "changed"

    def __init__(self, rx: WatchReceiver[Any]) -> None:
        self._rx = rx

    def _lock(self) -> threading.Lock:
        return self._rx._core.lock

    def _obj(self) -> object:
        return self._rx._core

    def _try(self) -> Any:
        rx = self._rx
        core = rx._core
        if rx._seen != core.version:
            rx._seen = core.version
            return None
        if core.closed:
            return _CLOSED
        return NOT_READY

    def _park(self, parker: Parker, index: int) -> None:
        self._rx._core.waiters.append((parker, index, self._rx))

    def _unpark(self, parker: Parker) -> None:
        _remove(self._rx._core.waiters, parker)

    def _finish(self, raw: Any) -> None:
        if raw is _CLOSED:
            raise Closed("watch sender is gone and the latest value was already seen")


class _TxClosed(Op[None]):
    __slots__ = ("_core",)
    kind = "closed"

    def __init__(self, core: _Shared[Any]) -> None:
        self._core = core

    def _lock(self) -> threading.Lock:
        return self._core.lock

    def _obj(self) -> object:
        return self._core

    def _try(self) -> Any:
        return None if not self._core.nrx else NOT_READY

    def _park(self, parker: Parker, index: int) -> None:
        self._core.closed_waiters.append((parker, index))

    def _unpark(self, parker: Parker) -> None:
        _remove(self._core.closed_waiters, parker)


@final
class WatchSender(Generic[T]):
    """The single sending handle of a watch channel.

    Closing it (``close()``, leaving ``with tx:``, or garbage collection) closes the
    channel: receivers keep the last value and get `Closed` from ``changed()`` once they
    have seen it.
    """

    __slots__ = ("_closed", "_core")

    def __init__(self, core: _Shared[T]) -> None:
        self._core = core
        self._closed = False

    def _check_open(self, value: Any) -> None:
        if self._closed:
            raise Closed("this watch sender was closed; no more values can be sent", value)

    def send(self, value: T) -> None:
        """Replace the value and notify every receiver.

        Raises:
            Closed: there is no receiver (the value is *not* stored; use `send_replace`
                to store it anyway) or this sender was closed; ``err.value`` holds it.
        """
        core = self._core
        with core.wlock:
            self._check_open(value)
            with core.lock:
                if core.nrx:
                    core.value = value
                    core.publish()
                    return
        raise Closed("watch send with no receivers; use send_replace() to store anyway", value)

    def send_replace(self, value: T) -> T:
        """Replace the value whether or not there are receivers; return the old one.

        Raises:
            Closed: this sender was closed (``err.value`` holds ``value``).
        """
        core = self._core
        with core.wlock:
            self._check_open(value)
            with core.lock:
                old = core.value
                core.value = value
                core.publish()
                return old

    def send_modify(self, fn: Callable[[T], T | None]) -> None:
        """Update the value with ``fn(current)`` and notify every receiver.

        A non-None return replaces the value; None keeps the current (possibly mutated
        in place) one. Receivers are notified either way. If ``fn`` raises, the
        exception propagates, the version does not change and nobody is notified (an
        in-place mutation made before raising is not undone). ``fn`` runs outside the
        state lock, so it may call ``borrow()``; other writers wait until it returns.

        Raises:
            Closed: this sender was closed.
        """
        core = self._core
        with core.wlock:
            self._check_open(None)
            with core.lock:
                current = core.value
            new = fn(current)
            with core.lock:
                if new is not None:
                    core.value = new
                core.publish()

    def borrow(self) -> T:
        """The current value (not a copy)."""
        with self._core.lock:
            return self._core.value

    def subscribe(self) -> WatchReceiver[T]:
        """A new receiver; the current value counts as already seen by it."""
        core = self._core
        with core.lock:
            core.nrx += 1
            return WatchReceiver(core, core.version)

    def receiver_count(self) -> int:
        """How many receivers exist now."""
        with self._core.lock:
            return self._core.nrx

    def closed(self) -> Op[None]:
        """Wait until there is no receiver.

        Cancel safety: cancelling it has no effect on the channel.
        """
        return _TxClosed(self._core)

    def close(self) -> None:
        """Close the channel (idempotent): receivers get `Closed` once they saw the last value."""
        core = self._core
        with core.wlock:
            self._closed = True
            with core.lock:
                core.close_tx()

    def __enter__(self) -> WatchSender[T]:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        core = getattr(self, "_core", None)
        if core is not None and not self._closed:
            run_finalizer(core.lock, core.close_tx)

    def __repr__(self) -> str:
        return f"<WatchSender of {self._core!r}>"


@final
class WatchReceiver(Generic[T]):
    """A receiving handle of a watch channel, with its own "last seen" version.

    ``async for v in rx`` yields the current value first, then the latest value after
    each change, until the sender is gone.
    """

    __slots__ = ("_core", "_seen")

    def __init__(self, core: _Shared[T], seen: int) -> None:
        self._core = core
        self._seen = seen

    def borrow(self) -> T:
        """The current value (not a copy); does not mark it seen."""
        with self._core.lock:
            return self._core.value

    def borrow_and_update(self) -> T:
        """The current value, now marked seen."""
        core = self._core
        with core.lock:
            self._seen = core.version
            return core.value

    def has_changed(self) -> bool:
        """True if there is a value this receiver has not seen.

        Raises:
            Closed: the sender is gone.
        """
        core = self._core
        with core.lock:
            if not core.closed:
                return self._seen != core.version
        raise Closed("watch sender is gone; borrow() still returns the last value")

    def changed(self) -> Op[None]:
        """Wait until there is a value this receiver has not seen, and mark it seen.

        Returns at once if one is unseen already, even after the sender is gone.

        Raises:
            Closed: the sender is gone and the latest value was already seen.

        Cancel safety: a cancelled ``changed()`` leaves the value unseen, so the next
        call returns at once (if the change was taken just before the cancellation
        landed, it returns and the cancellation is re-delivered at the next await).
        """
        return _Changed(self)

    def blocking_changed(self) -> None:
        """`changed` for plain threads: park the thread until a change (raises alike)."""
        _Changed(self).blocking("blocking_changed", "await rx.changed()")

    async def wait_for(self, pred: Callable[[T], bool]) -> T:
        """Wait until ``pred(value)`` is true and return that value (marked seen).

        The current value is tested first.

        Raises:
            Closed: the sender is gone and no value satisfied ``pred``.

        Cancel safety: cancelling it loses nothing; values it tested stay marked seen.
        """
        core = self._core
        while True:
            with core.lock:
                value = core.value
                self._seen = core.version
            if pred(value):
                return value
            await _Changed(self)

    def __aiter__(self) -> AsyncIterator[T]:
        return _Iter(self)

    def __del__(self) -> None:
        core = getattr(self, "_core", None)
        if core is not None:
            run_finalizer(core.lock, core.drop_rx)

    def __repr__(self) -> str:
        return f"<WatchReceiver of {self._core!r}>"


@final
class _Iter(Generic[T]):
    __slots__ = ("_first", "_rx")

    def __init__(self, rx: WatchReceiver[T]) -> None:
        self._rx = rx
        self._first = True

    def __aiter__(self) -> _Iter[T]:
        return self

    async def __anext__(self) -> T:
        if self._first:
            self._first = False
        else:
            try:
                await _Changed(self._rx)
            except Closed:
                raise StopAsyncIteration from None
        return self._rx.borrow_and_update()


def channel(initial: T) -> tuple[WatchSender[T], WatchReceiver[T]]:
    """Create a watch channel holding ``initial`` (seen by the first receiver)."""
    core = _Shared(initial)
    return WatchSender(core), WatchReceiver(core, 0)
