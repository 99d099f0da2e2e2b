"""OnceCell: set once, one initializer under concurrency, retry after failure or cancel."""

from __future__ import annotations

import asyncio
import threading

import pytest

from gokio import OnceCell
from gokio._park import WAITS
from tests.conftest import Runner


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_empty_cell_gets_none() -> None:
    cell: OnceCell[int] = OnceCell()
    assert cell.get() is None
    assert not cell.initialized()


def test_set_then_get() -> None:
    cell: OnceCell[int] = OnceCell()
    cell.set(3)
    assert cell.get() == 3
    assert cell.initialized()


def test_second_set_raises_runtime_error() -> None:
    cell: OnceCell[int] = OnceCell()
    cell.set(1)
    with pytest.raises(RuntimeError, match="already initialized"):
        cell.set(2)
    assert cell.get() == 1


def test_get_or_init_runs_one_initializer_for_concurrent_callers(run: Runner) -> None:
    async def main() -> list[int]:
        cell: OnceCell[int] = OnceCell()
        calls = 0

        async def init() -> int:
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.001)
            return 42

        got = await asyncio.gather(*(cell.get_or_init(init) for _ in range(10)))
        assert calls == 1
        return got

    assert run(main()) == [42] * 10


def test_get_or_init_returns_a_value_already_set(run: Runner) -> None:
    async def main() -> int:
        cell: OnceCell[int] = OnceCell()
        cell.set(7)

        async def init() -> int:
            raise AssertionError("must not run")

        return await cell.get_or_init(init)

    assert run(main()) == 7


def test_failed_initializer_lets_the_next_caller_try(run: Runner) -> None:
    async def main() -> None:
        cell: OnceCell[str] = OnceCell()
        gate = asyncio.Event()

        async def failing() -> str:
            await gate.wait()
            raise ValueError("boom")

        async def working() -> str:
            return "ok"

        first = asyncio.create_task(cell.get_or_init(failing))
        await settle()
        second = asyncio.create_task(cell.get_or_init(working))
        await settle()
        assert not second.done()  # waits for the running initializer
        gate.set()
        with pytest.raises(ValueError, match="boom"):
            await first
        assert await second == "ok"
        assert cell.get() == "ok"

    run(main())


def test_cancelled_initializer_lets_the_next_caller_try(run: Runner) -> None:
    async def main() -> None:
        cell: OnceCell[str] = OnceCell()

        async def slow() -> str:
            await asyncio.sleep(3600)
            return "never"

        async def fast() -> str:
            return "fast"

        first = asyncio.create_task(cell.get_or_init(slow))
        await settle()
        second = asyncio.create_task(cell.get_or_init(fast))
        await settle()
        first.cancel()
        assert await asyncio.wait_for(second, 5) == "fast"

    run(main())


def test_set_while_initializing_raises_runtime_error(run: Runner) -> None:
    async def main() -> None:
        cell: OnceCell[int] = OnceCell()
        gate = asyncio.Event()

        async def init() -> int:
            await gate.wait()
            return 1

        t = asyncio.create_task(cell.get_or_init(init))
        await settle()
        with pytest.raises(RuntimeError, match="being initialized"):
            cell.set(2)
        gate.set()
        assert await t == 1

    run(main())


def test_cancelled_waiter_leaves_no_trace(run: Runner) -> None:
    async def main() -> None:
        cell: OnceCell[int] = OnceCell()
        gate = asyncio.Event()

        async def init() -> int:
            await gate.wait()
            return 5

        first = asyncio.create_task(cell.get_or_init(init))
        await settle()
        waiter = asyncio.create_task(cell.get_or_init(init))
        await settle()
        assert WAITS[waiter].kind == "init"
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert not cell._waiters
        gate.set()
        assert await first == 5

    run(main())


def test_initializers_on_two_loops_run_once() -> None:
    cell: OnceCell[int] = OnceCell()
    calls = 0
    lock = threading.Lock()
    got: list[int] = []

    async def init() -> int:
        nonlocal calls
        with lock:
            calls += 1
        await asyncio.sleep(0.01)
        return 9

    async def side() -> None:
        values = await asyncio.gather(*(cell.get_or_init(init) for _ in range(3)))
        with lock:
            got.extend(values)

    threads = [threading.Thread(target=asyncio.run, args=(side(),)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert calls == 1
    assert got == [9] * 6


def test_repr_shows_state() -> None:
    cell: OnceCell[int] = OnceCell()
    assert "empty" in repr(cell)
    cell.set(1)
    assert "set" in repr(cell)
