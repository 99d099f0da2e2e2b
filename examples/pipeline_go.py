"""A worker pipeline with fan-out and fan-in, in the Go style: chan + WaitGroup + close.

The Go program (from "Go by Example: Worker Pools", plus a WaitGroup to close results)::

    jobs := make(chan int, 100)
    results := make(chan int, 100)
    var wg sync.WaitGroup
    for w := 1; w <= 4; w++ {
        wg.Add(1)
        go func(id int) { defer wg.Done(); worker(id, jobs, results) }(w)
    }
    for j := 1; j <= 12; j++ { jobs <- j }
    close(jobs)
    go func() { wg.Wait(); close(results) }()
    for r := range results { ... }

Four workers share one ``jobs`` channel (fan-out); each sends its results to one
``results`` channel that a single collector ranges over (fan-in). Closing ``jobs`` ends the
workers' loops; the WaitGroup tells when the last worker is gone so ``results`` can be
closed, which ends the collector's loop.

Run it: ``python examples/pipeline_go.py``. The Tokio-style twin is ``pipeline_tokio.py``.
"""

from __future__ import annotations

import gokio

N_WORKERS = 4
N_JOBS = 12


async def worker(wid: int, jobs: gokio.Chan[int], results: gokio.Chan[tuple[int, int]]) -> None:
    async for job in jobs:  # ends once jobs is closed and drained
        await gokio.sleep(0.01 * (job % 3))  # pretend to work
        await results.send((wid, job * job))


@gokio.main
async def main() -> None:
    jobs: gokio.Chan[int] = gokio.chan(100)
    results: gokio.Chan[tuple[int, int]] = gokio.chan(100)

    wg = gokio.WaitGroup()
    for wid in range(1, N_WORKERS + 1):
        wg.go(worker, wid, jobs, results)  # add(1), spawn, done() when it returns

    for job in range(1, N_JOBS + 1):
        await jobs.send(job)
    jobs.close()

    async def close_results() -> None:
        await wg.wait()
        results.close()

    gokio.go(close_results)

    squares: list[int] = []
    per_worker = dict.fromkeys(range(1, N_WORKERS + 1), 0)
    async for wid, square in results:  # the collector: ends when results is closed
        squares.append(square)
        per_worker[wid] += 1

    print(f"collected {len(squares)} results from {N_WORKERS} workers")
    print("squares:", sorted(squares))
    print("sum:", sum(squares))
    print("jobs per worker:", per_worker)


if __name__ == "__main__":
    main()
