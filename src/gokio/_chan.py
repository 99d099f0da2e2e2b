"""Go channels: `chan(capacity=0) -> Chan[T]` (MPMC, buffered or rendezvous) and `after`.

State, all guarded by the channel's ``threading.Lock``:

* ``_buf``: buffered items (at most ``cap``; always empty for a rendezvous channel);
* ``_recvq``: parked receivers, entries ``(parker, case_index)``;
* ``_sendq``: parked senders, entries ``(parker, case_index, item)`` (the item lives on
  the entry, not the parker, because one select parker may offer different items on
  different channels).

Invariants (they hold whenever the lock is free): if ``_recvq`` is non-empty the buffer
and ``_sendq`` are empty; if ``_sendq`` is non-empty the buffer is full. So an operation
only ever looks at the head of the opposite queue.

Hand-off, as Go's ``sudog``: a party that finds a parked counterparty completes the
operation *for* it, under the lock, and wakes it with ``parker.fire``:

* a sender that finds a parked receiver fires it with the item;
* a receiver that finds a parked sender takes the sender's item (rendezvous) or the
  buffer's head, moving the sender's item into the buffer (full buffer), and fires the
  sender with ``None`` (delivered).

The operation takes effect exactly when ``fire`` succeeds. ``fire`` fails when the parked
party was withdrawn (cancelled) or is a select that another case already won: the entry
is then dropped and the next one is tried, so nothing is delivered to a party that will
not report it. A parked party whose wait is interrupted withdraws under the lock; if the
withdrawal fails it was fired first, the operation happened, and it reports it (and
re-arms the cancellation: ``_park.rearm_cancel``).

``close()`` fires every parked party with ``_CLOSED``: receivers raise `Closed` (or
``recv_ok`` gives ``(None, False)``), senders raise ``Closed(value=item)``. Buffered
items stay receivable.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from typing import Any, Final, Generic, TypeVar, final

from ._errors import Closed, Empty, Full
from ._op import NOT_READY, Op, coroutine_op
from ._park import Parker, _budget, coop_yield, rearm_cancel

__all__ = ["Chan", "after", "chan", "check_capacity"]

T = TypeVar("T")
R = TypeVar("R")

_get_running_loop = asyncio._get_running_loop
_new = object.__new__


class _ClosedMarker:
    __slots__ = ()

    def __repr__(self) -> str:
        return "CLOSED"


#: what a parked party is fired with when the channel closes
_CLOSED: Final[Any] = _ClosedMarker()


def check_capacity(capacity: object, fn: str, minimum: int) -> int:
    """Validate a channel capacity: an ``int`` (not bool) of at least ``minimum``."""
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        raise TypeError(f"{fn}() capacity must be an int, got {type(capacity).__name__}")
    if capacity < minimum:
        hint = " (0 makes a rendezvous channel)" if minimum == 0 else ""
        raise ValueError(f"{fn}() capacity must be >= {minimum}{hint}, got {capacity}")
    return capacity


def _remove(q: deque[Any], p: Parker) -> None:
    """Drop the first entry of ``q`` parked by ``p`` (if a counterparty has not)."""
    for i, entry in enumerate(q):
        if entry[0] is p:
            del q[i]
            return


@final
class Chan(Generic[T]):
    """A Go channel: many senders, many receivers, ``cap`` buffered items.

    Made by `chan`. With capacity 0 it is a rendezvous: a send completes only once a
    receiver has taken the item. Thread-safe and loop-agnostic: tasks on any loop use
    ``await``, plain threads the ``blocking_*`` methods.
    """

    __slots__ = (
        "__weakref__",
        "_buf",
        "_cap",
        "_closed",
        "_lock",
        "_recv_op",
        "_recvq",
        "_sendq",
    )

    def __init__(self, capacity: int = 0) -> None:
        self._cap = check_capacity(capacity, "chan", 0)
        self._lock = threading.Lock()
        self._buf: deque[T] = deque()
        self._recvq: deque[tuple[Parker, int]] = deque()
        self._sendq: deque[tuple[Parker, int, T]] = deque()
        self._closed = False
        # Receive ops carry no state but the channel, so one of each serves every
        # await (and every select): ``await ch.recv()`` allocates nothing.
        self._recv_op = ChanRecv(self)

    @property
    def cap(self) -> int:
        """The capacity (0 for a rendezvous channel)."""
        return self._cap

    def __len__(self) -> int:
        return len(self._buf)

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<gokio.Chan cap={self._cap} len={len(self._buf)}{state}>"

    # -- ops --------------------------------------------------------------------------

    # The ops are coroutines with the ready path inlined (see ``_op.py``: awaiting a
    # coroutine is far cheaper than awaiting an object); `select` turns them back into
    # the ChanSend / ChanRecv / ChanRecvOk ops below.

    @coroutine_op(lambda a: ChanSend(a["self"], a["item"]))
    async def send(self, item: T) -> None:
        """Send ``item``, waiting for buffer space (or, unbuffered, for a receiver).

        Lazy: nothing happens until awaited; also usable as a `select` case.

        Raises:
            Closed: the channel is (or gets) closed; ``.value`` holds ``item``.

        Cancel safety: a send cancelled while parked delivers nothing; if a receiver
        took the item before the cancellation landed, the send reports success.
        """
        b = _budget
        b[0] -= 1
        if b[0] <= 0:  # check the budget before the send takes effect
            await coop_yield()
        lock = self._lock
        lock.acquire()
        try:
            if self._closed:
                raise Closed("send on closed channel", item)
            rq = self._recvq
            while rq:
                p, i = rq.popleft()
                if p.fire(item, i):
                    return
            if len(self._buf) < self._cap:
                self._buf.append(item)
                return
            p = Parker("send", self)
            self._sendq.append((p, 0, item))
        finally:
            lock.release()
        await wait_queued(p, self._lock, self, "_sendq")
        if p.value is _CLOSED:
            raise Closed("channel closed while the send waited", item)

    @coroutine_op(lambda a: a["self"]._recv_op)
    async def recv(self) -> T:
        """Receive the next item, waiting for one.

        Lazy: nothing happens until awaited; also usable as a `select` case.

        Raises:
            Closed: the channel is closed and drained.

        Cancel safety: a cancelled receive never consumes an item.
        """
        b = _budget
        b[0] -= 1
        if b[0] <= 0:  # check the budget before the receive takes effect
            await coop_yield()
        raw = _recv_or_park(self)
        if type(raw) is Parker:
            raw = await wait_queued(raw, self._lock, self, "_recvq")
        if raw is _CLOSED:
            raise Closed("channel closed and drained")
        return raw  # type: ignore[no-any-return]

    @coroutine_op(lambda a: ChanRecvOk(a["self"]))
    async def recv_ok(self) -> tuple[T | None, bool]:
        """Receive as Go's ``v, ok := <-ch``: ``(item, True)``, or ``(None, False)`` once
        the channel is closed and drained.

        Cancel safety: a cancelled receive never consumes an item.
        """
        try:
            return await self.recv(), True
        except Closed:
            return None, False

    def close(self) -> None:
        """Close the channel: no more sends; buffered items stay receivable.

        Every parked receiver (the buffer is then empty) raises `Closed` and every parked
        sender raises ``Closed`` with its item on ``.value``.

        Raises:
            Closed: the channel was already closed (Go panics on a second close).
        """
        with self._lock:
            if self._closed:
                raise Closed("close of closed channel: close a channel exactly once")
            self._closed = True
            rq, sq = self._recvq, self._sendq
            self._recvq = deque()
            self._sendq = deque()
            # Fired under the lock: a parked party withdraws under this lock, so it can
            # never see itself both withdrawn and removed while we still fire it.
            for p, i in rq:
                p.fire(_CLOSED, i)
            for p, i, _ in sq:
                p.fire(_CLOSED, i)

    def try_send(self, item: T) -> None:
        """Send without waiting.

        Raises:
            Full: no buffer space and no waiting receiver; ``.value`` holds ``item``.
            Closed: the channel is closed; ``.value`` holds ``item``.
        """
        with self._lock:
            if _send_now(self, item):
                return
        raise Full("channel full: no buffer space and no receiver waiting", item)

    def try_recv(self) -> T:
        """Receive without waiting.

        Raises:
            Empty: nothing to receive and the channel is open.
            Closed: the channel is closed and drained.
        """
        with self._lock:
            raw = _recv_now(self)
        if raw is NOT_READY:
            raise Empty("channel empty: no buffered item and no sender waiting")
        if raw is _CLOSED:
            raise Closed("channel closed and drained")
        return raw  # type: ignore[no-any-return]

    def blocking_send(self, item: T) -> None:
        """`send` for plain threads: parks the thread.

        Raises:
            Closed: the channel is (or gets) closed; ``.value`` holds ``item``.
            RuntimeError: called on a thread that runs an event loop.
        """
        ChanSend(self, item).blocking("blocking_send", "await ch.send(item)")

    def blocking_recv(self) -> T:
        """`recv` for plain threads: parks the thread.

        Raises:
            Closed: the channel is closed and drained.
            RuntimeError: called on a thread that runs an event loop.
        """
        return self._recv_op.blocking("blocking_recv", "await ch.recv()")

    def __aiter__(self) -> Chan[T]:
        return self

    async def __anext__(self) -> T:
        # `recv`, with StopAsyncIteration at the end (one coroutine less than awaiting it).
        b = _budget
        b[0] -= 1
        if b[0] <= 0:
            await coop_yield()
        raw = _recv_or_park(self)
        if type(raw) is Parker:
            raw = await wait_queued(raw, self._lock, self, "_recvq")
        if raw is _CLOSED:
            raise StopAsyncIteration
        return raw  # type: ignore[no-any-return]


def chan(capacity: int = 0) -> Chan[T]:
    """Make a Go channel (``make(chan T, capacity)``).

    Args:
        capacity: how many items it buffers; 0 (the default) makes a rendezvous channel.

    Raises:
        TypeError: ``capacity`` is not an int (or is a bool).
        ValueError: ``capacity`` is negative.
    """
    return Chan(capacity)


# -- the two halves of every op, called with the channel lock held ---------------------


def _send_now(ch: Chan[Any], item: Any) -> bool:
    """Complete a send now if possible (True). Raises `Closed` on a closed channel."""
    if ch._closed:
        raise Closed("send on closed channel", item)
    rq = ch._recvq
    while rq:
        p, i = rq.popleft()
        if p.fire(item, i):
            return True
    if len(ch._buf) < ch._cap:
        ch._buf.append(item)
        return True
    return False


def _recv_now(ch: Chan[Any]) -> Any:
    """Take an item now (or ``_CLOSED`` when closed and drained), else `NOT_READY`."""
    buf = ch._buf
    sq = ch._sendq
    if buf:
        item = buf.popleft()
        # A slot freed: the longest-parked sender's item moves into the buffer.
        while sq:
            p, i, sent = sq.popleft()
            if p.fire(None, i):
                buf.append(sent)
                break
        return item
    while sq:  # rendezvous: take straight from a parked sender
        p, i, sent = sq.popleft()
        if p.fire(None, i):
            return sent
    if ch._closed:
        return _CLOSED
    return NOT_READY


def _recv_or_park(ch: Chan[Any]) -> Any:
    """Receive now: an item, ``_CLOSED`` (closed and drained), or, when it must wait, the
    `Parker` it is now queued on (the caller awaits it with `wait_queued`)."""
    lock = ch._lock
    lock.acquire()
    buf = ch._buf
    if buf and not ch._sendq:  # the common buffered case
        item = buf.popleft()
        lock.release()
        return item
    try:
        raw = _recv_now(ch)
        if raw is NOT_READY:
            raw = Parker("recv", ch)
            ch._recvq.append((raw, 0))
    finally:
        lock.release()
    return raw


async def wait_queued(p: Parker, lock: threading.Lock, holder: object, queue: str) -> Any:
    """Wait until ``p`` fires; the raw value it was fired with.

    ``p`` is queued in ``getattr(holder, queue)`` (read under ``lock`` when needed:
    ``close()`` swaps the queues). Interrupted (cancelled): withdraw and unqueue under the
    lock, or, if a counterparty fired it first, the op took effect: return its value and
    re-arm the cancellation. Shared by `Chan` and mpsc.
    """
    try:
        await p.wait()
    except BaseException:
        with lock:
            if p.withdraw():
                _remove(getattr(holder, queue), p)
                raise
        rearm_cancel()
    return p.value


# -- op classes -------------------------------------------------------------------------


@final
class ChanSend(Op[None], Generic[T]):
    """``ch.send(item)``: see `Chan.send`."""

    __slots__ = ("_ch", "_item")
    kind = "send"

    def __init__(self, ch: Chan[T], item: T) -> None:
        self._ch = ch
        self._item = item

    def _lock(self) -> threading.Lock:
        return self._ch._lock

    def _obj(self) -> object:
        return self._ch

    def _try(self) -> Any:
        return None if _send_now(self._ch, self._item) else NOT_READY

    def _park(self, parker: Parker, index: int) -> None:
        self._ch._sendq.append((parker, index, self._item))

    def _unpark(self, parker: Parker) -> None:
        _remove(self._ch._sendq, parker)

    def _finish(self, raw: Any) -> None:
        if raw is _CLOSED:
            raise Closed("channel closed while the send waited", self._item)


class _RecvBase(Op[R], Generic[T, R]):
    __slots__ = ("_ch",)
    kind = "recv"

    def __init__(self, ch: Chan[T]) -> None:
        self._ch = ch

    def _lock(self) -> threading.Lock:
        return self._ch._lock

    def _obj(self) -> object:
        return self._ch

    def _try(self) -> Any:
        return _recv_now(self._ch)

    def _park(self, parker: Parker, index: int) -> None:
        self._ch._recvq.append((parker, index))

    def _unpark(self, parker: Parker) -> None:
        _remove(self._ch._recvq, parker)

    def _finish(self, raw: Any) -> R:
        raise TypeError("subclasses define _finish")


@final
class ChanRecv(_RecvBase[T, T]):
    """``ch.recv()``: see `Chan.recv`."""

    __slots__ = ()

    def _finish(self, raw: Any) -> T:
        if raw is _CLOSED:
            raise Closed("channel closed and drained")
        return raw  # type: ignore[no-any-return]


@final
class ChanRecvOk(_RecvBase[T, "tuple[T | None, bool]"]):
    """``ch.recv_ok()``: see `Chan.recv_ok`."""

    __slots__ = ()

    def _finish(self, raw: Any) -> tuple[T | None, bool]:
        if raw is _CLOSED:
            return None, False
        return raw, True


# -- after ------------------------------------------------------------------------------


def after(seconds: float) -> Chan[float]:
    """A channel that receives the monotonic time once, ``seconds`` from now.

    Go's ``time.After``. On a running loop the time is the loop's clock (``loop.time()``),
    so it follows virtual clocks in tests; from a plain thread it is ``time.monotonic()``.

    Raises:
        TypeError, ValueError: ``seconds`` is not a non-negative number.
    """
    from ._time import check_seconds

    s = check_seconds(seconds)
    ch: Chan[float] = Chan(1)
    loop = _get_running_loop()
    if loop is not None:
        lp = loop
        loop.call_later(s, lambda: ch.try_send(lp.time()))
    else:
        timer = threading.Timer(s, lambda: ch.try_send(time.monotonic()))
        timer.daemon = True
        timer.start()
    return ch
