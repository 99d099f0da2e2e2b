"""Seeded stress: every item is received exactly once, whatever is cancelled or timed out.

4 producer and 4 consumer tasks plus a producer thread and a consumer thread share one
channel. Tasks mix plain ops, random timeouts, ``select(..., default=True)``, selects
against a never-ready channel, and aborted (cancelled) one-op tasks. An op that took
effect is recorded synchronously right after it returns, so an item is "sent" iff its
send returned, and "received" iff its receive returned. A failure prints the seed
(``GOKIO_STRESS_SEED=<seed>`` re-runs the same task-side choices).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import threading
from collections import Counter
from typing import Any

import pytest

import gokio
from gokio import Closed, Elapsed, mpsc, select
from tests.conftest import Runner

TOTAL = 200_000
THREAD_SHARE = 10_000  # items sent by the plain producer thread


def _seed() -> int:
    env = os.environ.get("GOKIO_STRESS_SEED")
    return int(env) if env else random.randrange(2**32)


class _Chaos:
    """Shared by producers and consumers: the channel and what was sent/received."""

    def __init__(self, seed: int, ch: Any, never: gokio.Chan[int]) -> None:
        self.rnd = random.Random(seed)
        self.ch = ch
        self.never = never
        self.received: list[int] = []
        self.lock = threading.Lock()

    async def send_once(self, item: int) -> bool:
        """Try to send ``item`` one random way. True iff it was sent."""
        ch = self.ch
        r = self.rnd.random()
        if r < 0.55:
            await ch.send(item)
            return True
        if r < 0.7:
            return await select(ch.send(item), default=True) is not None
        if r < 0.8:
            try:
                await gokio.timeout(self.rnd.choice((0, 0.0001, 0.001)), ch.send(item))
            except Elapsed:
                return False
            return True
        if r < 0.9:
            got = await select(ch.send(item), self.never.recv(), gokio.after(0.001).recv())
            assert got is not None
            return got.index == 0
        # an aborted one-op task: the send happened iff it recorded so
        done: list[bool] = []

        async def one() -> None:
            await ch.send(item)
            done.append(True)

        t = asyncio.ensure_future(one())
        asyncio.get_running_loop().call_later(self.rnd.choice((0, 0.0002)), t.cancel)
        try:
            await t
        except asyncio.CancelledError:
            if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                raise
        return bool(done)

    async def recv_once(self) -> bool:
        """Try to receive one item one random way; False once closed and drained."""
        ch = self.ch
        got = self.received
        r = self.rnd.random()
        try:
            if r < 0.55:
                got.append(await ch.recv())
            elif r < 0.7:
                s = await select(ch.recv(), default=True)
                if s is not None:
                    got.append(s.value)
            elif r < 0.8:
                with contextlib.suppress(Elapsed):
                    got.append(await gokio.timeout(self.rnd.choice((0, 0.0001)), ch.recv()))
            elif r < 0.9:
                s = await select(self.never.recv(), ch.recv(), gokio.after(0.001).recv())
                if s is not None and s.index == 1:
                    got.append(s.value)
            else:

                async def one() -> None:
                    got.append(await ch.recv())

                t = asyncio.ensure_future(one())
                asyncio.get_running_loop().call_later(self.rnd.choice((0, 0.0002)), t.cancel)
                try:
                    await t
                except asyncio.CancelledError:
                    if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                        raise
                except Closed:
                    return False
        except Closed:
            return False
        return True


async def _stress(seed: int, ch: Any, close: Any, consumers: int) -> None:
    never: gokio.Chan[int] = gokio.chan()
    chaos = _Chaos(seed, ch, never)
    thread_got: list[int] = []
    per = (TOTAL - THREAD_SHARE) // 4

    def thread_producer() -> None:
        for i in range(TOTAL - THREAD_SHARE, TOTAL):
            ch.blocking_send(i)

    def thread_consumer() -> None:
        while True:
            try:
                thread_got.append(ch.blocking_recv())
            except Closed:
                return

    async def producer(lo: int, hi: int) -> None:
        i = lo
        while i < hi:
            if await chaos.send_once(i):
                i += 1

    async def consumer() -> None:
        while await chaos.recv_once():
            pass

    threads = [threading.Thread(target=thread_producer)]
    if consumers:
        threads.append(threading.Thread(target=thread_consumer))
    for t in threads:
        t.start()
    cons = [asyncio.ensure_future(consumer()) for _ in range(consumers or 1)]
    await asyncio.gather(*(producer(k * per, (k + 1) * per) for k in range(4)))
    await asyncio.to_thread(threads[0].join)
    close()
    await asyncio.gather(*cons)
    for t in threads[1:]:
        await asyncio.to_thread(t.join)
    counts = Counter(chaos.received + thread_got)
    dups = [k for k, c in counts.items() if c > 1]
    missing = TOTAL - len(counts)
    assert not dups, f"seed={seed}: duplicated items {dups[:10]}"
    assert missing == 0, f"seed={seed}: {missing} items lost"
    assert set(counts) == set(range(TOTAL)), f"seed={seed}: unexpected items"


def _run_seeded(run: Runner, seed: int, coro: Any) -> None:
    """Run the stress coroutine; any failure (not only a failed assert) names the seed."""
    try:
        run(coro)
    except AssertionError:
        raise
    except BaseException as e:
        raise AssertionError(f"seed={seed}: stress run failed with {e!r}") from e


def test_go_chan_stress_every_item_received_exactly_once(run_default: Runner) -> None:
    seed = _seed()
    ch: gokio.Chan[int] = gokio.chan(32)
    _run_seeded(run_default, seed, _stress(seed, ch, ch.close, consumers=4))


@pytest.mark.parametrize("cap", [8, None])
def test_mpsc_stress_every_item_received_exactly_once(run_default: Runner, cap: int | None) -> None:
    """One receiver (as mpsc demands), shared by the consumer role of the chaos loop."""
    seed = _seed()
    tx: mpsc.Sender[int]
    rx: mpsc.Receiver[int]
    tx, rx = mpsc.unbounded_channel() if cap is None else mpsc.channel(cap)

    class Both:
        """One object with both halves, so the chaos code drives it like a Go channel."""

        send = tx.send
        blocking_send = tx.blocking_send
        recv = rx.recv
        blocking_recv = rx.blocking_recv

    _run_seeded(run_default, seed, _stress(seed, Both(), tx.close, consumers=0))
