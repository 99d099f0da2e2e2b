"""A worker pipeline with fan-out and fan-in, in the Tokio style: mpsc + JoinSet.

The Rust program::

    let (job_tx, job_rx) = mpsc::channel(16);
    let job_rx = Arc::new(Mutex::new(job_rx));       // share one receiver (fan-out)
    let (res_tx, mut res_rx) = mpsc::channel(16);
    let mut workers = JoinSet::new();
    for id in 1..=4 {
        let (jobs, results) = (job_rx.clone(), res_tx.clone());
        workers.spawn(async move {
            let mut done = 0;
            while let Some(job) = jobs.lock().await.recv().await {
                results.send(job * job).await.unwrap();
                done += 1;
            }
            done
        });
    }
    drop(res_tx);                                    // only the workers hold senders now
    tokio::spawn(async move { for j in 1..=12 { job_tx.send(j).await.unwrap(); } });
    while let Some(square) = res_rx.recv().await { ... }   // fan-in: ends with the senders
    let counts = workers.join_all().await;

An mpsc channel has one receiver, so the workers share it behind a `gokio.Mutex` (Tokio's
``Arc<Mutex<Receiver>>``). No WaitGroup is needed: the results channel closes by itself
when the last worker closes its sender, and the JoinSet collects what the workers return
(and would re-raise the first failure).

Run it: ``python examples/pipeline_tokio.py``. The Go-style twin is ``pipeline_go.py``.
"""

from __future__ import annotations

import gokio
from gokio import mpsc

N_WORKERS = 4
N_JOBS = 12


async def worker(jobs: gokio.Mutex[mpsc.Receiver[int]], results: mpsc.Sender[int]) -> int:
    done = 0
    with results:  # closes this worker's sender handle when the worker ends
        while True:
            async with jobs.lock() as guard:
                try:
                    job = await guard.value.recv()
                except gokio.Closed:  # the producer is gone and every job was taken
                    return done
            await gokio.sleep(0.01 * (job % 3))  # pretend to work, without the lock
            await results.send(job * job)
            done += 1


async def produce(tx: mpsc.Sender[int]) -> None:
    with tx:
        for job in range(1, N_JOBS + 1):
            await tx.send(job)


@gokio.main
async def main() -> None:
    job_tx: mpsc.Sender[int]
    job_rx: mpsc.Receiver[int]
    job_tx, job_rx = mpsc.channel(16)
    res_tx: mpsc.Sender[int]
    res_rx: mpsc.Receiver[int]
    res_tx, res_rx = mpsc.channel(16)

    jobs = gokio.Mutex(job_rx)
    async with gokio.JoinSet[int]() as workers:
        for _ in range(N_WORKERS):
            workers.spawn(worker(jobs, res_tx.clone()))
        res_tx.close()  # Rust's drop(res_tx): only the workers' clones keep it open
        gokio.spawn(produce(job_tx))

        squares = [square async for square in res_rx]  # fan-in: ends with the last sender
        counts = await workers.join_all()

    print(f"collected {len(squares)} results from {N_WORKERS} workers")
    print("squares:", sorted(squares))
    print("sum:", sum(squares))
    print("jobs done by the workers:", sum(counts))


if __name__ == "__main__":
    main()
