"""Go's errgroup with ``SetLimit(4)`` over 10 jobs, one of which fails.

The Go program::

    g, ctx := errgroup.WithContext(context.Background())
    g.SetLimit(4)                            // at most 4 jobs at once
    for i := 0; i < 10; i++ {
        g.Go(func() error { return job(ctx, i) })   // waits for a free slot
    }
    if err := g.Wait(); err != nil { fmt.Println("error:", err) }

The first error cancels ``g.ctx``, so the jobs still running stop early (they watch
``ctx.done()``) and the jobs not yet started see a cancelled context; ``g.wait()`` (here,
leaving ``async with``) waits for every job and raises that first error.

Run it: ``python examples/errgroup_limit.py``.
"""

from __future__ import annotations

import gokio
from gokio import context

LIMIT = 4
running = 0
peak = 0
finished: list[int] = []
stopped_early: list[int] = []


async def job(n: int, ctx: context.Context) -> None:
    global running, peak
    running += 1
    peak = max(peak, running)
    try:
        await gokio.sleep(0.02)
        if n == 5:
            raise ValueError(f"job {n} failed")
        # Work that stops as soon as the group's context is cancelled.
        sel = await gokio.select(gokio.sleep(0.05), ctx.done())
        (finished if sel.index == 0 else stopped_early).append(n)
    finally:
        running -= 1


@gokio.main
async def main() -> None:
    g = gokio.ErrGroup(limit=LIMIT)
    try:
        async with g:  # waits for every job on exit and raises the first error
            for n in range(10):
                await g.go(job, n, g.ctx)  # blocks while LIMIT jobs are running
    except ValueError as e:
        print(f"error: {e}")
    print(f"at most {peak} jobs ran at once (limit {LIMIT})")
    print(
        f"finished: {sorted(finished)}; stopped early by the cancelled context: "
        f"{sorted(stopped_early)}"
    )
    print(f"group context: {g.ctx.err()}")
    assert peak <= LIMIT


if __name__ == "__main__":
    main()
