"""RwLock: shared readers, exclusive writers, no writer starvation, cancel safety, threads."""

from __future__ import annotations

import asyncio
import random
import threading

import pytest

from gokio import RwLock, WouldBlock
from gokio._park import WAITS
from tests.conftest import Runner


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_readers_share_the_lock(run: Runner) -> None:
    async def main() -> None:
        rw = RwLock(5)
        async with rw.read() as a, rw.read() as b:
            assert a.value == b.value == 5
            with pytest.raises(WouldBlock):
                rw.try_write()

    run(main())


def test_writer_excludes_readers_and_writers(run: Runner) -> None:
    async def main() -> int:
        rw = RwLock(1)
        async with rw.write() as w:
            w.value = 2
            with pytest.raises(WouldBlock, match="read access"):
                rw.try_read()
            with pytest.raises(WouldBlock, match="write access"):
                rw.try_write()
        async with rw.read() as r:
            return r.value

    assert run(main()) == 2


def test_read_guard_value_is_read_only() -> None:
    rw = RwLock(1)
    with rw.try_read() as r, pytest.raises(AttributeError, match="read-only"):
        r.value = 2  # type: ignore[misc]


def test_guards_used_after_their_block_raise() -> None:
    rw = RwLock(1)
    with rw.try_read() as r:
        pass
    with rw.try_write() as w:
        pass
    with pytest.raises(RuntimeError, match="read guard used after its block ended"):
        _ = r.value
    with pytest.raises(RuntimeError, match="write guard used after its block ended"):
        w.value = 3
    with pytest.raises(RuntimeError, match="released"):
        w.release()


def test_a_lock_request_cannot_be_awaited_twice(run: Runner) -> None:
    async def main() -> None:
        rw = RwLock(0)
        req = rw.read()
        async with req:
            pass
        with pytest.raises(RuntimeError, match="already acquired once"):
            await req

    run(main())


def test_queued_writer_is_not_starved_by_new_readers(run: Runner) -> None:
    async def main() -> list[str]:
        rw = RwLock(0)
        order: list[str] = []
        first = await rw.read()

        async def writer() -> None:
            async with rw.write() as w:
                order.append("writer")
                w.value += 1

        async def reader(i: int) -> None:
            async with rw.read():
                order.append(f"reader{i}")

        wt = asyncio.create_task(writer())
        await settle()
        # Readers arriving after the queued writer wait behind it, though only read-held.
        with pytest.raises(WouldBlock):
            rw.try_read()
        readers = [asyncio.create_task(reader(i)) for i in range(3)]
        await settle()
        assert order == []
        first.release()
        await asyncio.gather(wt, *readers)
        return order

    assert run(main()) == ["writer", "reader0", "reader1", "reader2"]


def test_batch_of_readers_behind_a_writer_enter_together(run: Runner) -> None:
    async def main() -> None:
        rw = RwLock(0)
        w = await rw.write()
        inside = 0
        peak = 0
        gate = asyncio.Event()

        async def reader() -> None:
            nonlocal inside, peak
            async with rw.read():
                inside += 1
                peak = max(peak, inside)
                await gate.wait()
                inside -= 1

        ts = [asyncio.create_task(reader()) for _ in range(4)]
        await settle()
        w.release()
        await settle()
        assert peak == 4
        gate.set()
        await asyncio.gather(*ts)

    run(main())


def test_woken_then_cancelled_writer_passes_the_lock_on(run: Runner) -> None:
    async def main() -> None:
        rw = RwLock(0)
        r = await rw.read()
        w = asyncio.create_task(rw.write()._acquire())
        await settle()
        rd = asyncio.create_task(rw.read()._acquire())
        await settle()
        r.release()  # hands write access to w
        w.cancel()
        g = await asyncio.wait_for(rd, 5)
        g.release()
        with pytest.raises(asyncio.CancelledError):
            await w
        rw.try_write().release()

    run(main())


def test_withdrawn_writer_lets_the_readers_behind_it_in(run: Runner) -> None:
    async def main() -> None:
        rw = RwLock(0)
        r = await rw.read()
        w = asyncio.create_task(rw.write()._acquire())
        await settle()
        rd = asyncio.create_task(rw.read()._acquire())
        await settle()
        assert not rd.done()
        w.cancel()
        g = await asyncio.wait_for(rd, 5)
        g.release()
        r.release()
        rw.try_write().release()

    run(main())


def test_parked_requests_are_visible_in_waits(run: Runner) -> None:
    async def main() -> None:
        rw = RwLock(0)
        r = await rw.read()
        w = asyncio.create_task(rw.write()._acquire())
        await settle()
        rd = asyncio.create_task(rw.read()._acquire())
        await settle()
        assert (WAITS[w].kind, WAITS[rd].kind) == ("write", "read")
        assert WAITS[w].obj is rw
        r.release()
        (await w).release()
        (await rd).release()

    run(main())


def test_blocking_forms_on_a_loop_thread_raise(run: Runner) -> None:
    async def main() -> None:
        rw = RwLock(0)
        with pytest.raises(RuntimeError, match="blocking_read"):
            rw.blocking_read()
        with pytest.raises(RuntimeError, match="blocking_write"):
            rw.blocking_write()

    run(main())


def test_cache_with_concurrent_readers_and_a_writer(run: Runner) -> None:
    """The seed scenario: readers never see a half-updated cache; the writer gets in."""

    async def main() -> int:
        cache = RwLock({"a": 0, "b": 0})
        seen: list[int] = []

        async def reader() -> None:
            for _ in range(30):
                async with cache.read() as g:
                    a = g.value["a"]
                    await asyncio.sleep(0)
                    assert g.value["b"] == a, "torn read"
                    seen.append(a)

        async def writer() -> None:
            for v in range(1, 11):
                async with cache.write() as g:
                    g.value["a"] = v
                    await asyncio.sleep(0)
                    g.value["b"] = v
                await asyncio.sleep(0)

        await asyncio.gather(*(reader() for _ in range(5)), writer())
        assert len(seen) == 150
        async with cache.read() as g:
            return g.value["a"]

    assert run(main()) == 10


def test_tasks_on_two_loops_and_a_thread_share_one_rwlock() -> None:
    rw = RwLock([0, 0])
    rounds = 200
    seed = random.randrange(2**32)
    errors: list[str] = []

    async def tasks(rng: random.Random) -> None:
        async def one() -> None:
            for _ in range(rounds):
                if rng.random() < 0.3:
                    async with rw.write() as g:
                        g.value[0] += 1
                        await asyncio.sleep(0)
                        g.value[1] += 1
                else:
                    async with rw.read() as g:
                        if g.value[0] != g.value[1]:
                            errors.append(f"torn read, seed={seed}")

        await asyncio.gather(one(), one())

    def plain(rng: random.Random) -> None:
        for _ in range(rounds):
            if rng.random() < 0.3:
                with rw.blocking_write() as g:
                    g.value[0] += 1
                    g.value[1] += 1
            else:
                with rw.blocking_read() as g:
                    if g.value[0] != g.value[1]:
                        errors.append(f"torn read, seed={seed}")

    threads = [
        threading.Thread(target=asyncio.run, args=(tasks(random.Random(seed)),)),
        threading.Thread(target=asyncio.run, args=(tasks(random.Random(seed + 1)),)),
        threading.Thread(target=plain, args=(random.Random(seed + 2),)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), f"hang, seed={seed}"
    assert errors == []
    with rw.try_write() as g:
        assert g.value[0] == g.value[1], f"seed={seed}"


def test_repr_shows_state() -> None:
    rw = RwLock(0)
    with rw.try_read() as r:
        assert "1 reader" in repr(rw)
        assert "RwLockReadGuard held" in repr(r)
    with rw.try_write():
        assert "write-locked" in repr(rw)
