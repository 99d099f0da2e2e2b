"""Sync primitives: gokio Mutex / Semaphore against asyncio's and anyio's (asyncio backend).

Uncontended: one task takes and releases the lock in a loop (the fast path: ours are
thread-safe, asyncio's are not). Contended: 10 tasks take turns, each yielding to the
loop while it holds the lock, so every acquire after the first parks and is handed off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

import gokio
from _harness import compare, run_on

N = 50_000
TASKS = 10
ROUNDS = 500  # per task, contended


# --- uncontended -----------------------------------------------------------------------


async def gokio_mutex_uncontended() -> None:
    m = gokio.Mutex(0)
    for _ in range(N):
        async with m.lock() as g:
            g.value += 1


async def gokio_mutex_lock_only() -> None:
    m = gokio.Mutex(0)
    for _ in range(N):
        async with m.lock():
            pass


async def asyncio_lock_only() -> None:
    lock = asyncio.Lock()
    for _ in range(N):
        async with lock:
            pass


async def asyncio_lock_uncontended() -> None:
    lock = asyncio.Lock()
    v = 0
    for _ in range(N):
        async with lock:
            v += 1


async def anyio_lock_uncontended() -> None:
    lock = anyio.Lock()
    v = 0
    for _ in range(N):
        async with lock:
            v += 1


async def gokio_sem_uncontended() -> None:
    sem = gokio.Semaphore(4)
    for _ in range(N):
        async with sem.acquire():
            pass


async def asyncio_sem_uncontended() -> None:
    sem = asyncio.Semaphore(4)
    for _ in range(N):
        async with sem:
            pass


async def anyio_sem_uncontended() -> None:
    sem = anyio.Semaphore(4)
    for _ in range(N):
        async with sem:
            pass


# --- contended -------------------------------------------------------------------------


async def gokio_mutex_contended() -> None:
    m = gokio.Mutex(0)

    async def worker() -> None:
        for _ in range(ROUNDS):
            async with m.lock() as g:
                g.value += 1
                await asyncio.sleep(0)

    await asyncio.gather(*(worker() for _ in range(TASKS)))


async def asyncio_lock_contended() -> None:
    lock = asyncio.Lock()

    async def worker() -> None:
        for _ in range(ROUNDS):
            async with lock:
                await asyncio.sleep(0)

    await asyncio.gather(*(worker() for _ in range(TASKS)))


async def anyio_lock_contended() -> None:
    lock = anyio.Lock()

    async def worker() -> None:
        for _ in range(ROUNDS):
            async with lock:
                await asyncio.sleep(0)

    await asyncio.gather(*(worker() for _ in range(TASKS)))


async def gokio_sem_contended() -> None:
    sem = gokio.Semaphore(2)

    async def worker() -> None:
        for _ in range(ROUNDS):
            async with sem.acquire():
                await asyncio.sleep(0)

    await asyncio.gather(*(worker() for _ in range(TASKS)))


async def asyncio_sem_contended() -> None:
    sem = asyncio.Semaphore(2)

    async def worker() -> None:
        for _ in range(ROUNDS):
            async with sem:
                await asyncio.sleep(0)

    await asyncio.gather(*(worker() for _ in range(TASKS)))


async def anyio_sem_contended() -> None:
    sem = anyio.Semaphore(2)

    async def worker() -> None:
        for _ in range(ROUNDS):
            async with sem:
                await asyncio.sleep(0)

    await asyncio.gather(*(worker() for _ in range(TASKS)))


def main() -> None:
    target = "within 1.3x of asyncio uncontended (ratio >= 0.77), ahead of anyio"

    def on(make: Callable[[], Awaitable[Any]]) -> Callable[[], Any]:
        return run_on("asyncio", make)

    compare(
        "Mutex, uncontended lock/unlock",
        [
            ("gokio.Mutex (thread-safe)", on(gokio_mutex_lock_only)),
            ("asyncio.Lock", on(asyncio_lock_only)),
            ("anyio.Lock (asyncio backend)", on(anyio_lock_uncontended)),
        ],
        N,
        target=target,
        repeat=9,
    )
    compare(
        "Mutex, uncontended, updating the protected value",
        [
            ("gokio.Mutex: guard.value += 1", on(gokio_mutex_uncontended)),
            ("asyncio.Lock: a local += 1 under the lock", on(asyncio_lock_uncontended)),
        ],
        N,
        repeat=9,
    )
    compare(
        "Semaphore, uncontended acquire/release",
        [
            ("gokio.Semaphore (thread-safe)", on(gokio_sem_uncontended)),
            ("asyncio.Semaphore", on(asyncio_sem_uncontended)),
            ("anyio.Semaphore (asyncio backend)", on(anyio_sem_uncontended)),
        ],
        N,
        target=target,
        repeat=9,
    )
    ops = TASKS * ROUNDS
    compare(
        f"Mutex, contended ({TASKS} tasks, hold across a yield)",
        [
            ("gokio.Mutex (FIFO hand-off)", on(gokio_mutex_contended)),
            ("asyncio.Lock", on(asyncio_lock_contended)),
            ("anyio.Lock (asyncio backend)", on(anyio_lock_contended)),
        ],
        ops,
    )
    compare(
        f"Semaphore(2), contended ({TASKS} tasks, hold across a yield)",
        [
            ("gokio.Semaphore (FIFO hand-off)", on(gokio_sem_contended)),
            ("asyncio.Semaphore", on(asyncio_sem_contended)),
            ("anyio.Semaphore (asyncio backend)", on(anyio_sem_contended)),
        ],
        ops,
    )


if __name__ == "__main__":
    main()
