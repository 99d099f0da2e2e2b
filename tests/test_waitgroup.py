"""WaitGroup: the counter, waiting from tasks and threads, go(), and bad input."""

from __future__ import annotations

import asyncio
import random
import threading
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import gokio
from gokio import WaitGroup
from gokio._park import WAITS
from tests.conftest import Runner


async def _await(aw: Any) -> Any:
    return await aw


def test_wait_returns_at_once_when_the_counter_is_zero(run: Runner) -> None:
    async def main() -> None:
        await WaitGroup().wait()

    run(main())


def test_wait_wakes_every_waiter_when_the_counter_reaches_zero(run: Runner) -> None:
    async def main() -> None:
        wg = WaitGroup()
        wg.add(2)
        waiters = [asyncio.ensure_future(_await(wg.wait())) for _ in range(3)]
        await gokio.yield_now()
        wg.done()
        await gokio.yield_now()
        assert not any(w.done() for w in waiters)
        wg.done()
        await asyncio.gather(*waiters)

    run(main())


def test_a_parked_wait_is_recorded_with_kind_waitgroup(run: Runner) -> None:
    async def main() -> None:
        wg = WaitGroup()
        wg.add()
        task = asyncio.ensure_future(_await(wg.wait()))
        await gokio.yield_now()
        assert WAITS[task].kind == "waitgroup"
        assert WAITS[task].obj is wg
        wg.done()
        await task

    run(main())


def test_cancelling_a_wait_removes_the_waiter_and_leaves_the_counter(run: Runner) -> None:
    async def main() -> None:
        wg = WaitGroup()
        wg.add()
        task = asyncio.ensure_future(_await(wg.wait()))
        await gokio.yield_now()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not wg._waiters
        assert wg._count == 1

    run(main())


def test_wait_works_as_a_select_case(run: Runner) -> None:
    async def main() -> None:
        wg = WaitGroup()
        wg.add()
        ch: gokio.Chan[int] = gokio.chan()
        assert await gokio.select(ch.recv(), wg.wait(), default=True) is None
        asyncio.get_running_loop().call_soon(wg.done)
        assert await gokio.select(ch.recv(), wg.wait()) == (1, None)

    run(main())


def test_done_from_plain_threads_wakes_a_task(run_default: Runner) -> None:
    async def main() -> None:
        wg = WaitGroup()
        wg.add(8)
        for _ in range(8):
            threading.Thread(target=wg.done).start()
        await wg.wait()

    run_default(main())


def test_blocking_wait_on_a_plain_thread() -> None:
    wg = WaitGroup()
    wg.add(3)
    for _ in range(3):
        threading.Timer(0.005, wg.done).start()
    wg.blocking_wait()
    assert wg._count == 0


def test_blocking_wait_on_a_loop_thread_is_a_clear_error(run: Runner) -> None:
    async def main() -> None:
        wg = WaitGroup()
        wg.add()
        with pytest.raises(RuntimeError, match=r"await wg\.wait"):
            wg.blocking_wait()

    run(main())


def test_go_counts_an_async_job(run: Runner) -> None:
    async def main() -> int:
        wg = WaitGroup()

        async def job(x: int) -> int:
            await gokio.yield_now()
            return x * 2

        h = wg.go(job, 21)
        assert wg._count == 1
        await wg.wait()
        result: int = await h
        return result

    assert run(main()) == 42


def test_go_counts_a_plain_job_and_done_runs_even_if_it_raises(run_default: Runner) -> None:
    async def main() -> None:
        wg = WaitGroup()

        def job() -> None:
            raise KeyError("sync job")

        h = wg.go(job)
        await wg.wait()
        with pytest.raises(KeyError):
            await h

    run_default(main())


def test_go_with_a_coroutine_object_is_a_clear_type_error(run: Runner) -> None:
    async def main() -> None:
        async def job() -> None:
            return None

        wg = WaitGroup()
        with pytest.raises(TypeError, match=r"not wg.go\(job\(x\)\)"):
            wg.go(job())  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="takes a function"):
            wg.go(None)  # type: ignore[arg-type]
        assert wg._count == 0

    run(main())


def test_done_below_zero_is_a_value_error_and_changes_nothing() -> None:
    wg = WaitGroup()
    with pytest.raises(ValueError, match="below zero"):
        wg.done()
    wg.add(1)
    with pytest.raises(ValueError, match="below zero"):
        wg.add(-2)
    assert wg._count == 1


def test_negative_add_is_allowed_while_the_counter_stays_non_negative() -> None:
    wg = WaitGroup()
    wg.add(3)
    wg.add(-3)
    assert wg._count == 0


@pytest.mark.parametrize("n", [1.0, "1", None, True])
def test_add_with_a_non_int_is_a_type_error(n: Any) -> None:
    with pytest.raises(TypeError, match="takes an int"):
        WaitGroup().add(n)


def test_threads_adding_and_finishing_concurrently_end_at_zero(run_default: Runner) -> None:
    seed = random.randrange(2**32)

    async def main() -> None:
        wg = WaitGroup()
        rng = random.Random(seed)
        counts = [rng.randint(1, 50) for _ in range(6)]
        wg.add(sum(counts))
        waiters = [asyncio.ensure_future(_await(wg.wait())) for _ in range(4)]

        def finisher(n: int) -> None:
            for _ in range(n):
                wg.done()

        for n in counts:
            threading.Thread(target=finisher, args=(n,)).start()
        await asyncio.wait_for(asyncio.gather(*waiters), 10)
        assert wg._count == 0, f"seed={seed}"

    run_default(main())


class WaitGroupModel(RuleBasedStateMachine):
    """add/done/wait against a plain counter: waiters wake exactly when it hits zero."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.wg = WaitGroup()
        self.count = 0
        self.waiters: list[asyncio.Future[Any]] = []

    def _spin(self) -> None:
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.run_until_complete(asyncio.sleep(0))

    @rule(n=st.integers(-5, 5))
    def add(self, n: int) -> None:
        if self.count + n < 0:
            with pytest.raises(ValueError, match="below zero"):
                self.wg.add(n)
        else:
            self.wg.add(n)
            self.count += n
        self._spin()

    @precondition(lambda self: self.count > 0)
    @rule()
    def done(self) -> None:
        self.wg.done()
        self.count -= 1
        self._spin()

    @rule()
    def start_waiter(self) -> None:
        self.waiters.append(self.loop.create_task(_await(self.wg.wait())))
        self._spin()

    @invariant()
    def waiters_are_done_exactly_when_the_count_was_zero(self) -> None:
        if self.count == 0:
            assert all(w.done() for w in self.waiters)
            self.waiters.clear()
        else:
            assert not any(w.done() for w in self.waiters)
        assert self.wg._count == self.count

    def teardown(self) -> None:
        for w in self.waiters:
            w.cancel()
        if self.waiters:
            self.loop.run_until_complete(asyncio.gather(*self.waiters, return_exceptions=True))
        self.loop.close()


TestWaitGroupModel = WaitGroupModel.TestCase
TestWaitGroupModel.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
