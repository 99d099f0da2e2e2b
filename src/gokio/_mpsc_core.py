"""The state, `Permit` and awaitable ops of Tokio's mpsc channel (handles: ``_mpsc.py``).

One `_Shared` state per channel, guarded by its ``threading.Lock``:

* ``buf``: queued items; ``reserved``: slots held by unused permits. A bounded channel
  has room when ``len(buf) + reserved < cap`` (an unbounded one has ``cap = sys.maxsize``);
* ``recvq``: parked receives ``(parker, case)`` (one receiver, but several tasks may
  share it); non-empty only while ``buf`` is empty;
* ``sendq``: parked sends ``(parker, case, item)`` and reserves ``(parker, case,
  _RESERVE)`` in FIFO order; non-empty only while there is no room. Whenever a slot
  frees, `_refill` hands it to the head at once (the item moves into ``buf``, or the
  reserve gets a `Permit`), so a newcomer never overtakes a parked sender;
* ``senders``: live sender handles. The channel is closed for the receiver when they
  are all gone *and* no permit is outstanding (a permit still sends), or when the
  receiver closed; it then drains ``buf`` and gets `Closed`.

Hand-off and cancellation follow the Go channel (``_chan.py``): the party that completes
an operation for a parked one fires its parker under the lock; the operation took effect
iff the fire succeeded; a parked party withdraws under the lock or, failing that,
reports the completed operation.

Garbage collection of a `Sender`, `Receiver` or `Permit` runs its finalizer at an
arbitrary allocation, possibly on a thread that already holds this channel's lock
(``threading.Lock`` is not re-entrant). So a finalizer only *tries* the lock; if it is
busy, a short-lived thread does the work once the lock is free (`_locked`).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, final

from ._chan import _CLOSED, _remove
from ._errors import Closed
from ._op import NOT_READY, Op
from ._park import Parker

if TYPE_CHECKING:
    from ._mpsc import Sender

__all__ = [
    "ClosedOp",
    "Permit",
    "RecvManyOp",
    "RecvOp",
    "ReserveOp",
    "SendOp",
]

T = TypeVar("T")
R = TypeVar("R")


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_RESERVE: Final[Any] = _Marker("RESERVE")  # the item of a parked reserve()
_TIMEOUT: Final[Any] = _Marker("TIMEOUT")  # fired into a send_timeout whose time ran out


@final
class _Shared(Generic[T]):
    __slots__ = (
        "__weakref__",
        "buf",
        "cap",
        "closed_waiters",
        "lock",
        "recvq",
        "reserved",
        "rx_closed",
        "senders",
        "sendq",
    )

    def __init__(self, cap: int) -> None:
        self.lock = threading.Lock()
        self.cap = cap
        self.buf: deque[T] = deque()
        self.reserved = 0
        self.recvq: deque[tuple[Parker, int]] = deque()
        self.sendq: deque[tuple[Parker, int, Any]] = deque()
        self.senders = 1
        self.rx_closed = False
        self.closed_waiters: deque[tuple[Parker, int]] = deque()

    def __repr__(self) -> str:
        cap = "unbounded" if self.cap == sys.maxsize else f"cap={self.cap}"
        return f"<gokio.mpsc channel {cap} len={len(self.buf)}>"


def _locked(s: _Shared[Any], fn: Callable[[_Shared[Any]], None]) -> None:
    """Run ``fn(s)`` under the lock from a finalizer (see the module docstring)."""
    lock = s.lock
    if lock.acquire(False):
        try:
            fn(s)
        finally:
            lock.release()
        return

    def later() -> None:
        with lock:
            fn(s)

    # RuntimeError: the interpreter is shutting down, nobody is left to wake.
    with contextlib.suppress(RuntimeError):
        threading.Thread(target=later, name="gokio-mpsc-finalizer", daemon=True).start()


# -- state transitions, called with the lock held ----------------------------------------


def _refill(s: _Shared[Any]) -> None:
    """Hand freed slots to the parked senders and reserves at the head of ``sendq``."""
    sq = s.sendq
    buf = s.buf
    while sq and len(buf) + s.reserved < s.cap:
        p, i, item = sq.popleft()
        if item is _RESERVE:
            permit: Permit[Any] = Permit(s)
            if p.fire(permit, i):
                s.reserved += 1
            else:
                permit._s = None
        elif p.fire(None, i):
            buf.append(item)


def _rx_done(s: _Shared[Any]) -> bool:
    """Nothing more can arrive: the receiver closed, or no sender or permit is left."""
    return s.rx_closed or (s.senders == 0 and s.reserved == 0)


def _wake_receivers_closed(s: _Shared[Any]) -> None:
    rq = s.recvq
    while rq:
        p, i = rq.popleft()
        p.fire(_CLOSED, i)


def _drop_sender(s: _Shared[Any]) -> None:
    s.senders -= 1
    if s.senders == 0 and s.reserved == 0:
        _wake_receivers_closed(s)


def _close_rx(s: _Shared[Any]) -> None:
    if s.rx_closed:
        return
    s.rx_closed = True
    sq = s.sendq
    while sq:
        p, i, _ = sq.popleft()
        p.fire(_CLOSED, i)
    cw = s.closed_waiters
    while cw:
        p, i = cw.popleft()
        p.fire(None, i)
    _wake_receivers_closed(s)


def _drop_rx(s: _Shared[Any]) -> None:
    _close_rx(s)
    s.buf.clear()  # nobody can receive them any more: free them now (Tokio does too)


def _deliver(s: _Shared[Any], item: Any) -> bool:
    """Send ``item`` if there is a parked receiver or room (True), else False."""
    rq = s.recvq
    while rq:
        p, i = rq.popleft()
        if p.fire(item, i):
            return True
    if len(s.buf) + s.reserved < s.cap:
        s.buf.append(item)
        return True
    return False


def _check_send(tx: Sender[Any], item: Any) -> None:
    if tx._s.rx_closed:
        raise Closed("send on a channel whose receiver is closed or gone", item)
    if not tx._open:
        raise Closed("send on a closed sender handle: clone() a live one instead", item)


def _take(s: _Shared[Any]) -> Any:
    """Take the next item, ``_CLOSED`` when closed and drained, or `NOT_READY`."""
    buf = s.buf
    if buf:
        item = buf.popleft()
        if s.sendq:
            _refill(s)
        return item
    return _CLOSED if _rx_done(s) else NOT_READY


def _take_many(s: _Shared[Any], limit: int) -> list[Any]:
    buf = s.buf
    n = min(limit, len(buf))
    pop = buf.popleft
    items = [pop() for _ in range(n)]
    if s.sendq:
        _refill(s)
    return items


# -- handles --------------------------------------------------------------------------


@final
class Permit(Generic[T]):
    """A reserved slot of a bounded channel (from `Sender.reserve`).

    ``permit.send(v)`` sends without waiting and cannot fail (if the receiver is gone the
    item is dropped, as in Tokio). An unused permit returns its slot on ``release()`` or
    when garbage-collected.
    """

    __slots__ = ("_s",)

    def __init__(self, s: _Shared[T]) -> None:
        self._s: _Shared[T] | None = s

    def send(self, item: T) -> None:
        """Send ``item`` into the reserved slot.

        Raises:
            RuntimeError: the permit was already used or released.
        """
        s = self._s
        if s is None:
            raise RuntimeError("this Permit was already used or released; reserve() another")
        with s.lock:
            self._s = None
            s.reserved -= 1
            if not s.rx_closed:
                _deliver(s, item)  # the slot it held guarantees room
            _slot_freed(s)

    def release(self) -> None:
        """Give the slot back unused (a second call does nothing)."""
        s = self._s
        if s is None:
            return
        with s.lock:
            if self._s is None:
                return
            self._s = None
            s.reserved -= 1
            _slot_freed(s)

    def __del__(self) -> None:
        s = getattr(self, "_s", None)
        if s is not None:
            self._s = None
            _locked(s, _release_slot)

    def __repr__(self) -> str:
        return f"<gokio.mpsc.Permit {'unused' if self._s is not None else 'spent'}>"


def _release_slot(s: _Shared[Any]) -> None:
    s.reserved -= 1
    _slot_freed(s)


def _slot_freed(s: _Shared[Any]) -> None:
    if s.sendq:
        _refill(s)
    if s.reserved == 0 and s.senders == 0:
        _wake_receivers_closed(s)


# -- ops (lazy awaitables, usable as select cases) --------------------------------------


class _Batch:
    """What `RecvManyOp._try` returns, told apart from a single handed-off item."""

    __slots__ = ("items",)

    def __init__(self, items: list[Any]) -> None:
        self.items = items


@final
class SendOp(Op[None], Generic[T]):
    """``tx.send(item)``: see `Sender.send`."""

    __slots__ = ("_item", "_tx")
    kind = "send"

    def __init__(self, tx: Sender[T], item: T) -> None:
        self._tx = tx  # keeps the handle (so the channel) open while the op lives
        self._item = item

    def _lock(self) -> threading.Lock:
        return self._tx._s.lock

    def _obj(self) -> object:
        return self._tx._s

    def _try(self) -> Any:
        _check_send(self._tx, self._item)
        return None if _deliver(self._tx._s, self._item) else NOT_READY

    def _park(self, parker: Parker, index: int) -> None:
        self._tx._s.sendq.append((parker, index, self._item))

    def _unpark(self, parker: Parker) -> None:
        _remove(self._tx._s.sendq, parker)

    def _finish(self, raw: Any) -> None:
        if raw is _CLOSED:
            raise Closed("the receiver closed while the send waited", self._item)


class _RxOp(Op[R], Generic[T, R]):
    # The op holds the channel state, not the `Receiver`: the receiver caches its ops,
    # and a reference back to it would make a cycle that delays its finalizer (which
    # closes the channel) until a cyclic garbage collection.
    __slots__ = ("_s",)
    kind = "recv"

    def __init__(self, s: _Shared[T]) -> None:
        self._s = s

    def _lock(self) -> threading.Lock:
        return self._s.lock

    def _obj(self) -> object:
        return self._s

    def _try(self) -> Any:
        return _take(self._s)

    def _park(self, parker: Parker, index: int) -> None:
        self._s.recvq.append((parker, index))

    def _unpark(self, parker: Parker) -> None:
        _remove(self._s.recvq, parker)

    def _finish(self, raw: Any) -> R:
        raise TypeError("subclasses define _finish")


@final
class RecvOp(_RxOp[T, T]):
    """``rx.recv()``: see `Receiver.recv`."""

    __slots__ = ()

    def _finish(self, raw: Any) -> T:
        if raw is _CLOSED:
            raise Closed("channel closed and drained")
        return raw  # type: ignore[no-any-return]


@final
class RecvManyOp(_RxOp[T, "list[T]"]):
    """``rx.recv_many(limit)``: see `Receiver.recv_many`."""

    __slots__ = ("_limit",)

    def __init__(self, s: _Shared[T], limit: int) -> None:
        self._s = s
        self._limit = limit

    def _try(self) -> Any:
        s = self._s
        if s.buf:
            return _Batch(_take_many(s, self._limit))
        return _CLOSED if _rx_done(s) else NOT_READY

    def _finish(self, raw: Any) -> list[T]:
        if raw is _CLOSED:
            raise Closed("channel closed and drained")
        if type(raw) is _Batch:
            return raw.items
        # One item was handed to us while parked; take what else is queued now (no
        # await between taking and returning, so a cancellation cannot lose them).
        items = [raw]
        s = self._s
        if self._limit > 1 and s.buf:
            with s.lock:
                items.extend(_take_many(s, self._limit - 1))
        return items


@final
class ReserveOp(Op["Permit[T]"], Generic[T]):
    """``tx.reserve()``: see `Sender.reserve`."""

    __slots__ = ("_tx",)
    kind = "reserve"

    def __init__(self, tx: Sender[T]) -> None:
        self._tx = tx

    def _lock(self) -> threading.Lock:
        return self._tx._s.lock

    def _obj(self) -> object:
        return self._tx._s

    def _try(self) -> Any:
        tx = self._tx
        _check_send(tx, None)
        s = tx._s
        if len(s.buf) + s.reserved < s.cap:
            s.reserved += 1
            return Permit(s)
        return NOT_READY

    def _park(self, parker: Parker, index: int) -> None:
        self._tx._s.sendq.append((parker, index, _RESERVE))

    def _unpark(self, parker: Parker) -> None:
        _remove(self._tx._s.sendq, parker)

    def _finish(self, raw: Any) -> Permit[T]:
        if raw is _CLOSED:
            raise Closed("the receiver closed while reserve() waited")
        return raw  # type: ignore[no-any-return]


@final
class ClosedOp(Op[None], Generic[T]):
    """``tx.closed()``: see `Sender.closed`."""

    __slots__ = ("_tx",)
    kind = "closed"

    def __init__(self, tx: Sender[T]) -> None:
        self._tx = tx

    def _lock(self) -> threading.Lock:
        return self._tx._s.lock

    def _obj(self) -> object:
        return self._tx._s

    def _try(self) -> Any:
        return None if self._tx._s.rx_closed else NOT_READY

    def _park(self, parker: Parker, index: int) -> None:
        self._tx._s.closed_waiters.append((parker, index))

    def _unpark(self, parker: Parker) -> None:
        _remove(self._tx._s.closed_waiters, parker)
