"""CancellationToken: the cancellation tree, waiting, drop guards, run_until_cancelled."""

from __future__ import annotations

import asyncio
import gc
import random
import threading
import weakref
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

import gokio
from gokio import CancellationToken
from gokio._park import WAITS
from tests.conftest import Runner

# --- the token itself -----------------------------------------------------------------------


def test_new_token_is_not_cancelled() -> None:
    assert not CancellationToken().is_cancelled()


def test_cancel_sets_cancelled_and_is_idempotent() -> None:
    t = CancellationToken()
    t.cancel()
    t.cancel()
    assert t.is_cancelled()


def test_repr_shows_state() -> None:
    t = CancellationToken()
    assert "active" in repr(t)
    t.cancel()
    assert "cancelled" in repr(t)


def test_cancelled_returns_at_once_when_already_cancelled(run: Runner) -> None:
    async def main() -> None:
        t = CancellationToken()
        t.cancel()
        await t.cancelled()
        assert t.is_cancelled()

    run(main())


def test_cancelled_wakes_when_another_task_cancels(run: Runner) -> None:
    async def main() -> list[str]:
        t = CancellationToken()
        log: list[str] = []

        async def waiter() -> None:
            await t.cancelled()
            log.append("woken")

        h = gokio.spawn(waiter())
        await gokio.yield_now()
        assert log == []
        t.cancel()
        await h
        return log

    assert run(main()) == ["woken"]


def test_cancelled_is_lazy_nothing_happens_until_awaited() -> None:
    t = CancellationToken()
    t.cancelled()  # never awaited: no coroutine, so no "never awaited" warning either
    assert t._waiters is None


def test_cancel_from_a_plain_thread_wakes_every_waiter(run: Runner) -> None:
    async def main() -> None:
        t = CancellationToken()
        hs = [gokio.spawn(_await(t.child_token().cancelled())) for _ in range(3)]
        hs.append(gokio.spawn(_await(t.cancelled())))
        await gokio.yield_now()
        threading.Thread(target=t.cancel).start()
        for h in hs:
            await h

    run(main())


def test_parked_cancelled_wait_is_recorded_with_kind_cancelled(run: Runner) -> None:
    async def main() -> None:
        t = CancellationToken()

        async def waiter() -> None:
            await t.cancelled()

        task = asyncio.ensure_future(waiter())
        await gokio.yield_now()
        rec = WAITS[task]
        assert rec.kind == "cancelled"
        assert rec.obj is t
        t.cancel()
        await task

    run(main())


def test_cancelling_the_waiter_removes_its_parker(run: Runner) -> None:
    async def main() -> None:
        t = CancellationToken()
        task = asyncio.ensure_future(_await(t.cancelled()))
        await gokio.yield_now()
        assert len(t._waiters or {}) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not t._waiters
        assert not t.is_cancelled()

    run(main())


async def _await(aw: Any) -> Any:
    return await aw


def test_cancelled_works_as_a_select_case(run: Runner) -> None:
    async def main() -> None:
        t = CancellationToken()
        ch: gokio.Chan[int] = gokio.chan()
        asyncio.get_running_loop().call_soon(t.cancel)
        sel = await gokio.select(ch.recv(), t.cancelled())
        assert sel == (1, None)
        assert len(ch) == 0

    run(main())


# --- the tree -------------------------------------------------------------------------------


def test_cancelling_a_parent_cancels_children_and_grandchildren() -> None:
    root = CancellationToken()
    child = root.child_token()
    grandchild = child.child_token()
    root.cancel()
    assert child.is_cancelled()
    assert grandchild.is_cancelled()


def test_cancelling_a_child_leaves_parent_and_siblings_alone() -> None:
    root = CancellationToken()
    a, b = root.child_token(), root.child_token()
    a.cancel()
    assert a.is_cancelled()
    assert not root.is_cancelled()
    assert not b.is_cancelled()


def test_child_of_a_cancelled_token_is_born_cancelled() -> None:
    root = CancellationToken()
    root.cancel()
    assert root.child_token().is_cancelled()
    assert root.child_token().child_token().is_cancelled()


def test_children_that_are_dropped_are_garbage_collected() -> None:
    root = CancellationToken()
    refs = []
    for _ in range(1000):
        c = root.child_token()
        c.child_token()
        refs.append(weakref.ref(c))
    del c
    gc.collect()
    assert all(r() is None for r in refs)
    # the table of weak references is pruned as it grows: bounded, not 1000 entries
    root.child_token()
    assert len(root._children or {}) <= 64


def test_a_cancelled_child_detaches_from_its_parent() -> None:
    root = CancellationToken()
    child = root.child_token()
    child.cancel()
    assert id(child) not in (root._children or {})
    r = weakref.ref(child)
    del child
    gc.collect()
    assert r() is None


def test_a_live_child_keeps_its_parent_alive_so_the_root_still_reaches_it() -> None:
    root = CancellationToken()
    grandchild = root.child_token().child_token()  # the middle token has no other referent
    gc.collect()
    root.cancel()
    assert grandchild.is_cancelled()


def test_cancel_from_another_thread_has_reached_every_descendant_when_it_returns() -> None:
    root = CancellationToken()
    nodes = [root]
    for _ in range(200):
        nodes.append(random.choice(nodes).child_token())
    seen: list[bool] = []

    def canceller() -> None:
        root.cancel()
        seen.extend(n.is_cancelled() for n in nodes)

    th = threading.Thread(target=canceller)
    th.start()
    th.join()
    assert all(seen)
    assert len(seen) == len(nodes)


def test_threads_cancelling_and_branching_concurrently_keep_the_tree_consistent() -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    root = CancellationToken()
    nodes: list[tuple[CancellationToken, int]] = [(root, -1)]  # (token, parent index)
    lock = threading.Lock()

    def worker(wseed: int) -> None:
        r = random.Random(wseed)
        for _ in range(300):
            with lock:
                i = r.randrange(len(nodes))
                tok = nodes[i][0]
            if r.random() < 0.15:
                tok.cancel()
            else:
                child = tok.child_token()
                with lock:
                    nodes.append((child, i))

    threads = [threading.Thread(target=worker, args=(rng.randrange(2**32),)) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # Invariant: a cancelled token's descendants are all cancelled.
    for tok, parent in nodes:
        if parent >= 0 and nodes[parent][0].is_cancelled():
            assert tok.is_cancelled(), f"seed={seed}"


class TokenTree(RuleBasedStateMachine):
    """Random trees, random cancellations: exactly the cancelled subtrees are cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.parent: dict[int, int | None] = {}
        self.tokens: list[CancellationToken] = []
        self.cancelled_roots: set[int] = set()

    nodes = Bundle("nodes")

    def _model_cancelled(self, i: int) -> bool:
        j: int | None = i
        while j is not None:
            if j in self.cancelled_roots:
                return True
            j = self.parent[j]
        return False

    @rule(target=nodes)
    def new_root(self) -> int:
        self.tokens.append(CancellationToken())
        self.parent[len(self.tokens) - 1] = None
        return len(self.tokens) - 1

    @rule(target=nodes, p=nodes)
    def new_child(self, p: int) -> int:
        self.tokens.append(self.tokens[p].child_token())
        self.parent[len(self.tokens) - 1] = p
        return len(self.tokens) - 1

    @rule(i=nodes)
    def cancel(self, i: int) -> None:
        self.tokens[i].cancel()
        self.cancelled_roots.add(i)

    @invariant()
    def exactly_the_cancelled_subtrees_are_cancelled(self) -> None:
        for i, tok in enumerate(self.tokens):
            assert tok.is_cancelled() == self._model_cancelled(i)


TestTokenTree = TokenTree.TestCase
TestTokenTree.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)


@st.composite
def _trees(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    n = draw(st.integers(1, 25))
    parents = [-1] + [draw(st.integers(0, i - 1)) for i in range(1, n)]
    cancels = draw(st.lists(st.integers(0, n - 1), max_size=4))
    return parents, cancels


@settings(max_examples=40, deadline=None)
@given(_trees())
def test_random_tree_waiters_wake_exactly_for_cancelled_subtrees(
    tree: tuple[list[int], list[int]],
) -> None:
    parents, cancels = tree

    async def main() -> None:
        toks: list[CancellationToken] = []
        for p in parents:
            toks.append(CancellationToken() if p < 0 else toks[p].child_token())
        waiters = [asyncio.ensure_future(_await(t.cancelled())) for t in toks]
        await gokio.yield_now()
        for c in cancels:
            toks[c].cancel()
        await gokio.yield_now()
        for i in range(len(toks)):
            j, expect = i, False
            while j >= 0:
                expect = expect or j in cancels
                j = parents[j]
            assert waiters[i].done() == expect
            assert toks[i].is_cancelled() == expect
        for w in waiters:
            w.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)

    asyncio.run(main())


# --- drop guard -----------------------------------------------------------------------------


def test_drop_guard_cancels_on_exit() -> None:
    t = CancellationToken()
    with t.drop_guard():
        assert not t.is_cancelled()
    assert t.is_cancelled()


def test_drop_guard_cancels_when_the_block_raises() -> None:
    t = CancellationToken()
    with pytest.raises(KeyError), t.drop_guard():
        raise KeyError("x")
    assert t.is_cancelled()


def test_disarmed_drop_guard_does_not_cancel_and_returns_the_token() -> None:
    t = CancellationToken()
    with t.drop_guard() as g:
        assert g.disarm() is t
    assert not t.is_cancelled()


def test_disarming_twice_is_a_clear_error() -> None:
    g = CancellationToken().drop_guard()
    g.disarm()
    with pytest.raises(RuntimeError, match="already disarmed"):
        g.disarm()


# --- run_until_cancelled ----------------------------------------------------------------------


def test_run_until_cancelled_returns_the_result(run: Runner) -> None:
    async def main() -> int | None:
        async def work() -> int:
            await gokio.yield_now()
            return 7

        return await CancellationToken().run_until_cancelled(work())

    assert run(main()) == 7


def test_run_until_cancelled_returns_none_and_cancels_the_work(run: Runner) -> None:
    async def main() -> None:
        t = CancellationToken()
        log: list[str] = []

        async def work() -> int:
            try:
                await asyncio.sleep(3600)
            finally:
                log.append("cleaned up")
            return 1

        asyncio.get_running_loop().call_soon(t.cancel)
        assert await t.run_until_cancelled(work()) is None
        assert log == ["cleaned up"]
        # our own task is not left cancelled
        task = asyncio.current_task()
        assert task is not None
        assert task.cancelling() == 0
        await gokio.yield_now()

    run(main())


def test_run_until_cancelled_on_a_cancelled_token_does_not_start_the_work(run: Runner) -> None:
    async def main() -> None:
        t = CancellationToken()
        t.cancel()
        started: list[int] = []

        async def work() -> int:
            started.append(1)
            return 1

        assert await t.run_until_cancelled(work()) is None
        assert started == []

    run(main())


def test_run_until_cancelled_with_a_future_on_a_cancelled_token_cancels_it(run: Runner) -> None:
    async def main() -> None:
        t = CancellationToken()
        t.cancel()
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        assert await t.run_until_cancelled(fut) is None
        assert fut.cancelled()

    run(main())


def test_run_until_cancelled_cancelled_from_a_thread(run: Runner) -> None:
    async def main() -> None:
        t = CancellationToken()
        threading.Timer(0.01, t.cancel).start()
        assert await t.run_until_cancelled(asyncio.sleep(3600, 1)) is None

    run(main())


def test_run_until_cancelled_propagates_the_work_exception(run: Runner) -> None:
    async def main() -> None:
        async def work() -> None:
            raise KeyError("boom")

        with pytest.raises(KeyError):
            await CancellationToken().run_until_cancelled(work())

    run(main())


def test_outer_cancellation_of_run_until_cancelled_is_not_swallowed(run: Runner) -> None:
    async def main() -> None:
        t = CancellationToken()
        task = asyncio.ensure_future(t.run_until_cancelled(asyncio.sleep(3600)))
        await gokio.yield_now()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not t.is_cancelled()
        assert not t._callbacks  # its callback was unregistered

    run(main())


def test_outer_and_token_cancellation_together_still_cancel_the_caller(run: Runner) -> None:
    async def main() -> None:
        t = CancellationToken()
        task = asyncio.ensure_future(t.run_until_cancelled(asyncio.sleep(3600)))
        await gokio.yield_now()
        task.cancel()
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())


def test_work_that_swallows_the_cancellation_keeps_its_result(run: Runner) -> None:
    async def main() -> None:
        t = CancellationToken()

        async def stubborn() -> str:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                return "partial"
            return "full"

        asyncio.get_running_loop().call_soon(t.cancel)
        assert await t.run_until_cancelled(stubborn()) == "partial"
        await asyncio.sleep(0)  # the caller is not left with a pending cancellation

    run(main())


def test_run_until_cancelled_outside_a_task_is_a_clear_error() -> None:
    async def work() -> None:
        return None

    coro = CancellationToken().run_until_cancelled(work())
    with pytest.raises(RuntimeError, match="inside a task"):
        coro.send(None)


def test_run_until_cancelled_with_something_not_awaitable_is_a_type_error(run: Runner) -> None:
    async def main() -> None:
        with pytest.raises(TypeError, match="expected an awaitable"):
            await CancellationToken().run_until_cancelled(42)  # type: ignore[arg-type]

    run(main())


def test_tasks_on_two_loops_in_two_threads_share_one_token() -> None:
    root = CancellationToken()
    woken: list[str] = []
    ready = threading.Barrier(3)

    def loop_thread(name: str, token: CancellationToken) -> None:
        async def main() -> None:
            waiter = asyncio.ensure_future(_await(token.cancelled()))
            await gokio.yield_now()
            ready.wait()
            await waiter
            woken.append(name)

        asyncio.run(main())

    threads = [
        threading.Thread(target=loop_thread, args=("a", root)),
        threading.Thread(target=loop_thread, args=("b", root.child_token())),
    ]
    for th in threads:
        th.start()
    ready.wait()
    root.cancel()
    for th in threads:
        th.join(10)
    assert sorted(woken) == ["a", "b"]


def test_work_that_cancels_its_own_token_and_returns_keeps_its_result(run: Runner) -> None:
    """The cancel request lands while `aw` is running and it returns without awaiting."""

    async def main() -> None:
        t = CancellationToken()

        async def work() -> int:
            t.cancel()
            return 5

        assert await t.run_until_cancelled(work()) == 5
        await asyncio.sleep(0)  # the request was withdrawn: the caller is not cancelled
        task = asyncio.current_task()
        assert task is not None
        assert task.cancelling() == 0

    run(main())


def test_blocking_cancelled_wakes_a_plain_thread_when_cancelled(run: Runner) -> None:
    token = gokio.CancellationToken()
    woke = threading.Event()

    def waiter() -> None:
        token.child_token().blocking_cancelled()
        woke.set()

    th = threading.Thread(target=waiter)
    th.start()

    async def main() -> None:
        await asyncio.sleep(0.01)
        assert not woke.is_set()
        token.cancel()  # from a task: the parked thread wakes

    run(main())
    th.join(5)
    assert woke.is_set()


def test_blocking_cancelled_on_a_loop_thread_is_a_runtime_error(run: Runner) -> None:
    async def main() -> None:
        with pytest.raises(RuntimeError, match=r"await token\.cancelled"):
            gokio.CancellationToken().blocking_cancelled()

    run(main())
