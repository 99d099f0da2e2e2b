"""Channel and select throughput against asyncio.Queue, trio, anyio, culsans and janus.

python benchmarks/run.py channels
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import gokio
from _harness import compare, run_on
from gokio import mpsc

N = 100_000


# -- 1 producer / 1 consumer, capacity 1024 -----------------------------------------------


async def gokio_chan_1p1c() -> None:
    ch: gokio.Chan[int] = gokio.chan(1024)

    async def produce() -> None:
        for i in range(N):
            await ch.send(i)
        ch.close()

    t = asyncio.ensure_future(produce())
    async for _ in ch:
        pass
    await t


async def gokio_mpsc_1p1c() -> None:
    tx: mpsc.Sender[int]
    rx: mpsc.Receiver[int]
    tx, rx = mpsc.channel(1024)

    async def produce() -> None:
        with tx:
            for i in range(N):
                await tx.send(i)

    t = asyncio.ensure_future(produce())
    async for _ in rx:
        pass
    await t


async def queue_1p1c() -> None:
    q: asyncio.Queue[int | None] = asyncio.Queue(1024)

    async def produce() -> None:
        for i in range(N):
            await q.put(i)
        await q.put(None)

    t = asyncio.ensure_future(produce())
    while await q.get() is not None:
        pass
    await t


def trio_1p1c() -> None:
    import trio

    async def main() -> None:
        send, recv = trio.open_memory_channel[int](1024)

        async def produce() -> None:
            async with send:
                for i in range(N):
                    await send.send(i)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(produce)
            async with recv:
                async for _ in recv:
                    pass

    trio.run(main)


async def anyio_1p1c() -> None:
    import anyio

    send, recv = anyio.create_memory_object_stream[int](1024)

    async def produce() -> None:
        async with send:
            for i in range(N):
                await send.send(i)

    async with anyio.create_task_group() as tg:
        tg.start_soon(produce)
        async with recv:
            async for _ in recv:
                pass


# -- 4 producers / 1 consumer ---------------------------------------------------------------


async def gokio_mpsc_4p1c() -> None:
    tx: mpsc.Sender[int]
    rx: mpsc.Receiver[int]
    tx, rx = mpsc.channel(1024)

    async def produce(tx: mpsc.Sender[int]) -> None:
        with tx:
            for i in range(N // 4):
                await tx.send(i)

    ts = [asyncio.ensure_future(produce(tx.clone())) for _ in range(4)]
    tx.close()
    async for _ in rx:
        pass
    await asyncio.gather(*ts)


async def queue_4p1c() -> None:
    q: asyncio.Queue[int] = asyncio.Queue(1024)

    async def produce() -> None:
        for i in range(N // 4):
            await q.put(i)

    ts = [asyncio.ensure_future(produce()) for _ in range(4)]
    for _ in range(N // 4 * 4):
        await q.get()
    await asyncio.gather(*ts)


async def gokio_recv_many() -> None:
    tx: mpsc.Sender[int]
    rx: mpsc.Receiver[int]
    tx, rx = mpsc.channel(1024)

    async def produce() -> None:
        with tx:
            for i in range(N):
                await tx.send(i)

    t = asyncio.ensure_future(produce())
    n = 0
    try:
        while True:
            n += len(await rx.recv_many(64))
    except gokio.Closed:
        pass
    assert n == N
    await t


# -- rendezvous ping-pong -----------------------------------------------------------------

ROUNDS = 20_000


async def gokio_pingpong() -> None:
    ping: gokio.Chan[int] = gokio.chan()
    pong: gokio.Chan[int] = gokio.chan()

    async def echo() -> None:
        async for v in ping:
            await pong.send(v)

    t = asyncio.ensure_future(echo())
    for i in range(ROUNDS):
        await ping.send(i)
        await pong.recv()
    ping.close()
    await t


async def queue_pingpong() -> None:
    ping: asyncio.Queue[int | None] = asyncio.Queue(1)
    pong: asyncio.Queue[int] = asyncio.Queue(1)

    async def echo() -> None:
        while (v := await ping.get()) is not None:
            await pong.put(v)

    t = asyncio.ensure_future(echo())
    for i in range(ROUNDS):
        await ping.put(i)
        await pong.get()
    await ping.put(None)
    await t


def trio_pingpong() -> None:
    import trio

    async def main() -> None:
        ps, pr = trio.open_memory_channel[int](0)
        qs, qr = trio.open_memory_channel[int](0)

        async def echo() -> None:
            async for v in pr:
                await qs.send(v)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(echo)
            for i in range(ROUNDS):
                await ps.send(i)
                await qr.receive()
            await ps.aclose()

    trio.run(main)


# -- select over two channels ---------------------------------------------------------------

SEL = 50_000


async def gokio_select() -> None:
    a: gokio.Chan[int] = gokio.chan(64)
    b: gokio.Chan[int] = gokio.chan(64)

    async def produce(ch: gokio.Chan[int]) -> None:
        for i in range(SEL // 2):
            await ch.send(i)

    ts = [asyncio.ensure_future(produce(a)), asyncio.ensure_future(produce(b))]
    for _ in range(SEL):
        await gokio.select(a.recv(), b.recv())
    await asyncio.gather(*ts)


async def _queue_producers(qa: asyncio.Queue[int], qb: asyncio.Queue[int]) -> list[Any]:
    async def produce(q: asyncio.Queue[int]) -> None:
        for i in range(SEL // 2):
            await q.put(i)

    return [asyncio.ensure_future(produce(qa)), asyncio.ensure_future(produce(qb))]


async def wait_select_lossfree() -> None:
    """asyncio.wait(FIRST_COMPLETED) over two get() tasks, keeping the pending one."""
    qa: asyncio.Queue[int] = asyncio.Queue(64)
    qb: asyncio.Queue[int] = asyncio.Queue(64)
    ts = await _queue_producers(qa, qb)
    ga = asyncio.ensure_future(qa.get())
    gb = asyncio.ensure_future(qb.get())
    n = 0
    while n < SEL:
        done, _ = await asyncio.wait((ga, gb), return_when=asyncio.FIRST_COMPLETED)
        if ga in done:
            n += 1
            if n < SEL:
                ga = asyncio.ensure_future(qa.get())
        if gb in done:
            n += 1
            if n < SEL:
                gb = asyncio.ensure_future(qb.get())
    for g in (ga, gb):
        g.cancel()
    await asyncio.gather(*ts)


LOST: list[int] = []


async def wait_select_naive() -> None:
    """The usual way: two fresh get() tasks per round, cancel the loser. It loses items."""
    qa: asyncio.Queue[int] = asyncio.Queue(64)
    qb: asyncio.Queue[int] = asyncio.Queue(64)
    ts = await _queue_producers(qa, qb)
    got = 0
    while not (all(t.done() for t in ts) and qa.empty() and qb.empty()):
        ga = asyncio.ensure_future(qa.get())
        gb = asyncio.ensure_future(qb.get())
        _done, pending = await asyncio.wait((ga, gb), return_when=asyncio.FIRST_COMPLETED)
        got += 1  # the code handles one winner...
        for g in pending:
            g.cancel()  # ...and a loser that completed too is silently dropped
        if pending:
            await asyncio.wait(pending)
    for g in (ga, gb):
        g.cancel()
    await asyncio.gather(*ts)
    LOST.append(SEL - got)


# -- plain thread -> task -------------------------------------------------------------------

TH = 50_000


async def gokio_thread_to_task() -> None:
    tx: mpsc.Sender[int]
    rx: mpsc.Receiver[int]
    tx, rx = mpsc.channel(1024)

    def produce() -> None:
        with tx:
            for i in range(TH):
                tx.blocking_send(i)

    th = threading.Thread(target=produce)
    th.start()
    while True:
        try:
            await rx.recv_many(1024)
        except gokio.Closed:
            break
    th.join()


async def gokio_thread_to_task_recv() -> None:
    tx: mpsc.Sender[int]
    rx: mpsc.Receiver[int]
    tx, rx = mpsc.channel(1024)

    def produce() -> None:
        with tx:
            for i in range(TH):
                tx.blocking_send(i)

    th = threading.Thread(target=produce)
    th.start()
    async for _ in rx:
        pass
    th.join()


def _mixed_queue(mod: str) -> Any:
    async def run() -> None:
        if mod == "culsans":
            import culsans

            q: Any = culsans.Queue(1024)
        else:
            import janus

            q = janus.Queue(1024)

        def produce() -> None:
            for i in range(TH):
                q.sync_q.put(i)

        th = threading.Thread(target=produce)
        th.start()
        for _ in range(TH):
            await q.async_q.get()
        th.join()
        if mod == "janus":
            q.close()
            await q.wait_closed()

    return run


def main() -> None:
    compare(
        "1 producer / 1 consumer, capacity 1024",
        [
            ("gokio chan (asyncio)", run_on("asyncio", gokio_chan_1p1c)),
            ("gokio mpsc (asyncio)", run_on("asyncio", gokio_mpsc_1p1c)),
            ("asyncio.Queue (asyncio)", run_on("asyncio", queue_1p1c)),
            ("trio memory channel", trio_1p1c),
            ("anyio memory object stream", run_on("asyncio", anyio_1p1c)),
        ],
        N,
        unit="item",
        target=">=1.3x asyncio.Queue, >=5x trio/anyio",
    )
    compare(
        "1 producer / 1 consumer, capacity 1024, on uvloop",
        [
            ("gokio chan (uvloop)", run_on("uvloop", gokio_chan_1p1c)),
            ("asyncio.Queue (uvloop)", run_on("uvloop", queue_1p1c)),
        ],
        N,
        unit="item",
        target=">=1.3x",
    )
    compare(
        "4 producers / 1 consumer, capacity 1024",
        [
            ("gokio mpsc (asyncio)", run_on("asyncio", gokio_mpsc_4p1c)),
            ("asyncio.Queue (asyncio)", run_on("asyncio", queue_4p1c)),
            ("gokio mpsc (uvloop)", run_on("uvloop", gokio_mpsc_4p1c)),
            ("asyncio.Queue (uvloop)", run_on("uvloop", queue_4p1c)),
        ],
        N,
        unit="item",
        target=">=1.3x",
    )
    compare(
        "consumer: mpsc recv_many(64) vs Queue.get() per item",
        [
            ("gokio mpsc recv_many(64)", run_on("asyncio", gokio_recv_many)),
            ("asyncio.Queue get() (asyncio)", run_on("asyncio", queue_1p1c)),
        ],
        N,
        unit="item",
        target=">=2.5x",
    )
    compare(
        "rendezvous ping-pong round trip (capacity 0)",
        [
            ("gokio chan(0) x2", run_on("asyncio", gokio_pingpong)),
            ("asyncio.Queue(1) x2", run_on("asyncio", queue_pingpong)),
            ("trio open_memory_channel(0) x2", trio_pingpong),
        ],
        ROUNDS,
        unit="round",
        target="no slower than Queue(1), >=2x trio",
    )
    compare(
        "select over two channels, two producers",
        [
            ("gokio select", run_on("asyncio", gokio_select)),
            ("asyncio.wait FIRST_COMPLETED (loss-free)", run_on("asyncio", wait_select_lossfree)),
            ("asyncio.wait + cancel loser (LOSES items)", run_on("asyncio", wait_select_naive)),
        ],
        SEL,
        unit="item",
        target=">=5x loss-free",
    )
    print(f"   the cancel-the-loser version lost {LOST[-1]} of {SEL} items in its last run")
    compare(
        "plain thread blocking_send -> task",
        [
            ("gokio mpsc blocking_send -> recv_many", run_on("asyncio", gokio_thread_to_task)),
            ("gokio mpsc blocking_send -> recv", run_on("asyncio", gokio_thread_to_task_recv)),
            ("culsans sync_q.put -> async_q.get", run_on("asyncio", _mixed_queue("culsans"))),
            ("janus sync_q.put -> async_q.get", run_on("asyncio", _mixed_queue("janus"))),
        ],
        TH,
        unit="item",
        target=">=1.5x culsans, ahead of janus",
    )


if __name__ == "__main__":
    main()
