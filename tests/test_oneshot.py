"""gokio.oneshot: one value, sent once, from one sender to one receiver."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from collections.abc import Awaitable
from typing import Any, TypeVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import gokio
from gokio import Closed, Empty
from gokio._park import WAITS
from gokio.oneshot import OneshotReceiver, OneshotSender
from gokio.oneshot import channel as _channel
from tests.conftest import Runner


def channel() -> tuple[OneshotSender[Any], OneshotReceiver[Any]]:
    """The channel under test, with its item type fixed to Any for the checker."""
    return _channel()


T = TypeVar("T")


async def aw(awaitable: Awaitable[T]) -> T:
    """A coroutine awaiting ``awaitable`` (ops are awaitables, not coroutines)."""
    return await awaitable


async def settle(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


class Obj:
    """A weak-referenceable value."""


def test_public_module_reexports_the_types() -> None:
    tx: gokio.oneshot.OneshotSender[int]
    rx: gokio.oneshot.OneshotReceiver[int]
    tx, rx = gokio.oneshot.channel()
    assert isinstance(tx, gokio.oneshot.OneshotSender)
    assert isinstance(rx, gokio.oneshot.OneshotReceiver)


# --- sync API ---------------------------------------------------------------------------------


def test_try_recv_gets_the_sent_value() -> None:
    tx, rx = channel()
    tx.send(42)
    assert rx.try_recv() == 42


def test_try_recv_before_send_raises_empty() -> None:
    _tx, rx = channel()
    with pytest.raises(Empty, match="no oneshot value yet"):
        rx.try_recv()


def test_second_send_raises_closed_with_its_value() -> None:
    tx, _rx = channel()
    tx.send(1)
    with pytest.raises(Closed, match="already used") as err:
        tx.send(2)
    assert err.value.value == 2


def test_send_after_receiver_closed_raises_closed_with_the_value() -> None:
    tx, rx = channel()
    rx.close()
    with pytest.raises(Closed, match="receiver was closed") as err:
        tx.send("v")
    assert err.value.value == "v"


def test_send_after_receiver_dropped_raises_closed_with_the_value() -> None:
    tx, rx = channel()
    del rx
    assert tx.is_closed()
    with pytest.raises(Closed) as err:
        tx.send("v")
    assert err.value.value == "v"


def test_send_after_sender_closed_raises_closed() -> None:
    tx, _rx = channel()
    tx.close()
    with pytest.raises(Closed, match="sender was closed") as err:
        tx.send(1)
    assert err.value.value == 1


def test_closing_the_sender_without_sending_makes_the_receiver_raise_closed() -> None:
    tx, rx = channel()
    tx.close()
    tx.close()  # idempotent
    with pytest.raises(Closed, match="without sending"):
        rx.try_recv()


def test_with_block_closes_the_sender() -> None:
    tx, rx = channel()
    with tx:
        pass
    with pytest.raises(Closed):
        rx.try_recv()


def test_with_block_after_sending_keeps_the_value() -> None:
    tx, rx = channel()
    with tx:
        tx.send(3)
    assert rx.try_recv() == 3


def test_garbage_collected_unsent_sender_closes_the_channel() -> None:
    tx, rx = channel()
    del tx
    with pytest.raises(Closed):
        rx.try_recv()


def test_sender_in_a_cycle_closes_the_channel_when_collected() -> None:
    tx, rx = channel()
    cycle: list[Any] = [tx]
    cycle.append(cycle)
    del tx, cycle
    gc.collect()
    with pytest.raises(Closed):
        rx.try_recv()


def test_value_sent_before_receiver_close_stays_receivable() -> None:
    tx, rx = channel()
    tx.send(5)
    rx.close()
    assert rx.try_recv() == 5


def test_value_can_be_received_once() -> None:
    tx, rx = channel()
    tx.send(5)
    assert rx.try_recv() == 5
    with pytest.raises(Closed, match="already received"):
        rx.try_recv()


def test_is_closed_tracks_the_receiver() -> None:
    tx, rx = channel()
    assert not tx.is_closed()
    rx.close()
    assert tx.is_closed()


def test_dropping_the_receiver_releases_a_sent_value() -> None:
    tx, rx = channel()
    v = Obj()
    ref = weakref.ref(v)
    tx.send(v)
    del v, rx
    assert ref() is None


# --- async ------------------------------------------------------------------------------------


def test_await_receiver_gets_the_value(run: Runner) -> None:
    async def main() -> int:
        tx, rx = channel()
        task = asyncio.create_task(aw(rx))
        await settle()
        tx.send(7)
        v: int = await task
        return v

    assert run(main()) == 7


def test_await_recv_gets_a_value_sent_earlier(run: Runner) -> None:
    async def main() -> int:
        tx, rx = channel()
        tx.send(8)
        v: int = await rx.recv()
        return v

    assert run(main()) == 8


def test_parked_receiver_raises_closed_when_the_sender_closes(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel()
        task = asyncio.create_task(aw(rx.recv()))
        await settle()
        tx.close()
        with pytest.raises(Closed):
            await task

    run(main())


def test_parked_receiver_raises_closed_when_the_sender_is_dropped(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel()
        task = asyncio.create_task(aw(rx))
        await settle()
        del tx
        with pytest.raises(Closed):
            await task

    run(main())


def test_parked_receiver_raises_closed_when_it_closes_itself(run: Runner) -> None:
    async def main() -> None:
        _tx, rx = channel()
        task = asyncio.create_task(aw(rx))
        await settle()
        rx.close()
        with pytest.raises(Closed, match="receiver was closed"):
            await task

    run(main())


def test_two_concurrent_receives_one_gets_the_value_the_other_closed(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel()
        a = asyncio.create_task(aw(rx))
        b = asyncio.create_task(aw(rx.recv()))
        await settle()
        tx.send(1)
        results = await asyncio.gather(a, b, return_exceptions=True)
        assert results[0] == 1
        assert isinstance(results[1], Closed)

    run(main())


def test_cancelled_recv_consumes_nothing(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel()
        task = asyncio.create_task(aw(rx))
        await settle()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        tx.send(9)
        assert rx.try_recv() == 9

    run(main())


def test_recv_cancelled_after_the_hand_off_still_delivers(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel()
        got: list[int] = []

        async def receiver() -> None:
            got.append(await rx)
            await asyncio.sleep(0)

        task = asyncio.create_task(receiver())
        await settle()
        tx.send(1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert got == [1]

    run(main())


def test_recv_timeout_consumes_nothing(vrun: Runner) -> None:
    async def main() -> None:
        tx, rx = channel()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(5):
                await rx
        tx.send(2)
        assert await rx == 2

    vrun(main())


def test_sender_closed_waits_until_the_receiver_is_gone(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel()
        task = asyncio.create_task(aw(tx.closed()))
        await settle()
        assert not task.done()
        del rx
        await task
        await tx.closed()  # returns at once now

    run(main())


def test_sender_closed_cancelled_has_no_effect(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel()
        task = asyncio.create_task(aw(tx.closed()))
        await settle()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not rx._core.closed_waiters
        tx.send(1)
        assert rx.try_recv() == 1

    run(main())


def test_parked_recv_is_recorded_in_waits(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel()
        task = asyncio.create_task(aw(rx))
        await settle()
        rec = WAITS[task]
        assert rec.kind == "recv"
        assert rec.obj is rx._core
        tx.send(1)
        await task

    run(main())


# --- threads ----------------------------------------------------------------------------------


def test_blocking_recv_on_a_loop_thread_raises_runtime_error(run: Runner) -> None:
    async def main() -> None:
        _tx, rx = channel()
        with pytest.raises(RuntimeError, match="blocking_recv"):
            rx.blocking_recv()

    run(main())


def test_plain_thread_sends_task_receives(run: Runner) -> None:
    async def main() -> str:
        tx, rx = channel()
        th = threading.Timer(0.01, tx.send, args=("hi",))
        th.start()
        v: str = await rx
        th.join()
        return v

    assert run(main()) == "hi"


def test_task_sends_plain_thread_blocking_recv() -> None:
    tx, rx = channel()
    got: list[Any] = []
    th = threading.Thread(target=lambda: got.append(rx.blocking_recv()))
    th.start()

    async def main() -> None:
        await asyncio.sleep(0.01)
        tx.send("x")

    asyncio.run(main())
    th.join(10)
    assert got == ["x"]


def test_blocking_recv_raises_closed_when_sender_closes() -> None:
    tx, rx = channel()
    got: list[Any] = []

    def recv() -> None:
        try:
            rx.blocking_recv()
        except Closed as e:
            got.append(e)

    th = threading.Thread(target=recv)
    th.start()
    threading.Event().wait(0.01)
    tx.close()
    th.join(10)
    assert len(got) == 1


def test_two_loops_in_two_threads_many_channels() -> None:
    n = 300
    pairs = [channel() for _ in range(n)]
    got: list[int] = []

    def receiver_thread() -> None:
        async def main() -> None:
            for _, rx in pairs:
                got.append(await rx)

        asyncio.run(main())

    th = threading.Thread(target=receiver_thread)
    th.start()

    async def produce() -> None:
        for i, (tx, _) in enumerate(pairs):
            tx.send(i)
            if i % 50 == 0:
                await asyncio.sleep(0.001)

    asyncio.run(produce())
    th.join(30)
    assert got == list(range(n))


# --- model-based ------------------------------------------------------------------------------


class OneshotMachine(RuleBasedStateMachine):
    """Every op, parked and cancelled receives included, against a tiny model."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.new_channel()

    @precondition(lambda self: self.tx is None and self.rx is None)
    @rule()
    def new_channel(self) -> None:
        tx, rx = channel()
        self.tx: OneshotSender[int] | None = tx
        self.rx: OneshotReceiver[int] | None = rx
        self.value: int | None = None  # sent, not yet received
        self.sent = False
        self.tx_done = False
        self.rx_closed = False
        self.taken = False
        self.pending: list[Any] | None = None  # [task, got, expected once fired]

    def teardown(self) -> None:
        if self.pending:
            self.pending[0].cancel()
        self.loop.run_until_complete(settle())
        self.loop.close()

    def expect_take(self) -> tuple[Any, ...]:
        if self.value is not None:
            v, self.value = self.value, None
            self.taken = True
            return ("v", v)
        if self.taken or self.rx_closed or self.tx_done:
            return ("closed",)
        return ("empty",)

    def parked(self) -> bool:
        return self.pending is not None and self.pending[2] is None

    @precondition(lambda self: self.tx is not None)
    @rule(v=st.integers(0, 100))
    def send(self, v: int) -> None:
        assert self.tx is not None
        if self.tx_done or self.rx_closed:
            with pytest.raises(Closed) as err:
                self.tx.send(v)
            assert err.value.value == v
            return
        self.tx.send(v)
        self.tx_done = self.sent = True
        if self.parked():
            assert self.pending is not None
            self.pending[2] = ("v", v)
            self.taken = True
        else:
            self.value = v

    @precondition(lambda self: self.tx is not None)
    @rule(drop=st.booleans())
    def close_sender(self, drop: bool) -> None:
        assert self.tx is not None
        if drop:
            self.tx = None
            gc.collect()
        else:
            self.tx.close()
        if not self.tx_done:
            self.tx_done = True
            if self.parked():
                assert self.pending is not None
                self.pending[2] = ("closed",)

    @precondition(lambda self: self.rx is not None)
    @rule()
    def close_receiver(self) -> None:
        assert self.rx is not None
        self.rx.close()
        self.rx_closed = True
        if self.parked():
            assert self.pending is not None
            self.pending[2] = ("closed",)

    @precondition(lambda self: self.rx is not None and self.pending is None)
    @rule()
    def drop_receiver(self) -> None:
        self.rx = None
        gc.collect()
        self.rx_closed = True
        self.value = None

    @precondition(lambda self: self.rx is not None)
    @rule()
    def try_recv(self) -> None:
        assert self.rx is not None
        expected = self.expect_take()
        try:
            got: tuple[Any, ...] = ("v", self.rx.try_recv())
        except Closed:
            got = ("closed",)
        except Empty:
            got = ("empty",)
        assert got == expected

    @precondition(lambda self: self.rx is not None and self.pending is None)
    @rule(form=st.booleans())
    def start_recv(self, form: bool) -> None:
        rx = self.rx
        assert rx is not None
        got: list[Any] = []

        async def recv() -> None:
            try:
                got.append(("v", await (rx if form else rx.recv())))
            except Closed:
                got.append(("closed",))

        task = self.loop.create_task(recv())
        self.loop.run_until_complete(settle())
        if got:
            assert got[0] == self.expect_take()
        else:
            assert self.expect_take() == ("empty",)
            self.pending = [task, got, None]

    @precondition(lambda self: self.pending is not None)
    @rule(cancel=st.booleans())
    def finish_recv(self, cancel: bool) -> None:
        assert self.pending is not None
        task, got, expected = self.pending
        if cancel:
            task.cancel()
        self.loop.run_until_complete(settle())
        if expected is not None:
            assert got == [expected]
            self.pending = None
        elif cancel:
            assert task.cancelled()
            assert got == []
            self.pending = None
        else:
            assert not task.done()

    @invariant()
    def is_closed_matches(self) -> None:
        if self.tx is not None:
            assert self.tx.is_closed() == self.rx_closed


OneshotMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=20, deadline=None)
test_oneshot_model = OneshotMachine.TestCase


# --- select -----------------------------------------------------------------------------------


def test_select_takes_a_ready_oneshot_and_the_loser_consumes_nothing(run: Runner) -> None:
    async def main() -> None:
        tx1, rx1 = channel()
        tx2, rx2 = channel()
        tx1.send(1)
        tx2.send(2)
        sel = await gokio.select(rx1.recv(), rx2.recv())
        assert sel is not None
        loser = rx2 if sel.index == 0 else rx1
        assert sel.value == sel.index + 1
        assert loser.try_recv() == 2 - sel.index

    run(main())


def test_parked_select_over_oneshots_commits_one(run: Runner) -> None:
    async def main() -> None:
        tx1, rx1 = channel()
        tx2, rx2 = channel()
        task = asyncio.create_task(gokio.select(rx1.recv(), rx2.recv()))
        await settle()
        tx2.send("b")
        tx1.send("a")
        assert await task == (1, "b")
        assert rx1.try_recv() == "a"

    run(main())


def test_select_losing_to_a_timer_consumes_nothing(vrun: Runner) -> None:
    async def main() -> None:
        tx, rx = channel()
        assert await gokio.select(rx.recv(), asyncio.sleep(1, "t")) == (1, "t")
        tx.send(5)
        assert rx.try_recv() == 5

    vrun(main())


def test_select_on_sender_closed(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel()
        task = asyncio.create_task(gokio.select(tx.closed(), asyncio.sleep(10)))
        await settle()
        rx.close()
        assert await task == (0, None)

    run(main())


def test_select_on_a_closed_oneshot_raises_closed(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel()
        tx.close()
        with pytest.raises(Closed):
            await gokio.select(rx.recv())

    run(main())
