"""Shared state: a `gokio.Mutex` counter over 10 tasks and a `gokio.RwLock` cache.

The Rust program::

    let counter = Arc::new(Mutex::new(0));
    for _ in 0..10 {
        let counter = counter.clone();
        tasks.spawn(async move { for _ in 0..100 { *counter.lock().await += 1; } });
    }

    let cache = Arc::new(RwLock::new(HashMap::new()));
    let value = cache.read().await.get("key").cloned();     // many readers at once
    cache.write().await.insert("key", value);               // one writer, alone

As in Rust, the lock *owns* the value: it is reached only through the guard
(``guard.value``), so it cannot be touched without holding the lock. An asyncio lock is
needed as soon as a read-modify-write spans an ``await``: without it, the tasks below
would overwrite each other's increments. Both locks are FIFO-fair: a waiting writer is
not starved by a stream of readers.

Run it: ``python examples/shared_state.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import gokio


async def mutex_counter() -> None:
    counter = gokio.Mutex(0)

    async def incr() -> None:
        for _ in range(100):
            async with counter.lock() as guard:
                current = guard.value
                await gokio.yield_now()  # another task runs here, but cannot take the lock
                guard.value = current + 1

    await gokio.join(*(incr() for _ in range(10)))
    async with counter.lock() as guard:
        print(f"mutex: counter = {guard.value} (10 tasks x 100 increments, none lost)")


@dataclass
class Stats:
    readers: int = 0
    peak_readers: int = 0
    writes: int = 0
    overlaps: int = 0  # a writer and a reader holding the lock together: must stay 0


async def rwlock_cache() -> None:
    cache = gokio.RwLock({"version": 0})
    stats = Stats()

    async def reader() -> list[int]:
        seen: list[int] = []
        for _ in range(4):
            async with cache.read() as guard:
                stats.readers += 1
                stats.peak_readers = max(stats.peak_readers, stats.readers)
                seen.append(guard.value["version"])
                await gokio.sleep(0.01)  # readers hold the lock at the same time
                stats.readers -= 1
            await gokio.sleep(0.005)
        return seen

    async def writer() -> None:
        for version in (1, 2):
            await gokio.sleep(0.012)
            async with cache.write() as guard:
                stats.overlaps += stats.readers
                guard.value["version"] = version
                stats.writes += 1
                await gokio.sleep(0.005)  # still alone: new readers wait behind us

    *seen, _ = await gokio.join(*(reader() for _ in range(5)), writer())
    print(f"rwlock: up to {stats.peak_readers} readers held the cache at once")
    print(f"rwlock: {stats.writes} writes, {stats.overlaps} while a reader held the lock")
    # Each reader sees the versions in order: a write is never seen half done or undone.
    assert all(s == sorted(s) for s in seen)
    print(f"rwlock: the readers saw versions {sorted({v for s in seen for v in s})}")


@gokio.main
async def main() -> None:
    await mutex_counter()
    await rwlock_cache()


if __name__ == "__main__":
    main()
