"""gokio.broadcast: Tokio's broadcast channel (every receiver sees every message)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import threading
import weakref
from collections.abc import Awaitable
from typing import Any, TypeVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import gokio
from gokio import Closed, Empty, Lagged
from gokio._park import WAITS
from gokio.broadcast import BroadcastReceiver, BroadcastSender
from gokio.broadcast import channel as _channel
from tests.conftest import Runner


def channel(capacity: int) -> tuple[BroadcastSender[Any], BroadcastReceiver[Any]]:
    """The channel under test, with its item type fixed to Any for the checker."""
    return _channel(capacity)


T = TypeVar("T")


class Obj:
    """A weak-referenceable message."""


async def aw(awaitable: Awaitable[T]) -> T:
    """A coroutine awaiting ``awaitable`` (ops are awaitables, not coroutines)."""
    return await awaitable


async def settle(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


# --- construction and bad input --------------------------------------------------------


@pytest.mark.parametrize("capacity", [0, -1, -100])
def test_capacity_below_one_is_a_value_error(capacity: int) -> None:
    with pytest.raises(ValueError, match="capacity must be >= 1"):
        channel(capacity)


@pytest.mark.parametrize("capacity", [True, False, 1.5, "3", None])
def test_non_int_or_bool_capacity_is_a_type_error(capacity: Any) -> None:
    with pytest.raises(TypeError, match="capacity must be an int"):
        channel(capacity)


def test_public_module_reexports_the_types() -> None:
    tx: gokio.broadcast.BroadcastSender[int]
    rx: gokio.broadcast.BroadcastReceiver[int]
    tx, rx = gokio.broadcast.channel(1)
    assert isinstance(tx, gokio.broadcast.BroadcastSender)
    assert isinstance(rx, gokio.broadcast.BroadcastReceiver)


def test_capacity_is_retained_exactly_not_rounded() -> None:
    tx, rx = channel(3)
    for i in range(5):
        tx.send(i)
    with pytest.raises(Lagged) as err:
        rx.try_recv()
    assert err.value.skipped == 2
    assert [rx.try_recv() for _ in range(3)] == [2, 3, 4]


# --- sending ------------------------------------------------------------------------------


def test_send_returns_the_number_of_receivers() -> None:
    tx, _rx = channel(4)
    assert tx.send("a") == 1
    rx2 = tx.subscribe()
    assert tx.send("b") == 2
    assert tx.receiver_count() == 2
    del rx2
    assert tx.send("c") == 1


def test_send_without_receivers_raises_closed_with_the_value() -> None:
    tx, rx = channel(4)
    del rx
    with pytest.raises(Closed, match="no receivers") as err:
        tx.send("lost?")
    assert err.value.value == "lost?"


def test_send_on_a_closed_sender_handle_raises_closed_with_the_value() -> None:
    tx, _rx = channel(4)
    tx2 = tx.clone()
    tx.close()
    with pytest.raises(Closed, match="sender was closed") as err:
        tx.send(7)
    assert err.value.value == 7
    assert tx2.send(8) == 1


def test_a_failed_send_stores_nothing() -> None:
    tx, rx = channel(4)
    del rx
    with pytest.raises(Closed):
        tx.send(1)
    rx = tx.subscribe()
    tx.send(2)
    assert rx.try_recv() == 2
    with pytest.raises(Empty):
        rx.try_recv()


def test_clone_of_a_closed_sender_raises_closed() -> None:
    tx, _rx = channel(1)
    tx.close()
    with pytest.raises(Closed, match="cannot clone a closed broadcast sender"):
        tx.clone()


def test_each_message_is_stored_once_however_many_receivers() -> None:
    tx, rx = channel(2)
    rxs = [rx] + [tx.subscribe() for _ in range(9)]
    msg = Obj()
    tx.send(msg)
    core = rx._core
    assert sum(v is msg for v in core.vals) == 1
    assert all(r.try_recv() is msg for r in rxs)


# --- receiving -----------------------------------------------------------------------------


def test_every_receiver_sees_every_message_in_order() -> None:
    tx, rx1 = channel(8)
    rx2 = tx.subscribe()
    for i in range(5):
        tx.send(i)
    assert [rx1.try_recv() for _ in range(5)] == list(range(5))
    assert [rx2.try_recv() for _ in range(5)] == list(range(5))


def test_subscribe_sees_only_later_messages() -> None:
    tx, rx = channel(8)
    tx.send(1)
    late = tx.subscribe()
    tx.send(2)
    assert late.try_recv() == 2
    assert rx.try_recv() == 1


def test_resubscribe_starts_at_the_tail() -> None:
    tx, rx = channel(8)
    tx.send(1)
    rx2 = rx.resubscribe()
    assert len(rx2) == 0
    tx.send(2)
    assert rx2.try_recv() == 2
    assert rx.try_recv() == 1


def test_try_recv_on_an_empty_open_channel_raises_empty() -> None:
    _tx, rx = channel(2)
    with pytest.raises(Empty, match="no new broadcast message"):
        rx.try_recv()


def test_lagged_receiver_skips_exactly_the_lost_messages_then_resumes() -> None:
    tx, rx = channel(4)
    for i in range(10):
        tx.send(i)
    assert len(rx) == 10
    with pytest.raises(Lagged) as err:
        rx.try_recv()
    assert err.value.skipped == 6
    assert len(rx) == 4
    assert [rx.try_recv() for _ in range(4)] == [6, 7, 8, 9]


def test_len_counts_unread_messages() -> None:
    tx, rx = channel(4)
    tx.send(1)
    tx.send(2)
    assert len(rx) == 2
    rx.try_recv()
    assert len(rx) == 1


def test_closing_every_sender_lets_receivers_drain_then_raises_closed() -> None:
    tx, rx = channel(4)
    tx2 = tx.clone()
    tx.send(1)
    tx.close()
    tx2.send(2)
    with tx2:
        pass
    assert rx.try_recv() == 1
    assert rx.try_recv() == 2
    with pytest.raises(Closed, match="every sender is gone"):
        rx.try_recv()


def test_close_is_idempotent() -> None:
    tx, rx = channel(4)
    tx2 = tx.clone()
    tx.close()
    tx.close()
    tx2.send(1)
    assert rx.try_recv() == 1


def test_lagged_is_reported_even_after_close() -> None:
    tx, rx = channel(1)
    tx.send(1)
    tx.send(2)
    tx.close()
    with pytest.raises(Lagged):
        rx.try_recv()
    assert rx.try_recv() == 2
    with pytest.raises(Closed):
        rx.try_recv()


def test_a_garbage_collected_sender_closes_the_channel() -> None:
    tx, rx = channel(4)
    tx.send(1)
    del tx
    assert rx.try_recv() == 1
    with pytest.raises(Closed):
        rx.try_recv()


def test_a_sender_in_a_reference_cycle_closes_the_channel_when_collected() -> None:
    tx, rx = channel(4)
    cycle: list[Any] = [tx]
    cycle.append(cycle)
    del tx, cycle
    gc.collect()
    with pytest.raises(Closed):
        rx.try_recv()


def test_fully_read_messages_are_released() -> None:
    tx, rx = channel(4)
    rx2 = tx.subscribe()
    msg = Obj()
    ref = weakref.ref(msg)
    tx.send(msg)
    del msg
    rx.try_recv()
    assert ref() is not None  # rx2 has not read it
    rx2.try_recv()
    assert ref() is None


def test_a_dropped_receiver_does_not_pin_its_unread_messages() -> None:
    tx, rx = channel(4)
    rx2 = tx.subscribe()
    msg = Obj()
    ref = weakref.ref(msg)
    tx.send(msg)
    del msg
    rx.try_recv()
    del rx2
    assert ref() is None
    assert tx.receiver_count() == 1


def test_a_dropped_lagging_receiver_releases_only_retained_slots() -> None:
    tx, rx = channel(2)
    lagging = tx.subscribe()
    for i in range(5):
        tx.send(i)
    del lagging
    with pytest.raises(Lagged):
        rx.try_recv()
    assert [rx.try_recv(), rx.try_recv()] == [3, 4]
    assert rx._core.vals == [None, None]


# --- async ----------------------------------------------------------------------------------


def test_parked_receivers_all_get_the_next_message(run: Runner) -> None:
    async def main() -> list[Any]:
        tx, rx = channel(2)
        rxs = [rx] + [tx.subscribe() for _ in range(3)]
        tasks = [asyncio.create_task(aw(r.recv())) for r in rxs]
        await settle()
        tx.send("x")
        return list(await asyncio.gather(*tasks))

    assert run(main()) == ["x"] * 4


def test_recv_returns_at_once_when_a_message_is_ready(run: Runner) -> None:
    async def main() -> int:
        tx, rx = channel(2)
        tx.send(5)
        v: int = await rx.recv()
        return v

    assert run(main()) == 5


def test_closing_wakes_parked_receivers_with_closed(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(2)
        task = asyncio.create_task(aw(rx.recv()))
        await settle()
        tx.close()
        with pytest.raises(Closed):
            await task

    run(main())


def test_async_for_receives_until_closed(run: Runner) -> None:
    async def main() -> list[int]:
        tx, rx = channel(16)

        async def produce() -> None:
            for i in range(10):
                tx.send(i)
                await asyncio.sleep(0)
            tx.close()

        task = asyncio.create_task(produce())
        got = [v async for v in rx]
        await task
        return got

    assert run(main()) == list(range(10))


def test_async_for_raises_lagged_and_can_resume(run: Runner) -> None:
    async def main() -> list[int]:
        tx, rx = channel(2)
        for i in range(5):
            tx.send(i)
        tx.close()
        with pytest.raises(Lagged):
            async for _ in rx:
                pass
        return [v async for v in rx]

    assert run(main()) == [3, 4]


def test_two_concurrent_recvs_on_one_receiver_never_duplicate(run: Runner) -> None:
    async def main() -> list[Any]:
        tx, rx = channel(4)
        a = asyncio.create_task(aw(rx.recv()))
        b = asyncio.create_task(aw(rx.recv()))
        await settle()
        tx.send(1)
        await settle()
        tx.send(2)
        return sorted(await asyncio.gather(a, b))

    assert run(main()) == [1, 2]


def test_cancelled_recv_consumes_nothing(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(4)
        task = asyncio.create_task(aw(rx.recv()))
        await settle()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not rx._core.waiters
        tx.send(1)
        assert rx.try_recv() == 1

    run(main())


def test_recv_cancelled_after_the_hand_off_still_delivers(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(4)
        got: list[int] = []

        async def receiver() -> None:
            got.append(await rx.recv())
            await asyncio.sleep(0)  # the re-delivered cancellation lands here

        task = asyncio.create_task(receiver())
        await settle()
        tx.send(1)  # handed over: the task is woken but has not run yet
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert got == [1]
        with pytest.raises(Empty):
            rx.try_recv()

    run(main())


def test_recv_timeout_consumes_nothing(vrun: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(4)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1):
                await rx.recv()
        tx.send(3)
        assert await rx.recv() == 3

    vrun(main())


def test_parked_recv_is_recorded_in_waits(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(4)
        task = asyncio.create_task(aw(rx.recv()))
        await settle()
        rec = WAITS[task]
        assert rec.kind == "recv"
        assert rec.obj is rx._core
        assert "broadcast channel capacity=4" in repr(rec.obj)
        tx.send(1)
        await task
        assert task not in WAITS

    run(main())


def test_hot_loop_over_a_ready_receiver_yields_to_the_loop(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(1000)
        for i in range(1000):
            tx.send(i)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        t = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        start = ticks
        for _ in range(1000):
            await rx.recv()
        assert ticks - start >= 1000 // 128 - 1
        t.cancel()

    run(main())


# --- threads --------------------------------------------------------------------------------


def test_blocking_recv_on_a_loop_thread_raises_runtime_error(run: Runner) -> None:
    async def main() -> None:
        _tx, rx = channel(1)
        with pytest.raises(
            RuntimeError, match=r"blocking_recv\(\) called on a thread that runs an event loop"
        ):
            rx.blocking_recv()

    run(main())


def test_plain_thread_sends_tasks_receive(run: Runner) -> None:
    n = 2000

    async def main() -> None:
        tx, rx = channel(n)
        rx2 = tx.subscribe()

        def producer() -> None:
            for i in range(n):
                tx.send(i)
            tx.close()

        async def consume(r: BroadcastReceiver[int]) -> list[int]:
            return [v async for v in r]

        th = threading.Thread(target=producer)
        tasks = [asyncio.create_task(consume(r)) for r in (rx, rx2)]
        th.start()
        results = await asyncio.gather(*tasks)
        th.join()
        assert results == [list(range(n))] * 2

    run(main())


def test_task_sends_plain_threads_blocking_recv() -> None:
    n = 2000
    tx, rx = channel(n)
    rxs = [rx, tx.subscribe()]
    results: list[list[int]] = [[], []]

    def consume(k: int) -> None:
        r = rxs[k]
        while True:
            try:
                results[k].append(r.blocking_recv())
            except Closed:
                return

    threads = [threading.Thread(target=consume, args=(k,)) for k in range(2)]
    for th in threads:
        th.start()

    async def produce() -> None:
        for i in range(n):
            tx.send(i)
            if i % 50 == 0:
                await asyncio.sleep(0.001)
        tx.close()

    asyncio.run(produce())
    for th in threads:
        th.join(30)
    assert results == [list(range(n))] * 2


def test_two_loops_in_two_threads_share_one_channel() -> None:
    n = 1000
    tx, rx = channel(n)
    got: list[int] = []

    def receiver_thread() -> None:
        async def main() -> None:
            got.extend([v async for v in rx])

        asyncio.run(main())

    th = threading.Thread(target=receiver_thread)
    th.start()

    async def produce() -> None:
        for i in range(n):
            tx.send(i)
            if i % 100 == 0:
                await asyncio.sleep(0.001)
        tx.close()

    asyncio.run(produce())
    th.join(30)
    assert got == list(range(n))


def test_seeded_stress_threads_and_tasks_lose_nothing() -> None:
    """Two producer threads, receivers on two loops and a blocking thread: no loss, no lag."""
    seed = random.randrange(2**32)
    rnd = random.Random(seed)
    n = 3000
    tx, rx0 = channel(2 * n + 1)  # big enough that nobody lags
    rxs = [rx0] + [tx.subscribe() for _ in range(3)]
    txs = [tx, tx.clone()]
    results: list[list[tuple[int, int]]] = [[] for _ in rxs]

    def producer(k: int) -> None:
        for i in range(n):
            txs[k].send((k, i))
            if rnd.random() < 0.01:
                threading.Event().wait(0.0005)
        txs[k].close()

    def loop_receiver(k: int) -> None:
        async def main() -> None:
            async for v in rxs[k]:
                results[k].append(v)

        asyncio.run(main())

    def blocking_receiver(k: int) -> None:
        while True:
            try:
                results[k].append(rxs[k].blocking_recv())
            except Closed:
                return

    threads = [
        threading.Thread(target=loop_receiver, args=(0,)),
        threading.Thread(target=loop_receiver, args=(1,)),
        threading.Thread(target=blocking_receiver, args=(2,)),
        threading.Thread(target=blocking_receiver, args=(3,)),
    ] + [threading.Thread(target=producer, args=(k,)) for k in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(50)
    for got in results:
        assert len(got) == 2 * n, f"seed={seed}"
        for k in range(2):
            assert [i for j, i in got if j == k] == list(range(n)), f"seed={seed}"


def test_seeded_stress_cancelled_and_selecting_receivers_lose_nothing(run_default: Runner) -> None:
    """Receivers that time out, get cancelled and select with default never lose or repeat."""
    seed = random.randrange(2**32)
    rnd = random.Random(seed)
    n = 6000

    async def main() -> None:
        tx, rx0 = channel(n + 1)  # nobody lags: every message must arrive exactly once
        rxs = [rx0] + [tx.subscribe() for _ in range(3)]
        results: list[list[int]] = [[] for _ in rxs]

        def producer() -> None:
            for i in range(n):
                tx.send(i)
                if rnd.random() < 0.02:
                    threading.Event().wait(0.0001)
            tx.close()

        async def consume(k: int) -> None:
            rx = rxs[k]
            got = results[k]
            while True:
                mode = rnd.random()
                try:
                    if mode < 0.3:
                        # gokio.timeout, not asyncio.timeout: on Python < 3.13 the latter
                        # leaves a stray cancellation pending when the op completed first.
                        async with gokio.timeout(rnd.choice([0, 0.00005, 0.0002])):
                            got.append(await rx.recv())
                    elif mode < 0.5:
                        sel = await gokio.select(rx.recv(), default=True)
                        if sel is not None:
                            got.append(sel.value)
                        else:
                            await asyncio.sleep(0)
                    elif mode < 0.6:
                        # Record inside the task: a task cancelled just as its coroutine
                        # returns is reported cancelled and its return value dropped.
                        async def one() -> None:
                            got.append(await rx.recv())

                        inner = asyncio.create_task(one())
                        await asyncio.sleep(0)
                        inner.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await inner
                    else:
                        got.append(await rx.recv())
                except gokio.Elapsed:
                    pass
                except Closed:
                    return

        th = threading.Thread(target=producer)
        th.start()
        await asyncio.gather(*(consume(k) for k in range(len(rxs))))
        th.join()
        for got in results:
            assert got == list(range(n)), f"seed={seed}"

    run_default(main())


# --- model-based ----------------------------------------------------------------------------


class BroadcastMachine(RuleBasedStateMachine):
    """Sync ops and parked/cancelled async receives against a list-of-all-sent model."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.sent: list[int] = []
        self.counter = 0
        self.rxs: list[BroadcastReceiver[int] | None] = []
        self.pos: list[int] = []
        self.txs: list[BroadcastSender[int]] = []
        self.open_tx = 0
        #: receiver index -> (task, result list, expected result once fired, or None)
        self.pending: dict[int, list[Any]] = {}

    @initialize(capacity=st.integers(1, 5))
    def create(self, capacity: int) -> None:
        self.cap = capacity
        tx, rx = channel(capacity)
        self.txs = [tx]
        self.open_tx = 1
        self.rxs = [rx]
        self.pos = [0]

    def teardown(self) -> None:
        for task, *_ in self.pending.values():
            task.cancel()
        self.loop.run_until_complete(settle())
        self.loop.close()

    @property
    def closed(self) -> bool:
        return self.open_tx == 0

    def live(self) -> list[int]:
        return [k for k, r in enumerate(self.rxs) if r is not None]

    def expect_read(self, k: int) -> tuple[Any, ...]:
        """What the model says receiver ``k`` reads next (and advance it)."""
        tail = len(self.sent)
        if self.pos[k] < tail - self.cap:
            skipped = tail - self.cap - self.pos[k]
            self.pos[k] = tail - self.cap
            return ("lag", skipped)
        if self.pos[k] < tail:
            self.pos[k] += 1
            return ("v", self.sent[self.pos[k] - 1])
        if self.closed:
            return ("closed",)
        return ("empty",)

    def parked(self, k: int) -> bool:
        return k in self.pending and self.pending[k][2] is None

    @rule(data=st.data())
    def send(self, data: st.DataObject) -> None:
        open_txs = [t for t in self.txs if not t._closed]
        if not open_txs:
            return
        tx = data.draw(st.sampled_from(open_txs))
        self.counter += 1
        v = self.counter
        live = self.live()
        if not live:
            with pytest.raises(Closed) as err:
                tx.send(v)
            assert err.value.value == v
            return
        assert tx.send(v) == len(live)
        self.sent.append(v)
        for k in live:
            if self.parked(k):  # handed over directly
                self.pos[k] += 1
                self.pending[k][2] = ("v", v)

    @rule(data=st.data())
    def try_recv(self, data: st.DataObject) -> None:
        live = self.live()
        if not live:
            return
        k = data.draw(st.sampled_from(live))
        rx = self.rxs[k]
        assert rx is not None
        expected = self.expect_read(k)
        try:
            got: tuple[Any, ...] = ("v", rx.try_recv())
        except Lagged as e:
            got = ("lag", e.skipped)
        except Closed:
            got = ("closed",)
        except Empty:
            got = ("empty",)
        assert got == expected

    @rule()
    def subscribe(self) -> None:
        self.rxs.append(self.txs[0].subscribe())
        self.pos.append(len(self.sent))

    @rule(data=st.data())
    def drop(self, data: st.DataObject) -> None:
        live = [k for k in self.live() if k not in self.pending]
        if live:
            k = data.draw(st.sampled_from(live))
            self.rxs[k] = None
            gc.collect()  # a cancelled receive's traceback may hold it in a cycle

    @rule()
    def clone(self) -> None:
        open_txs = [t for t in self.txs if not t._closed]
        if open_txs:
            self.txs.append(open_txs[0].clone())
            self.open_tx += 1

    @rule(data=st.data())
    def close_sender(self, data: st.DataObject) -> None:
        open_txs = [t for t in self.txs if not t._closed]
        if not open_txs:
            return
        data.draw(st.sampled_from(open_txs)).close()
        self.open_tx -= 1
        if self.closed:
            for k in list(self.pending):
                if self.parked(k):
                    self.pending[k][2] = ("closed",)

    @rule(data=st.data())
    def start_recv(self, data: st.DataObject) -> None:
        live = [k for k in self.live() if k not in self.pending]
        if not live:
            return
        k = data.draw(st.sampled_from(live))
        rx = self.rxs[k]
        assert rx is not None
        got: list[Any] = []

        async def recv() -> None:
            try:
                got.append(("v", await rx.recv()))
            except Lagged as e:
                got.append(("lag", e.skipped))
            except Closed:
                got.append(("closed",))

        task = self.loop.create_task(recv())
        self.loop.run_until_complete(settle())
        if got:
            assert got[0] == self.expect_read(k)
        else:
            assert self.expect_read(k) == ("empty",)
            self.pending[k] = [task, got, None]

    @precondition(lambda self: self.pending)
    @rule()
    def run_loop(self) -> None:
        self.loop.run_until_complete(settle())
        for k, (task, got, expected) in list(self.pending.items()):
            if expected is None:
                assert not task.done()
            else:
                assert task.done()
                assert got == [expected]
                del self.pending[k]

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def cancel_recv(self, data: st.DataObject) -> None:
        k = data.draw(st.sampled_from(sorted(self.pending)))
        task, got, expected = self.pending.pop(k)
        task.cancel()
        self.loop.run_until_complete(settle())
        assert task.done()
        if expected is None:
            assert task.cancelled()
            assert got == []
        else:  # it had been handed its message: the message is not lost
            assert got == [expected]

    @invariant()
    def lengths_match_the_model(self) -> None:
        for k in self.live():
            rx = self.rxs[k]
            assert rx is not None
            assert len(rx) == len(self.sent) - self.pos[k]
        if self.txs:
            assert self.txs[0].receiver_count() == len(self.live())


BroadcastMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None
)
test_broadcast_model = BroadcastMachine.TestCase


# --- select ---------------------------------------------------------------------------------


def test_select_takes_a_ready_broadcast_recv_and_the_loser_consumes_nothing(run: Runner) -> None:
    async def main() -> None:
        tx1, rx1 = channel(4)
        tx2, rx2 = channel(4)
        tx1.send("a")
        tx2.send("b")
        sel = await gokio.select(rx1.recv(), rx2.recv())
        assert sel is not None
        winner, loser = (rx1, rx2) if sel.index == 0 else (rx2, rx1)
        assert sel.value == ("a" if sel.index == 0 else "b")
        assert len(winner) == 0
        assert len(loser) == 1

    run(main())


def test_parked_select_over_two_broadcast_channels_commits_one(run: Runner) -> None:
    async def main() -> None:
        tx1, rx1 = channel(4)
        tx2, rx2 = channel(4)
        task = asyncio.create_task(gokio.select(rx1.recv(), rx2.recv()))
        await settle()
        tx2.send("b")
        tx1.send("a")  # the select already won: this one stays for rx1
        assert await task == (1, "b")
        assert not rx1._core.waiters
        assert rx1.try_recv() == "a"

    run(main())


def test_select_over_two_receivers_of_one_channel_gives_the_other_its_copy(run: Runner) -> None:
    async def main() -> None:
        tx, rx1 = channel(4)
        rx2 = tx.subscribe()
        task = asyncio.create_task(gokio.select(rx1.recv(), rx2.recv()))
        await settle()
        tx.send("m")
        sel = await task
        assert sel is not None
        assert sel.value == "m"
        other = rx2 if sel.index == 0 else rx1
        assert other.try_recv() == "m"

    run(main())


def test_select_losing_to_a_timer_consumes_nothing(vrun: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(4)
        sel = await gokio.select(rx.recv(), asyncio.sleep(1, "timer"))
        assert sel == (1, "timer")
        tx.send(1)
        assert rx.try_recv() == 1

    vrun(main())


def test_select_on_a_closed_broadcast_channel_raises_closed(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(4)
        tx.close()
        with pytest.raises(Closed):
            await gokio.select(rx.recv())

    run(main())


def test_select_reports_lagged(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(1)
        tx.send(1)
        tx.send(2)
        with pytest.raises(Lagged):
            await gokio.select(rx.recv())
        assert await gokio.select(rx.recv()) == (0, 2)

    run(main())
