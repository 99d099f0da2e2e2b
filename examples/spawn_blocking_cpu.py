"""CPU work on the blocking pool with `gokio.spawn_blocking`, while the loop stays responsive.

The Rust program::

    let ticker = tokio::spawn(async {
        let mut iv = time::interval(Duration::from_millis(50));
        loop { iv.tick().await; println!("tick"); }
    });
    let primes = task::spawn_blocking(|| count_primes(N)).await?;   // off the runtime
    ticker.abort();

A CPU-bound function called directly from async code holds the event loop: no other
task runs until it returns. `gokio.spawn_blocking` runs it on a thread of the bounded
blocking pool instead and returns a `JoinHandle` to await, so the ticker below keeps
ticking while the primes are counted. (CPython threads share the GIL; the interpreter
switches between them every few milliseconds, which is plenty for an I/O-bound loop.
For parallel CPU work use processes.)

Run it: ``python examples/spawn_blocking_cpu.py``.
"""

from __future__ import annotations

import gokio

LIMIT = 150_000


def count_primes(limit: int) -> int:
    """Deliberately slow, pure-Python CPU work."""
    count = 0
    for n in range(2, limit):
        if all(n % d for d in range(2, int(n**0.5) + 1)):
            count += 1
    return count


@gokio.main
async def main() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        async for _ in gokio.interval(0.05):
            ticks += 1

    tick_task = gokio.spawn(ticker())
    await gokio.sleep(0)  # let the ticker take its first (immediate) tick

    t0 = gokio.Instant.now()
    primes = await gokio.spawn_blocking(count_primes, LIMIT)
    elapsed = t0.elapsed()
    during = ticks - 1
    tick_task.abort()

    print(f"{primes} primes below {LIMIT:,} counted on the blocking pool in {elapsed:.2f} s")
    print(f"the ticker ticked {during} times meanwhile: the event loop stayed responsive")
    assert primes == 13848


if __name__ == "__main__":
    main()
