"""Tasks: spawn, JoinHandle, go, join, try_join, yield_now (issue 2, item 4 and 7)."""

from __future__ import annotations

import asyncio
import gc
import inspect
import logging
import threading
import traceback
import weakref
from typing import Any

import pytest

import gokio
from gokio._task import live_tasks
from tests.conftest import Runner


class BoomError(Exception):
    pass


def _fail_deep() -> None:
    raise BoomError("deep")


async def _fails() -> None:
    await asyncio.sleep(0)
    _fail_deep()


async def _value(v: int) -> int:
    await asyncio.sleep(0)
    return v


# --- spawn and JoinHandle -------------------------------------------------------------


def test_spawn_returns_the_result(run: Runner) -> None:
    async def main() -> int:
        return await gokio.spawn(_value(7))

    assert run(main()) == 7


def test_spawn_reraises_with_the_original_traceback(run: Runner) -> None:
    async def main() -> None:
        await gokio.spawn(_fails())

    with pytest.raises(BoomError) as info:
        run(main())
    frames = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    assert "_fail_deep" in frames
    assert "_fails" in frames


def test_abort_before_start_never_runs_the_body(run: Runner) -> None:
    ran: list[bool] = []

    async def body() -> None:
        ran.append(True)

    async def main() -> None:
        h = gokio.spawn(body())
        h.abort()
        with pytest.raises(gokio.TaskAborted):
            await h
        assert h.is_finished()

    run(main())
    assert ran == []


def test_abort_while_running_raises_task_aborted_and_runs_finally(run: Runner) -> None:
    events: list[str] = []

    async def body() -> None:
        try:
            events.append("started")
            await asyncio.Event().wait()
        finally:
            events.append("finally")

    async def main() -> None:
        h = gokio.spawn(body(), name="victim")
        await asyncio.sleep(0)
        assert not h.is_finished()
        h.abort()
        with pytest.raises(gokio.TaskAborted, match="victim"):
            await h

    run(main())
    assert events == ["started", "finally"]


def test_abort_after_completion_has_no_effect(run: Runner) -> None:
    async def main() -> None:
        h = gokio.spawn(_value(3))
        assert await h == 3
        h.abort()
        assert h.is_finished()
        assert await h == 3

    run(main())


def test_is_finished_tracks_the_task(run: Runner) -> None:
    async def main() -> None:
        ev = asyncio.Event()
        h = gokio.spawn(ev.wait())
        await asyncio.sleep(0)
        assert not h.is_finished()
        ev.set()
        await h
        assert h.is_finished()

    run(main())


def test_handles_have_unique_ids(run: Runner) -> None:
    async def main() -> None:
        hs = [gokio.spawn(_value(i)) for i in range(50)]
        assert len({h.id for h in hs}) == 50
        assert all(isinstance(h.id, int) for h in hs)
        assert [h.id for h in hs] == [h.id for h in hs]  # stable
        for h in hs:
            await h

    run(main())


def test_handle_name_is_the_given_name_or_the_task_name(run: Runner) -> None:
    async def main() -> None:
        named = gokio.spawn(_value(1), name="worker-1")
        unnamed = gokio.spawn(_value(2))
        assert named.name == "worker-1"
        assert unnamed.name.startswith("Task-")
        assert "worker-1" in repr(named)
        await named
        await unnamed

    run(main())


def test_fire_and_forget_task_survives_gc_while_parked(run: Runner) -> None:
    """The task parks on a future only it holds (a cycle); gc must not collect it."""
    done: list[str] = []
    refs: list[weakref.ref[asyncio.Future[None]]] = []

    async def worker() -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        refs.append(weakref.ref(fut))
        await fut
        done.append("completed")

    async def main() -> None:
        gokio.spawn(worker())  # handle dropped at once
        await asyncio.sleep(0)
        for _ in range(3):
            gc.collect()
        fut = refs[0]()
        assert fut is not None, "the parked task was garbage-collected"
        fut.set_result(None)
        for _ in range(3):
            await asyncio.sleep(0)

    run(main())
    assert done == ["completed"]


def test_spawned_task_is_tracked_until_it_ends(run: Runner) -> None:
    async def main() -> None:
        ev = asyncio.Event()
        h = gokio.spawn(ev.wait())
        assert any(t is h._fut for t in live_tasks())
        ev.set()
        await h
        assert all(t is not h._fut for t in live_tasks())

    run(main())


def _run_in_fresh_thread(coro_fn: Any) -> None:
    """Run on a new thread so its task references die with it (then gc can collect)."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro_fn())
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    for _ in range(3):
        gc.collect()
    assert errors == []


def _failure_logs(caplog: pytest.LogCaptureFixture) -> tuple[list[str], list[str]]:
    gokio_logs = [r.getMessage() for r in caplog.records if r.name == "gokio"]
    asyncio_logs = [
        r.getMessage()
        for r in caplog.records
        if r.name == "asyncio" and "never retrieved" in r.getMessage()
    ]
    return gokio_logs, asyncio_logs


def test_detached_failing_task_is_logged_once_with_its_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        gokio.spawn(_fails(), name="doomed-worker")  # handle dropped while it runs
        for _ in range(5):
            await asyncio.sleep(0)

    with caplog.at_level(logging.ERROR):
        _run_in_fresh_thread(main)
    gokio_logs, asyncio_logs = _failure_logs(caplog)
    assert len(gokio_logs) == 1
    assert "doomed-worker" in gokio_logs[0]
    record = next(r for r in caplog.records if r.name == "gokio")
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], BoomError)
    assert asyncio_logs == []


def test_handle_dropped_after_failure_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        h = gokio.spawn(_fails(), name="late-drop")
        for _ in range(5):
            await asyncio.sleep(0)
        assert h.is_finished()
        del h

    with caplog.at_level(logging.ERROR):
        _run_in_fresh_thread(main)
    gokio_logs, asyncio_logs = _failure_logs(caplog)
    assert len(gokio_logs) == 1
    assert "late-drop" in gokio_logs[0]
    assert asyncio_logs == []


def test_awaited_failure_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        h = gokio.spawn(_fails(), name="observed")
        with pytest.raises(BoomError):
            await h

    with caplog.at_level(logging.ERROR):
        _run_in_fresh_thread(main)
    assert _failure_logs(caplog) == ([], [])


def test_handle_awaited_from_another_loop_in_another_thread(run: Runner) -> None:
    import concurrent.futures

    with gokio.Runtime() as rt:
        gate: concurrent.futures.Future[int] = concurrent.futures.Future()

        async def remote() -> int:
            return await asyncio.wrap_future(gate) * 2

        h = rt.spawn(remote())

        async def main() -> int:
            waiter = asyncio.ensure_future(_await(h))
            for _ in range(3):
                await asyncio.sleep(0)
            assert not waiter.done()
            gate.set_result(21)
            return await waiter

        assert run(main()) == 42


async def _await(h: gokio.JoinHandle[int]) -> int:
    return await h


def test_cancelling_await_of_a_handle_does_not_cancel_the_task(run: Runner) -> None:
    async def main() -> None:
        ev = asyncio.Event()

        async def worker() -> str:
            await ev.wait()
            return "done"

        h = gokio.spawn(worker())
        w = asyncio.ensure_future(_await(h))  # type: ignore[arg-type]
        await asyncio.sleep(0)
        w.cancel()
        with pytest.raises(asyncio.CancelledError):
            await w
        assert not h.is_finished()
        ev.set()
        assert await h == "done"

    run(main())


def test_cancelling_await_of_a_remote_handle_does_not_cancel_the_task(run: Runner) -> None:
    import concurrent.futures

    with gokio.Runtime() as rt:
        gate: concurrent.futures.Future[int] = concurrent.futures.Future()

        async def remote() -> int:
            return await asyncio.wrap_future(gate)

        h = rt.spawn(remote())

        async def main() -> int:
            w = asyncio.ensure_future(_await(h))
            await asyncio.sleep(0)
            w.cancel()
            with pytest.raises(asyncio.CancelledError):
                await w
            assert not h.is_finished()
            gate.set_result(5)
            return await h

        assert run(main()) == 5


def test_handle_that_finished_as_its_awaiter_was_cancelled_returns_then_cancels(
    run: Runner,
) -> None:
    """The task ended and the awaiting task was cancelled before it resumed: the result
    is delivered, and the cancellation arrives at the awaiter's next await."""
    got: list[int] = []

    async def awaiter(h: gokio.JoinHandle[int]) -> None:
        got.append(await h)
        await asyncio.sleep(0)
        got.append(-1)  # pragma: no cover - the bug this test catches

    async def main() -> None:
        gate: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        h = gokio.spawn(_await_future(gate))
        w = asyncio.ensure_future(awaiter(h))
        await asyncio.sleep(0)
        gate.set_result(5)
        while not h.is_finished():
            await asyncio.sleep(0)
        w.cancel()  # h is done; w has not resumed yet
        with pytest.raises(asyncio.CancelledError):
            await w

    run(main())
    assert got == [5]


async def _await_future(f: asyncio.Future[int]) -> int:
    return await f


def test_spawn_of_a_non_coroutine_is_a_type_error(run: Runner) -> None:
    async def main() -> None:
        with pytest.raises(TypeError, match="coroutine object, got int"):
            gokio.spawn(42)  # type: ignore[arg-type]

    run(main())


def test_spawn_of_an_uncalled_async_function_says_call_it(run: Runner) -> None:
    async def main() -> None:
        with pytest.raises(TypeError, match=r"call it first: spawn\(_fails\(\)\)"):
            gokio.spawn(_fails)  # type: ignore[arg-type]

    run(main())


def test_spawn_of_a_plain_function_points_to_go() -> None:
    with pytest.raises(TypeError, match=r"gokio\.go"):
        gokio.spawn(print)  # type: ignore[arg-type]


def test_spawn_without_loop_or_runtime_is_a_runtime_error() -> None:
    coro = _value(1)
    with pytest.raises(RuntimeError, match="no gokio runtime"):
        gokio.spawn(coro)
    assert inspect.getcoroutinestate(coro) == "CORO_CLOSED"  # closed: no "never awaited" warning


# --- go -------------------------------------------------------------------------------


def test_go_runs_an_async_function_as_a_task(run: Runner) -> None:
    async def work(a: int, b: int) -> tuple[int, bool]:
        return a + b, asyncio.current_task() is not None

    async def main() -> None:
        h = gokio.go(work, 1, 2)
        assert await h == (3, True)
        assert h.name == "work"

    run(main())


def test_go_runs_a_sync_function_on_the_blocking_pool(run: Runner) -> None:
    def work(a: int) -> tuple[int, str]:
        return a * 2, threading.current_thread().name

    async def main() -> None:
        value, thread = await gokio.go(work, 4)
        assert value == 8
        assert thread.startswith("gokio-blocking")

    run(main())


def test_go_passes_keyword_arguments(run: Runner) -> None:
    async def awork(*, x: int) -> int:
        return x

    def swork(*, y: int) -> int:
        return y

    async def main() -> None:
        assert await gokio.go(awork, x=5) == 5
        assert await gokio.go(swork, y=6) == 6

    run(main())


def test_go_of_something_not_callable_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="go\\(\\) takes a function, got int"):
        gokio.go(3)  # type: ignore[arg-type]


def test_go_of_a_coroutine_object_points_to_spawn() -> None:
    coro = _value(1)
    with pytest.raises(TypeError, match=r"gokio.spawn\(coro\)"):
        gokio.go(coro)  # type: ignore[arg-type]
    assert inspect.getcoroutinestate(coro) == "CORO_CLOSED"


def test_go_runs_an_object_with_async_call_as_a_task(run: Runner) -> None:
    class Job:
        async def __call__(self) -> str:
            return "async"

    async def main() -> None:
        assert await gokio.go(Job()) == "async"

    run(main())


# --- yield_now ------------------------------------------------------------------------


def test_yield_now_lets_another_task_run(run: Runner) -> None:
    async def main() -> None:
        seen: list[int] = []

        async def other() -> None:
            seen.append(1)

        h = gokio.spawn(other())
        assert seen == []
        await gokio.yield_now()
        assert seen == [1]
        await h

    run(main())


# --- join -----------------------------------------------------------------------------


def test_join_returns_results_in_argument_order(run: Runner) -> None:
    async def slow(v: int) -> int:
        for _ in range(5):
            await asyncio.sleep(0)
        return v

    async def main() -> None:
        assert await gokio.join(slow(1), _value(2), gokio.spawn(_value(3))) == (1, 2, 3)
        assert await gokio.join() == ()

    run(main())


def test_join_raises_an_exception_group_after_all_finished(run: Runner) -> None:
    finished: list[str] = []

    async def slow() -> str:
        for _ in range(10):
            await asyncio.sleep(0)
        finished.append("slow")
        return "slow"

    async def fail(msg: str) -> None:
        await asyncio.sleep(0)
        raise BoomError(msg)

    async def main() -> None:
        with pytest.raises(ExceptionGroup) as info:
            await gokio.join(fail("a"), slow(), fail("b"))
        assert finished == ["slow"]
        assert [str(e) for e in info.value.exceptions] == ["a", "b"]

    run(main())


def test_join_of_a_non_awaitable_is_a_type_error(run: Runner) -> None:
    async def main() -> None:
        pending = _value(1)
        with pytest.raises(TypeError, match="argument 1 is not awaitable: int"):
            await gokio.join(pending, 5)  # type: ignore[arg-type]
        assert inspect.getcoroutinestate(pending) == "CORO_CLOSED"

    run(main())


def test_try_join_returns_results_in_order(run: Runner) -> None:
    async def main() -> None:
        assert await gokio.try_join(_value(1), _value(2)) == (1, 2)

    run(main())


def test_try_join_raises_the_first_exception_after_cancelling_the_rest(run: Runner) -> None:
    events: list[str] = []

    async def sibling() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # slow cleanup: try_join must wait for it
            events.append("sibling finally")

    async def fail() -> None:
        await asyncio.sleep(0)
        raise BoomError("first")

    async def main() -> None:
        with pytest.raises(BoomError, match="first"):
            await gokio.try_join(sibling(), fail(), sibling())
        events.append("raised")

    run(main())
    assert events == ["sibling finally", "sibling finally", "raised"]


def test_try_join_of_a_non_awaitable_is_a_type_error(run: Runner) -> None:
    async def main() -> None:
        with pytest.raises(TypeError, match="try_join\\(\\) argument 0 is not awaitable"):
            await gokio.try_join(None)  # type: ignore[arg-type]

    run(main())


def test_try_join_leaves_tasks_passed_in_running(run: Runner) -> None:
    async def main() -> None:
        ev = asyncio.Event()
        task = asyncio.ensure_future(ev.wait())
        handle = gokio.spawn(ev.wait())

        async def fail() -> None:
            await asyncio.sleep(0)
            raise BoomError("x")

        with pytest.raises(BoomError):
            await gokio.try_join(task, handle, fail())
        await asyncio.sleep(0)
        assert not task.done()
        assert not handle.is_finished()
        ev.set()
        assert await task is True
        assert await handle is True

    run(main())


def test_join_cancelled_cancels_its_coroutines(run: Runner) -> None:
    events: list[str] = []

    async def child() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            events.append("child finally")

    async def main() -> None:
        t = asyncio.ensure_future(gokio.join(child(), child()))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t

    run(main())
    assert events == ["child finally", "child finally"]
