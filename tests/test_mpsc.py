"""Tokio's mpsc: `gokio.mpsc.channel`, `unbounded_channel`, `Sender`, `Receiver`, `Permit`."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
from collections import deque
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from gokio import Closed, Elapsed, Empty, Full, mpsc
from gokio._park import WAITS
from tests.conftest import Runner

Tx = mpsc.Sender[int]
Rx = mpsc.Receiver[int]


def pair(cap: int | None) -> tuple[Tx, Rx]:
    tx: Tx
    rx: Rx
    tx, rx = mpsc.unbounded_channel() if cap is None else mpsc.channel(cap)
    return tx, rx


async def settle(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def _send(tx: Tx, v: int) -> None:
    await tx.send(v)


async def _recv(rx: Rx) -> int:
    return await rx.recv()


# -- bounded / unbounded ----------------------------------------------------------------


def test_bounded_send_waits_for_room(run: Runner) -> None:
    async def main() -> None:
        tx, rx = pair(2)
        await tx.send(1)
        await tx.send(2)
        assert (tx.capacity(), tx.max_capacity()) == (0, 2)
        t = asyncio.create_task(_send(tx, 3))
        await settle()
        assert not t.done()
        assert await rx.recv() == 1
        await t
        assert [await rx.recv(), await rx.recv()] == [2, 3]

    run(main())


def test_unbounded_send_never_waits(run: Runner) -> None:
    async def main() -> None:
        tx, rx = pair(None)
        for i in range(1000):
            await tx.send(i)
        assert len(rx) == 1000
        assert tx.max_capacity() == sys.maxsize
        assert await rx.recv_many(2000) == list(range(1000))

    run(main())


@pytest.mark.parametrize("bad", [0, -1])
def test_capacity_below_one_is_a_value_error(bad: int) -> None:
    with pytest.raises(ValueError, match="capacity must be >= 1"):
        mpsc.channel(bad)


@pytest.mark.parametrize("bad", [1.0, "2", True, None])
def test_non_int_capacity_is_a_type_error(bad: Any) -> None:
    with pytest.raises(TypeError, match="capacity must be an int"):
        mpsc.channel(bad)


def test_try_send_on_a_full_channel_raises_full_with_the_item() -> None:
    tx, rx = pair(1)
    tx.try_send(1)
    with pytest.raises(Full) as e:
        tx.try_send(2)
    assert e.value.value == 2
    assert rx.try_recv() == 1
    with pytest.raises(Empty):
        rx.try_recv()


# -- closing ----------------------------------------------------------------------------


def test_closing_every_sender_closes_the_channel_after_draining(run: Runner) -> None:
    async def main() -> None:
        tx, rx = pair(4)
        tx2 = tx.clone()
        await tx.send(1)
        tx.close()
        await tx2.send(2)
        with tx2:
            pass
        assert rx.is_closed()
        assert [v async for v in rx] == [1, 2]
        with pytest.raises(Closed):
            await rx.recv()

    run(main())


def test_dropping_the_last_sender_wakes_a_parked_receiver(run: Runner) -> None:
    async def main() -> None:
        tx, rx = pair(4)
        t = asyncio.create_task(_recv(rx))
        await settle()
        del tx
        gc.collect()
        with pytest.raises(Closed):
            await t

    run(main())


def test_send_on_a_closed_handle_raises_closed_with_the_item(run: Runner) -> None:
    async def main() -> None:
        tx, _rx = pair(4)
        keep = tx.clone()
        tx.close()
        tx.close()  # a second close does nothing
        with pytest.raises(Closed, match="closed sender handle") as e:
            await tx.send(5)
        assert e.value.value == 5
        with pytest.raises(Closed):
            tx.clone()
        keep.close()

    run(main())


def test_receiver_close_refuses_sends_but_keeps_queued_items(run: Runner) -> None:
    async def main() -> None:
        tx, rx = pair(1)
        await tx.send(1)
        parked = asyncio.create_task(_send(tx, 2))
        await settle()
        rx.close()
        with pytest.raises(Closed) as e:
            await parked
        assert e.value.value == 2
        with pytest.raises(Closed) as e2:
            tx.try_send(3)
        assert e2.value.value == 3
        assert tx.is_closed()
        assert await rx.recv() == 1
        with pytest.raises(Closed):
            await rx.recv()

    run(main())


def test_dropping_the_receiver_ends_closed_and_fails_sends(run: Runner) -> None:
    async def main() -> None:
        tx, rx = pair(1)
        waiter = asyncio.create_task(_closed(tx))
        await settle()
        assert not waiter.done()
        del rx
        gc.collect()
        await waiter
        with pytest.raises(Closed):
            await tx.send(1)

    async def _closed(tx: Tx) -> None:
        await tx.closed()

    run(main())


# -- permits ----------------------------------------------------------------------------


def test_permit_holds_a_slot_until_used(run: Runner) -> None:
    async def main() -> None:
        tx, rx = pair(1)
        permit = await tx.reserve()
        assert tx.capacity() == 0
        with pytest.raises(Full):
            tx.try_send(1)
        permit.send(7)
        assert await rx.recv() == 7
        assert tx.capacity() == 1
        with pytest.raises(RuntimeError, match="already used"):
            permit.send(8)

    run(main())


def test_released_or_collected_permit_returns_its_slot(run: Runner) -> None:
    async def main() -> None:
        tx, _rx = pair(1)
        p = tx.try_reserve()
        with pytest.raises(Full):
            tx.try_reserve()
        p.release()
        p.release()
        assert tx.capacity() == 1
        p = await tx.reserve()
        parked = asyncio.create_task(_send(tx, 3))
        await settle()
        del p
        gc.collect()
        await parked  # the freed slot went to the parked sender
        assert tx.capacity() == 0

    run(main())


def test_an_outstanding_permit_keeps_the_channel_open(run: Runner) -> None:
    async def main() -> None:
        tx, rx = pair(2)
        p = tx.try_reserve()
        tx.close()
        assert not rx.is_closed()
        p.send(1)
        assert await rx.recv() == 1
        with pytest.raises(Closed):
            await rx.recv()

    run(main())


def test_cancelled_reserve_holds_no_slot(run: Runner) -> None:
    async def main() -> None:
        tx, rx = pair(1)
        tx.try_send(0)
        t = asyncio.create_task(_reserve(tx))
        await settle()
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        assert rx.try_recv() == 0
        assert tx.capacity() == 1

    async def _reserve(tx: Tx) -> None:
        await tx.reserve()

    run(main())


# -- recv_many, send_timeout ------------------------------------------------------------


def test_recv_many_takes_up_to_limit(run: Runner) -> None:
    async def main() -> None:
        tx, rx = pair(10)
        for i in range(5):
            tx.try_send(i)
        assert await rx.recv_many(3) == [0, 1, 2]
        assert await rx.recv_many(10) == [3, 4]

    run(main())


def test_recv_many_waits_for_the_first_item(run: Runner) -> None:
    async def main() -> None:
        tx, rx = pair(10)

        async def many() -> list[int]:
            return await rx.recv_many(8)

        t = asyncio.create_task(many())
        await settle()
        tx.try_send(1)
        tx.try_send(2)
        assert await t == [1, 2]
        tx.close()
        with pytest.raises(Closed):
            await rx.recv_many(8)

    run(main())


@pytest.mark.parametrize("bad", [0, -3])
def test_recv_many_limit_below_one_is_a_value_error(bad: int) -> None:
    _tx, rx = pair(1)
    with pytest.raises(ValueError, match="recv_many"):
        _ = rx.recv_many(bad)  # raises at once, before any coroutine exists


def test_send_timeout_elapses_without_sending(vrun: Runner) -> None:
    async def main() -> None:
        tx, rx = pair(1)
        tx.try_send(1)
        with pytest.raises(Elapsed):
            await tx.send_timeout(2, 5.0)
        assert rx.try_recv() == 1
        with pytest.raises(Empty):
            rx.try_recv()  # the 2 was not sent

    vrun(main())


def test_send_timeout_sends_when_room_appears_in_time(vrun: Runner) -> None:
    async def main() -> None:
        tx, rx = pair(1)
        tx.try_send(1)

        async def drain() -> None:
            await asyncio.sleep(1)
            await rx.recv()

        d = asyncio.create_task(drain())
        await tx.send_timeout(2, 5.0)
        await d
        assert rx.try_recv() == 2

    vrun(main())


# -- threads ----------------------------------------------------------------------------


def test_plain_thread_blocking_send_to_a_task(run: Runner) -> None:
    async def main() -> None:
        tx, rx = pair(8)

        def producer() -> None:
            with tx:
                for i in range(500):
                    tx.blocking_send(i)

        th = threading.Thread(target=producer)
        th.start()
        assert [v async for v in rx] == list(range(500))
        th.join()

    run(main())


def test_blocking_recv_in_a_plain_thread() -> None:
    tx, rx = pair(2)
    got: list[int] = []
    th = threading.Thread(target=lambda: got.extend(rx.blocking_recv() for _ in range(3)))
    th.start()

    async def main() -> None:
        for i in range(3):
            await tx.send(i)

    asyncio.run(main())
    th.join()
    assert got == [0, 1, 2]


def test_blocking_on_the_loop_thread_raises(run: Runner) -> None:
    async def main() -> None:
        tx, rx = pair(1)
        with pytest.raises(RuntimeError, match="event loop"):
            tx.blocking_send(1)
        with pytest.raises(RuntimeError, match="event loop"):
            rx.blocking_recv()

    run(main())


# -- cancel safety, waits ---------------------------------------------------------------


def test_cancelled_recv_never_consumes(run: Runner) -> None:
    async def main() -> None:
        tx, rx = pair(1)
        t = asyncio.create_task(_recv(rx))
        await settle()
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        tx.try_send(1)
        assert rx.try_recv() == 1

    run(main())


def test_cancelled_parked_send_delivers_nothing(run: Runner) -> None:
    async def main() -> None:
        tx, rx = pair(1)
        tx.try_send(0)
        t = asyncio.create_task(_send(tx, 1))
        await settle()
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        assert rx.try_recv() == 0
        with pytest.raises(Empty):
            rx.try_recv()

    run(main())


def test_parked_ops_are_visible_in_waits(run: Runner) -> None:
    async def main() -> None:
        tx, rx = pair(1)
        r = asyncio.create_task(_recv(rx))
        await settle()
        assert WAITS[r].kind == "recv"
        assert "mpsc channel cap=1" in repr(WAITS[r].obj)
        tx.try_send(1)
        await r

    run(main())


# -- model-based ------------------------------------------------------------------------

BIG = 10**9


class MpscMachine(RuleBasedStateMachine):
    """An mpsc channel against a model: buffer, reserved slots, FIFO parked parties."""

    cap: int | None = 2

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        tx, self.rx = pair(self.cap)
        self.handles: list[Tx] = [tx]
        self.limit = BIG if self.cap is None else self.cap
        self.buf: deque[int] = deque()
        self.reserved = 0
        self.permits: list[mpsc.Permit[int]] = []
        self.senders: deque[tuple[int, asyncio.Task[None]]] = deque()
        self.receivers: deque[asyncio.Task[int]] = deque()
        self.done: list[tuple[asyncio.Task[Any], Any]] = []
        self.rx_closed = False
        self.next = 0

    def settle(self) -> None:
        self.loop.run_until_complete(settle(8))

    def teardown(self) -> None:
        self.rx.close()
        self.settle()
        tasks = [t for t, _ in self.done] + [t for _, t in self.senders] + list(self.receivers)
        for t in tasks:
            if t.done() and not t.cancelled():
                t.exception()
        self.loop.close()

    def room(self) -> bool:
        return len(self.buf) + self.reserved < self.limit

    def rx_done(self) -> bool:
        return self.rx_closed or (not self.handles and self.reserved == 0)

    def deliver(self, v: int) -> None:
        if self.receivers:
            self.done.append((self.receivers.popleft(), v))
        else:
            self.buf.append(v)

    def refill(self) -> None:
        while self.senders and self.room():
            v, t = self.senders.popleft()
            self.buf.append(v)
            self.done.append((t, None))
        if self.rx_done():
            self.done.extend((r, Closed) for r in self.receivers)
            self.receivers.clear()

    def value(self) -> int:
        self.next += 1
        return self.next

    @precondition(lambda self: bool(self.handles))
    @rule(k=st.integers(0, 3))
    def send_task(self, k: int) -> None:
        v = self.value()
        t = self.loop.create_task(_send(self.handles[k % len(self.handles)], v))
        if self.rx_closed:
            self.done.append((t, ("closed", v)))
        elif self.receivers or self.room():
            self.deliver(v)
            self.done.append((t, None))
        else:
            self.senders.append((v, t))
        self.settle()

    @precondition(lambda self: bool(self.handles))
    @rule()
    def try_send(self) -> None:
        v = self.value()
        if self.rx_closed:
            with pytest.raises(Closed):
                self.handles[0].try_send(v)
        elif self.receivers or self.room():
            self.handles[0].try_send(v)
            self.deliver(v)
        else:
            with pytest.raises(Full):
                self.handles[0].try_send(v)
        self.settle()

    def model_recv(self) -> Any:
        if self.buf:
            v = self.buf.popleft()
            self.refill()
            return v
        return Closed if self.rx_done() else None

    @rule()
    def recv_task(self) -> None:
        t = self.loop.create_task(_recv(self.rx))
        want = self.model_recv()
        if want is None:
            self.receivers.append(t)
        else:
            self.done.append((t, want))
        self.settle()

    @rule()
    def try_recv(self) -> None:
        want = self.model_recv()
        if want is None:
            with pytest.raises(Empty):
                self.rx.try_recv()
        elif want is Closed:
            with pytest.raises(Closed):
                self.rx.try_recv()
        else:
            assert self.rx.try_recv() == want
        self.settle()

    @precondition(lambda self: bool(self.handles))
    @rule()
    def try_reserve(self) -> None:
        if self.rx_closed:
            with pytest.raises(Closed):
                self.handles[0].try_reserve()
        elif self.room():
            self.permits.append(self.handles[0].try_reserve())
            self.reserved += 1
        else:
            with pytest.raises(Full):
                self.handles[0].try_reserve()

    @precondition(lambda self: bool(self.permits))
    @rule(use=st.booleans())
    def finish_permit(self, use: bool) -> None:
        p = self.permits.pop(0)
        self.reserved -= 1
        if use:
            v = self.value()
            p.send(v)
            if not self.rx_closed:
                self.deliver(v)
        else:
            p.release()
        self.refill()
        self.settle()

    @precondition(lambda self: 0 < len(self.handles) < 3)
    @rule()
    def clone(self) -> None:
        self.handles.append(self.handles[-1].clone())

    # Closing the last handle or the receiver ends most rules: only late in a run.
    @precondition(lambda self: len(self.handles) > 1 or (self.handles and self.next > 12))
    @rule(k=st.integers(0, 3))
    def close_handle(self, k: int) -> None:
        self.handles.pop(k % len(self.handles)).close()
        self.refill()
        self.settle()

    @precondition(lambda self: not self.rx_closed and self.next > 12)
    @rule()
    def close_rx(self) -> None:
        self.rx.close()
        self.rx_closed = True
        self.done.extend((t, ("closed", v)) for v, t in self.senders)
        self.senders.clear()
        self.refill()
        self.settle()

    @precondition(lambda self: bool(self.senders))
    @rule(data=st.data())
    def cancel_sender(self, data: st.DataObject) -> None:
        k = data.draw(st.integers(0, len(self.senders) - 1))
        _, t = self.senders[k]
        del self.senders[k]
        t.cancel()
        self.done.append((t, asyncio.CancelledError))
        self.settle()

    @precondition(lambda self: bool(self.receivers))
    @rule()
    def cancel_receiver(self) -> None:
        t = self.receivers.pop()
        t.cancel()
        self.done.append((t, asyncio.CancelledError))
        self.settle()

    @invariant()
    def matches_model(self) -> None:
        assert len(self.rx) == len(self.buf)
        if self.handles and self.cap is not None:
            assert self.handles[0].capacity() == self.limit - len(self.buf) - self.reserved
        for t, want in self.done:
            assert t.done()
            if want is asyncio.CancelledError:
                assert t.cancelled()
            elif want is Closed:
                assert isinstance(t.exception(), Closed)
            elif isinstance(want, tuple):
                exc = t.exception()
                assert isinstance(exc, Closed)
                assert exc.value == want[1]
            else:
                assert t.result() == want
        self.done.clear()
        assert not any(t.done() for _, t in self.senders)
        assert not any(r.done() for r in self.receivers)


MpscMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
test_bounded_mpsc_matches_model = MpscMachine.TestCase


class UnboundedMachine(MpscMachine):
    cap = None


UnboundedMachine.TestCase.settings = settings(
    max_examples=30, stateful_step_count=30, deadline=None
)
test_unbounded_mpsc_matches_model = UnboundedMachine.TestCase


class TightMachine(MpscMachine):
    cap = 1


TightMachine.TestCase.settings = settings(max_examples=80, stateful_step_count=25, deadline=None)
test_capacity_one_mpsc_matches_model = TightMachine.TestCase
