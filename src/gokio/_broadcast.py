"""Tokio's broadcast channel: every receiver sees every message, senders never block.

Storage is one ring of ``capacity`` slots shared by all receivers: message number ``s``
(counted from the channel's creation) lives in slot ``s % capacity`` and is stored once,
however many receivers there are. Each receiver is a cursor ``pos`` into that sequence;
``tail`` is the number of messages sent so far, so a receiver has ``tail - pos`` unread
messages, of which only the newest ``capacity`` are still retained. A receiver whose
cursor fell behind ``tail - capacity`` lost the difference: its next receive raises
``Lagged(skipped)`` and moves the cursor to the oldest retained message (Tokio exactly).

Each slot also counts the receivers that still have to read it (``rems``); the last
reader (or a receiver being dropped, for its unread slots) clears the slot, so neither
a fully read message nor a garbage-collected receiver keeps anything alive.

A receiver with nothing to read parks a `Parker`; ``send`` hands the new message to each
parked receiver directly (``parker.fire``) and advances that receiver's cursor past it,
all under the channel lock, so a fired receive has taken effect: a cancellation landing
afterwards still returns the message. The slot's count then only covers the receivers
that did not take it that way. A parker that cannot be fired (withdrawn by its owner, or
its select already won elsewhere) is dropped from the queue and its receiver simply
reads the message from the ring later.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any, Final, Generic, TypeVar, final

from ._errors import Closed, Empty, Lagged
from ._oneshot import run_finalizer
from ._op import NOT_READY, Op, coroutine_op
from ._park import Parker, _budget, coop_yield, rearm_cancel

__all__ = ["BroadcastReceiver", "BroadcastSender", "channel"]

T = TypeVar("T")


@final
class _Signal:
    """A non-value outcome of a receive: lagged (``skipped > 0``) or closed (``0``)."""

    __slots__ = ("skipped",)

    def __init__(self, skipped: int) -> None:
        self.skipped = skipped

    def raise_(self) -> Any:
        if self.skipped:
            raise Lagged(self.skipped)
        raise Closed("broadcast channel closed: every sender is gone and all was received")


_CLOSED: Final = _Signal(0)


@final
class _Shared:
    __slots__ = ("cap", "closed", "lock", "nrx", "ntx", "rems", "tail", "vals", "waiters")

    def __init__(self, capacity: int) -> None:
        self.lock = threading.Lock()
        self.cap = capacity
        self.vals: list[Any] = [None] * capacity
        #: per slot: how many receivers still have to read the message it holds
        self.rems: list[int] = [0] * capacity
        self.tail = 0
        self.nrx = 1
        self.ntx = 1
        self.closed = False
        #: parked receives: (parker, select index, receiver)
        self.waiters: list[tuple[Parker, int, BroadcastReceiver[Any]]] = []

    def __repr__(self) -> str:
        return f"<gokio.broadcast channel capacity={self.cap} at {id(self):#x}>"

    # The methods below run with `lock` held.

    def read(self, rx: BroadcastReceiver[Any]) -> Any:
        pos = rx._pos
        tail = self.tail
        if pos < tail:
            cap = self.cap
            if pos < tail - cap:
                rx._pos = tail - cap
                return _Signal(tail - cap - pos)
            rx._pos = pos + 1
            i = pos % cap
            value = self.vals[i]
            r = self.rems[i] - 1
            self.rems[i] = r
            if not r:
                self.vals[i] = None
            return value
        if self.closed:
            return _CLOSED
        return NOT_READY

    def release_tx(self) -> None:
        self.ntx -= 1
        if self.ntx == 0:
            self.closed = True
            waiters, self.waiters = self.waiters, []
            for p, idx, _ in waiters:
                p.fire(_CLOSED, idx)

    def drop_rx(self, pos: int) -> None:
        self.nrx -= 1
        # Give up this receiver's share of every retained message it had not read.
        vals = self.vals
        rems = self.rems
        cap = self.cap
        for s in range(max(pos, self.tail - cap), self.tail):
            i = s % cap
            rems[i] -= 1
            if not rems[i]:
                vals[i] = None

    def unpark(self, parker: Parker) -> None:
        waiters = self.waiters
        for k, entry in enumerate(waiters):
            if entry[0] is parker:
                del waiters[k]
                return


def _take_ready(rx: BroadcastReceiver[Any]) -> Any:
    """The next retained unread message of ``rx``, or `NOT_READY` (the hot path)."""
    core = rx._core
    lock = core.lock
    lock.acquire()  # acquire/release rather than `with`: measurably cheaper here
    pos = rx._pos
    tail = core.tail
    cap = core.cap
    if tail - cap <= pos < tail:
        rx._pos = pos + 1
        i = pos % cap
        value = core.vals[i]
        r = core.rems[i] - 1
        core.rems[i] = r
        if not r:
            core.vals[i] = None
        lock.release()
        return value
    lock.release()
    return NOT_READY


async def _recv_slow(rx: BroadcastReceiver[Any]) -> Any:
    """The rest of a receive, once the fast path found no retained unread message: the
    raw result (a message or a `_Signal`), parking until a send hands one over."""
    core = rx._core
    lock = core.lock
    with lock:
        raw = core.read(rx)
        if raw is NOT_READY:
            p = Parker("recv", core)
            core.waiters.append((p, 0, rx))
    if raw is not NOT_READY:
        return raw
    try:
        await p.wait()
    except BaseException:
        with lock:
            if p.withdraw():
                core.unpark(p)
                raise
        rearm_cancel()  # the message was handed over first: report it
    return p.value


class _Recv(Op[T]):
    __slots__ = ("_rx",)
    kind = "recv"

    def __init__(self, rx: BroadcastReceiver[T]) -> None:
        self._rx = rx

    def _lock(self) -> threading.Lock:
        return self._rx._core.lock

    def _obj(self) -> object:
        return self._rx._core

    def _try(self) -> Any:
        return self._rx._core.read(self._rx)

    def _park(self, parker: Parker, index: int) -> None:
        self._rx._core.waiters.append((parker, index, self._rx))

    def _unpark(self, parker: Parker) -> None:
        self._rx._core.unpark(parker)

    def _finish(self, raw: Any) -> T:
        if type(raw) is _Signal:
            return raw.raise_()  # type: ignore[no-any-return]
        return raw  # type: ignore[no-any-return]


@final
class BroadcastSender(Generic[T]):
    """A sending handle of a broadcast channel. ``clone()`` makes more.

    The channel closes when every sender handle is closed (``close()``, leaving
    ``with tx:``) or garbage-collected; receivers then read what is left and get `Closed`.
    """

    __slots__ = ("_closed", "_core")

    def __init__(self, core: _Shared) -> None:
        self._core = core
        self._closed = False

    def send(self, value: T) -> int:
        """Send ``value`` to every current receiver; never blocks.

        A receiver that is ``capacity`` messages behind loses its oldest unread message
        (it will see `Lagged`).

        Returns:
            The number of receivers the message was sent to.

        Raises:
            Closed: there is no receiver, or this sender handle was closed; the message
                is not stored and ``err.value`` holds it.
        """
        core = self._core
        lock = core.lock
        lock.acquire()
        try:
            n = core.nrx
            if n and not self._closed:
                seq = core.tail
                core.tail = seq + 1
                left = n
                waiters = core.waiters
                if waiters:
                    kept = []
                    for entry in waiters:
                        p, idx, rx = entry
                        if rx._pos != seq:
                            # Another receive of this same receiver took this message
                            # a moment ago: this one waits for the next.
                            kept.append(entry)
                        elif p.fire(value, idx):
                            rx._pos = seq + 1
                            left -= 1
                        # else: withdrawn or its select won elsewhere: drop the entry;
                        # the receiver reads this message from the ring instead.
                    core.waiters = kept
                i = seq % core.cap
                core.vals[i] = value if left else None
                core.rems[i] = left
                return n
            closed = self._closed
        finally:
            lock.release()
        if closed:
            raise Closed("this broadcast sender was closed; send with another clone", value)
        raise Closed("broadcast send with no receivers; subscribe() one first", value)

    def subscribe(self) -> BroadcastReceiver[T]:
        """A new receiver that sees the messages sent from now on."""
        return _new_receiver(self._core)

    def receiver_count(self) -> int:
        """How many receivers exist now."""
        with self._core.lock:
            return self._core.nrx

    def clone(self) -> BroadcastSender[T]:
        """Another sender handle of the same channel.

        Raises:
            Closed: this handle was closed (clone an open one).
        """
        core = self._core
        with core.lock:
            if not self._closed:
                core.ntx += 1
                return BroadcastSender(core)
        raise Closed("cannot clone a closed broadcast sender; clone an open one")

    def close(self) -> None:
        """Close this handle (idempotent); the channel closes with its last sender."""
        core = self._core
        with core.lock:
            if not self._closed:
                self._closed = True
                core.release_tx()

    def __enter__(self) -> BroadcastSender[T]:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        core = getattr(self, "_core", None)
        if core is not None and not self._closed:
            self._closed = True
            run_finalizer(core.lock, core.release_tx)

    def __repr__(self) -> str:
        return f"<BroadcastSender of {self._core!r}>"


def _new_receiver(core: _Shared) -> BroadcastReceiver[Any]:
    with core.lock:
        core.nrx += 1
        return BroadcastReceiver(core, core.tail)


@final
class BroadcastReceiver(Generic[T]):
    """A receiving handle of a broadcast channel: its own cursor into the messages.

    ``async for msg in rx`` receives until the channel is closed and drained; it raises
    `Lagged` if the receiver fell behind (catch it and iterate again to resume).
    """

    __slots__ = ("_core", "_pos")

    def __init__(self, core: _Shared, pos: int) -> None:
        self._core = core
        self._pos = pos

    @coroutine_op(lambda a: _Recv(a["self"]))
    async def recv(self) -> T:
        """Receive the next message.

        Lazy: nothing happens until awaited; also usable as a `select` case.

        Raises:
            Lagged: this receiver fell behind and lost ``err.skipped`` messages; the
                next receive returns the oldest message still retained.
            Closed: every sender is gone and this receiver read everything.

        Cancel safety: a cancelled receive consumes nothing; the message stays for the
        next receive (if it was handed over just before the cancellation landed, the
        receive returns it and the cancellation is re-delivered at the next await).
        """
        budget = _budget  # consume_budget(), inlined: this runs once per message
        budget[0] -= 1
        if budget[0] <= 0:
            await coop_yield()
        raw = _take_ready(self)
        if raw is NOT_READY:
            raw = await _recv_slow(self)
        if type(raw) is _Signal:
            return raw.raise_()  # type: ignore[no-any-return]
        return raw  # type: ignore[no-any-return]

    def try_recv(self) -> T:
        """Receive the next message if there is one, without waiting.

        Raises:
            Empty: nothing new yet (the channel is open).
            Lagged: as for `recv`.
            Closed: as for `recv`.
        """
        core = self._core
        with core.lock:
            raw = core.read(self)
        if raw is NOT_READY:
            raise Empty("no new broadcast message; await rx.recv() to wait for one")
        if type(raw) is _Signal:
            return raw.raise_()  # type: ignore[no-any-return]
        return raw  # type: ignore[no-any-return]

    def blocking_recv(self) -> T:
        """Receive from a plain thread, parking it until a message arrives (raises as `recv`)."""
        return _Recv(self).blocking("blocking_recv", "await rx.recv()")

    def resubscribe(self) -> BroadcastReceiver[T]:
        """A new receiver of the same channel that sees the messages sent from now on."""
        return _new_receiver(self._core)

    def __len__(self) -> int:
        """Messages sent that this receiver has not read yet (lost ones included)."""
        with self._core.lock:
            return self._core.tail - self._pos

    def __aiter__(self) -> BroadcastReceiver[T]:
        return self

    async def __anext__(self) -> T:
        # `recv`, with a closed and drained channel ending the loop.
        budget = _budget
        budget[0] -= 1
        if budget[0] <= 0:
            await coop_yield()
        raw = _take_ready(self)
        if raw is NOT_READY:
            raw = await _recv_slow(self)
        if type(raw) is _Signal:
            if raw is _CLOSED:
                raise StopAsyncIteration
            return raw.raise_()  # type: ignore[no-any-return]
        return raw  # type: ignore[no-any-return]

    def __del__(self) -> None:
        core = getattr(self, "_core", None)
        if core is not None:
            pos = self._pos
            run_finalizer(core.lock, lambda: core.drop_rx(pos))

    def __repr__(self) -> str:
        return f"<BroadcastReceiver of {self._core!r}>"


def channel(capacity: int) -> tuple[BroadcastSender[T], BroadcastReceiver[T]]:
    """Create a broadcast channel retaining the last ``capacity`` messages.

    Args:
        capacity: how many messages are kept for slow receivers (>= 1, kept exactly).

    Raises:
        TypeError: ``capacity`` is not an int (or is a bool).
        ValueError: ``capacity`` < 1.
    """
    if type(capacity) is bool or not isinstance(capacity, int):
        raise TypeError(
            f"broadcast.channel() capacity must be an int >= 1, got {type(capacity).__name__}"
        )
    if capacity < 1:
        raise ValueError(
            f"broadcast.channel() capacity must be >= 1, got {capacity}; a broadcast "
            "channel needs room for at least one message"
        )
    core = _Shared(capacity)
    return BroadcastSender(core), BroadcastReceiver(core, 0)
