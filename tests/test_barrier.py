"""Barrier: one leader per generation, reuse, cancellation before and after the trip."""

from __future__ import annotations

import asyncio
import threading

import pytest

from gokio import Barrier
from gokio._park import WAITS
from tests.conftest import Runner


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_parties_wait_for_each_other_and_one_leads(run: Runner) -> None:
    async def main() -> list[bool]:
        b = Barrier(3)
        t1 = asyncio.create_task(b.wait())
        t2 = asyncio.create_task(b.wait())
        await settle()
        assert not t1.done()
        assert not t2.done()
        last = await b.wait()
        return [await t1, await t2, last]

    assert run(main()) == [False, False, True]


def test_barrier_is_reusable_across_generations(run: Runner) -> None:
    async def main() -> list[int]:
        b = Barrier(4)
        leaders = []
        for _ in range(5):
            results = await asyncio.gather(*(b.wait() for _ in range(4)))
            leaders.append(results.count(True))
        return leaders

    assert run(main()) == [1, 1, 1, 1, 1]


def test_barrier_of_one_never_waits(run: Runner) -> None:
    async def main() -> None:
        b = Barrier(1)
        assert await b.wait() is True
        assert await b.wait() is True

    run(main())


def test_barrier_of_zero_raises_value_error() -> None:
    with pytest.raises(ValueError, match="n >= 1"):
        Barrier(0)


def test_barrier_of_non_int_raises_type_error() -> None:
    with pytest.raises(TypeError, match="must be an int"):
        Barrier(2.0)  # type: ignore[arg-type]


def test_party_cancelled_before_the_trip_does_not_count(run: Runner) -> None:
    async def main() -> None:
        b = Barrier(2)
        t = asyncio.create_task(b.wait())
        await settle()
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        t2 = asyncio.create_task(b.wait())
        await settle()
        assert not t2.done()  # the cancelled arrival was withdrawn: one of two is in
        assert await b.wait() is True
        assert await t2 is False

    run(main())


def test_party_cancelled_after_the_trip_does_not_undo_it(run: Runner) -> None:
    async def main() -> None:
        b = Barrier(3)
        t1 = asyncio.create_task(b.wait())
        t2 = asyncio.create_task(b.wait())
        await settle()
        assert await b.wait() is True  # trips: t1 and t2 are woken
        t1.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t1
        assert await t2 is False
        # The next generation starts from zero.
        t3 = asyncio.create_task(b.wait())
        await settle()
        assert not t3.done()
        t3.cancel()

    run(main())


def test_parked_wait_is_visible_in_waits(run: Runner) -> None:
    async def main() -> None:
        b = Barrier(2)
        t = asyncio.create_task(b.wait())
        await settle()
        assert WAITS[t].kind == "barrier"
        assert WAITS[t].obj is b
        await b.wait()
        await t

    run(main())


def test_tasks_on_two_loops_meet_at_one_barrier() -> None:
    b = Barrier(4)
    results: list[bool] = []
    lock = threading.Lock()

    async def side() -> None:
        for r in await asyncio.gather(b.wait(), b.wait()):
            with lock:
                results.append(r)

    threads = [threading.Thread(target=asyncio.run, args=(side(),)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(results) == [False, False, False, True]


def test_repr_shows_arrivals() -> None:
    assert "0/3" in repr(Barrier(3))
