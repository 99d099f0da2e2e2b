"""gokio.stream: clean early exit and the concurrency bounds (issue 5, item 1).

Early exit (``take``, ``break``, an exception in a stage, cancellation of the consuming
task) must run every upstream async generator's ``finally`` and cancel *and await* the
work in flight. The suite runs with warnings as errors, so a "Task was destroyed but it
is pending", an un-awaited coroutine or an unclosed generator would fail these tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import pytest

from gokio import stream
from tests.conftest import Runner


class Source:
    """An async generator source that records how far it got and whether it was closed."""

    def __init__(self) -> None:
        self.pulled = 0
        self.closed = False
        self.cancelled = False

    async def gen(self, n: int | None = None) -> AsyncIterator[int]:
        try:
            i = 0
            while n is None or i < n:
                await asyncio.sleep(0)
                self.pulled += 1
                yield i
                i += 1
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        finally:
            self.closed = True


class Gauge:
    """Counts work in flight: the maximum at once, and how much was cancelled."""

    def __init__(self) -> None:
        self.running = 0
        self.max = 0
        self.started = 0
        self.cancelled = 0
        self.forever = asyncio.Event()  # never set: work that waits on it is stuck in flight

    async def work(self, x: int, *, stuck: bool = False, steps: int = 1) -> int:
        self.running += 1
        self.started += 1
        self.max = max(self.max, self.running)
        try:
            for _ in range(steps):
                await asyncio.sleep(0)
            if stuck:
                await self.forever.wait()
            return x
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.running -= 1


async def settle(cond: Callable[[], bool], rounds: int = 200) -> None:
    for _ in range(rounds):
        if cond():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")


def no_other_tasks() -> bool:
    return asyncio.all_tasks() == {asyncio.current_task()}


# --- take ----------------------------------------------------------------------------------------


def test_take_closes_the_upstream_generator(run: Runner) -> None:
    src = Source()
    assert run(stream.iter(src.gen()).map(lambda x: x * 2).take(3).collect()) == [0, 2, 4]
    assert src.closed
    assert src.pulled == 3


def test_take_closes_upstream_before_handing_on_the_last_item(run_default: Runner) -> None:
    async def main() -> None:
        src = Source()
        s = stream.iter(src.gen()).take(2)
        assert await s.next() == 0
        closed_after_first = src.closed
        assert await s.next() == 1
        assert (closed_after_first, src.closed) == (False, True)
        await s.aclose()

    run_default(main())


def test_take_after_buffer_unordered_cancels_the_work_in_flight(run: Runner) -> None:
    async def main() -> None:
        src, g = Source(), Gauge()
        out = await (
            stream.iter(src.gen())
            .map(lambda x: g.work(x, stuck=x >= 2))
            .buffer_unordered(4)
            .take(2)
            .collect()
        )
        assert sorted(out) == [0, 1]
        assert src.closed
        assert g.running == 0  # every stuck item was cancelled *and* has finished
        assert g.cancelled == g.started - 2
        assert no_other_tasks()

    run(main())


# --- break --------------------------------------------------------------------------------------


def test_break_inside_async_with_closes_the_stream_at_once(run: Runner) -> None:
    async def main() -> None:
        src, g = Source(), Gauge()
        s = stream.iter(src.gen()).map(lambda x: g.work(x, stuck=x >= 3)).buffer_unordered(5)
        async with s:
            async for x in s:
                if x == 1:
                    break
        assert src.closed
        assert g.running == 0
        assert g.cancelled > 0
        assert no_other_tasks()

    run(main())


def test_break_out_of_a_dropped_stream_closes_it_soon_after(run: Runner) -> None:
    async def main() -> None:
        src, g = Source(), Gauge()
        async for x in stream.iter(src.gen()).map(lambda x: g.work(x, stuck=x >= 3)).buffered(3):
            if x == 1:
                break
        # The stream is unreachable now: the loop's async-generator finalizer closes it.
        await settle(lambda: src.closed and g.running == 0)
        assert g.cancelled > 0
        await settle(no_other_tasks)

    run(main())


def test_aclose_runs_every_upstream_finally_in_order(run: Runner) -> None:
    async def main() -> None:
        log: list[str] = []

        async def gen() -> AsyncIterator[int]:
            try:
                for i in range(10):
                    yield i
            finally:
                log.append("source closed")

        s = stream.iter(gen()).map(lambda x: x).filter(lambda x: True).chunks(2)
        assert await s.next() == [0, 1]
        await s.aclose()
        assert log == ["source closed"]
        with pytest.raises(StopAsyncIteration):
            await s.next()
        await s.aclose()  # closing again does nothing

    run(main())


def test_aclose_of_a_stream_taken_over_by_a_combinator_does_nothing(run_default: Runner) -> None:
    async def main() -> None:
        src = Source()
        s = stream.iter(src.gen(5))
        t = s.take(2)
        await s.aclose()
        assert await t.collect() == [0, 1]

    run_default(main())


# --- exceptions in a stage ---------------------------------------------------------------------


def test_an_exception_in_map_closes_the_upstream(run: Runner) -> None:
    src = Source()

    def boom(x: int) -> int:
        if x == 2:
            raise ValueError("boom")
        return x

    with pytest.raises(ValueError, match="boom"):
        run(stream.iter(src.gen()).map(boom).collect())
    assert src.closed


def test_an_exception_in_the_consumer_body_closes_via_async_with(run: Runner) -> None:
    async def main() -> None:
        src = Source()
        s = stream.iter(src.gen())

        async def consume() -> None:
            async with s:
                async for x in s:
                    if x == 3:
                        raise KeyError(x)

        with pytest.raises(KeyError):
            await consume()
        assert src.closed

    run(main())


def test_an_exception_in_fold_closes_the_stream(run_default: Runner) -> None:
    src = Source()

    def add(a: int, x: int) -> int:
        if x == 4:
            raise RuntimeError("fold failed")
        return a + x

    with pytest.raises(RuntimeError, match="fold failed"):
        run_default(stream.iter(src.gen()).fold(0, add))
    assert src.closed


def test_a_failing_item_in_buffer_unordered_cancels_the_others(run: Runner) -> None:
    async def main() -> None:
        src, g = Source(), Gauge()

        async def work(x: int) -> int:
            if x == 2:
                await asyncio.sleep(0)
                raise ValueError("item 2 failed")
            return await g.work(x, stuck=True)

        with pytest.raises(ValueError, match="item 2 failed"):
            await stream.iter(src.gen()).map(lambda x: work(x)).buffer_unordered(4).collect()
        assert src.closed
        assert g.running == 0
        assert g.cancelled == g.started == 3
        assert no_other_tasks()

    run(main())


def test_an_upstream_error_comes_after_the_items_pulled_before_it(run: Runner) -> None:
    async def main() -> None:
        async def gen() -> AsyncIterator[int]:
            for i in range(3):
                yield i
            raise OSError("source failed")

        got: list[int] = []

        async def consume() -> None:
            async for x in stream.iter(gen()).map(lambda x: Gauge().work(x, steps=3)).buffered(5):
                got.append(x)

        with pytest.raises(OSError, match="source failed"):
            await consume()
        assert got == [0, 1, 2]
        assert no_other_tasks()

    run(main())


def test_a_failing_call_in_for_each_concurrent_cancels_the_others(run: Runner) -> None:
    async def main() -> None:
        src, g = Source(), Gauge()

        async def f(x: int) -> None:
            if x == 3:
                raise LookupError("call 3 failed")
            await g.work(x, stuck=True)

        with pytest.raises(LookupError, match="call 3 failed"):
            await stream.iter(src.gen()).for_each_concurrent(5, f)
        assert src.closed
        assert g.running == 0
        assert g.cancelled == g.started == 3
        assert no_other_tasks()

    run(main())


def test_a_failing_source_in_merge_closes_the_others(run: Runner) -> None:
    async def main() -> None:
        a = Source()

        async def bad() -> AsyncIterator[int]:
            await asyncio.sleep(0)
            yield 100
            raise ValueError("bad source")

        with pytest.raises(ValueError, match="bad source"):
            await stream.merge(a.gen(), bad()).collect()
        assert a.closed
        assert no_other_tasks()

    run(main())


# --- cancellation of the consuming task -----------------------------------------------------------


Terminal = Callable[[stream.Stream[Any]], Coroutine[Any, Any, Any]]


@pytest.mark.parametrize(
    "terminal",
    [
        stream.Stream.collect,
        stream.Stream.count,
        lambda s: s.for_each(lambda x: None),
        lambda s: s.fold(0, lambda a, x: a),
    ],
    ids=["collect", "count", "for_each", "fold"],
)
def test_cancelling_the_consumer_cancels_and_awaits_in_flight_work(
    run: Runner, terminal: Terminal
) -> None:
    async def main() -> None:
        src, g = Source(), Gauge()
        s = stream.iter(src.gen()).map(lambda x: g.work(x, stuck=True)).buffer_unordered(3)
        task = asyncio.get_running_loop().create_task(terminal(s))
        await settle(lambda: g.running == 3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert g.running == 0
        assert g.cancelled == 3
        assert src.closed
        assert no_other_tasks()

    run(main())


def test_cancelling_for_each_concurrent_cancels_the_calls(run: Runner) -> None:
    async def main() -> None:
        src, g = Source(), Gauge()

        async def f(x: int) -> None:
            await g.work(x, stuck=True)

        task = asyncio.get_running_loop().create_task(
            stream.iter(src.gen()).for_each_concurrent(4, f)
        )
        await settle(lambda: g.running == 4)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (g.running, g.cancelled) == (0, 4)
        assert src.closed
        assert no_other_tasks()

    run(main())


def test_cancelling_the_consumer_of_a_merge_cancels_its_feeders(run: Runner) -> None:
    async def main() -> None:
        a, b = Source(), Source()
        g = Gauge()

        async def stuck() -> AsyncIterator[int]:
            try:
                await g.work(0, stuck=True)
                yield 0
            finally:
                pass

        task = asyncio.get_running_loop().create_task(
            stream.merge(a.gen(), b.gen(2), stuck()).collect()
        )
        await settle(lambda: g.running == 1 and b.closed)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert a.closed
        assert (g.running, g.cancelled) == (0, 1)
        assert no_other_tasks()

    run(main())


def test_cancelling_a_plain_pipeline_closes_the_source(run: Runner) -> None:
    async def main() -> None:
        src = Source()
        gate = asyncio.Event()

        async def slow(x: int) -> int:
            if x == 2:
                await gate.wait()
            return x

        task = asyncio.get_running_loop().create_task(
            stream.iter(src.gen()).map(slow).filter(lambda x: True).collect()
        )
        await settle(lambda: src.pulled == 3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert src.closed

    run(main())


def test_a_second_cancel_during_teardown_still_awaits_the_work(run_default: Runner) -> None:
    async def main() -> None:
        g = Gauge()
        slow_exit = asyncio.Event()

        async def work(x: int) -> int:
            try:
                return await g.work(x, stuck=True)
            finally:
                await slow_exit.wait()  # an item that takes a while to finish cancelling

        s = stream.repeat(0).map(lambda x: work(x)).buffer_unordered(2)
        task = asyncio.get_running_loop().create_task(s.collect())
        await settle(lambda: g.running == 2)
        task.cancel()
        await settle(lambda: g.cancelled == 2)
        task.cancel()  # cancelled again while it waits for its items to end
        await asyncio.sleep(0)
        assert not task.done()
        slow_exit.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert no_other_tasks()

    run_default(main())


# --- concurrency bounds --------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3, 8])
def test_buffer_unordered_never_runs_more_than_n(run: Runner, n: int) -> None:
    async def main() -> None:
        g = Gauge()
        out = await (
            stream.iter(range(60))
            .map(lambda x: g.work(x, steps=x % 4))
            .buffer_unordered(n)
            .collect()
        )
        assert sorted(out) == list(range(60))
        assert g.max == n

    run(main())


@pytest.mark.parametrize("n", [1, 4])
def test_buffered_never_runs_more_than_n_and_keeps_order(run: Runner, n: int) -> None:
    async def main() -> None:
        g = Gauge()
        out = (
            await stream.iter(range(40))
            .map(lambda x: g.work(x, steps=5 - x % 5))
            .buffered(n)
            .collect()
        )
        assert out == list(range(40))
        assert g.max == n

    run(main())


@pytest.mark.parametrize("n", [1, 5])
def test_for_each_concurrent_never_runs_more_than_n(run: Runner, n: int) -> None:
    async def main() -> None:
        g = Gauge()

        async def f(x: int) -> None:
            await g.work(x, steps=x % 3)

        await stream.iter(range(50)).for_each_concurrent(n, f)
        assert g.max == n
        assert g.started == 50

    run(main())


def test_buffer_unordered_yields_in_completion_order(run: Runner) -> None:
    async def main() -> list[int]:
        g = Gauge()
        return (
            await stream.iter([3, 0, 2, 1])
            .map(lambda x: g.work(x, steps=2 * x))
            .buffer_unordered(4)
            .collect()
        )

    assert run(main()) == [0, 1, 2, 3]


def test_a_slow_consumer_stops_buffer_unordered_from_pulling(run_default: Runner) -> None:
    async def main() -> None:
        src = Source()
        s = stream.iter(src.gen()).map(lambda x: Gauge().work(x)).buffer_unordered(3)
        assert await s.next() == 0
        for _ in range(50):
            await asyncio.sleep(0)  # the consumer does not ask for more for a while
        assert src.pulled <= 2 * 3 + 1
        await s.aclose()
        assert src.closed

    run_default(main())


def test_buffer_unordered_accepts_tasks_and_futures(run: Runner) -> None:
    async def main() -> list[int]:
        loop = asyncio.get_running_loop()

        def fut(x: int) -> asyncio.Future[int]:
            f = loop.create_future()
            loop.call_soon(f.set_result, x)
            return f

        items: list[Awaitable[int]] = [fut(1), loop.create_task(Gauge().work(2)), fut(3)]
        return await stream.iter(items).buffered(2).collect()

    assert run(main()) == [1, 2, 3]


def test_an_item_cancelled_by_someone_else_raises_cancelled_error(run_default: Runner) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        f: asyncio.Future[int] = loop.create_future()
        f.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stream.iter([f]).buffer_unordered(1).collect()
        assert no_other_tasks()

    run_default(main())
