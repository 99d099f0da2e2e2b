"""Graceful shutdown on Ctrl+C / SIGTERM with a `gokio.CancellationToken`.

The Rust program (Tokio + tokio-util)::

    let token = CancellationToken::new();
    let worker = tokio::spawn(worker(token.child_token()));
    tokio::select! {
        _ = signal::ctrl_c() => {}
        _ = sigterm.recv() => {}
    }
    token.cancel();          // ask the worker to stop ...
    worker.await?;           // ... and wait until it has finished its current job

The signal handler only cancels the token: the worker notices at its next ``select``,
finishes the job it is on (a job is never cut in half), flushes and returns. ``main``
waits for it, then exits with status 0.

Run it: ``python examples/graceful_shutdown.py`` and press Ctrl+C (or ``kill <pid>``).
``--self-signal-after SECONDS`` makes the program send itself SIGTERM (used by the tests).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal

import gokio


async def worker(token: gokio.CancellationToken) -> int:
    jobs = 0
    iv = gokio.interval(0.05)
    while True:
        # Wait for the next tick or for shutdown, whichever comes first.
        sel = await gokio.select(iv.tick(), token.cancelled(), biased=True)
        if sel.index == 1:
            break
        # A job runs to completion even if shutdown is requested meanwhile: it is not
        # raced against the token, so it is never interrupted half way.
        await gokio.sleep(0.01)
        jobs += 1
    print(f"worker: stop requested, finishing up after {jobs} jobs", flush=True)
    await gokio.sleep(0.02)  # flush buffers, close connections ...
    return jobs


async def run(self_signal_after: float | None) -> None:
    token = gokio.CancellationToken()
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        print(f"main: got {sig.name}, shutting down", flush=True)
        token.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    if self_signal_after is not None:
        loop.call_later(self_signal_after, os.kill, os.getpid(), signal.SIGTERM)

    handle = gokio.spawn(worker(token.child_token()), name="worker")
    print(f"ready (pid {os.getpid()}): press Ctrl+C to stop", flush=True)
    jobs = await handle
    print(f"clean shutdown: worker finished {jobs} jobs", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--self-signal-after",
        type=float,
        metavar="SECONDS",
        help="send this process SIGTERM after SECONDS (for tests and demos)",
    )
    args = parser.parse_args()
    gokio.run(run(args.self_signal_after))


if __name__ == "__main__":
    main()
