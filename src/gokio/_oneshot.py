"""Tokio's oneshot channel: one value, sent once, from one sender to one receiver.

State lives in one `_Shared` object guarded by a `threading.Lock`; the two handles only
point at it, so a task on any loop or a plain thread may hold either end. A receive
parks a `Parker`; ``send`` fires it with the value while holding the lock (hand-off), so
a receive that was fired has taken effect and is reported even if cancelled afterwards.

Handles that are garbage-collected close their end (Tokio's drop): see `run_finalizer`
for why a finalizer never blocks on the lock.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Generator
from types import TracebackType
from typing import Any, Final, Generic, TypeVar, final

from ._errors import Closed, Empty
from ._op import NOT_READY, Op
from ._park import Parker, consume_budget, coop_yield, rearm_cancel

__all__ = ["OneshotReceiver", "OneshotSender", "channel", "run_finalizer"]

T = TypeVar("T")


def _finalize_blocking(lock: threading.Lock, fn: Callable[[], None]) -> None:
    with lock:
        fn()


def run_finalizer(lock: threading.Lock, fn: Callable[[], None]) -> None:
    """Run ``fn()`` with ``lock`` held, from a ``__del__``, without ever deadlocking.

    The cyclic garbage collector may run a finalizer at any allocation, including inside
    a critical section of this very lock on this very thread. Blocking there would
    deadlock, and running without the lock would see half-updated state. So the lock is
    only taken if it is free at once; otherwise (rare: contention or re-entry) a short
    thread waits for it and runs ``fn`` then.
    """
    if lock.acquire(False):
        try:
            fn()
        finally:
            lock.release()
        return
    # RuntimeError: the interpreter is shutting down, nobody is left to notify.
    with contextlib.suppress(RuntimeError):
        threading.Thread(
            target=_finalize_blocking, args=(lock, fn), name="gokio-finalizer", daemon=True
        ).start()


class _Signal:
    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


#: fired into a parked receive: the sender closed without sending, or the receiver closed
_CLOSED: Final = _Signal("oneshot channel closed: the sender was closed or dropped without sending")
#: fired into extra concurrent receives once one of them took the value
_TAKEN: Final = _Signal("oneshot value was already received")
_RX_CLOSED: Final = _Signal("oneshot receiver was closed before a value arrived")


@final
class _Shared:
    __slots__ = (
        "closed_waiters",
        "has_value",
        "lock",
        "rx_closed",
        "rx_waiters",
        "taken",
        "tx_done",
        "tx_sent",
        "value",
    )

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.value: Any = None
        self.has_value = False
        self.taken = False
        self.tx_sent = False
        #: the sender can send no more (it sent, was closed, or was dropped)
        self.tx_done = False
        self.rx_closed = False
        self.rx_waiters: list[tuple[Parker, int]] = []
        #: parked ``tx.closed()`` calls
        self.closed_waiters: list[tuple[Parker, int]] = []

    def __repr__(self) -> str:
        return f"<gokio.oneshot channel at {id(self):#x}>"

    # The methods below run with `lock` held.

    def close_tx(self) -> None:
        if self.tx_done:
            return
        self.tx_done = True
        waiters, self.rx_waiters = self.rx_waiters, []
        for p, idx in waiters:
            p.fire(_CLOSED, idx)

    def close_rx(self, dropped: bool) -> None:
        if dropped:  # nobody can read it any more: release it now
            self.value = None
            self.has_value = False
        if self.rx_closed:
            return
        self.rx_closed = True
        waiters, self.rx_waiters = self.rx_waiters, []
        for p, idx in waiters:
            p.fire(_RX_CLOSED, idx)
        waiters, self.closed_waiters = self.closed_waiters, []
        for p, idx in waiters:
            p.fire(None, idx)

    def take(self) -> Any:
        if self.has_value:
            value = self.value
            self.value = None
            self.has_value = False
            self.taken = True
            return value
        if self.taken:
            return _TAKEN
        if self.rx_closed:
            return _RX_CLOSED
        if self.tx_done:
            return _CLOSED
        return NOT_READY


def _finish(raw: Any) -> Any:
    if type(raw) is _Signal:
        raise Closed(raw.message)
    return raw


class _Recv(Op[T]):
    __slots__ = ("_rx",)
    kind = "recv"

    def __init__(self, rx: OneshotReceiver[T]) -> None:
        self._rx = rx  # keeps the receiver alive (not dropped) while the op is pending

    def _lock(self) -> threading.Lock:
        return self._rx._core.lock

    def _obj(self) -> object:
        return self._rx._core

    def _try(self) -> Any:
        return self._rx._core.take()

    def _park(self, parker: Parker, index: int) -> None:
        self._rx._core.rx_waiters.append((parker, index))

    def _unpark(self, parker: Parker) -> None:
        _remove(self._rx._core.rx_waiters, parker)

    def _finish(self, raw: Any) -> T:
        return _finish(raw)  # type: ignore[no-any-return]


class _Closed(Op[None]):
    __slots__ = ("_tx",)
    kind = "closed"

    def __init__(self, tx: OneshotSender[Any]) -> None:
        self._tx = tx

    def _lock(self) -> threading.Lock:
        return self._tx._core.lock

    def _obj(self) -> object:
        return self._tx._core

    def _try(self) -> Any:
        return None if self._tx._core.rx_closed else NOT_READY

    def _park(self, parker: Parker, index: int) -> None:
        self._tx._core.closed_waiters.append((parker, index))

    def _unpark(self, parker: Parker) -> None:
        _remove(self._tx._core.closed_waiters, parker)

    def _finish(self, raw: Any) -> None:
        return None


def _remove(waiters: list[tuple[Parker, int]], parker: Parker) -> None:
    for k, entry in enumerate(waiters):
        if entry[0] is parker:
            del waiters[k]
            return


@final
class OneshotSender(Generic[T]):
    """The sending half of a oneshot channel: sends one value, once.

    Closing it (``close()``, leaving ``with tx:``, or garbage collection) without sending
    makes the receiver raise `Closed`.
    """

    __slots__ = ("_core",)

    def __init__(self, core: _Shared) -> None:
        self._core = core

    def send(self, value: T) -> None:
        """Send the value (never blocks).

        Raises:
            Closed: the receiver was closed or dropped, this sender was closed, or a
                value was already sent; ``err.value`` holds ``value``.
        """
        core = self._core
        with core.lock:
            if not core.tx_done and not core.rx_closed:
                core.tx_done = core.tx_sent = True
                waiters = core.rx_waiters
                if waiters:
                    core.rx_waiters = []
                    for k, (p, idx) in enumerate(waiters):
                        if p.fire(value, idx):
                            core.taken = True
                            # The value is gone: any other concurrent receive can never
                            # get one.
                            for p2, idx2 in waiters[k + 1 :]:
                                p2.fire(_TAKEN, idx2)
                            return
                core.value = value
                core.has_value = True
                return
            sent = core.tx_sent
            rx_closed = core.rx_closed
        if sent:
            raise Closed("oneshot sender already used: a oneshot sends one value", value)
        if rx_closed:
            raise Closed("oneshot receiver was closed or dropped; the value is returned", value)
        raise Closed("oneshot sender was closed; create a new channel to send", value)

    def close(self) -> None:
        """Close without sending: the receiver raises `Closed`. Idempotent."""
        core = self._core
        with core.lock:
            core.close_tx()

    def is_closed(self) -> bool:
        """True once the receiver was closed or dropped (a send would fail)."""
        with self._core.lock:
            return self._core.rx_closed

    def closed(self) -> Op[None]:
        """Wait until the receiver is closed or dropped.

        Cancel safety: cancelling it has no effect on the channel.
        """
        return _Closed(self)

    def __enter__(self) -> OneshotSender[T]:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        core = getattr(self, "_core", None)
        if core is not None and not core.tx_done:
            run_finalizer(core.lock, core.close_tx)

    def __repr__(self) -> str:
        return f"<OneshotSender of {self._core!r}>"


@final
class OneshotReceiver(Generic[T]):
    """The receiving half of a oneshot channel: ``await rx`` or ``await rx.recv()``."""

    __slots__ = ("_core",)

    def __init__(self, core: _Shared) -> None:
        self._core = core

    def recv(self) -> Op[T]:
        """Wait for the value.

        Raises:
            Closed: the sender was closed or dropped without sending, this receiver was
                closed first, or the value was already received.

        Cancel safety: a cancelled receive never consumes the value: it stays for the
        next receive (if the value was handed over just before the cancellation landed,
        the receive returns it and the cancellation is re-delivered at the next await).
        """
        return _Recv(self)

    def __await__(self) -> Generator[Any, None, T]:
        if consume_budget():
            yield from coop_yield().__await__()
        core = self._core
        with core.lock:
            raw = core.take()
            if raw is NOT_READY:
                p = Parker("recv", core)
                core.rx_waiters.append((p, 0))
        if raw is not NOT_READY:
            return _finish(raw)  # type: ignore[no-any-return]
        try:
            yield from p.wait().__await__()
        except BaseException:
            with core.lock:
                if p.withdraw():
                    _remove(core.rx_waiters, p)
                    raise
            rearm_cancel()
        return _finish(p.value)  # type: ignore[no-any-return]

    def try_recv(self) -> T:
        """Take the value if it arrived.

        Raises:
            Empty: no value yet (and the sender may still send).
            Closed: the sender closed without sending, or the value was already taken.
        """
        core = self._core
        with core.lock:
            raw = core.take()
        if raw is NOT_READY:
            raise Empty("no oneshot value yet; await rx.recv() to wait for it")
        return _finish(raw)  # type: ignore[no-any-return]

    def blocking_recv(self) -> T:
        """Wait for the value from a plain thread (raises as `recv`)."""
        return _Recv(self).blocking("blocking_recv", "await rx.recv()")

    def close(self) -> None:
        """Refuse the value: later sends raise `Closed`. A value already sent stays receivable."""
        core = self._core
        with core.lock:
            core.close_rx(False)

    def __del__(self) -> None:
        core = getattr(self, "_core", None)
        if core is not None:
            run_finalizer(core.lock, lambda: core.close_rx(True))

    def __repr__(self) -> str:
        return f"<OneshotReceiver of {self._core!r}>"


def channel() -> tuple[OneshotSender[T], OneshotReceiver[T]]:
    """Create a oneshot channel: ``tx, rx = gokio.oneshot.channel()``."""
    core = _Shared()
    return OneshotSender(core), OneshotReceiver(core)
