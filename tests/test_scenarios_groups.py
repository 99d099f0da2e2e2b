"""Seed scenarios: an ErrGroup with a limit where one job fails, and a worker loop
shut down gracefully by a CancellationToken through select."""

from __future__ import annotations

import pytest

import gokio
from gokio import CancellationToken, ErrGroup
from tests.conftest import Runner


def test_errgroup_limit_4_over_10_jobs_where_one_fails(vrun: Runner) -> None:
    """The others see ctx.done(), wait raises that error, never more than 4 ran at once."""

    async def main() -> None:
        g = ErrGroup(limit=4)
        boom = RuntimeError("job 2 failed")
        running = peak = 0
        outcome: dict[int, str] = {}

        async def job(i: int) -> None:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            try:
                if i == 2:
                    await gokio.sleep(1)
                    raise boom
                # Real work takes 100 s; a job stops early when the group is cancelled.
                sel = await gokio.select(gokio.sleep(100), g.ctx.done(), biased=True)
                assert sel is not None
                outcome[i] = "finished" if sel.index == 0 else "saw ctx.done"
            finally:
                running -= 1

        start = gokio.Instant.now()
        for i in range(10):
            await g.go(job, i)
        with pytest.raises(RuntimeError) as info:
            await g.wait()
        assert info.value is boom
        assert peak == 4  # the limit was reached, never exceeded
        assert outcome == {i: "saw ctx.done" for i in range(10) if i != 2}
        assert g.ctx.cause() is boom
        assert start.elapsed() < 100  # nobody waited for the 100 s of work

    vrun(main())


def test_worker_loop_shut_down_gracefully_by_a_token(vrun: Runner) -> None:
    """Workers select between work and token.cancelled(); nothing is lost on shutdown."""

    async def main() -> None:
        root = CancellationToken()
        jobs: gokio.Chan[int] = gokio.chan(100)
        processed: list[list[int]] = [[], [], []]

        async def worker(n: int, token: CancellationToken) -> str:
            while True:
                sel = await gokio.select(jobs.recv(), token.cancelled())
                assert sel is not None
                if sel.index == 1:
                    return "stopped"
                await gokio.sleep(0.5)  # the work itself; it is finished, never cut off
                processed[n].append(sel.value)

        handles = [gokio.spawn(worker(n, root.child_token())) for n in range(3)]
        for item in range(20):
            await jobs.send(item)
            await gokio.sleep(0.1)
        with root.drop_guard():
            await gokio.sleep(0.2)
        assert [await h for h in handles] == ["stopped"] * 3
        leftover = []
        while len(jobs):
            leftover.append(jobs.try_recv())
        done = sorted(x for p in processed for x in p)
        # every item was either processed exactly once or is still queued: none lost
        assert sorted(done + leftover) == list(range(20))
        assert len(done) > 0
        assert leftover == sorted(leftover)

    vrun(main())
