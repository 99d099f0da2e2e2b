"""Structured groups: an ErrGroup with a concurrency limit against its asyncio and anyio peers.

Each run starts JOBS jobs, at most LIMIT at a time, each of which yields to the loop once,
and waits for all of them. Peers:

* asyncio, bounded spawning (the errgroup pattern): ``await sem.acquire()`` before
  ``tg.create_task``, released by the job;
* asyncio, every task created at once, each ``async with sem`` inside;
* anyio task group, each job ``async with limiter`` (a ``CapacityLimiter``) inside.
"""

from __future__ import annotations

import asyncio
from typing import Any

import gokio
from _harness import Row, best_of, report, run_on

JOBS = 10_000
LIMIT = 16


async def gokio_errgroup() -> None:
    g = gokio.ErrGroup(limit=LIMIT)

    async def job() -> None:
        await asyncio.sleep(0)

    for _ in range(JOBS):
        await g.go(job)
    await g.wait()


async def asyncio_bounded_spawn() -> None:
    sem = asyncio.Semaphore(LIMIT)

    async def job() -> None:
        try:
            await asyncio.sleep(0)
        finally:
            sem.release()

    async with asyncio.TaskGroup() as tg:
        for _ in range(JOBS):
            await sem.acquire()
            tg.create_task(job())


async def asyncio_all_tasks() -> None:
    sem = asyncio.Semaphore(LIMIT)

    async def job() -> None:
        async with sem:
            await asyncio.sleep(0)

    async with asyncio.TaskGroup() as tg:
        for _ in range(JOBS):
            tg.create_task(job())


async def anyio_limiter() -> None:
    import anyio

    limiter = anyio.CapacityLimiter(LIMIT)

    async def job() -> None:
        async with limiter:
            await asyncio.sleep(0)

    async with anyio.create_task_group() as tg:
        for _ in range(JOBS):
            tg.start_soon(job)


def _row(name: str, loop: str, factory: Any) -> Row:
    return Row(name, best_of(run_on(loop, factory), repeat=3), JOBS, "job")


def main() -> None:
    for loop in ("asyncio", "uvloop"):
        report(
            f"ErrGroup(limit={LIMIT}), {JOBS:,} jobs [{loop}]",
            [
                _row("gokio ErrGroup(limit) go/wait", loop, gokio_errgroup),
                _row("asyncio Semaphore + TaskGroup (bounded spawn)", loop, asyncio_bounded_spawn),
                _row("asyncio Semaphore + TaskGroup (all tasks)", loop, asyncio_all_tasks),
                _row("anyio task group + CapacityLimiter", loop, anyio_limiter),
            ],
        )


if __name__ == "__main__":
    main()
