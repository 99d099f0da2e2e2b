"""Streams: a map -> filter -> buffer_unordered(8) -> collect pipeline (issue 5).

Every implementation does the same work over ``N`` items: ``x * 3`` (sync), keep the even
ones, then an async step per item (one real suspension, as an I/O call would have) run
with at most 8 in flight, results gathered into a list in completion order.

Target: gokio ahead of aiostream (``stream.map`` / ``stream.filter`` /
``stream.map(task_limit=8, ordered=False)``). The hand-written asyncio versions are the
floor: a semaphore with a task per item, and 8 workers sharing one iterator.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from aiostream import pipe
from aiostream import stream as astream

from _harness import Row, best_of, report, run_on
from gokio import stream

N = 100_000
LIMIT = 8
EXPECTED = N // 2  # x * 3 is even exactly when x is


def _triple(x: int) -> int:
    return x * 3


def _even(x: int) -> bool:
    return x % 2 == 0


async def _work(x: int) -> int:
    await asyncio.sleep(0)  # one suspension per item, like an I/O call
    return x + 1


async def gokio_pipeline() -> None:
    out = await (
        stream.iter(range(N))
        .map(_triple)
        .filter(_even)
        .map(lambda x: _work(x))
        .buffer_unordered(LIMIT)
        .collect()
    )
    assert len(out) == EXPECTED


async def aiostream_pipeline() -> None:
    xs = (
        astream.iterate(range(N))
        | pipe.map(_triple)
        | pipe.filter(_even)
        | pipe.map(_work, task_limit=LIMIT, ordered=False)
    )
    out = await astream.list(xs)
    assert len(out) == EXPECTED


def _source() -> Iterator[int]:
    return filter(_even, map(_triple, range(N)))


async def asyncio_semaphore_tasks() -> None:
    sem = asyncio.Semaphore(LIMIT)
    out: list[int] = []

    async def one(x: int) -> None:
        try:
            out.append(await _work(x))
        finally:
            sem.release()

    tasks = set()
    for x in _source():
        await sem.acquire()
        t = asyncio.create_task(one(x))
        tasks.add(t)
        t.add_done_callback(tasks.discard)
    for _ in range(LIMIT):
        await sem.acquire()
    assert len(out) == EXPECTED


async def asyncio_workers() -> None:
    src = _source()
    out: list[int] = []

    async def worker() -> None:
        # Sharing a sync iterator is safe: next() never suspends.
        for x in src:
            out.append(await _work(x))

    await asyncio.gather(*(worker() for _ in range(LIMIT)))
    assert len(out) == EXPECTED


def main() -> None:
    repeat = 1  # the issue asks for one run
    rows = []
    for name, fn in [
        ("gokio stream ... buffer_unordered(8)", gokio_pipeline),
        ("aiostream map/filter/map(task_limit=8)", aiostream_pipeline),
        ("asyncio semaphore + task per item", asyncio_semaphore_tasks),
        ("asyncio 8 workers over one iterator", asyncio_workers),
    ]:
        rows.append(Row(name, best_of(run_on("asyncio", fn), repeat), N, "item"))
    report(
        f"stream pipeline: map -> filter -> buffer_unordered({LIMIT}) -> collect, {N:,} items",
        rows,
        target="ahead of aiostream",
    )


if __name__ == "__main__":
    main()
