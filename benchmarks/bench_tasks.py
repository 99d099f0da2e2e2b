"""Tasks: spawn + join throughput, and memory per idle task (issue 2).

The asyncio baseline is ``asyncio.create_task`` (which, like ``gokio.spawn``, looks up
the running loop on every call; on Python 3.11 that lookup makes a ``getpid()`` system
call, a sizeable share of a spawn on a virtual machine).

Targets: gokio ``spawn`` + ``await`` within 1.15x of ``asyncio.create_task`` + ``await``
per task; memory per idle task within 1.15x of a bare asyncio task.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from typing import Any

import anyio
import trio

import gokio
from _harness import compare, run_on

N = 100_000


async def _noop(i: int) -> int:
    return i


async def gokio_spawn_await() -> None:
    handles = [gokio.spawn(_noop(i)) for i in range(N)]
    for h in handles:
        await h


async def asyncio_create_task_await() -> None:
    tasks = [asyncio.create_task(_noop(i)) for i in range(N)]
    for t in tasks:
        await t


BATCH = 1_000


async def gokio_spawn_await_batches() -> None:
    for _ in range(N // BATCH):
        handles = [gokio.spawn(_noop(i)) for i in range(BATCH)]
        for h in handles:
            await h


async def asyncio_create_task_await_batches() -> None:
    for _ in range(N // BATCH):
        tasks = [asyncio.create_task(_noop(i)) for i in range(BATCH)]
        for t in tasks:
            await t


async def gokio_joinset() -> None:
    js: gokio.JoinSet[int] = gokio.JoinSet()
    for i in range(N):
        js.spawn(_noop(i))
    await js.join_all()


async def asyncio_gather() -> None:
    await asyncio.gather(*[asyncio.create_task(_noop(i)) for i in range(N)])


async def asyncio_taskgroup() -> None:
    async with asyncio.TaskGroup() as tg:
        for i in range(N):
            tg.create_task(_noop(i))


async def _none(i: int) -> None:
    return None


def trio_nursery() -> None:
    async def body() -> None:
        async with trio.open_nursery() as n:
            for i in range(N):
                n.start_soon(_none, i)

    trio.run(body)


async def anyio_taskgroup() -> None:
    async with anyio.create_task_group() as tg:
        for i in range(N):
            tg.start_soon(_none, i)


async def _idle_bytes(spawner: str) -> float:
    ev = asyncio.Event()

    async def parked() -> None:
        await ev.wait()

    loop = asyncio.get_running_loop()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    if spawner == "gokio":
        keep: list[Any] = [gokio.spawn(parked()) for _ in range(N)]
    else:
        keep = [loop.create_task(parked()) for _ in range(N)]
    await asyncio.sleep(0)  # every task starts and parks on the event
    await asyncio.sleep(0)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    ev.set()
    for h in keep:
        await h
    return (after - before) / N


def memory_per_task(spawner: str) -> float:
    with asyncio.Runner() as r:
        return r.run(_idle_bytes(spawner))


def main() -> None:
    for kind in ("asyncio", "uvloop"):
        compare(
            f"spawn + await per task, {N // BATCH} batches of {BATCH:,} ({kind} loop)",
            [
                ("gokio.spawn + await handle", run_on(kind, gokio_spawn_await_batches)),
                (
                    "asyncio create_task + await task",
                    run_on(kind, asyncio_create_task_await_batches),
                ),
            ],
            N,
            unit="task",
            target="gokio within 1.15x, i.e. ratio >= 0.87x",
            repeat=9,
        )
    for kind in ("asyncio", "uvloop"):
        compare(
            f"spawn + await, {N:,} tasks ({kind} loop)",
            [
                ("gokio.spawn + await handle", run_on(kind, gokio_spawn_await)),
                ("asyncio create_task + await task", run_on(kind, asyncio_create_task_await)),
            ],
            N,
            unit="task",
            target="gokio within 1.15x, i.e. ratio >= 0.87x",
        )
    compare(
        f"spawn + join of {N:,} tasks",
        [
            ("gokio.JoinSet spawn + join_all", run_on("asyncio", gokio_joinset)),
            ("asyncio create_task + gather", run_on("asyncio", asyncio_gather)),
            ("asyncio.TaskGroup", run_on("asyncio", asyncio_taskgroup)),
            ("trio nursery start_soon", trio_nursery),
            ("anyio task group (asyncio backend)", run_on("asyncio", anyio_taskgroup)),
        ],
        N,
        unit="task",
        repeat=3,
    )
    g = memory_per_task("gokio")
    a = memory_per_task("asyncio")
    print(f"\n## memory per idle task ({N:,} tasks parked on one event)  (target: within 1.15x)")
    print(f"{'gokio.spawn':<44} {g:>10.0f} bytes")
    print(f"{'asyncio create_task':<44} {a:>10.0f} bytes")
    print(f"{'gokio / asyncio':<44} {g / a:>10.2f}x")


if __name__ == "__main__":
    main()
