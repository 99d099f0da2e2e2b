"""A tour of gokio in one program: tasks, channels, select, timeouts, groups and threads.

Run it with ``./scripts/demo`` (or ``python examples/showcase.py``).
"""

from __future__ import annotations

import threading
import time

import gokio


async def tasks_and_joinset() -> None:
    print("\n-- tasks: spawn, JoinSet, spawn_blocking")

    async def square(n: int) -> int:
        await gokio.sleep(0.01 * (5 - n))
        return n * n

    async with gokio.JoinSet[int]() as js:
        for n in range(5):
            js.spawn(square(n))
        print("squares in completion order:", [v async for v in js])

    def cpu_bound(n: int) -> int:  # runs on the blocking pool, the loop stays free
        return sum(i * i for i in range(n))

    print("spawn_blocking:", await gokio.spawn_blocking(cpu_bound, 100_000))


async def go_channels() -> None:
    print("\n-- Go channels: workers fan out, results fan in, close ends the range")
    jobs: gokio.Chan[int] = gokio.chan(8)
    results: gokio.Chan[int] = gokio.chan(8)
    wg = gokio.WaitGroup()

    async def worker(wid: int) -> None:
        async for n in jobs:
            await results.send(n * 10 + wid)

    for wid in range(4):
        wg.go(worker, wid)

    async def feed() -> None:
        for n in range(1, 9):
            await jobs.send(n)
        jobs.close()

    async def close_when_done() -> None:
        await wg.wait()
        results.close()

    gokio.spawn(feed())
    gokio.spawn(close_when_done())
    got = [v async for v in results]
    print(f"{len(got)} results, jobs seen:", sorted(v // 10 for v in got))


async def select_and_timeouts() -> None:
    print("\n-- select: exactly one case commits; a timeout never loses an item")
    fast: gokio.Chan[str] = gokio.chan(1)
    quit_: gokio.Chan[None] = gokio.chan()

    async def fibonacci() -> None:
        x, y = 0, 1
        while True:
            sel = await gokio.select(fast.send(f"fib {x}"), quit_.recv())
            if sel.index == 1:
                return
            x, y = y, x + y

    h = gokio.spawn(fibonacci())
    print([await fast.recv() for _ in range(8)])
    await quit_.send(None)
    await h

    slow: gokio.Chan[int] = gokio.chan()
    try:
        await gokio.timeout(0.05, slow.recv())
    except gokio.Elapsed as e:
        print("timed out:", e)


async def mpsc_and_threads() -> None:
    print("\n-- mpsc: a plain thread and tasks feed one receiver; it ends when senders are gone")
    tx: gokio.mpsc.Sender[str]
    rx: gokio.mpsc.Receiver[str]
    tx, rx = gokio.mpsc.channel(16)

    def thread_producer(tx: gokio.mpsc.Sender[str]) -> None:
        with tx:  # closes this sender handle on exit
            for i in range(3):
                tx.blocking_send(f"from thread {i}")
                time.sleep(0.001)

    threading.Thread(target=thread_producer, args=(tx.clone(),)).start()

    async def task_producer(tx: gokio.mpsc.Sender[str]) -> None:
        with tx:
            for i in range(3):
                await tx.send(f"from task {i}")

    gokio.spawn(task_producer(tx.clone()))
    tx.close()  # our own handle: the channel closes when the last clone is closed
    print(sorted([msg async for msg in rx]))


async def cancellation_and_errgroup() -> None:
    print("\n-- ErrGroup with a limit: the first error cancels the group's context")
    running = peak = 0

    async def job(n: int, ctx: gokio.context.Context) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        try:
            if n == 6:
                raise ValueError(f"job {n} failed")
            await gokio.select(gokio.sleep(0.02), ctx.done())
            return n
        finally:
            running -= 1

    g = gokio.ErrGroup(limit=4)
    try:
        async with g:
            for n in range(10):
                await g.go(job, n, g.ctx)
    except ValueError as e:
        print(f"group failed with {e!r}; at most {peak} jobs ran at once")

    print("\n-- CancellationToken: graceful shutdown of a worker")
    token = gokio.CancellationToken()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        iv = gokio.interval(0.01)
        while not token.is_cancelled():
            sel = await gokio.select(iv.tick(), token.cancelled())
            if sel.index == 0:
                ticks += 1
        print(f"worker stopped cleanly after {ticks} ticks")

    h = gokio.spawn(ticker())
    await gokio.sleep(0.05)
    token.cancel()
    await h


async def shared_state() -> None:
    print("\n-- Mutex[T]: 10 tasks increment one counter")
    counter = gokio.Mutex(0)

    async def incr() -> None:
        for _ in range(100):
            async with counter.lock() as guard:
                guard.value += 1

    await gokio.join(*(incr() for _ in range(10)))
    async with counter.lock() as guard:
        print("counter =", guard.value)


@gokio.main
async def main() -> None:
    t0 = gokio.Instant.now()
    await tasks_and_joinset()
    await go_channels()
    await select_and_timeouts()
    await mpsc_and_threads()
    await cancellation_and_errgroup()
    await shared_state()
    print(f"\nall done in {t0.elapsed():.2f} s")


if __name__ == "__main__":
    main()
