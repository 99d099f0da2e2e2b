"""The runtime: run, main, Runtime, Handle, block_on (issue 2, items 3 and 7)."""

from __future__ import annotations

import asyncio
import inspect
import random
import threading
import time
from typing import Any

import pytest
import uvloop

import gokio
from tests._vclock import VirtualClockLoop
from tests.conftest import Runner


async def _answer() -> int:
    await asyncio.sleep(0)
    return 42


# --- gokio.run --------------------------------------------------------------------------


def test_run_takes_a_coroutine() -> None:
    assert gokio.run(_answer()) == 42


def test_run_takes_an_async_function() -> None:
    assert gokio.run(_answer) == 42


def test_run_aborts_and_awaits_leftover_tasks() -> None:
    log: list[str] = []

    async def straggler() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # a cleanup that itself awaits
            log.append("straggler finally")

    async def main() -> gokio.JoinHandle[None]:
        h = gokio.spawn(straggler())
        await asyncio.sleep(0)
        return h

    h = gokio.run(main)
    assert log == ["straggler finally"]
    assert h.is_finished()
    assert not [t for t in asyncio.all_tasks(h._fut.get_loop()) if not t.done()]


def test_run_with_debug_runs_the_loop_in_debug_mode() -> None:
    async def main() -> bool:
        return asyncio.get_running_loop().get_debug()

    assert gokio.run(main, debug=True) is True
    assert gokio.run(main) is False


def test_run_with_uvloop_runs_on_uvloop() -> None:
    async def main() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    assert isinstance(gokio.run(main, loop_factory="uvloop"), uvloop.Loop)


def test_run_with_a_loop_factory_callable_uses_it() -> None:
    async def main() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    assert isinstance(gokio.run(main, loop_factory=VirtualClockLoop), VirtualClockLoop)


def test_run_with_a_bad_loop_factory_is_a_type_error() -> None:
    coro = _answer()
    with pytest.raises(TypeError, match="loop_factory must be None, 'uvloop' or a callable"):
        gokio.run(coro, loop_factory="tokio")  # type: ignore[arg-type]
    assert inspect.getcoroutinestate(coro) == "CORO_CLOSED"


def test_run_inside_a_running_loop_is_a_runtime_error(run: Runner) -> None:
    async def main() -> None:
        coro = _answer()
        with pytest.raises(RuntimeError, match="cannot be called from a running event loop"):
            gokio.run(coro)
        assert inspect.getcoroutinestate(coro) == "CORO_CLOSED"

    run(main())


def test_run_of_a_plain_function_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="coroutine"):
        gokio.run(lambda: 1)  # type: ignore[arg-type,return-value]


def test_run_with_zero_blocking_threads_is_a_value_error() -> None:
    coro = _answer()
    with pytest.raises(ValueError, match="max_blocking_threads must be at least 1, got 0"):
        gokio.run(coro, max_blocking_threads=0)
    assert inspect.getcoroutinestate(coro) == "CORO_CLOSED"  # closed, not left "never awaited"


def test_run_with_non_int_blocking_threads_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="max_blocking_threads must be an int"):
        gokio.run(_answer, max_blocking_threads=2.5)  # type: ignore[arg-type]


# --- @gokio.main ------------------------------------------------------------------------


def test_main_without_options_runs_the_function() -> None:
    @gokio.main
    async def main() -> int:
        return await _answer()

    assert main() == 42
    assert main.__name__ == "main"


def test_main_with_options_passes_them_to_run() -> None:
    @gokio.main(loop_factory="uvloop", max_blocking_threads=1)
    async def main() -> tuple[bool, str]:
        name = await gokio.spawn_blocking(lambda: threading.current_thread().name)
        return isinstance(asyncio.get_running_loop(), uvloop.Loop), name

    is_uvloop, thread = main()
    assert is_uvloop
    assert thread.startswith("gokio-blocking")


def test_main_of_a_sync_function_is_a_type_error() -> None:
    def not_async() -> None:
        pass

    with pytest.raises(TypeError, match="decorates an async function"):
        gokio.main(not_async)  # type: ignore[arg-type]


# --- gokio.Runtime ----------------------------------------------------------------------


def test_runtime_block_on_returns_the_result() -> None:
    with gokio.Runtime() as rt:
        assert rt.block_on(_answer()) == 42


def test_runtime_block_on_reraises() -> None:
    async def fail() -> None:
        raise KeyError("k")

    with gokio.Runtime() as rt, pytest.raises(KeyError):
        rt.block_on(fail())


def test_runtime_runs_on_its_own_thread() -> None:
    async def where() -> str:
        return threading.current_thread().name

    with gokio.Runtime() as rt:
        assert rt.block_on(where()) == "gokio-runtime"


def test_runtime_spawn_from_several_threads() -> None:
    async def square(i: int) -> int:
        await asyncio.sleep(0)
        return i * i

    with gokio.Runtime() as rt:
        handles: list[gokio.JoinHandle[int]] = []
        lock = threading.Lock()

        def spawner(base: int) -> None:
            for i in range(base, base + 10):
                h = rt.spawn(square(i))
                with lock:
                    handles.append(h)

        threads = [threading.Thread(target=spawner, args=(b,)) for b in (0, 10, 20, 30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        async def collect() -> list[int]:
            return [await h for h in handles]

        assert sorted(rt.block_on(collect())) == [i * i for i in range(40)]


def test_runtime_spawn_from_the_runtimes_own_tasks() -> None:
    with gokio.Runtime() as rt:

        async def parent() -> int:
            child = rt.spawn(_answer())  # on the runtime's own loop thread
            return await child + 1

        assert rt.block_on(parent()) == 43


def test_runtime_handle_spawns_from_another_thread() -> None:
    with gokio.Runtime() as rt:

        async def get_handle() -> gokio.Handle:
            return gokio.Handle.current()

        handle = rt.block_on(get_handle())
        assert handle.loop is rt.handle.loop
        box: list[int] = []

        def other_thread() -> None:
            box.append(handle.block_on(handle.spawn(_answer())))

        t = threading.Thread(target=other_thread)
        t.start()
        t.join()
        assert box == [42]


def test_runtime_shutdown_aborts_running_tasks() -> None:
    log: list[str] = []

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            log.append("aborted")

    rt = gokio.Runtime()
    h = rt.spawn(forever())
    rt.block_on(asyncio.sleep(0))
    rt.shutdown()
    assert log == ["aborted"]
    assert h.is_finished()
    assert h.name  # still usable
    rt.shutdown()  # a second shutdown does nothing


def test_handle_abort_from_another_thread() -> None:
    async def forever() -> None:
        await asyncio.Event().wait()

    with gokio.Runtime() as rt:
        h = rt.spawn(forever())
        h.abort()  # from this (non-loop) thread
        with pytest.raises(gokio.TaskAborted):
            rt.block_on(_join_any(h))


async def _join_any(h: gokio.JoinHandle[Any]) -> Any:
    return await h


def test_runtime_context_manager_shuts_down_on_exit() -> None:
    log: list[str] = []

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            log.append("aborted")

    with gokio.Runtime() as rt:
        rt.spawn(forever())
    assert log == ["aborted"]
    assert rt.handle.loop.is_closed()


def test_runtime_used_after_shutdown_is_a_runtime_error() -> None:
    rt = gokio.Runtime()
    rt.shutdown()
    coro = _answer()
    with pytest.raises(RuntimeError, match="shut down; create a new Runtime"):
        rt.block_on(coro)
    assert inspect.getcoroutinestate(coro) == "CORO_CLOSED"
    coro = _answer()
    with pytest.raises(RuntimeError, match="shut down; create a new Runtime"):
        rt.spawn(coro)
    assert inspect.getcoroutinestate(coro) == "CORO_CLOSED"
    with pytest.raises(RuntimeError, match="shut down; create a new Runtime"):
        rt.spawn_blocking(print)


def test_handle_used_after_shutdown_is_a_runtime_error() -> None:
    rt = gokio.Runtime()
    handle = rt.handle
    rt.shutdown()
    coro = _answer()
    with pytest.raises(RuntimeError, match="has shut down; start a new one"):
        handle.spawn(coro)
    assert inspect.getcoroutinestate(coro) == "CORO_CLOSED"
    coro = _answer()
    with pytest.raises(RuntimeError, match="has shut down; start a new one"):
        handle.block_on(coro)
    assert inspect.getcoroutinestate(coro) == "CORO_CLOSED"


def test_runtime_block_on_from_its_own_loop_is_a_runtime_error() -> None:
    with gokio.Runtime() as rt:

        async def reenter() -> str:
            coro = _answer()
            try:
                rt.block_on(coro)
            except RuntimeError as e:
                assert inspect.getcoroutinestate(coro) == "CORO_CLOSED"
                return str(e)
            return "no error"

        msg = rt.block_on(reenter())
        assert "would deadlock" in msg
        assert "await" in msg


def test_runtime_block_on_from_another_loop_is_a_runtime_error(run: Runner) -> None:
    with gokio.Runtime() as rt:

        async def main() -> None:
            with pytest.raises(RuntimeError, match="runs an event loop"):
                rt.block_on(_answer())

        run(main())


def test_runtime_shutdown_from_inside_is_a_runtime_error() -> None:
    with gokio.Runtime() as rt:

        async def inside() -> None:
            rt.shutdown()

        with pytest.raises(RuntimeError, match="from inside the runtime"):
            rt.block_on(inside())


def test_runtime_spawn_blocking_runs_on_its_pool() -> None:
    with gokio.Runtime(max_blocking_threads=1) as rt:
        h = rt.spawn_blocking(lambda: threading.current_thread().name)
        assert rt.block_on(_join(h)).startswith("gokio-blocking")


async def _join(h: gokio.JoinHandle[str]) -> str:
    return await h


def test_runtime_with_zero_blocking_threads_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="max_blocking_threads must be at least 1"):
        gokio.Runtime(max_blocking_threads=0)


def test_runtime_whose_loop_factory_fails_raises_instead_of_hanging() -> None:
    def no_loop() -> asyncio.AbstractEventLoop:
        raise OSError("no loop for you")

    with pytest.raises(OSError, match="no loop for you"):
        gokio.Runtime(loop_factory=no_loop)


def test_runtime_whose_loop_factory_returns_no_loop_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="loop_factory returned int, not an event loop"):
        gokio.Runtime(loop_factory=lambda: 5)  # type: ignore[arg-type,return-value]


def test_runtime_with_uvloop_runs_on_uvloop() -> None:
    async def loop_type() -> type:
        return type(asyncio.get_running_loop())

    with gokio.Runtime(loop_factory="uvloop") as rt:
        assert issubclass(rt.block_on(loop_type()), uvloop.Loop)


# --- Handle.current and gokio.block_on ---------------------------------------------------


def test_handle_current_inside_a_task_is_the_running_loop(run: Runner) -> None:
    async def main() -> None:
        assert gokio.Handle.current().loop is asyncio.get_running_loop()

    run(main())


def test_handle_current_outside_a_runtime_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="no gokio runtime here"):
        gokio.Handle.current()


def test_handle_block_on_from_its_own_loop_is_a_runtime_error(run: Runner) -> None:
    async def main() -> None:
        coro = _answer()
        with pytest.raises(RuntimeError, match="it would deadlock"):
            gokio.Handle.current().block_on(coro)
        assert inspect.getcoroutinestate(coro) == "CORO_CLOSED"

    run(main())


def test_block_on_from_a_plain_thread_is_a_runtime_error() -> None:
    errors: list[BaseException] = []
    coro = _answer()

    def target() -> None:
        try:
            gokio.block_on(coro)
        except RuntimeError as e:
            errors.append(e)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    assert len(errors) == 1
    assert "spawn_blocking" in str(errors[0])
    assert "gokio.Runtime" in str(errors[0])
    assert inspect.getcoroutinestate(coro) == "CORO_CLOSED"


def test_block_on_on_a_loop_thread_is_a_runtime_error(run: Runner) -> None:
    async def main() -> None:
        coro = _answer()
        with pytest.raises(RuntimeError, match=r"would deadlock\. Use 'await coro'"):
            gokio.block_on(coro)
        assert inspect.getcoroutinestate(coro) == "CORO_CLOSED"

    run(main())


def test_block_on_of_a_non_awaitable_is_a_type_error() -> None:
    with gokio.Runtime() as rt, pytest.raises(TypeError, match="block_on\\(\\) takes a coroutine"):
        rt.block_on(5)  # type: ignore[arg-type]


# --- gokio functions on loops gokio did not start ---------------------------------------


def test_every_foundation_function_works_on_a_foreign_loop(run: Runner) -> None:
    async def main() -> None:
        h = gokio.spawn(_answer())
        assert await h == 42
        assert await gokio.go(lambda: 1) == 1
        assert await gokio.spawn_blocking(lambda: 2) == 2
        assert await gokio.join(_answer()) == (42,)
        assert await gokio.try_join(_answer()) == (42,)
        await gokio.yield_now()
        await gokio.sleep(0)
        await gokio.sleep(0.001)
        await gokio.sleep_until(gokio.Instant.now())
        assert await gokio.timeout(5, _answer()) == 42
        iv = gokio.interval(0.001)
        await iv.tick()
        async with gokio.JoinSet[int]() as js:
            js.spawn(_answer())
            assert await js.join_all() == [42]

    run(main())


@pytest.mark.parametrize("seed", [11, 22, 33])
def test_stress_spawn_abort_and_await_across_threads(seed: int) -> None:
    """Tasks spawned onto a Runtime from several threads, some aborted from yet another
    thread, all awaited from a loop on this thread: every handle reports exactly its own
    outcome and none hangs. Tasks to be aborted hold until every abort was sent."""
    rng = random.Random(seed)
    n_threads, per_thread = 4, 50
    steps = [rng.randrange(0, 20) for _ in range(n_threads * per_thread)]
    to_abort = set(rng.sample(range(len(steps)), len(steps) // 3))
    hold: list[asyncio.Event] = []

    async def work(i: int) -> int:
        for _ in range(steps[i]):
            await asyncio.sleep(0)
        if i in to_abort:
            await hold[0].wait()
        return i

    handles: dict[int, gokio.JoinHandle[int]] = {}
    lock = threading.Lock()
    with gokio.Runtime() as rt:

        async def make_hold() -> None:
            hold.append(asyncio.Event())

        rt.block_on(make_hold())

        def spawner(t: int) -> None:
            for i in range(t * per_thread, (t + 1) * per_thread):
                h = rt.spawn(work(i), name=f"w{i}")
                with lock:
                    handles[i] = h

        def aborter() -> None:
            pending = sorted(to_abort)
            while pending:
                with lock:
                    ready = [i for i in pending if i in handles]
                for i in ready:
                    handles[i].abort()
                pending = [i for i in pending if i not in ready]
                time.sleep(0)

        threads = [threading.Thread(target=spawner, args=(t,)) for t in range(n_threads)]
        threads.append(threading.Thread(target=aborter))
        for th in threads:
            th.start()
        for th in threads:
            th.join()

        async def release() -> None:
            hold[0].set()

        rt.block_on(release())  # queued after every abort: those landed first

        async def collect() -> dict[int, object]:
            out: dict[int, object] = {}
            for i, h in handles.items():
                try:
                    out[i] = await h
                except gokio.TaskAborted:
                    out[i] = "aborted"
            return out

        outcomes = asyncio.run(collect())
    assert len(outcomes) == len(steps), f"seed={seed}"
    for i, got in outcomes.items():
        want = "aborted" if i in to_abort else i
        assert got == want, f"seed={seed} task={i} got={got!r}"
