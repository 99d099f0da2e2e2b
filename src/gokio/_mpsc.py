"""Tokio's mpsc channel: `channel(capacity)`, `unbounded_channel()`, `Sender`, `Receiver`.

The state machine, `Permit` and the ops live in ``_mpsc_core.py`` (its docstring describes
the invariants, the hand-off and how garbage-collected handles close the channel).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, Generic, TypeVar, final

from ._chan import _CLOSED, _remove, check_capacity, wait_queued
from ._errors import Closed, Elapsed, Empty, Full
from ._mpsc_core import (
    _TIMEOUT,
    ClosedOp,
    Permit,
    RecvManyOp,
    RecvOp,
    ReserveOp,
    SendOp,
    _check_send,
    _close_rx,
    _deliver,
    _drop_rx,
    _drop_sender,
    _locked,
    _rx_done,
    _Shared,
    _take,
    _take_many,
)
from ._op import NOT_READY, coroutine_op
from ._park import Parker, _budget, coop_yield, rearm_cancel

__all__ = ["Permit", "Receiver", "Sender", "channel", "unbounded_channel"]

T = TypeVar("T")

_new = object.__new__


@final
class Sender(Generic[T]):
    """The sending half of an mpsc channel; `clone` it for more producers.

    Thread-safe and loop-agnostic. The channel closes for the receiver once every sender
    handle is closed (``close()``, leaving ``with tx:``) or garbage-collected.
    """

    __slots__ = ("__weakref__", "_open", "_s")

    def __init__(self, s: _Shared[T]) -> None:
        self._s = s
        self._open = True

    @coroutine_op(lambda a: SendOp(a["self"], a["item"]))
    async def send(self, item: T) -> None:
        """Send ``item``, waiting for room in a bounded channel.

        Lazy: nothing happens until awaited; also usable as a `select` case.

        Raises:
            Closed: the receiver is closed or gone (or this handle is closed);
                ``.value`` holds ``item``.

        Cancel safety: a send cancelled while waiting for room delivers nothing; if the
        item was queued before the cancellation landed, the send reports success.
        """
        b = _budget
        b[0] -= 1
        if b[0] <= 0:  # before the send takes effect
            await coop_yield()
        s = self._s
        lock = s.lock
        lock.acquire()
        try:
            if s.rx_closed or not self._open:
                _check_send(self, item)
            rq = s.recvq
            while rq:
                p, i = rq.popleft()
                if p.fire(item, i):
                    return
            if len(s.buf) + s.reserved < s.cap:
                s.buf.append(item)
                return
            p = Parker("send", s)
            s.sendq.append((p, 0, item))
        finally:
            lock.release()
        if await wait_queued(p, s.lock, s, "sendq") is _CLOSED:
            raise Closed("the receiver closed while the send waited", item)

    def try_send(self, item: T) -> None:
        """Send without waiting.

        Raises:
            Full: no room; ``.value`` holds ``item``.
            Closed: the receiver is closed or gone; ``.value`` holds ``item``.
        """
        s = self._s
        with s.lock:
            _check_send(self, item)
            if _deliver(s, item):
                return
        raise Full(f"channel full (capacity {s.cap}); await send() to wait for room", item)

    def blocking_send(self, item: T) -> None:
        """`send` for plain threads: parks the thread until there is room.

        Raises:
            Closed: the receiver is closed or gone; ``.value`` holds ``item``.
            RuntimeError: called on a thread that runs an event loop.
        """
        SendOp(self, item).blocking("blocking_send", "await tx.send(item)")

    async def send_timeout(self, item: T, seconds: float) -> None:
        """Send ``item``, waiting at most ``seconds`` for room.

        Raises:
            Elapsed: no room within ``seconds``; the item was not sent.
            Closed: the receiver is closed or gone; ``.value`` holds ``item``.

        Cancel safety: as `send`; on `Elapsed` the item was certainly not sent.
        """
        from ._time import check_seconds

        secs = check_seconds(seconds)
        b = _budget
        b[0] -= 1
        if b[0] <= 0:
            await coop_yield()
        s = self._s
        with s.lock:
            _check_send(self, item)
            if _deliver(s, item):
                return
            p = Parker("send", s)
            s.sendq.append((p, 0, item))
        # The deadline fires the parker itself (under the lock), so it races the
        # receivers through the same claim: either the item went in, or it certainly
        # did not and the timer's fire won. No task cancellation is involved.
        timer = asyncio.get_running_loop().call_later(secs, _expire, s, p)
        try:
            await p.wait()
        except BaseException:
            with s.lock:
                if p.withdraw():
                    _remove(s.sendq, p)
                    raise
            rearm_cancel()
        finally:
            timer.cancel()
        v = p.value
        if v is _TIMEOUT:
            raise Elapsed(f"send_timeout(): no room within {secs} s; the item was not sent")
        if v is _CLOSED:
            raise Closed("the receiver closed while the send waited", item)

    def reserve(self) -> ReserveOp[T]:
        """Wait for room and hold it: returns a `Permit` for one item.

        Raises:
            Closed: the receiver is closed or gone (or this handle is closed).

        Cancel safety: a reserve cancelled while waiting holds no slot; a permit granted
        just before the cancellation landed is returned (its slot is released if dropped).
        """
        return ReserveOp(self)

    def try_reserve(self) -> Permit[T]:
        """Reserve without waiting.

        Raises:
            Full: no room.
            Closed: the receiver is closed or gone.
        """
        s = self._s
        with s.lock:
            raw = ReserveOp(self)._try()
        if raw is NOT_READY:
            raise Full(f"channel full (capacity {s.cap}); await reserve() to wait for room")
        return raw  # type: ignore[no-any-return]

    def clone(self) -> Sender[T]:
        """Another handle on the same channel.

        Raises:
            Closed: this handle is closed.
        """
        s = self._s
        with s.lock:
            if not self._open:
                raise Closed("clone() of a closed sender handle; clone a live one")
            s.senders += 1
        return Sender(s)

    def close(self) -> None:
        """Close this handle (others stay usable). A second call does nothing."""
        s = self._s
        with s.lock:
            if self._open:
                self._open = False
                _drop_sender(s)

    def __enter__(self) -> Sender[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_open", False):
            self._open = False
            _locked(self._s, _drop_sender)

    def is_closed(self) -> bool:
        """True once the receiver is closed or gone (sends would raise `Closed`)."""
        return self._s.rx_closed

    def closed(self) -> ClosedOp[T]:
        """Wait until the receiver is closed or gone.

        Cancel safety: cancelling it has no effect on the channel.
        """
        return ClosedOp(self)

    def capacity(self) -> int:
        """Room left now (``max_capacity() - len - reserved``)."""
        s = self._s
        with s.lock:
            return s.cap - len(s.buf) - s.reserved

    def max_capacity(self) -> int:
        """The capacity the channel was made with (``sys.maxsize`` when unbounded)."""
        return self._s.cap

    def __repr__(self) -> str:
        return f"<gokio.mpsc.Sender {'open' if self._open else 'closed'} of {self._s!r}>"


def _recv_or_park(s: _Shared[Any]) -> Any:
    """Receive now: an item, ``_CLOSED`` (closed and drained), or, when it must wait, the
    `Parker` it is now queued on (the caller awaits it with `wait_queued`)."""
    lock = s.lock
    lock.acquire()
    buf = s.buf
    if buf and not s.sendq:  # the common case
        item = buf.popleft()
        lock.release()
        return item
    try:
        raw = _take(s)
        if raw is NOT_READY:
            raw = Parker("recv", s)
            s.recvq.append((raw, 0))
    finally:
        lock.release()
    return raw


def _expire(s: _Shared[Any], p: Parker) -> None:
    with s.lock:
        if p.fire(_TIMEOUT, 0):
            _remove(s.sendq, p)


@final
class Receiver(Generic[T]):
    """The receiving half of an mpsc channel.

    Closing it (``close()`` or garbage collection) makes later sends raise `Closed`;
    after ``close()`` the items already queued can still be received.
    """

    __slots__ = ("__weakref__", "_recv_op", "_s")

    def __init__(self, s: _Shared[T]) -> None:
        self._s = s
        # Stateless receive ops, made once: ``await rx.recv()`` allocates nothing.
        self._recv_op = RecvOp(s)

    @coroutine_op(lambda a: a["self"]._recv_op)
    async def recv(self) -> T:
        """Receive the next item, waiting for one.

        Lazy: nothing happens until awaited; also usable as a `select` case.

        Raises:
            Closed: every sender is gone (or the receiver closed) and the queue is drained.

        Cancel safety: a cancelled receive never consumes an item.
        """
        b = _budget
        b[0] -= 1
        if b[0] <= 0:  # before the receive takes effect
            await coop_yield()
        s = self._s
        raw = _recv_or_park(s)
        if type(raw) is Parker:
            raw = await wait_queued(raw, s.lock, s, "recvq")
        if raw is _CLOSED:
            raise Closed("channel closed and drained")
        return raw  # type: ignore[no-any-return]

    def recv_many(self, limit: int) -> Coroutine[Any, Any, list[T]]:
        """Receive 1 to ``limit`` items: waits for the first, then takes what is queued.

        Raises:
            ValueError: ``limit`` < 1. TypeError: ``limit`` is not an int.
            Closed: closed and drained.

        Cancel safety: a cancelled call never consumes an item.
        """
        return self._recv_many(check_capacity(limit, "recv_many", 1))

    @coroutine_op(lambda a: RecvManyOp(a["self"]._s, a["limit"]))
    async def _recv_many(self, limit: int) -> list[T]:
        s = self._s
        b = _budget
        b[0] -= 1
        if b[0] <= 0:  # before anything is taken
            await coop_yield()
        lock = s.lock
        lock.acquire()
        buf = s.buf
        if buf:
            items = _take_many(s, limit)
            lock.release()
            return items
        lock.release()
        # Wait for one item, then take what else is queued (no await in between, so a
        # cancellation cannot lose them).
        raw = _recv_or_park(s)
        if type(raw) is Parker:
            raw = await wait_queued(raw, s.lock, s, "recvq")
        return RecvManyOp(s, limit)._finish(raw)

    def try_recv(self) -> T:
        """Receive without waiting.

        Raises:
            Empty: nothing queued and the channel is open.
            Closed: closed and drained.
        """
        s = self._s
        with s.lock:
            raw = _take(s)
        if raw is NOT_READY:
            raise Empty("channel empty; await recv() to wait for an item")
        if raw is _CLOSED:
            raise Closed("channel closed and drained")
        return raw  # type: ignore[no-any-return]

    def blocking_recv(self) -> T:
        """`recv` for plain threads: parks the thread.

        Raises:
            Closed: closed and drained.
            RuntimeError: called on a thread that runs an event loop.
        """
        return self._recv_op.blocking("blocking_recv", "await rx.recv()")

    def close(self) -> None:
        """Refuse new sends (they raise `Closed`); queued items stay receivable."""
        s = self._s
        with s.lock:
            _close_rx(s)

    def __del__(self) -> None:
        s = getattr(self, "_s", None)
        if s is not None:
            _locked(s, _drop_rx)

    def is_closed(self) -> bool:
        """True once closed: by ``close()`` or because every sender (and permit) is gone."""
        s = self._s
        with s.lock:
            return _rx_done(s)

    def is_empty(self) -> bool:
        """True if nothing is queued."""
        return not self._s.buf

    def len(self) -> int:
        """The number of queued items (Tokio's ``len()``; ``len(rx)`` works too)."""
        return len(self._s.buf)

    def __len__(self) -> int:
        return len(self._s.buf)

    def __aiter__(self) -> Receiver[T]:
        return self

    async def __anext__(self) -> T:
        b = _budget
        b[0] -= 1
        if b[0] <= 0:  # before the receive takes effect
            await coop_yield()
        s = self._s
        raw = _recv_or_park(s)
        if type(raw) is Parker:
            raw = await wait_queued(raw, s.lock, s, "recvq")
        if raw is _CLOSED:
            raise StopAsyncIteration
        return raw  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"<gokio.mpsc.Receiver of {self._s!r}>"


def channel(capacity: int) -> tuple[Sender[T], Receiver[T]]:
    """A bounded mpsc channel holding at most ``capacity`` items (Tokio's ``channel``).

    Raises:
        TypeError: ``capacity`` is not an int (or is a bool).
        ValueError: ``capacity`` < 1 (use a Go ``chan(0)`` for a rendezvous).
    """
    s: _Shared[T] = _Shared(check_capacity(capacity, "mpsc.channel", 1))
    return Sender(s), Receiver(s)


def unbounded_channel() -> tuple[Sender[T], Receiver[T]]:
    """An mpsc channel without a bound: sends never wait."""
    s: _Shared[T] = _Shared(sys.maxsize)
    return Sender(s), Receiver(s)
