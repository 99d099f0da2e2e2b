"""Broadcast fan-out: one producer, eight receivers, cost per delivered message.

gokio stores each message once in a shared ring; the peers have no broadcast channel,
so the fair equivalent is what users write instead: one queue (or memory channel) per
receiver, the producer putting every message into each of them. The producer sends
batches of 64 (well under the capacity of 1024, so no gokio receiver ever lags) and
yields to the loop between batches; every receiver checks it got every message in order.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import gokio
from _harness import Row, best_of, report, run_on

N = 20_000
RECEIVERS = 8
BATCH = 64
CAPACITY = 1024


async def _gokio() -> None:
    tx, rx0 = gokio.broadcast.channel(CAPACITY)
    rxs = [rx0] + [tx.subscribe() for _ in range(RECEIVERS - 1)]

    async def consume(rx: gokio.broadcast.BroadcastReceiver[int]) -> None:
        expect = 0
        async for v in rx:
            assert v == expect
            expect += 1
        assert expect == N

    tasks = [asyncio.create_task(consume(rx)) for rx in rxs]
    del rx0, rxs
    await asyncio.sleep(0)
    send = tx.send
    for start in range(0, N, BATCH):
        for v in range(start, min(start + BATCH, N)):
            send(v)
        await asyncio.sleep(0)
    tx.close()
    await asyncio.gather(*tasks)


async def _asyncio_queues() -> None:
    queues: list[asyncio.Queue[int | None]] = [asyncio.Queue() for _ in range(RECEIVERS)]

    async def consume(q: asyncio.Queue[int | None]) -> None:
        expect = 0
        while (v := await q.get()) is not None:
            assert v == expect
            expect += 1
        assert expect == N

    tasks = [asyncio.create_task(consume(q)) for q in queues]
    await asyncio.sleep(0)
    puts = [q.put_nowait for q in queues]
    for start in range(0, N, BATCH):
        for v in range(start, min(start + BATCH, N)):
            for put in puts:
                put(v)
        await asyncio.sleep(0)
    for put in puts:
        put(None)
    await asyncio.gather(*tasks)


def _trio_like(lib: str) -> Any:
    """Eight memory channels (trio's or anyio's), the producer fanning out by hand."""

    async def main() -> None:
        if lib == "trio":
            import trio

            open_channel: Any = trio.open_memory_channel
            checkpoint: Any = trio.lowlevel.checkpoint
            end_exc: Any = trio.EndOfChannel
        else:
            import anyio

            open_channel = anyio.create_memory_object_stream
            checkpoint = anyio.lowlevel.checkpoint
            end_exc = anyio.EndOfStream
        pairs = [open_channel(math.inf) for _ in range(RECEIVERS)]

        async def consume(rx: Any) -> None:
            expect = 0
            while True:
                try:
                    v = await rx.receive()
                except end_exc:
                    break
                assert v == expect
                expect += 1
            assert expect == N

        if lib == "trio":
            import trio

            async with trio.open_nursery() as nursery:
                for _, rx in pairs:
                    nursery.start_soon(consume, rx)
                await _produce(pairs, checkpoint)
        else:
            import anyio

            async with anyio.create_task_group() as tg:
                for _, rx in pairs:
                    tg.start_soon(consume, rx)
                await _produce(pairs, checkpoint)

    return main


async def _produce(pairs: list[Any], checkpoint: Any) -> None:
    sends = [tx.send_nowait for tx, _ in pairs]
    for start in range(0, N, BATCH):
        for v in range(start, min(start + BATCH, N)):
            for send in sends:
                send(v)
        await checkpoint()
    for tx, _ in pairs:
        tx.close()


def main() -> None:
    import trio

    deliveries = N * RECEIVERS
    rows = [
        Row("gokio.broadcast (default loop)", best_of(run_on("asyncio", _gokio)), deliveries),
        Row(
            "8 x asyncio.Queue (default loop)",
            best_of(run_on("asyncio", _asyncio_queues)),
            deliveries,
        ),
        Row("8 x trio memory channel", best_of(lambda: trio.run(_trio_like("trio"))), deliveries),
        Row(
            "8 x anyio memory stream (asyncio)",
            best_of(run_on("asyncio", _trio_like("anyio"))),
            deliveries,
        ),
    ]
    report("broadcast 1 -> 8 receivers, per delivery", rows, target=">= 2x 8 asyncio.Queues")
    rows = [
        Row("gokio.broadcast (uvloop)", best_of(run_on("uvloop", _gokio)), deliveries),
        Row("8 x asyncio.Queue (uvloop)", best_of(run_on("uvloop", _asyncio_queues)), deliveries),
    ]
    report("broadcast 1 -> 8 receivers on uvloop, per delivery", rows, target=">= 2x")


if __name__ == "__main__":
    main()
