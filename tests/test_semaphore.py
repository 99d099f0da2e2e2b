"""Semaphore: permits, strict FIFO, close, cancel safety (model-checked), threads."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import gokio
from gokio import Closed, Semaphore, WouldBlock
from gokio._park import WAITS
from gokio._semaphore import SemaphorePermit
from tests.conftest import Runner


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_acquire_and_release_count_permits(run: Runner) -> None:
    async def main() -> None:
        sem = Semaphore(3)
        async with sem.acquire():
            assert sem.available_permits() == 2
            async with sem.acquire(2) as p:
                assert p.permits == 2
                assert sem.available_permits() == 0
        assert sem.available_permits() == 3

    run(main())


def test_awaited_acquire_returns_a_permit_to_release(run: Runner) -> None:
    async def main() -> None:
        sem = Semaphore(2)
        p = await sem.acquire(2)
        assert sem.available_permits() == 0
        p.release()
        assert sem.available_permits() == 2
        assert p.permits == 0

    run(main())


def test_partial_release_then_the_rest() -> None:
    sem = Semaphore(5)
    p = sem.try_acquire(4)
    p.release(1)
    assert sem.available_permits() == 2
    assert p.permits == 3
    p.release()
    assert sem.available_permits() == 5


def test_releasing_more_than_held_raises() -> None:
    sem = Semaphore(5)
    p = sem.try_acquire(2)
    with pytest.raises(ValueError, match="holds only 2"):
        p.release(3)
    assert sem.available_permits() == 3


def test_releasing_twice_raises() -> None:
    sem = Semaphore(1)
    p = sem.try_acquire()
    p.release()
    with pytest.raises(RuntimeError, match="already released"):
        p.release()
    assert sem.available_permits() == 1


def test_releasing_an_unacquired_request_raises() -> None:
    sem = Semaphore(1)
    with pytest.raises(RuntimeError, match="not acquired yet"):
        sem.acquire().release()


def test_forget_drops_the_permits() -> None:
    sem = Semaphore(2)
    sem.try_acquire().forget()
    assert sem.available_permits() == 1


def test_negative_permits_raise_value_error() -> None:
    with pytest.raises(ValueError, match="permits must be >= 0, got -1"):
        Semaphore(-1)


def test_negative_n_raises_value_error() -> None:
    sem = Semaphore(1)
    for call in (sem.acquire, sem.try_acquire, sem.add_permits):
        with pytest.raises(ValueError, match="n must be >= 0, got -2"):
            call(-2)


def test_non_int_counts_raise_type_error() -> None:
    with pytest.raises(TypeError, match="must be an int"):
        Semaphore(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be an int"):
        Semaphore(1).acquire(1.0)  # type: ignore[arg-type]


def test_try_acquire_raises_would_block_when_short() -> None:
    sem = Semaphore(1)
    with sem.try_acquire(), pytest.raises(WouldBlock, match="1 permit"):
        sem.try_acquire()


def test_zero_permit_acquire_succeeds_at_once(run: Runner) -> None:
    async def main() -> None:
        sem = Semaphore(0)
        async with sem.acquire(0) as p:
            assert p.permits == 0

    run(main())


def test_large_request_is_not_overtaken_by_small_ones(run: Runner) -> None:
    """CPython #90155's family: FIFO holds even when a later, smaller request would fit."""

    async def main() -> list[str]:
        sem = Semaphore(2)
        order: list[str] = []
        held = await sem.acquire(2)

        async def want(name: str, n: int) -> None:
            async with sem.acquire(n):
                order.append(name)
                await settle()

        big = asyncio.create_task(want("big", 2))
        await settle()
        small = asyncio.create_task(want("small", 1))
        await settle()
        held.release(1)  # one free: enough for "small", not for "big"
        await settle()
        assert order == []
        with pytest.raises(WouldBlock):
            sem.try_acquire(1)
        held.release()
        await asyncio.gather(big, small)
        return order

    assert run(main()) == ["big", "small"]


def test_waiters_are_served_in_arrival_order(run: Runner) -> None:
    async def main() -> list[int]:
        sem = Semaphore(0)
        order: list[int] = []

        async def waiter(i: int) -> None:
            async with sem.acquire():
                order.append(i)

        tasks = []
        for i in range(6):
            tasks.append(asyncio.create_task(waiter(i)))
            await settle()
        sem.add_permits(1)
        await asyncio.gather(*tasks)
        return order

    assert run(main()) == list(range(6))


def test_woken_then_cancelled_waiter_gives_the_permit_back(run: Runner) -> None:
    """python/asyncio#270: two waiters, one release, the woken one is cancelled."""

    async def main() -> None:
        sem = Semaphore(0)
        w1 = asyncio.create_task(sem.acquire()._acquire())
        await settle()
        w2 = asyncio.create_task(sem.acquire()._acquire())
        await settle()
        sem.add_permits(1)  # hands the permit to w1
        w1.cancel()
        p2 = await asyncio.wait_for(w2, 5)
        with pytest.raises(asyncio.CancelledError):
            await w1
        p2.release()
        assert sem.available_permits() == 1

    run(main())


def test_cancelled_head_lets_the_waiters_behind_it_in(run: Runner) -> None:
    """anyio#1170: a withdrawn head that held back smaller requests must serve them."""

    async def main() -> None:
        sem = Semaphore(1)
        big = asyncio.create_task(sem.acquire(3)._acquire())
        await settle()
        small = asyncio.create_task(sem.acquire(1)._acquire())
        await settle()
        assert not small.done()
        big.cancel()
        p = await asyncio.wait_for(small, 5)
        p.release()
        assert sem.available_permits() == 1

    run(main())


def test_release_with_woken_but_cancelled_waiter_does_not_hang_others(run: Runner) -> None:
    """CPython #90155 scenario: c1 holds, c2 waits; c1 releases and cancels c2."""

    async def main() -> None:
        sem = Semaphore(1)

        async def c2() -> None:
            async with sem.acquire():
                raise AssertionError("c2 must not run its block")

        holder = await sem.acquire()
        t2 = asyncio.create_task(c2())
        await settle()
        holder.release()
        t2.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t2
        async with asyncio.timeout(5), sem.acquire(1):
            pass
        assert sem.available_permits() == 1

    run(main())


def test_close_fails_waiters_and_later_acquires(run: Runner) -> None:
    async def main() -> None:
        sem = Semaphore(0)
        w = asyncio.create_task(sem.acquire()._acquire())
        await settle()
        sem.close()
        with pytest.raises(Closed, match="semaphore closed"):
            await w
        with pytest.raises(Closed):
            await sem.acquire()
        with pytest.raises(Closed):
            sem.try_acquire()

    run(main())


def test_permits_held_at_close_can_still_be_released(run: Runner) -> None:
    async def main() -> None:
        sem = Semaphore(1)
        p = await sem.acquire()
        sem.close()
        p.release()
        assert sem.available_permits() == 1

    run(main())


def test_parked_acquire_is_visible_in_waits(run: Runner) -> None:
    async def main() -> None:
        sem = Semaphore(0)
        t = asyncio.create_task(sem.acquire()._acquire())
        await settle()
        assert WAITS[t].kind == "acquire"
        assert WAITS[t].obj is sem
        sem.add_permits(1)
        (await t).release()

    run(main())


def test_blocking_acquire_on_a_loop_thread_raises(run: Runner) -> None:
    async def main() -> None:
        with pytest.raises(RuntimeError, match="blocking_acquire"):
            Semaphore(1).blocking_acquire()

    run(main())


def test_blocking_acquire_is_woken_by_a_task(run: Runner) -> None:
    async def main() -> None:
        sem = Semaphore(0)
        got: list[int] = []

        def thread() -> None:
            with sem.blocking_acquire(2) as p:
                got.append(p.permits)

        t = threading.Thread(target=thread)
        t.start()
        await asyncio.sleep(0.01)
        sem.add_permits(2)
        await asyncio.to_thread(t.join)
        assert got == [2]
        assert sem.available_permits() == 2

    run(main())


def test_blocking_acquire_raises_closed_when_closed() -> None:
    sem = Semaphore(0)
    errors: list[BaseException] = []

    def thread() -> None:
        try:
            sem.blocking_acquire()
        except Closed as e:
            errors.append(e)

    t = threading.Thread(target=thread)
    t.start()
    while not sem._waiters:
        threading.Event().wait(0.001)
    sem.close()
    t.join(5)
    assert len(errors) == 1


def test_acquire_is_a_select_case(run: Runner) -> None:
    async def main() -> None:
        sem = Semaphore(0)
        ch: gokio.Chan[str] = gokio.chan(1)
        t = asyncio.create_task(gokio.select(sem.acquire(2), ch.recv()))
        await settle()
        await ch.send("x")
        assert await t == (1, "x")
        sem.add_permits(2)  # the losing acquire took nothing
        assert sem.available_permits() == 2
        sel = await gokio.select(sem.acquire(2), ch.recv())
        assert sel is not None
        assert sel.index == 0
        sel.value.release()

    run(main())


# --- model-based: acquire / cancel / release / add_permits against a plain model ---------


class SemaphoreModel(RuleBasedStateMachine):
    """Drives a real Semaphore on one loop and a list model in lockstep.

    Model: free permits, a FIFO queue of (id, n), the held permits per id. Serving pops the
    head while it fits. A waiter cancelled after being served is equivalent to one
    withdrawn before it: the permits go back and the queue behind it is served.
    """

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.sem = Semaphore(2)
        self.free = 2
        self.queue: list[tuple[int, int]] = []
        self.held: dict[int, int] = {}
        self.tasks: dict[int, asyncio.Task[SemaphorePermit]] = {}
        self.permits: dict[int, SemaphorePermit] = {}
        self.next_id = 0

    def teardown(self) -> None:
        for t in self.tasks.values():
            t.cancel()
        self.loop.run_until_complete(settle())
        self.loop.close()

    def settle(self) -> None:
        self.loop.run_until_complete(settle())
        for i, t in list(self.tasks.items()):
            if t.done():
                del self.tasks[i]
                if not t.cancelled():
                    self.permits[i] = t.result()

    def serve(self) -> list[int]:
        served = []
        while self.queue and self.queue[0][1] <= self.free:
            i, n = self.queue.pop(0)
            self.free -= n
            self.held[i] = n
            served.append(i)
        return served

    @rule(n=st.integers(0, 3))
    def acquire(self, n: int) -> None:
        i = self.next_id
        self.next_id += 1
        self.tasks[i] = self.loop.create_task(self.sem.acquire(n)._acquire())
        if not self.queue and self.free >= n:
            self.free -= n
            self.held[i] = n
        else:
            self.queue.append((i, n))
        self.settle()

    @rule(n=st.integers(0, 3))
    def try_acquire(self, n: int) -> None:
        if not self.queue and self.free >= n:
            i = self.next_id
            self.next_id += 1
            self.permits[i] = self.sem.try_acquire(n)
            self.free -= n
            self.held[i] = n
        else:
            with pytest.raises(WouldBlock):
                self.sem.try_acquire(n)

    @precondition(lambda self: bool(self.queue))
    @rule(data=st.data())
    def cancel_waiting(self, data: Any) -> None:
        i, _ = data.draw(st.sampled_from(self.queue))
        self.tasks[i].cancel()
        self.queue = [q for q in self.queue if q[0] != i]
        self.serve()
        self.settle()

    @precondition(lambda self: bool(self.permits))
    @rule(data=st.data(), cancel_served=st.booleans())
    def release(self, data: Any, cancel_served: bool) -> None:
        i = data.draw(st.sampled_from(sorted(self.permits)))
        self.permits.pop(i).release()
        self.free += self.held.pop(i)
        served = self.serve()
        if cancel_served:
            # Cancel the waiters this release handed permits to, before they run: each
            # must give its permits back and let the queue move on, as if withdrawn.
            for j in served:
                self.tasks[j].cancel()
                self.free += self.held.pop(j)
            self.serve()
        self.settle()

    @rule(n=st.integers(0, 3))
    def add_permits(self, n: int) -> None:
        self.sem.add_permits(n)
        self.free += n
        self.serve()
        self.settle()

    @invariant()
    def matches_model(self) -> None:
        assert self.sem.available_permits() == self.free
        assert sorted(self.held) == sorted(self.permits)
        assert [q[0] for q in self.queue] == sorted(self.tasks)
        assert len(self.sem._waiters) == len(self.queue)
        for i, n in self.held.items():
            assert self.permits[i].permits == n


TestSemaphoreModel = SemaphoreModel.TestCase
TestSemaphoreModel.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


def test_a_lock_free_release_racing_a_waiter_that_queues_is_not_lost() -> None:
    """The fast pool's race, forced step by step: a waiter decides to wait, a lock-free
    release lands before it is queued (so the release sees nobody to serve), then the
    waiter queues: it must find the returned permit instead of sleeping forever."""
    from gokio._op import NOT_READY
    from gokio._park import FIRED, Parker

    sem = Semaphore(1)
    held = sem.try_acquire()  # the only permit
    waiter = sem.acquire()
    parker = Parker("acquire", sem)  # a plain-thread parker: nothing here blocks
    with sem._mu:  # the waiter's own critical section, as select drives it
        assert waiter._try() is NOT_READY  # no permit: it will wait
        # The release lands now, lock-free; it never waits, so calling __aexit__ does it
        # all (what it returns is already finished). It sees no waiter to serve.
        held.__aexit__(None, None, None)
        assert sem.available_permits() == 1  # the permit sits in the fast pool
        waiter._park(parker, 0)  # the waiter queues...
    assert parker.state == FIRED  # ...and is served from the pool at once
    assert sem.available_permits() == 0
