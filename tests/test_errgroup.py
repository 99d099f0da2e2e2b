"""ErrGroup: first error wins and cancels the context, the concurrency limit, reuse."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import Any

import pytest

import gokio
from gokio import ErrGroup, context
from gokio._park import WAITS
from tests.conftest import Runner


def test_wait_returns_when_every_job_finished_and_then_cancels_ctx(run: Runner) -> None:
    async def main() -> None:
        g = ErrGroup()
        done: list[int] = []

        async def job(i: int) -> None:
            await gokio.yield_now()
            done.append(i)

        for i in range(5):
            await g.go(job, i)
        assert g.ctx.err() is None
        await g.wait()
        assert sorted(done) == [0, 1, 2, 3, 4]
        assert isinstance(g.ctx.err(), context.Canceled)

    run(main())


def test_wait_on_an_empty_group_returns_at_once(run: Runner) -> None:
    async def main() -> None:
        await ErrGroup().wait()

    run(main())


def test_first_error_cancels_ctx_and_wait_raises_it(run: Runner) -> None:
    async def main() -> None:
        g = ErrGroup()
        boom = ValueError("boom")
        saw_done: list[bool] = []

        async def failing() -> None:
            raise boom

        async def patient() -> None:
            await g.ctx.done()
            saw_done.append(True)

        await g.go(patient)
        await g.go(failing)
        with pytest.raises(ValueError, match="boom") as info:
            await g.wait()
        assert info.value is boom
        assert g.ctx.cause() is boom
        assert saw_done == [True]

    run(main())


def test_only_the_first_error_is_kept(run: Runner) -> None:
    async def main() -> None:
        g = ErrGroup()
        first, second = KeyError("first"), KeyError("second")

        async def fail(e: Exception, delay: int) -> None:
            for _ in range(delay):
                await gokio.yield_now()
            raise e

        await g.go(fail, second, 3)
        await g.go(fail, first, 0)
        with pytest.raises(KeyError) as info:
            await g.wait()
        assert info.value is first

    run(main())


def test_plain_function_jobs_run_on_the_blocking_pool(run_default: Runner) -> None:
    async def main() -> None:
        g = ErrGroup()
        loop_thread = threading.current_thread()
        where: list[threading.Thread] = []

        def job() -> None:
            where.append(threading.current_thread())

        def failing() -> None:
            raise RuntimeError("sync failure")

        await g.go(job)
        assert g.try_go(failing)
        with pytest.raises(RuntimeError, match="sync failure"):
            await g.wait()
        assert where
        assert where[0] is not loop_thread

    run_default(main())


def test_limit_bounds_how_many_jobs_run_at_once(run: Runner) -> None:
    async def main() -> int:
        g = ErrGroup(limit=3)
        running = peak = 0

        async def job() -> None:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            for _ in range(3):
                await gokio.yield_now()
            running -= 1

        for _ in range(20):
            await g.go(job)
        await g.wait()
        return peak

    assert run(main()) == 3


def test_go_waits_for_a_slot_and_callers_get_slots_in_order(run: Runner) -> None:
    async def main() -> list[int]:
        g = ErrGroup(limit=1)
        release = asyncio.Event()
        started: list[int] = []

        async def job(i: int) -> None:
            started.append(i)
            await release.wait()

        await g.go(job, 0)
        starters = []
        for i in range(1, 4):
            starters.append(asyncio.ensure_future(g.go(job, i)))
            await gokio.yield_now()
        assert started == [0]
        release.set()
        await asyncio.gather(*starters)
        await g.wait()
        return started

    assert run(main()) == [0, 1, 2, 3]


def test_a_parked_go_is_recorded_as_waiting_for_a_slot(run: Runner) -> None:
    async def main() -> None:
        g = ErrGroup(limit=1)
        release = asyncio.Event()
        await g.go(release.wait)
        starter = asyncio.ensure_future(g.go(release.wait))
        await gokio.yield_now()
        assert WAITS[starter].kind == "errgroup.slot"
        release.set()
        await starter
        await g.wait()

    run(main())


def test_try_go_refuses_when_the_limit_is_reached(run: Runner) -> None:
    async def main() -> None:
        g = ErrGroup(limit=2)
        release = asyncio.Event()
        assert g.try_go(release.wait)
        assert g.try_go(release.wait)
        assert not g.try_go(release.wait)
        release.set()
        await g.wait()
        assert g.try_go(release.wait)
        await g.wait()

    run(main())


def test_cancelled_go_does_not_start_the_job_nor_lose_the_slot(run: Runner) -> None:
    async def main() -> None:
        g = ErrGroup(limit=1)
        release = asyncio.Event()
        started: list[str] = []

        async def job(name: str) -> None:
            started.append(name)
            await release.wait()

        await g.go(job, "first")
        starter = asyncio.ensure_future(g.go(job, "cancelled"))
        await gokio.yield_now()
        starter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await starter
        release.set()
        await g.wait()
        assert started == ["first"]
        assert g._active == 0
        assert g.try_go(job, "after")
        await g.wait()

    run(main())


def test_go_cancelled_just_as_it_was_handed_a_slot_passes_the_slot_on(run: Runner) -> None:
    async def main() -> None:
        g = ErrGroup(limit=1)
        started: list[str] = []

        async def job(name: str) -> None:
            started.append(name)

        gate = asyncio.Event()

        async def first() -> None:
            await gate.wait()

        await g.go(first)
        a = asyncio.ensure_future(g.go(job, "a"))
        b = asyncio.ensure_future(g.go(job, "b"))
        await gokio.yield_now()
        gate.set()
        await gokio.yield_now()  # `first` ends: its slot is handed to `a` (fired)...
        a.cancel()  # ...and `a` is cancelled before it runs: the slot must reach `b`
        with pytest.raises(asyncio.CancelledError):
            await a
        await b
        await g.wait()
        assert started == ["b"]
        assert g._active == 0

    run(main())


def test_random_cancellations_of_parked_go_calls_never_leak_a_slot(run_default: Runner) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)

    async def main() -> None:
        limit = rng.randint(1, 4)
        g = ErrGroup(limit=limit)
        running = peak = 0
        ran = 0

        async def job() -> None:
            nonlocal running, peak, ran
            running += 1
            ran += 1
            peak = max(peak, running)
            for _ in range(rng.randint(0, 3)):
                await gokio.yield_now()
            running -= 1

        starters = [asyncio.ensure_future(g.go(job)) for _ in range(60)]
        cancelled = 0
        for _ in range(30):
            await gokio.yield_now()
            s = rng.choice(starters)
            if not s.done():
                s.cancel()
        results = await asyncio.gather(*starters, return_exceptions=True)
        cancelled = sum(isinstance(r, asyncio.CancelledError) for r in results)
        await g.wait()
        assert peak <= limit, f"seed={seed}"
        assert ran == 60 - cancelled, f"seed={seed}"
        assert g._active == 0, f"seed={seed}"
        assert not g._slotq, f"seed={seed}"
        for _ in range(limit):  # every slot is free again
            assert g.try_go(job), f"seed={seed}"
        await g.wait()

    for _ in range(5):
        run_default(main())


def test_jobs_finishing_on_threads_hand_slots_over_safely(run_default: Runner) -> None:
    async def main() -> int:
        g = ErrGroup(limit=3)
        lock = threading.Lock()
        running = peak = 0

        def job() -> None:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.001)
            with lock:
                running -= 1

        for _ in range(30):
            await g.go(job)
        await g.wait()
        return peak

    assert run_default(main()) <= 3


def test_group_is_reusable_after_wait(run: Runner) -> None:
    async def main() -> None:
        g = ErrGroup()

        async def fail() -> None:
            raise KeyError("round 1")

        async def ok() -> None:
            return None

        await g.go(fail)
        with pytest.raises(KeyError):
            await g.wait()
        old = g.ctx
        await g.go(ok)
        assert g.ctx is not old
        assert g.ctx.err() is None
        await g.wait()  # the old error is gone

    run(main())


def test_ctx_is_a_child_of_the_given_context(run: Runner) -> None:
    async def main() -> None:
        parent, cancel = context.with_cancel(context.with_value(context.background(), "k", 9))
        g = ErrGroup(parent)
        assert g.ctx.value("k") == 9

        async def job() -> None:
            await g.ctx.done()

        await g.go(job)
        cancel()
        await g.wait()

    run(main())


def test_async_with_waits_for_the_jobs(run: Runner) -> None:
    async def main() -> list[int]:
        done: list[int] = []

        async def job() -> None:
            await gokio.yield_now()
            done.append(1)

        async with ErrGroup() as g:
            await g.go(job)
            await g.go(job)
        return done

    assert run(main()) == [1, 1]


def test_async_with_raises_the_first_job_error(run: Runner) -> None:
    async def main() -> None:
        async def fail() -> None:
            raise KeyError("job")

        with pytest.raises(KeyError, match="job"):
            async with ErrGroup() as g:
                await g.go(fail)

    run(main())


def test_an_error_in_the_block_cancels_ctx_waits_and_wins(run: Runner) -> None:
    async def main() -> None:
        stopped: list[bool] = []

        async def job(g: ErrGroup) -> None:
            await g.ctx.done()
            stopped.append(True)
            raise KeyError("job error loses")

        g = ErrGroup()

        async def body() -> None:
            async with g:
                await g.go(job, g)
                raise ValueError("block")

        with pytest.raises(ValueError, match="block"):
            await body()
        assert stopped == [True]
        assert isinstance(g.ctx.cause(), ValueError)

    run(main())


def test_cancelling_wait_cancels_ctx_so_jobs_can_stop(run: Runner) -> None:
    async def main() -> None:
        g = ErrGroup()
        await g.go(lambda_done(g))
        waiter = asyncio.ensure_future(g.wait())
        await gokio.yield_now()
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert g.ctx.err() is not None
        await g.wait()

    run(main())


def lambda_done(g: ErrGroup) -> Any:
    async def job() -> None:
        await g.ctx.done()

    return job


def test_a_job_task_aborted_from_outside_counts_as_task_aborted(run: Runner) -> None:
    async def main() -> None:
        g = ErrGroup()

        async def job() -> None:
            asyncio.current_task().cancel()  # type: ignore[union-attr]
            await asyncio.sleep(0)

        await g.go(job)
        with pytest.raises(gokio.TaskAborted, match="job"):
            await g.wait()

    run(main())


@pytest.mark.parametrize("limit", [0, -1])
def test_limit_below_one_is_a_value_error(limit: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ErrGroup(limit=limit)


@pytest.mark.parametrize("limit", [True, 2.0, "4"])
def test_limit_that_is_not_an_int_is_a_type_error(limit: Any) -> None:
    with pytest.raises(TypeError, match="limit must be an int"):
        ErrGroup(limit=limit)


def test_ctx_that_is_not_a_context_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="Context"):
        ErrGroup("ctx")  # type: ignore[arg-type]


def test_go_with_a_coroutine_object_is_a_clear_type_error(run: Runner) -> None:
    async def main() -> None:
        async def job() -> None:
            return None

        g = ErrGroup()
        with pytest.raises(TypeError, match=r"not g.go\(job\(x\)\)"):
            await g.go(job())  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="takes a function"):
            g.try_go(42)  # type: ignore[arg-type]
        await g.wait()

    run(main())
