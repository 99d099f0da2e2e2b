"""Mutex: guards, FIFO hand-off, cancel safety, threads and loops sharing one lock."""

from __future__ import annotations

import asyncio
import threading
from collections import deque

import pytest

import gokio
from gokio import Mutex, WouldBlock
from gokio._mutex import HELD, MutexGuard
from gokio._park import WAITS
from tests.conftest import Runner


async def settle() -> None:
    """Let every ready task run until all are parked again."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_lock_guard_reads_and_writes_the_value(run: Runner) -> None:
    async def main() -> int:
        m = Mutex(1)
        async with m.lock() as guard:
            guard.value += 41
        async with m.lock() as guard:
            return guard.value

    assert run(main()) == 42


def test_awaited_lock_returns_a_guard_to_release(run: Runner) -> None:
    async def main() -> list[int]:
        m = Mutex([1])
        guard = await m.lock()
        guard.value.append(2)
        guard.release()
        with await m.lock() as g2:
            return g2.value

    assert run(main()) == [1, 2]


def test_try_lock_raises_would_block_while_held() -> None:
    m = Mutex(0)
    with m.try_lock() as guard:
        guard.value = 5
        with pytest.raises(WouldBlock, match="mutex is locked"):
            m.try_lock()
    with m.try_lock() as guard:
        assert guard.value == 5


def test_guard_used_after_its_block_raises() -> None:
    m = Mutex(0)
    with m.try_lock() as guard:
        pass
    with pytest.raises(RuntimeError, match="used after its block ended"):
        _ = guard.value
    with pytest.raises(RuntimeError, match="used after its block ended"):
        guard.value = 1


def test_guard_used_before_acquiring_raises() -> None:
    m = Mutex(0)
    request = m.lock()
    with pytest.raises(RuntimeError, match="does not hold the lock yet"):
        _ = request.value
    with pytest.raises(RuntimeError, match="does not hold the lock yet"), request:
        pass


def test_releasing_twice_raises() -> None:
    m = Mutex(0)
    guard = m.try_lock()
    guard.release()
    with pytest.raises(RuntimeError, match="released"):
        guard.release()


def test_a_lock_request_cannot_be_awaited_twice(run: Runner) -> None:
    async def main() -> None:
        m = Mutex(0)
        request = m.lock()
        async with request:
            pass
        with pytest.raises(RuntimeError, match="already acquired once"):
            await request

    run(main())


def test_release_inside_async_with_block_is_allowed(run: Runner) -> None:
    async def main() -> None:
        m = Mutex(0)
        async with m.lock() as guard:
            guard.release()
        m.try_lock().release()

    run(main())


def test_ten_tasks_incrementing_a_counter(run: Runner) -> None:
    """The seed scenario: the read-modify-write spans an await and is never torn."""

    async def main() -> int:
        m = Mutex(0)

        async def worker() -> None:
            for _ in range(50):
                async with m.lock() as guard:
                    v = guard.value
                    await asyncio.sleep(0)
                    guard.value = v + 1

        await asyncio.gather(*(worker() for _ in range(10)))
        async with m.lock() as guard:
            return guard.value

    assert run(main()) == 500


def test_waiters_get_the_lock_in_arrival_order(run: Runner) -> None:
    async def main() -> list[int]:
        m = Mutex(0)
        order: list[int] = []
        holder = m.try_lock()

        async def waiter(i: int) -> None:
            async with m.lock():
                order.append(i)

        tasks = []
        for i in range(8):
            tasks.append(asyncio.create_task(waiter(i)))
            await settle()
        holder.release()
        await asyncio.gather(*tasks)
        return order

    assert run(main()) == list(range(8))


def test_newcomer_does_not_overtake_a_handed_off_waiter(run: Runner) -> None:
    async def main() -> list[str]:
        m = Mutex(0)
        order: list[str] = []
        holder = m.try_lock()

        async def waiter(name: str) -> None:
            async with m.lock():
                order.append(name)

        t1 = asyncio.create_task(waiter("queued"))
        await settle()
        holder.release()  # handed to "queued", which has not run yet
        with pytest.raises(WouldBlock):
            m.try_lock()
        t2 = asyncio.create_task(waiter("newcomer"))
        await asyncio.gather(t1, t2)
        return order

    assert run(main()) == ["queued", "newcomer"]


def test_waiter_cancelled_after_hand_off_passes_the_lock_on(run: Runner) -> None:
    """python/asyncio#270: the woken-then-cancelled waiter must not strand the next one."""

    async def main() -> None:
        m = Mutex(0)
        holder = m.try_lock()
        got: list[str] = []

        async def waiter(name: str) -> None:
            async with m.lock():
                got.append(name)

        w1 = asyncio.create_task(waiter("w1"))
        await settle()
        w2 = asyncio.create_task(waiter("w2"))
        await settle()
        holder.release()  # fires w1's parker: w1 owns the lock now
        w1.cancel()  # ... but is cancelled before it runs
        await asyncio.wait_for(w2, 5)
        with pytest.raises(asyncio.CancelledError):
            await w1
        assert got == ["w2"]
        m.try_lock().release()  # free again

    run(main())


def test_cancelled_head_waiter_not_yet_removed_does_not_orphan_the_next(run: Runner) -> None:
    """anyio#1170: cancel requested, then a release before the waiter ran its cleanup."""

    async def main() -> None:
        m = Mutex(0)
        holder = m.try_lock()
        w1 = asyncio.create_task(m.lock()._acquire())
        await settle()
        w2 = asyncio.create_task(m.lock()._acquire())
        await settle()
        w1.cancel()
        holder.release()
        guard = await asyncio.wait_for(w2, 5)
        guard.release()
        with pytest.raises(asyncio.CancelledError):
            await w1
        m.try_lock().release()

    run(main())


def test_waiter_cancelled_while_queued_leaves_the_queue(run: Runner) -> None:
    async def main() -> None:
        m = Mutex(0)
        holder = m.try_lock()
        w1 = asyncio.create_task(m.lock()._acquire())
        await settle()
        w1.cancel()
        with pytest.raises(asyncio.CancelledError):
            await w1
        assert not m._waiters
        holder.release()
        m.try_lock().release()

    run(main())


def test_timeout_while_waiting_keeps_the_mutex_usable(vrun: Runner) -> None:
    async def main() -> None:
        m = Mutex(0)
        holder = m.try_lock()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1):
                await m.lock()
        holder.release()
        async with m.lock() as guard:
            guard.value = 1

    vrun(main())


def test_parked_lock_is_visible_in_waits(run: Runner) -> None:
    async def main() -> None:
        m = Mutex(0)
        holder = m.try_lock()
        t = asyncio.create_task(m.lock()._acquire())
        await settle()
        rec = WAITS[t]
        assert rec.kind == "lock"
        assert rec.obj is m
        holder.release()
        (await t).release()
        assert t not in WAITS

    run(main())


def test_blocking_lock_on_a_loop_thread_raises(run: Runner) -> None:
    async def main() -> None:
        m = Mutex(0)
        with pytest.raises(RuntimeError, match="blocking_lock"):
            m.blocking_lock()

    run(main())


def test_blocking_lock_waits_for_a_task_to_release(run: Runner) -> None:
    async def main() -> list[str]:
        m: Mutex[list[str]] = Mutex([])
        guard = await m.lock()

        def thread() -> None:
            with m.blocking_lock() as g:
                g.value.append("thread")

        t = threading.Thread(target=thread)
        t.start()
        await asyncio.sleep(0.01)
        guard.value.append("task")
        guard.release()
        await asyncio.to_thread(t.join)
        async with m.lock() as g:
            return list(g.value)

    assert run(main()) == ["task", "thread"]


def test_tasks_on_two_loops_and_a_thread_share_one_mutex() -> None:
    m = Mutex(0)
    n = 300

    async def tasks() -> None:
        async def one() -> None:
            for _ in range(n):
                async with m.lock() as g:
                    v = g.value
                    await asyncio.sleep(0)
                    g.value = v + 1

        await asyncio.gather(one(), one())

    def plain() -> None:
        for _ in range(n):
            with m.blocking_lock() as g:
                g.value += 1

    threads = [
        threading.Thread(target=asyncio.run, args=(tasks(),)),
        threading.Thread(target=asyncio.run, args=(tasks(),)),
        threading.Thread(target=plain),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with m.try_lock() as g:
        assert g.value == 5 * n


def test_hot_lock_loop_yields_to_other_tasks(run: Runner) -> None:
    async def main() -> bool:
        m = Mutex(0)
        ran = False

        async def other() -> None:
            nonlocal ran
            ran = True

        t = asyncio.create_task(other())
        for _ in range(300):
            async with m.lock():
                pass
        seen = ran
        await t
        return seen

    assert run(main())


def test_lock_is_a_select_case(run: Runner) -> None:
    async def main() -> None:
        m = Mutex(0)
        holder = m.try_lock()
        ch: gokio.Chan[int] = gokio.chan(1)
        await ch.send(7)
        sel = await gokio.select(m.lock(), ch.recv())
        assert sel is not None
        assert sel == (1, 7)  # the lock was not ready; nothing taken from it
        t = asyncio.create_task(gokio.select(m.lock(), ch.recv()))
        await settle()
        holder.release()
        sel = await t
        assert sel is not None
        assert sel.index == 0
        sel.value.value = 3
        sel.value.release()
        assert m.try_lock().value == 3

    run(main())


def test_repr_shows_state() -> None:
    m = Mutex(0)
    assert "unlocked" in repr(m)
    with m.try_lock() as g:
        assert "locked" in repr(m)
        assert "held" in repr(g)


def test_release_racing_a_waiter_between_its_test_and_its_queueing_is_not_lost(
    run: Runner,
) -> None:
    """The release runs after the waiter's failed test-and-set, before it is queued.

    That release sees no waiter and wakes nobody; the waiter must notice it (its second
    test-and-set after queueing) instead of sleeping forever on a free mutex.
    """

    async def main() -> None:
        m = Mutex(0)
        holder = m.try_lock()

        class RacingQueue(deque[MutexGuard[int]]):
            def append(self, guard: MutexGuard[int]) -> None:
                if holder._state == HELD:
                    holder.release()  # lands inside the waiter's critical section
                super().append(guard)

        m._waiters = RacingQueue()
        guard = await asyncio.wait_for(m.lock(), 5)
        guard.release()
        m.try_lock().release()

    run(main())
