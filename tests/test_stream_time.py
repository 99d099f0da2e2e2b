"""gokio.stream, time-dependent stages on the virtual clock (issue 5, item 1).

``throttle``, ``timeout``, ``chunks_timeout``, ``interval`` and timed ``merge``. The clock
starts at 0.0 and jumps to the next timer whenever the loop is idle, so the times below
are exact and cost no real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import gokio
from gokio import stream
from tests.conftest import Runner


def now() -> float:
    return asyncio.get_running_loop().time()


class Timed:
    """An async generator yielding ``(value, at)`` items at given virtual times."""

    def __init__(self, schedule: list[tuple[float, int]]) -> None:
        self.schedule = schedule
        self.closed = False
        self.cancelled = False
        self.pulls: list[float] = []

    async def gen(self) -> AsyncIterator[int]:
        try:
            for at, v in self.schedule:
                self.pulls.append(now())
                if at > now():
                    await asyncio.sleep(at - now())
                yield v
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        finally:
            self.closed = True


async def stamped(s: stream.Stream[int]) -> list[tuple[float, int]]:
    return [(now(), x) async for x in s]


# --- throttle ------------------------------------------------------------------------------------


def test_throttle_spaces_ready_items(vrun: Runner) -> None:
    out = vrun(stamped(stream.iter(range(4)).throttle(0.5)))
    assert out == [(0.0, 0), (0.5, 1), (1.0, 2), (1.5, 3)]


def test_throttle_does_not_delay_items_that_are_already_far_apart(vrun: Runner) -> None:
    src = Timed([(0, 0), (2, 1), (5, 2)])
    assert vrun(stamped(stream.iter(src.gen()).throttle(1))) == [(0, 0), (2, 1), (5, 2)]


def test_throttle_counts_from_the_previous_emission(vrun: Runner) -> None:
    src = Timed([(0, 0), (0.2, 1), (0.4, 2)])
    out = vrun(stamped(stream.iter(src.gen()).throttle(1)))
    assert out == [(0, 0), (1, 1), (2, 2)]


def test_throttle_asks_upstream_only_once_it_may_emit(vrun: Runner) -> None:
    src = Timed([(0, 0), (0, 1), (0, 2)])
    vrun(stream.iter(src.gen()).throttle(1).collect())
    assert src.pulls == [0, 1, 2]


def test_throttle_zero_passes_items_through(vrun: Runner) -> None:
    assert vrun(stamped(stream.iter(range(3)).throttle(0))) == [(0, 0), (0, 1), (0, 2)]


# --- timeout ------------------------------------------------------------------------------------


def test_timeout_passes_items_that_arrive_in_time(vrun: Runner) -> None:
    src = Timed([(0.5, 0), (1.0, 1), (1.9, 2)])
    assert vrun(stream.iter(src.gen()).timeout(1).collect()) == [0, 1, 2]


def test_timeout_raises_elapsed_when_an_item_is_late(vrun: Runner) -> None:
    async def main() -> None:
        src = Timed([(0.5, 0), (3.0, 1)])
        got: list[int] = []

        async def consume() -> None:
            async for x in stream.iter(src.gen()).timeout(1):
                got.append(x)

        with pytest.raises(gokio.Elapsed, match=r"no item within 1 s"):
            await consume()
        assert got == [0]
        assert now() == 1.5
        assert src.closed

    vrun(main())


def test_timeout_elapsed_is_a_timeout_error(vrun: Runner) -> None:
    src = Timed([(5, 0)])
    with pytest.raises(TimeoutError):
        vrun(stream.iter(src.gen()).timeout(2).collect())


def test_timeout_restarts_for_every_item(vrun: Runner) -> None:
    src = Timed([(0.9, 0), (1.8, 1), (2.7, 2)])
    assert vrun(stream.iter(src.gen()).timeout(1).count()) == 3


def test_an_outside_cancel_is_not_turned_into_elapsed(vrun: Runner) -> None:
    async def main() -> None:
        src = Timed([(10, 0)])
        task = asyncio.get_running_loop().create_task(stream.iter(src.gen()).timeout(5).collect())
        await asyncio.sleep(1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert src.closed

    vrun(main())


# --- chunks_timeout ------------------------------------------------------------------------------


def test_chunks_timeout_emits_full_chunks_at_once(vrun: Runner) -> None:
    out = vrun(stamped(stream.iter(range(6)).chunks_timeout(3, 10)))  # type: ignore[arg-type]
    assert out == [(0, [0, 1, 2]), (0, [3, 4, 5])]


def test_chunks_timeout_emits_a_partial_chunk_when_time_is_up(vrun: Runner) -> None:
    src = Timed([(0, 0), (0.5, 1), (5, 2), (5, 3), (5, 4)])
    out = vrun(stamped(stream.iter(src.gen()).chunks_timeout(3, 2)))  # type: ignore[arg-type]
    assert out == [(2, [0, 1]), (5, [2, 3, 4])]


def test_chunks_timeout_counts_from_the_chunks_first_item(vrun: Runner) -> None:
    src = Timed([(3, 0), (4, 1), (4.5, 2), (10, 3)])
    out = vrun(stamped(stream.iter(src.gen()).chunks_timeout(5, 2)))  # type: ignore[arg-type]
    assert out == [(5, [0, 1, 2]), (10, [3])]


def test_chunks_timeout_emits_the_last_partial_chunk_at_the_end(vrun: Runner) -> None:
    out = vrun(stream.iter(range(5)).chunks_timeout(2, 1).collect())
    assert out == [[0, 1], [2, 3], [4]]


def test_chunks_timeout_never_emits_an_empty_chunk(vrun: Runner) -> None:
    src = Timed([(10, 0)])
    assert vrun(stream.iter(src.gen()).chunks_timeout(3, 1).collect()) == [[0]]


def test_chunks_timeout_does_not_interrupt_the_upstream(vrun: Runner) -> None:
    src = Timed([(0, 0), (5, 1), (10, 2)])
    assert vrun(stream.iter(src.gen()).chunks_timeout(4, 1).collect()) == [[0], [1], [2]]
    assert not src.cancelled
    assert src.closed


def test_chunks_timeout_hands_on_items_taken_before_an_upstream_error(vrun: Runner) -> None:
    async def main() -> None:
        async def gen() -> AsyncIterator[int]:
            yield 1
            yield 2
            raise OSError("source broke")

        got: list[list[int]] = []

        async def consume() -> None:
            async for c in stream.iter(gen()).chunks_timeout(5, 1):
                got.append(c)

        with pytest.raises(OSError, match="source broke"):
            await consume()
        assert got == [[1, 2]]

    vrun(main())


def test_chunks_timeout_early_exit_cancels_its_feeder(vrun: Runner) -> None:
    async def main() -> None:
        src = Timed([(0, 0), (100, 1)])
        out = await stream.iter(src.gen()).chunks_timeout(3, 1).take(1).collect()
        assert out == [[0]]
        assert now() == 1
        assert src.cancelled  # it was waiting for its next item; the feeder was cancelled
        assert src.closed
        assert asyncio.all_tasks() == {asyncio.current_task()}

    vrun(main())


# --- interval and merge -------------------------------------------------------------------------


def test_interval_ticks_instants_one_period_apart(vrun: Runner) -> None:
    async def main() -> list[float]:
        ticks = await stream.interval(1.5).take(4).collect()
        assert all(isinstance(t, gokio.Instant) for t in ticks)
        assert now() == 4.5
        return [t.seconds for t in ticks]

    assert vrun(main()) == [0.0, 1.5, 3.0, 4.5]


def test_interval_accepts_a_missed_tick_policy(vrun: Runner) -> None:
    async def main() -> list[float]:
        s = stream.interval(1, missed_tick="skip")
        out = [(await s.next()).seconds]
        await asyncio.sleep(3.5)
        out += [(await s.next()).seconds, (await s.next()).seconds]
        await s.aclose()
        return out

    assert vrun(main()) == [0.0, 1.0, 4.0]


def test_merge_yields_items_in_arrival_order(vrun: Runner) -> None:
    a = Timed([(1, 10), (3, 11)])
    b = Timed([(2, 20), (4, 21)])
    out = vrun(stamped(stream.iter(a.gen()).merge(b.gen())))
    assert out == [(1, 10), (2, 20), (3, 11), (4, 21)]


def test_merge_of_an_interval_and_a_stream(vrun: Runner) -> None:
    async def main() -> list[str]:
        ticks = stream.interval(1).map(lambda t: f"tick {t.seconds:g}")
        words = stream.iter(Timed([(1.5, 1), (2.5, 2)]).gen()).map(lambda x: f"word {x}")
        return await ticks.merge(words).take(5).collect()

    assert vrun(main()) == ["tick 0", "tick 1", "word 1", "tick 2", "word 2"]
