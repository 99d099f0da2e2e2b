"""gokio.watch: one latest value, receivers told when it changes."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Awaitable
from typing import Any, TypeVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import gokio
from gokio import Closed
from gokio._park import WAITS
from gokio.watch import WatchReceiver, WatchSender, channel
from tests.conftest import Runner

T = TypeVar("T")


async def aw(awaitable: Awaitable[T]) -> T:
    """A coroutine awaiting ``awaitable`` (ops are awaitables, not coroutines)."""
    return await awaitable


async def settle(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


def test_public_module_reexports_the_types() -> None:
    tx, rx = gokio.watch.channel(0)
    assert isinstance(tx, gokio.watch.WatchSender)
    assert isinstance(rx, gokio.watch.WatchReceiver)


# --- sending ----------------------------------------------------------------------------------


def test_initial_value_is_borrowable_and_seen() -> None:
    tx, rx = channel("init")
    assert rx.borrow() == "init"
    assert tx.borrow() == "init"
    assert not rx.has_changed()


def test_send_replaces_the_value_and_marks_it_changed() -> None:
    tx, rx = channel(0)
    tx.send(1)
    assert rx.has_changed()
    assert rx.borrow() == 1
    assert rx.has_changed()  # borrow does not mark it seen
    assert rx.borrow_and_update() == 1
    assert not rx.has_changed()


def test_send_without_receivers_raises_closed_and_stores_nothing() -> None:
    tx, rx = channel(0)
    del rx
    with pytest.raises(Closed, match="no receivers") as err:
        tx.send(1)
    assert err.value.value == 1
    assert tx.borrow() == 0


def test_send_replace_stores_without_receivers_and_returns_the_old_value() -> None:
    tx, rx = channel(0)
    del rx
    assert tx.send_replace(1) == 0
    assert tx.borrow() == 1


def test_send_on_a_closed_sender_raises_closed_with_the_value() -> None:
    tx, _rx = channel(0)
    tx.close()
    with pytest.raises(Closed, match="sender was closed") as err:
        tx.send(5)
    assert err.value.value == 5
    with pytest.raises(Closed, match="sender was closed"):
        tx.send_replace(6)
    with pytest.raises(Closed, match="sender was closed"):
        tx.send_modify(lambda v: v)


def test_send_modify_with_a_return_value_replaces_the_value() -> None:
    tx, rx = channel(1)
    tx.send_modify(lambda v: v + 1)
    assert rx.has_changed()
    assert rx.borrow_and_update() == 2


def test_send_modify_returning_none_keeps_the_mutated_value_and_notifies() -> None:
    tx, rx = channel([1])
    tx.send_modify(lambda v: v.append(2))
    assert rx.has_changed()
    assert rx.borrow() == [1, 2]


def test_send_modify_that_raises_changes_nothing_and_notifies_nobody() -> None:
    tx, rx = channel(1)

    def boom(v: int) -> int:
        raise KeyError("no")

    with pytest.raises(KeyError):
        tx.send_modify(boom)
    assert not rx.has_changed()
    assert rx.borrow() == 1


def test_send_modify_works_without_receivers() -> None:
    tx, rx = channel(1)
    del rx
    tx.send_modify(lambda v: v + 1)
    assert tx.borrow() == 2


def test_send_modify_fn_may_borrow_without_deadlock() -> None:
    tx, rx = channel(1)
    tx.send_modify(lambda v: tx.borrow() + rx.borrow() + v)
    assert rx.borrow() == 3


def test_concurrent_send_modify_loses_no_update() -> None:
    tx, rx = channel(0)

    def bump() -> None:
        for _ in range(2000):
            tx.send_modify(lambda v: v + 1)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert rx.borrow() == 8000


def test_subscribe_sees_the_current_value_as_seen() -> None:
    tx, _rx = channel(0)
    tx.send(1)
    rx2 = tx.subscribe()
    assert not rx2.has_changed()
    assert rx2.borrow() == 1
    assert tx.receiver_count() == 2


def test_receiver_count_drops_with_garbage_collected_receivers() -> None:
    tx, rx = channel(0)
    rx2 = tx.subscribe()
    assert tx.receiver_count() == 2
    del rx2
    assert tx.receiver_count() == 1
    del rx
    assert tx.receiver_count() == 0


def test_has_changed_raises_closed_once_the_sender_is_gone() -> None:
    tx, rx = channel(0)
    tx.send(1)
    tx.close()
    with pytest.raises(Closed, match="sender is gone"):
        rx.has_changed()
    assert rx.borrow() == 1


def test_a_garbage_collected_sender_closes_the_channel() -> None:
    tx, rx = channel(0)
    del tx
    with pytest.raises(Closed):
        rx.has_changed()


def test_sender_in_a_cycle_closes_the_channel_when_collected() -> None:
    tx, rx = channel(0)
    cycle: list[Any] = [tx]
    cycle.append(cycle)
    del tx, cycle
    gc.collect()
    with pytest.raises(Closed):
        rx.has_changed()


def test_with_block_closes_the_sender() -> None:
    tx, rx = channel(0)
    with tx:
        tx.send(1)
    with pytest.raises(Closed):
        rx.has_changed()


# --- changed() ------------------------------------------------------------------------------


def test_changed_returns_at_once_if_unseen(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(0)
        tx.send(1)
        await rx.changed()
        assert not rx.has_changed()

    run(main())


def test_changed_returns_at_once_if_unseen_even_after_the_sender_is_gone(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(0)
        tx.send(1)
        tx.close()
        await rx.changed()
        assert rx.borrow() == 1
        with pytest.raises(Closed, match="latest value was already seen"):
            await rx.changed()

    run(main())


def test_parked_changed_wakes_on_send(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(0)
        rx2 = tx.subscribe()
        tasks = [asyncio.create_task(aw(r.changed())) for r in (rx, rx2)]
        await settle()
        assert not any(t.done() for t in tasks)
        tx.send(1)
        await asyncio.gather(*tasks)
        assert not rx.has_changed()
        assert not rx2.has_changed()

    run(main())


def test_parked_changed_raises_closed_when_the_sender_closes(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(0)
        task = asyncio.create_task(aw(rx.changed()))
        await settle()
        tx.close()
        with pytest.raises(Closed):
            await task

    run(main())


def test_cancelled_changed_leaves_the_change_unseen(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(0)
        task = asyncio.create_task(aw(rx.changed()))
        await settle()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not rx._core.waiters
        tx.send(1)
        assert rx.has_changed()

    run(main())


def test_changed_cancelled_after_the_wake_still_returns(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(0)
        done: list[bool] = []

        async def waiter() -> None:
            await rx.changed()
            done.append(True)
            await asyncio.sleep(0)

        task = asyncio.create_task(waiter())
        await settle()
        tx.send(1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert done == [True]
        assert not rx.has_changed()

    run(main())


def test_changed_timeout_leaves_nothing_behind(vrun: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(0)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(3):
                await rx.changed()
        tx.send(1)
        await rx.changed()

    vrun(main())


def test_parked_changed_is_recorded_in_waits(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(0)
        task = asyncio.create_task(aw(rx.changed()))
        await settle()
        rec = WAITS[task]
        assert rec.kind == "changed"
        assert rec.obj is rx._core
        tx.send(1)
        await task

    run(main())


def test_wait_for_checks_the_current_value_first(run: Runner) -> None:
    async def main() -> int:
        _tx, rx = channel(5)
        return await rx.wait_for(lambda v: v == 5)

    assert run(main()) == 5


def test_wait_for_waits_for_a_matching_value(run: Runner) -> None:
    async def main() -> int:
        tx, rx = channel(0)

        async def produce() -> None:
            for i in range(1, 10):
                await asyncio.sleep(0)
                tx.send(i)

        task = asyncio.create_task(produce())
        v = await rx.wait_for(lambda v: v >= 4)
        await task
        return v

    assert run(main()) >= 4


def test_wait_for_raises_closed_when_the_sender_goes_first(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(0)
        tx.send(1)
        tx.close()
        with pytest.raises(Closed):
            await rx.wait_for(lambda v: v > 1)

    run(main())


def test_async_for_yields_the_current_value_then_each_change(run: Runner) -> None:
    async def main() -> list[int]:
        tx, rx = channel(0)

        async def produce() -> None:
            for i in range(1, 4):
                await settle()
                tx.send(i)
            await settle()
            tx.close()

        task = asyncio.create_task(produce())
        got = [v async for v in rx]
        await task
        return got

    assert run(main()) == [0, 1, 2, 3]


def test_sender_closed_waits_for_every_receiver_to_go(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(0)
        rx2 = tx.subscribe()
        task = asyncio.create_task(aw(tx.closed()))
        await settle()
        del rx
        await settle()
        assert not task.done()
        del rx2
        await task

    run(main())


# --- threads ----------------------------------------------------------------------------------


def test_blocking_changed_on_a_loop_thread_raises_runtime_error(run: Runner) -> None:
    async def main() -> None:
        _tx, rx = channel(0)
        with pytest.raises(RuntimeError, match="blocking_changed"):
            rx.blocking_changed()

    run(main())


def test_plain_thread_sends_task_watches(run: Runner) -> None:
    async def main() -> int:
        tx, rx = channel(0)

        def produce() -> None:
            for i in range(1, 501):
                tx.send(i)
            tx.close()

        th = threading.Thread(target=produce)
        th.start()
        last = -1
        async for v in rx:
            assert v > last
            last = v
        th.join()
        return last

    assert run(main()) == 500


def test_task_sends_plain_thread_blocking_changed() -> None:
    tx, rx = channel(0)
    seen: list[int] = []

    def watch() -> None:
        while True:
            try:
                rx.blocking_changed()
            except Closed:
                return
            seen.append(rx.borrow_and_update())

    th = threading.Thread(target=watch)
    th.start()

    async def main() -> None:
        for i in range(1, 101):
            tx.send(i)
            await asyncio.sleep(0.0002)
        tx.close()

    asyncio.run(main())
    th.join(10)
    assert seen == sorted(seen)
    assert seen[-1] == 100


def test_two_loops_in_two_threads_share_one_channel() -> None:
    tx, rx = channel(0)
    got: list[int] = []

    def thread_main() -> None:
        async def main() -> None:
            got.append(await rx.wait_for(lambda v: v == 50))

        asyncio.run(main())

    th = threading.Thread(target=thread_main)
    th.start()

    async def main() -> None:
        for i in range(1, 51):
            tx.send(i)
            await asyncio.sleep(0.0002)

    asyncio.run(main())
    th.join(10)
    assert got == [50]


# --- model-based ------------------------------------------------------------------------------


class WatchMachine(RuleBasedStateMachine):
    """Every op, parked and cancelled ``changed()`` included, against a plain model."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        tx, rx = channel(0)
        self.tx: WatchSender[int] = tx
        self.rxs: list[WatchReceiver[int] | None] = [rx]
        self.value = 0
        self.version = 0
        self.seen = [0]
        self.closed = False
        self.pending: dict[int, list[Any]] = {}

    def teardown(self) -> None:
        for task, *_ in self.pending.values():
            task.cancel()
        self.loop.run_until_complete(settle())
        self.loop.close()

    def live(self) -> list[int]:
        return [k for k, r in enumerate(self.rxs) if r is not None]

    def publish(self) -> None:
        self.version += 1
        for k, entry in self.pending.items():
            if entry[2] is None:  # parked: the update wakes it and marks it seen
                entry[2] = "changed"
                self.seen[k] = self.version

    def rx(self, data: st.DataObject) -> tuple[int, WatchReceiver[int]] | None:
        live = self.live()
        if not live:
            return None
        k = data.draw(st.sampled_from(live))
        rx = self.rxs[k]
        assert rx is not None
        return k, rx

    @rule(v=st.integers(0, 1000))
    def send(self, v: int) -> None:
        if self.closed or not self.live():
            with pytest.raises(Closed) as err:
                self.tx.send(v)
            assert err.value.value == v
            return
        self.tx.send(v)
        self.value = v
        self.publish()

    @precondition(lambda self: not self.closed)
    @rule(v=st.integers(0, 1000))
    def send_replace(self, v: int) -> None:
        assert self.tx.send_replace(v) == self.value
        self.value = v
        self.publish()

    @precondition(lambda self: not self.closed)
    @rule(mode=st.sampled_from(["add", "none", "raise"]))
    def send_modify(self, mode: str) -> None:
        def fn(v: int) -> int | None:
            if mode == "raise":
                raise ValueError
            return v + 1 if mode == "add" else None

        if mode == "raise":
            with pytest.raises(ValueError):  # noqa: PT011
                self.tx.send_modify(fn)
            return
        self.tx.send_modify(fn)
        if mode == "add":
            self.value += 1
        self.publish()

    @rule()
    def close_sender(self) -> None:
        self.tx.close()
        if not self.closed:
            self.closed = True
            for entry in self.pending.values():
                if entry[2] is None:
                    entry[2] = "closed"

    @rule()
    def subscribe(self) -> None:
        self.rxs.append(self.tx.subscribe())
        self.seen.append(self.version)

    @rule(data=st.data())
    def drop(self, data: st.DataObject) -> None:
        live = [k for k in self.live() if k not in self.pending]
        if live:
            self.rxs[data.draw(st.sampled_from(live))] = None
            gc.collect()

    @rule(data=st.data())
    def borrow_and_update(self, data: st.DataObject) -> None:
        got = self.rx(data)
        if got is not None:
            k, rx = got
            assert rx.borrow_and_update() == self.value
            self.seen[k] = self.version

    @rule(data=st.data())
    def has_changed(self, data: st.DataObject) -> None:
        got = self.rx(data)
        if got is None:
            return
        k, rx = got
        if self.closed:
            with pytest.raises(Closed):
                rx.has_changed()
        else:
            assert rx.has_changed() == (self.seen[k] != self.version)

    @rule(data=st.data())
    def start_changed(self, data: st.DataObject) -> None:
        live = [k for k in self.live() if k not in self.pending]
        if not live:
            return
        k = data.draw(st.sampled_from(live))
        rx = self.rxs[k]
        assert rx is not None
        got: list[str] = []

        async def changed() -> None:
            try:
                await rx.changed()
                got.append("changed")
            except Closed:
                got.append("closed")

        task = self.loop.create_task(changed())
        self.loop.run_until_complete(settle())
        if self.seen[k] != self.version:
            assert got == ["changed"]
            self.seen[k] = self.version
        elif self.closed:
            assert got == ["closed"]
        else:
            assert got == []
            self.pending[k] = [task, got, None]

    @precondition(lambda self: self.pending)
    @rule(data=st.data(), cancel=st.booleans())
    def finish_changed(self, data: st.DataObject, cancel: bool) -> None:
        k = data.draw(st.sampled_from(sorted(self.pending)))
        task, got, expected = self.pending[k]
        if cancel:
            task.cancel()
        self.loop.run_until_complete(settle())
        if expected is not None:
            assert got == [expected]
            del self.pending[k]
        elif cancel:
            assert task.cancelled()
            assert got == []
            del self.pending[k]
        else:
            assert not task.done()

    @invariant()
    def values_and_counts_match(self) -> None:
        assert self.tx.borrow() == self.value
        assert self.tx.receiver_count() == len(self.live())
        for k in self.live():
            rx = self.rxs[k]
            assert rx is not None
            assert rx.borrow() == self.value


WatchMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
test_watch_model = WatchMachine.TestCase


# --- select -----------------------------------------------------------------------------------


def test_select_takes_a_ready_change_and_the_loser_stays_unseen(run: Runner) -> None:
    async def main() -> None:
        tx1, rx1 = channel(0)
        tx2, rx2 = channel(0)
        tx1.send(1)
        tx2.send(2)
        sel = await gokio.select(rx1.changed(), rx2.changed())
        assert sel is not None
        winner, loser = (rx1, rx2) if sel.index == 0 else (rx2, rx1)
        assert not winner.has_changed()
        assert loser.has_changed()

    run(main())


def test_parked_select_over_watches_commits_one(run: Runner) -> None:
    async def main() -> None:
        tx1, rx1 = channel(0)
        tx2, rx2 = channel(0)
        task = asyncio.create_task(gokio.select(rx1.changed(), rx2.changed()))
        await settle()
        tx2.send(1)
        tx1.send(1)
        assert await task == (1, None)
        assert rx1.has_changed()
        assert not rx2.has_changed()
        assert not rx1._core.waiters

    run(main())


def test_select_losing_to_a_timer_leaves_the_change_unseen(vrun: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(0)
        assert await gokio.select(rx.changed(), asyncio.sleep(1, "t")) == (1, "t")
        tx.send(1)
        assert rx.has_changed()

    vrun(main())


def test_select_on_sender_closed_fires_when_receivers_go(run: Runner) -> None:
    async def main() -> None:
        tx, rx = channel(0)
        task = asyncio.create_task(gokio.select(tx.closed(), asyncio.sleep(10)))
        await settle()
        del rx
        assert await task == (0, None)

    run(main())
