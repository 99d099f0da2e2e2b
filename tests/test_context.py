"""Go contexts (gokio.context): cancellation, deadlines, values, after_func, run."""

from __future__ import annotations

import asyncio
import gc
import random
import threading
import time
import weakref
from typing import Any

import pytest

import gokio
from gokio import Instant, context
from gokio._park import WAITS
from tests.conftest import Runner


async def _await(aw: Any) -> Any:
    return await aw


def test_public_names_of_the_context_module() -> None:
    assert sorted(context.__all__) == [
        "CancelCauseFunc",
        "CancelFunc",
        "Canceled",
        "Context",
        "DeadlineExceeded",
        "Done",
        "background",
        "todo",
        "with_cancel",
        "with_cancel_cause",
        "with_deadline",
        "with_timeout",
        "with_value",
        "without_cancel",
    ]
    assert issubclass(context.DeadlineExceeded, TimeoutError)


# --- background and todo ---------------------------------------------------------------------


@pytest.mark.parametrize("make", [context.background, context.todo])
def test_root_contexts_are_never_done_and_carry_nothing(make: Any) -> None:
    ctx = make()
    assert ctx is make()
    assert ctx.err() is None
    assert ctx.cause() is None
    assert ctx.deadline() is None
    assert ctx.value("k") is None


def test_background_done_never_completes(vrun: Runner) -> None:
    async def main() -> None:
        with pytest.raises(gokio.Elapsed):
            await gokio.timeout(3600, context.background().done())

    vrun(main())


# --- with_cancel ------------------------------------------------------------------------------


def test_cancel_makes_err_canceled_and_cause_the_same() -> None:
    ctx, cancel = context.with_cancel(context.background())
    assert ctx.err() is None
    cancel()
    err = ctx.err()
    assert isinstance(err, context.Canceled)
    assert ctx.cause() is err
    assert ctx.err() is err  # the same instance every time


def test_cancel_is_idempotent() -> None:
    ctx, cancel = context.with_cancel(context.background())
    cancel()
    err = ctx.err()
    cancel()
    assert ctx.err() is err


def test_cancelling_a_parent_cancels_descendants_with_its_err_and_cause() -> None:
    parent, cancel = context.with_cancel_cause(context.background())
    child, _ = context.with_cancel(parent)
    grandchild = context.with_value(context.with_cancel(child)[0], "k", 1)
    boom = ValueError("boom")
    cancel(boom)
    for c in (child, grandchild):
        assert c.err() is parent.err()
        assert c.cause() is boom


def test_cancelling_a_child_leaves_the_parent_alone() -> None:
    parent, _ = context.with_cancel(context.background())
    child, cancel = context.with_cancel(parent)
    cancel()
    assert child.err() is not None
    assert parent.err() is None


def test_child_of_a_done_context_is_born_done() -> None:
    parent, cancel = context.with_cancel(context.background())
    cancel()
    child, _ = context.with_cancel(parent)
    assert child.err() is parent.err()


def test_done_wakes_waiters_when_cancelled_from_a_thread(run: Runner) -> None:
    async def main() -> None:
        ctx, cancel = context.with_cancel(context.background())
        child = context.with_cancel(ctx)[0]
        hs = [gokio.spawn(_await(c.done())) for c in (ctx, child, ctx)]
        await gokio.yield_now()
        threading.Thread(target=cancel).start()
        for h in hs:
            await h

    run(main())


def test_cancel_from_a_thread_has_reached_descendants_when_it_returns() -> None:
    ctx, cancel = context.with_cancel(context.background())
    ctxs = [ctx]
    for i in range(100):
        ctxs.append(context.with_cancel(ctxs[i // 2])[0])
    seen: list[bool] = []

    def canceller() -> None:
        cancel()
        seen.extend(c.err() is not None for c in ctxs)

    th = threading.Thread(target=canceller)
    th.start()
    th.join()
    assert seen == [True] * len(ctxs)


def test_parked_done_wait_is_recorded_with_kind_ctx_done(run: Runner) -> None:
    async def main() -> None:
        ctx, cancel = context.with_cancel(context.background())
        task = asyncio.ensure_future(_await(ctx.done()))
        await gokio.yield_now()
        assert WAITS[task].kind == "ctx.done"
        assert WAITS[task].obj is ctx
        cancel()
        await task

    run(main())


def test_done_works_as_a_select_case(run: Runner) -> None:
    async def main() -> None:
        ctx, cancel = context.with_cancel(context.background())
        ch: gokio.Chan[int] = gokio.chan(1)
        assert await gokio.select(ch.recv(), ctx.done(), default=True) is None
        asyncio.get_running_loop().call_soon(cancel)
        assert await gokio.select(ch.recv(), ctx.done()) == (1, None)

    run(main())


def test_with_cancel_cause_records_the_cause() -> None:
    ctx, cancel = context.with_cancel_cause(context.background())
    boom = KeyError("k")
    cancel(boom)
    cancel(ValueError("later causes are ignored"))
    assert isinstance(ctx.err(), context.Canceled)
    assert ctx.cause() is boom


def test_with_cancel_cause_without_a_cause_uses_canceled() -> None:
    ctx, cancel = context.with_cancel_cause(context.background())
    cancel(None)
    assert ctx.cause() is ctx.err()


def test_with_cancel_cause_rejects_a_cause_that_is_not_an_exception() -> None:
    _, cancel = context.with_cancel_cause(context.background())
    with pytest.raises(TypeError, match="must be an exception"):
        cancel("why")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "make",
    [
        context.with_cancel,
        context.with_cancel_cause,
        context.without_cancel,
        lambda p: context.with_timeout(p, 1),
        lambda p: context.with_deadline(p, Instant.now()),
        lambda p: context.with_value(p, "k", 1),
    ],
)
def test_a_parent_that_is_not_a_context_is_a_type_error(make: Any) -> None:
    with pytest.raises(TypeError, match=r"context\.background"):
        make(None)


# --- values ------------------------------------------------------------------------------------


def test_value_lookup_walks_to_the_root_and_the_nearest_binding_wins() -> None:
    a = context.with_value(context.background(), "user", "ann")
    b = context.with_cancel(context.with_value(a, "req", 1))[0]
    c = context.with_value(b, "user", "bob")
    assert c.value("user") == "bob"
    assert c.value("req") == 1
    assert b.value("user") == "ann"
    assert c.value("missing") is None


def test_value_context_shares_its_parents_cancellation() -> None:
    parent, cancel = context.with_cancel(context.background())
    v = context.with_value(parent, "k", 1)
    cancel()
    assert v.err() is parent.err()


def test_with_value_rejects_a_none_key() -> None:
    with pytest.raises(TypeError, match="key must not be None"):
        context.with_value(context.background(), None, 1)


def test_without_cancel_keeps_values_but_not_cancellation_or_deadline() -> None:
    parent, cancel = context.with_timeout(context.with_value(context.background(), "k", 1), 60)
    detached = context.without_cancel(parent)
    cancel()
    assert detached.err() is None
    assert detached.deadline() is None
    assert detached.value("k") == 1
    child, cancel_child = context.with_cancel(detached)
    cancel_child()
    assert child.err() is not None


# --- deadlines ----------------------------------------------------------------------------------


def test_with_timeout_expires_with_deadline_exceeded(vrun: Runner) -> None:
    async def main() -> None:
        start = Instant.now()
        ctx, _ = context.with_timeout(context.background(), 5)
        assert ctx.deadline() == start + 5
        await ctx.done()
        assert start.elapsed() == pytest.approx(5)
        err = ctx.err()
        assert isinstance(err, context.DeadlineExceeded)
        assert isinstance(err, TimeoutError)
        assert ctx.cause() is err

    vrun(main())


def test_deadline_expiry_reaches_children(vrun: Runner) -> None:
    async def main() -> None:
        ctx, _ = context.with_timeout(context.background(), 1)
        child = context.with_value(context.with_cancel(ctx)[0], "k", 1)
        await child.done()
        assert child.err() is ctx.err()

    vrun(main())


def test_a_child_deadline_never_outlives_its_parents(vrun: Runner) -> None:
    async def main() -> None:
        parent, _ = context.with_timeout(context.background(), 1)
        child, _ = context.with_timeout(parent, 10)
        assert child.deadline() == parent.deadline()
        assert child._node._timer is None  # the parent's timer is enough
        await child.done()
        assert isinstance(child.err(), context.DeadlineExceeded)

    vrun(main())


def test_a_child_deadline_earlier_than_its_parents_applies(vrun: Runner) -> None:
    async def main() -> None:
        parent, _ = context.with_timeout(context.background(), 10)
        child, _ = context.with_timeout(parent, 1)
        assert child.deadline() == parent.deadline() - 9  # type: ignore[operator]
        await child.done()
        assert parent.err() is None

    vrun(main())


def test_with_deadline_in_the_past_is_done_at_once(vrun: Runner) -> None:
    async def main() -> None:
        ctx, _ = context.with_deadline(context.background(), Instant.now() - 1)
        assert isinstance(ctx.err(), context.DeadlineExceeded)
        assert ctx._node._timer is None

    vrun(main())


def test_with_timeout_zero_is_done_at_once() -> None:
    ctx, _ = context.with_timeout(context.background(), 0)
    assert isinstance(ctx.err(), context.DeadlineExceeded)


def test_cancel_before_the_deadline_cancels_the_timer(vrun: Runner) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        ctx, cancel = context.with_timeout(context.background(), 3600)
        timer_loop, handle = ctx._node._timer
        assert timer_loop is loop
        assert isinstance(handle, asyncio.TimerHandle)
        assert handle in loop._scheduled
        cancel()
        assert handle.cancelled()
        assert isinstance(ctx.err(), context.Canceled)

    vrun(main())


def test_cancelling_a_parent_cancels_the_timers_of_descendants(vrun: Runner) -> None:
    async def main() -> None:
        parent, cancel = context.with_cancel(context.background())
        children = [context.with_timeout(parent, 100 + i)[0] for i in range(5)]
        handles = [c._node._timer[1] for c in children]
        cancel()
        assert all(h.cancelled() for h in handles)
        assert all(c._node._timer is None for c in children)

    vrun(main())


def test_cancel_from_a_thread_cancels_the_loop_timer(run: Runner) -> None:
    async def main() -> None:
        ctx, cancel = context.with_timeout(context.background(), 3600)
        _, handle = ctx._node._timer
        th = threading.Thread(target=cancel)
        th.start()
        th.join()
        await gokio.yield_now()  # the cancellation of the handle is queued on this loop
        assert handle.cancelled()

    run(main())


def test_cancel_on_the_loop_cancels_the_loop_timer(run: Runner) -> None:
    async def main() -> None:
        ctx, cancel = context.with_timeout(context.background(), 3600)
        _, handle = ctx._node._timer
        cancel()
        assert handle.cancelled()

    run(main())


def test_a_cancelled_context_with_a_deadline_is_garbage_collected(vrun: Runner) -> None:
    async def main() -> weakref.ref[Any]:
        ctx, cancel = context.with_timeout(context.background(), 3600)
        ctx.after_func(lambda: None)()  # registered and stopped: leaves nothing behind
        ref = weakref.ref(ctx._node)
        cancel()
        del ctx, cancel
        return ref

    ref = vrun(main())
    gc.collect()
    assert ref() is None


def test_deadline_without_a_loop_uses_a_thread_timer() -> None:
    ctx, _ = context.with_timeout(context.background(), 0.02)
    timer = ctx._node._timer
    assert isinstance(timer, threading.Timer)
    timer.join(5)
    assert isinstance(ctx.err(), context.DeadlineExceeded)


def test_cancel_without_a_loop_stops_the_thread_timer() -> None:
    ctx, cancel = context.with_timeout(context.background(), 3600)
    timer = ctx._node._timer
    cancel()
    timer.join(5)
    assert not timer.is_alive()
    assert isinstance(ctx.err(), context.Canceled)


@pytest.mark.parametrize(("seconds", "exc"), [(-1, ValueError), (float("nan"), ValueError)])
def test_bad_timeouts_are_value_errors(seconds: float, exc: type[Exception]) -> None:
    with pytest.raises(exc):
        context.with_timeout(context.background(), seconds)


def test_a_timeout_that_is_not_a_number_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        context.with_timeout(context.background(), "5")  # type: ignore[arg-type]


def test_with_deadline_needs_an_instant() -> None:
    with pytest.raises(TypeError, match=r"gokio\.Instant"):
        context.with_deadline(context.background(), time.monotonic() + 5)  # type: ignore[arg-type]


# --- after_func ----------------------------------------------------------------------------------


def test_after_func_runs_an_async_function_when_cancelled(run: Runner) -> None:
    async def main() -> None:
        ctx, cancel = context.with_cancel(context.background())
        ran = asyncio.Event()

        async def fn() -> None:
            ran.set()

        ctx.after_func(fn)
        await gokio.yield_now()
        assert not ran.is_set()
        cancel()
        await ran.wait()

    run(main())


def test_after_func_runs_a_plain_function_on_the_blocking_pool(run_default: Runner) -> None:
    async def main() -> None:
        ctx, cancel = context.with_cancel(context.background())
        loop_thread = threading.current_thread()
        ran = threading.Event()
        where: list[threading.Thread] = []

        def fn() -> None:
            where.append(threading.current_thread())
            ran.set()

        ctx.after_func(fn)
        threading.Thread(target=cancel).start()  # from another thread, too
        await asyncio.to_thread(ran.wait, 5)
        assert where
        assert where[0] is not loop_thread

    run_default(main())


def test_after_func_on_a_done_context_runs_at_once(run: Runner) -> None:
    async def main() -> None:
        ctx, cancel = context.with_cancel(context.background())
        cancel()
        ran = asyncio.Event()

        async def fn() -> None:
            ran.set()

        stop = ctx.after_func(fn)
        await ran.wait()
        assert stop() is False

    run(main())


def test_stop_before_done_prevents_the_call(run: Runner) -> None:
    async def main() -> None:
        ctx, cancel = context.with_cancel(context.background())
        ran: list[int] = []

        async def fn() -> None:
            ran.append(1)

        stop = ctx.after_func(fn)
        assert stop() is True
        assert stop() is False
        cancel()
        await asyncio.sleep(0.01)
        assert ran == []

    run(main())


def test_stop_after_done_returns_false(run: Runner) -> None:
    async def main() -> None:
        ctx, cancel = context.with_cancel(context.background())
        ran = asyncio.Event()

        async def fn() -> None:
            ran.set()

        stop = ctx.after_func(fn)
        cancel()
        assert stop() is False
        await ran.wait()

    run(main())


def test_after_func_on_background_never_runs_and_stop_prevents_it() -> None:
    stop = context.background().after_func(lambda: None)
    assert stop() is True
    assert stop() is False


def test_after_func_keeps_an_otherwise_unreferenced_context_alive(run: Runner) -> None:
    async def main() -> None:
        parent, cancel = context.with_cancel(context.background())
        ran = asyncio.Event()

        async def fn() -> None:
            ran.set()

        # nothing but the registration references the middle and inner contexts
        context.with_cancel(context.with_cancel(parent)[0])[0].after_func(fn)
        gc.collect()
        cancel()
        await ran.wait()
        assert not parent._node._pinned  # a cancelled subtree unpins itself

    run(main())


def test_stopping_after_func_unpins_the_context() -> None:
    parent, _ = context.with_cancel(context.background())
    child, _ = context.with_cancel(parent)
    stop = child.after_func(lambda: None)
    assert parent._node._pinned
    stop()
    assert not parent._node._pinned
    assert parent._node._pins == 0


def test_after_func_from_a_plain_thread_runs_a_plain_function_on_a_thread() -> None:
    ctx, cancel = context.with_cancel(context.background())
    ran = threading.Event()
    ctx.after_func(ran.set)
    cancel()
    assert ran.wait(5)


def test_after_func_with_an_async_function_outside_a_loop_is_a_clear_error() -> None:
    async def fn() -> None:
        return None

    ctx, _ = context.with_cancel(context.background())
    with pytest.raises(RuntimeError, match="no event loop"):
        ctx.after_func(fn)


def test_after_func_rejects_what_is_not_callable() -> None:
    ctx, _ = context.with_cancel(context.background())
    with pytest.raises(TypeError, match="takes a function"):
        ctx.after_func(42)  # type: ignore[arg-type]


# --- run -----------------------------------------------------------------------------------------


def test_run_returns_the_result(run: Runner) -> None:
    async def main() -> int:
        ctx, _ = context.with_cancel(context.background())

        async def work() -> int:
            await gokio.yield_now()
            return 3

        return await ctx.run(work())

    assert run(main()) == 3


def test_run_cancels_the_work_and_raises_canceled(run: Runner) -> None:
    async def main() -> None:
        ctx, cancel = context.with_cancel(context.background())
        cleaned: list[int] = []

        async def work() -> None:
            try:
                await asyncio.sleep(3600)
            finally:
                cleaned.append(1)

        asyncio.get_running_loop().call_soon(cancel)
        with pytest.raises(context.Canceled):
            await ctx.run(work())
        assert cleaned == [1]
        await gokio.yield_now()  # not left cancelled

    run(main())


def test_run_raises_deadline_exceeded_at_the_deadline(vrun: Runner) -> None:
    async def main() -> None:
        ctx, _ = context.with_timeout(context.background(), 2)
        with pytest.raises(context.DeadlineExceeded):
            await ctx.run(asyncio.sleep(3600))

    vrun(main())


def test_run_on_a_done_context_does_not_start_the_work(run: Runner) -> None:
    async def main() -> None:
        ctx, cancel = context.with_cancel(context.background())
        cancel()
        started: list[int] = []

        async def work() -> None:
            started.append(1)

        with pytest.raises(context.Canceled):
            await ctx.run(work())
        assert started == []

    run(main())


def test_run_raises_from_the_cancel_cause(run: Runner) -> None:
    async def main() -> None:
        ctx, cancel = context.with_cancel_cause(context.background())
        boom = ValueError("boom")
        cancel(boom)
        with pytest.raises(context.Canceled) as info:
            await ctx.run(asyncio.sleep(0))
        assert info.value.__cause__ is boom
        assert info.value is not ctx.err()

    run(main())


def test_run_is_cancelled_by_a_parent_cancelled_from_a_thread(run_default: Runner) -> None:
    async def main() -> None:
        parent, cancel = context.with_cancel(context.background())
        ctx = context.with_value(context.with_cancel(parent)[0], "k", 1)
        threading.Timer(0.01, cancel).start()
        with pytest.raises(context.Canceled):
            await ctx.run(asyncio.sleep(3600))

    run_default(main())


def test_repr_names_the_kind_and_state() -> None:
    ctx, cancel = context.with_cancel(context.background())
    assert "with_cancel" in repr(ctx)
    cancel()
    assert "canceled" in repr(ctx)


def test_with_timeout_expires_on_every_loop(run: Runner) -> None:
    async def main() -> None:
        ctx, _ = context.with_timeout(context.background(), 0.005)
        await ctx.done()
        assert isinstance(ctx.err(), context.DeadlineExceeded)

    run(main())


def test_stop_racing_cancel_from_threads_runs_fn_exactly_when_stop_failed(
    run_default: Runner,
) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)

    async def main() -> None:
        n = 60
        ran = [0] * n
        stopped: list[bool | None] = [None] * n

        def make(i: int) -> Any:
            async def fn() -> None:
                ran[i] += 1

            return fn

        for i in range(n):
            ctx, cancel = context.with_cancel(context.background())
            stop = ctx.after_func(make(i))

            def do_stop(i: int = i, stop: Any = stop) -> None:
                stopped[i] = stop()

            ts = [threading.Thread(target=cancel), threading.Thread(target=do_stop)]
            rng.shuffle(ts)
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        expected = stopped.count(False)
        for _ in range(100):
            if sum(ran) >= expected:
                break
            await asyncio.sleep(0.005)
        for i in range(n):
            assert ran[i] == (0 if stopped[i] else 1), f"seed={seed} i={i}"

    run_default(main())


def test_run_on_background_just_awaits(run: Runner) -> None:
    async def main() -> int:
        return await context.with_value(context.background(), "k", 1).run(asyncio.sleep(0, 5))

    assert run(main()) == 5


def test_run_with_something_not_awaitable_is_a_type_error(run: Runner) -> None:
    async def main() -> None:
        ctx, _ = context.with_cancel(context.background())
        with pytest.raises(TypeError, match="expected an awaitable"):
            await ctx.run(42)  # type: ignore[arg-type]

    run(main())


def test_blocking_done_wakes_a_plain_thread_at_the_deadline() -> None:
    ctx, cancel = context.with_timeout(context.background(), 0.01)
    ctx.blocking_done()  # a threading.Timer ends it: no loop needed
    assert isinstance(ctx.err(), context.DeadlineExceeded)
    cancel()


def test_blocking_done_on_a_loop_thread_is_a_runtime_error(run: Runner) -> None:
    async def main() -> None:
        ctx, cancel = context.with_cancel(context.background())
        with pytest.raises(RuntimeError, match=r"await ctx\.done"):
            ctx.blocking_done()
        cancel()

    run(main())
