"""Seeded stress: sync primitives shared by tasks on two loops and plain threads, with
random cancellations landing before, during and just after a hand-off.

Every failure message carries the seed; rerun one with ``GOKIO_SEED=<seed> pytest ...``.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from gokio import Mutex, Notify, RwLock, Semaphore

JOIN_TIMEOUT = 40.0


def make_seed() -> int:
    env = os.environ.get("GOKIO_SEED")
    return int(env) if env else random.randrange(2**32)


def run_threads(seed: int, targets: list[Callable[[], Any]]) -> list[BaseException]:
    """Run each target on its own thread; return their exceptions; fail on a hang."""
    errors: list[BaseException] = []

    def wrap(fn: Callable[[], Any]) -> Callable[[], None]:
        def go() -> None:
            try:
                fn()
            except BaseException as e:  # reported below with the seed
                errors.append(e)

        return go

    threads = [threading.Thread(target=wrap(t), daemon=True) for t in targets]
    # Switch threads as often as possible: races between a release on one thread and a
    # waiter queueing on another need a switch inside a few bytecodes to show up.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(JOIN_TIMEOUT)
    finally:
        sys.setswitchinterval(interval)
    assert not any(t.is_alive() for t in threads), f"hang: a party never finished, seed={seed}"
    return errors


def on_loop(coro_fn: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    return lambda: asyncio.run(coro_fn())


async def maybe_cancelled(rng: random.Random, aw: Coroutine[Any, Any, Any]) -> Any:
    """Run ``aw`` as a task and, at random, cancel it right away, after a step, or never.

    Returns the task's result, or None if the cancellation won.
    """
    t = asyncio.ensure_future(aw)
    r = rng.random()
    if r < 0.15:
        t.cancel()  # before it even started
    elif r < 0.35:
        await asyncio.sleep(0)
        t.cancel()  # while parked, or just after a hand-off it has not run yet
    try:
        return await t
    except asyncio.CancelledError:
        return None


class _PermitLedger:
    """Counts the permits in use across loops and threads; notes any excess."""

    def __init__(self, permits: int, seed: int) -> None:
        self.permits = permits
        self.seed = seed
        self.lock = threading.Lock()
        self.in_use = 0
        self.bad: list[str] = []

    def take(self, n: int) -> None:
        with self.lock:
            self.in_use += n
            if self.in_use > self.permits:
                self.bad.append(f"{self.in_use} permits in use of {self.permits}")

    def give(self, n: int) -> None:
        with self.lock:
            self.in_use -= n


def _semaphore_stress(
    permits: int,
    loop_side: Callable[[Semaphore, _PermitLedger, random.Random], Coroutine[Any, Any, None]],
    thread_rounds: int,
) -> None:
    """Two loops run ``loop_side`` and a plain thread takes random counts, on one
    semaphore: never more permits in use than exist, nobody hangs, all come back."""
    seed = make_seed()
    sem = Semaphore(permits)
    ledger = _PermitLedger(permits, seed)

    def thread_side(rng: random.Random) -> None:
        for _ in range(thread_rounds):
            n = rng.randint(1, permits)
            with sem.blocking_acquire(n):
                ledger.take(n)
                ledger.give(n)

    errors = run_threads(
        seed,
        [
            on_loop(lambda: loop_side(sem, ledger, random.Random(seed))),
            on_loop(lambda: loop_side(sem, ledger, random.Random(seed + 1))),
            lambda: thread_side(random.Random(seed + 2)),
        ],
    )
    assert errors == [], f"seed={seed}"
    assert ledger.bad == [], f"seed={seed}"
    assert sem.available_permits() == permits, f"permits leaked, seed={seed}"
    assert not sem._waiters, f"stale waiters, seed={seed}"


async def _request_then_release(
    sem: Semaphore, ledger: _PermitLedger, rng: random.Random, n: int
) -> None:
    p = await maybe_cancelled(rng, sem.acquire(n)._acquire())
    if p is None:
        return
    ledger.take(n)
    await asyncio.sleep(0)
    ledger.give(n)
    p.release()


def test_semaphore_stress_with_cancellations_loops_and_threads() -> None:
    async def loop_side(sem: Semaphore, ledger: _PermitLedger, rng: random.Random) -> None:
        async def worker() -> None:
            for _ in range(150):
                await _request_then_release(sem, ledger, rng, rng.randint(1, ledger.permits))

        await asyncio.gather(*(worker() for _ in range(4)))

    _semaphore_stress(4, loop_side, thread_rounds=100)


def test_semaphore_stress_lock_free_single_permits_mixed_with_large_requests() -> None:
    """Single permits go through the lock-free pool (``async with``), mixed with large
    requests, cancellations and a plain thread."""

    async def loop_side(sem: Semaphore, ledger: _PermitLedger, rng: random.Random) -> None:
        async def single() -> None:
            async with sem.acquire():  # the lock-free acquire and release
                ledger.take(1)
                try:
                    if rng.random() < 0.5:
                        await asyncio.sleep(0)  # a cancellation may land here
                finally:
                    ledger.give(1)

        async def worker() -> None:
            for _ in range(200):
                if rng.random() < 0.75:
                    await maybe_cancelled(rng, single())
                else:
                    await _request_then_release(sem, ledger, rng, rng.randint(2, ledger.permits))

        await asyncio.gather(*(worker() for _ in range(4)))

    _semaphore_stress(3, loop_side, thread_rounds=150)


def test_mutex_stress_with_cancellations_loops_and_threads() -> None:
    seed = make_seed()
    m = Mutex(0)
    done = [0]
    lock = threading.Lock()

    async def loop_side(rng: random.Random) -> None:
        async def worker() -> None:
            for _ in range(150):
                g = await maybe_cancelled(rng, m.lock()._acquire())
                if g is None:
                    continue
                v = g.value
                await asyncio.sleep(0)
                g.value = v + 1
                g.release()
                with lock:
                    done[0] += 1

        await asyncio.gather(*(worker() for _ in range(4)))

    def thread_side() -> None:
        for _ in range(150):
            with m.blocking_lock() as g:
                g.value += 1
            with lock:
                done[0] += 1

    errors = run_threads(
        seed,
        [
            on_loop(lambda: loop_side(random.Random(seed))),
            on_loop(lambda: loop_side(random.Random(seed + 1))),
            thread_side,
        ],
    )
    assert errors == [], f"seed={seed}"
    with m.try_lock() as g:
        assert g.value == done[0], f"lost update, seed={seed}"
    assert not m._waiters, f"stale waiters, seed={seed}"


def test_rwlock_stress_with_cancellations_loops_and_threads() -> None:
    seed = make_seed()
    rw = RwLock([0, 0])
    bad: list[str] = []

    async def loop_side(rng: random.Random) -> None:
        async def worker() -> None:
            for _ in range(150):
                if rng.random() < 0.3:
                    g = await maybe_cancelled(rng, rw.write()._acquire())
                    if g is None:
                        continue
                    g.value[0] += 1
                    await asyncio.sleep(0)
                    g.value[1] += 1
                else:
                    g = await maybe_cancelled(rng, rw.read()._acquire())
                    if g is None:
                        continue
                    a = g.value[0]
                    await asyncio.sleep(0)
                    if g.value[1] != a or g.value[0] != a:
                        bad.append(f"writer inside a read section, seed={seed}")
                g.release()

        await asyncio.gather(*(worker() for _ in range(4)))

    def thread_side(rng: random.Random) -> None:
        for _ in range(100):
            if rng.random() < 0.3:
                with rw.blocking_write() as w:
                    w.value[0] += 1
                    w.value[1] += 1
            else:
                with rw.blocking_read() as r:
                    if r.value[0] != r.value[1]:
                        bad.append(f"torn read, seed={seed}")

    errors = run_threads(
        seed,
        [
            on_loop(lambda: loop_side(random.Random(seed))),
            on_loop(lambda: loop_side(random.Random(seed + 1))),
            lambda: thread_side(random.Random(seed + 2)),
        ],
    )
    assert errors == [], f"seed={seed}"
    assert bad == []
    assert rw._readers == 0, f"read access leaked, seed={seed}"
    assert not rw._writer, f"write access leaked, seed={seed}"
    assert not rw._waiters, f"stale waiters, seed={seed}"


def test_notify_stress_every_notification_is_consumed_exactly_once() -> None:
    """Each notify_one is consumed by exactly one waiter despite random cancellations.

    The producer (a plain thread) sends one notification, then waits until a waiter
    consumed it before sending the next, so none coalesces into the stored permit.
    """
    seed = make_seed()
    notify = Notify()
    total = 150
    lock = threading.Lock()
    wakes = [0]
    stop = threading.Event()
    bad: list[str] = []

    async def loop_side(rng: random.Random) -> None:
        async def waiter() -> None:
            while not stop.is_set():
                try:
                    async with asyncio.timeout(rng.choice([0.0005, 0.002, 0.01])):
                        await notify.notified()
                except TimeoutError:
                    continue
                with lock:
                    wakes[0] += 1

        await asyncio.gather(*(waiter() for _ in range(3)))

    def producer() -> None:
        try:
            for k in range(1, total + 1):
                notify.notify_one()
                deadline = threading.Event()
                for _ in range(20_000):
                    with lock:
                        w = wakes[0]
                    if w > k:
                        bad.append(f"notification doubled: {w} wakes after {k}, seed={seed}")
                        return
                    if w == k:
                        break
                    deadline.wait(0.0005)
                else:
                    bad.append(f"notification {k} lost, seed={seed}")
                    return
        finally:
            stop.set()

    errors = run_threads(
        seed,
        [
            on_loop(lambda: loop_side(random.Random(seed))),
            on_loop(lambda: loop_side(random.Random(seed + 1))),
            producer,
        ],
    )
    assert errors == [], f"seed={seed}"
    assert bad == []
    assert wakes[0] == total, f"seed={seed}"
    assert not notify._permit, f"a permit was left behind, seed={seed}"
    assert not notify._waiters, f"stale waiters, seed={seed}"
