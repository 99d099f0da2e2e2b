"""spawn_blocking and the blocking pool bridge back into the runtime (issue 2, items 3-4)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

import gokio
from tests.conftest import Runner

_var: contextvars.ContextVar[str] = contextvars.ContextVar("_var", default="unset")


def test_spawn_blocking_returns_the_result(run: Runner) -> None:
    async def main() -> int:
        return await gokio.spawn_blocking(lambda a, b: a * b, 6, 7)

    assert run(main()) == 42


def test_spawn_blocking_reraises_the_exception(run: Runner) -> None:
    def fail() -> None:
        raise KeyError("nope")

    async def main() -> None:
        with pytest.raises(KeyError, match="nope"):
            await gokio.spawn_blocking(fail)

    run(main())


def test_spawn_blocking_runs_on_a_pool_thread_named_gokio_blocking(run: Runner) -> None:
    async def main() -> str:
        return await gokio.spawn_blocking(lambda: threading.current_thread().name)

    assert run(main()).startswith("gokio-blocking")


def test_spawn_blocking_job_sees_the_callers_context_variables(run: Runner) -> None:
    async def main() -> str:
        _var.set("from caller")
        return await gokio.spawn_blocking(_var.get)

    assert run(main()) == "from caller"


def test_spawn_blocking_honours_max_blocking_threads() -> None:
    lock = threading.Lock()
    state = {"running": 0, "max": 0, "done": 0}
    release = threading.Event()

    def job() -> None:
        with lock:
            state["running"] += 1
            state["max"] = max(state["max"], state["running"])
        release.wait(10)
        with lock:
            state["running"] -= 1
            state["done"] += 1

    async def main() -> None:
        handles = [gokio.spawn_blocking(job) for _ in range(6)]
        while state["running"] < 2:
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.05)  # room for a wrongly started third job to show up
        assert state["running"] == 2
        release.set()
        for h in handles:
            await h

    gokio.run(main, max_blocking_threads=2)
    assert state["max"] == 2
    assert state["done"] == 6


def test_abort_before_start_prevents_a_blocking_job() -> None:
    release = threading.Event()
    ran: list[str] = []

    async def main() -> None:
        busy = gokio.spawn_blocking(release.wait, 10)
        queued = gokio.spawn_blocking(ran.append, "queued ran")
        queued.abort()
        with pytest.raises(gokio.TaskAborted):
            await queued  # already finished: returns without a trip through the loop
        release.set()
        # Hold the loop (no await): the pool thread frees up and reaches the queued job
        # before asyncio could forward the abort to it; abort() must have stopped it anyway.
        time.sleep(0.05)
        assert await busy is True

    gokio.run(main, max_blocking_threads=1)
    assert ran == []


def test_block_on_from_a_pool_thread_runs_a_coroutine_on_the_runtime(run: Runner) -> None:
    async def on_loop() -> tuple[int, bool]:
        await asyncio.sleep(0)
        return 5, asyncio.get_running_loop() is loop_box[0]

    loop_box: list[asyncio.AbstractEventLoop] = []

    def job() -> tuple[int, bool]:
        return gokio.block_on(on_loop())

    async def main() -> tuple[int, bool]:
        loop_box.append(asyncio.get_running_loop())
        return await gokio.spawn_blocking(job)

    assert run(main()) == (5, True)


def test_handle_current_inside_a_pool_thread_is_the_runtime(run: Runner) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        h = await gokio.spawn_blocking(gokio.Handle.current)
        assert h.loop is loop

    run(main())


def test_spawn_from_a_pool_thread_spawns_on_the_runtime(run: Runner) -> None:
    async def child() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def job() -> gokio.JoinHandle[asyncio.AbstractEventLoop]:
        return gokio.spawn(child(), name="from-pool")

    async def main() -> None:
        h = await gokio.spawn_blocking(job)
        assert h.name == "from-pool"
        assert await h is asyncio.get_running_loop()

    run(main())


def test_spawn_blocking_from_a_pool_thread_uses_the_same_runtime(run: Runner) -> None:
    def inner() -> str:
        return threading.current_thread().name

    def outer() -> gokio.JoinHandle[str]:
        return gokio.spawn_blocking(inner)

    async def main() -> str:
        h = await gokio.spawn_blocking(outer)
        return await h

    assert run(main()).startswith("gokio-blocking")


def test_spawn_blocking_of_a_non_callable_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="spawn_blocking\\(\\) takes a function, got int"):
        gokio.spawn_blocking(1)  # type: ignore[arg-type]


def test_spawn_blocking_without_a_runtime_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="no gokio runtime"):
        gokio.spawn_blocking(print)


def test_run_returning_aborts_unfinished_blocking_handles_and_waits_for_threads() -> None:
    started, release = threading.Event(), threading.Event()
    finished: list[str] = []
    ran: list[str] = []

    def running_job() -> None:
        started.set()
        release.wait(10)
        finished.append("running job finished")

    async def main() -> tuple[gokio.JoinHandle[None], gokio.JoinHandle[None]]:
        running = gokio.spawn_blocking(running_job)
        queued = gokio.spawn_blocking(ran.append, "queued")
        while not started.is_set():
            await asyncio.sleep(0.001)
        threading.Timer(0.01, release.set).start()
        return running, queued

    running, queued = gokio.run(main, max_blocking_threads=1)
    assert finished == ["running job finished"]  # run waited for the thread
    assert ran == []  # the queued job never ran
    assert running.is_finished()
    assert queued.is_finished()
    with pytest.raises(gokio.TaskAborted):
        gokio.run(_join(running))


async def _join(h: gokio.JoinHandle[None]) -> None:
    await h


def test_runtime_shutdown_aborts_unfinished_blocking_handles() -> None:
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def running_job() -> None:
        started.set()
        release.wait(10)
        ran.append("running")

    rt = gokio.Runtime(max_blocking_threads=1)
    running = rt.spawn_blocking(running_job)
    queued = rt.spawn_blocking(ran.append, "queued")
    assert started.wait(10)
    threading.Timer(0.01, release.set).start()
    rt.shutdown()
    assert ran == ["running"]
    assert running.is_finished()
    assert queued.is_finished()
