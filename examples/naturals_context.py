"""Go's generator pattern: ``naturals(ctx)`` counts until its context is done.

The Go program::

    func naturals(ctx context.Context) <-chan int {
        ch := make(chan int)
        go func() {
            defer close(ch)
            for i := 0; ; i++ {
                select {
                case ch <- i:
                case <-ctx.Done():
                    return
                }
            }
        }()
        return ch
    }

    ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
    defer cancel()
    for n := range naturals(ctx) { ... }
    fmt.Println(ctx.Err())   // context deadline exceeded

The producer stops because the deadline passed, not because the consumer stopped
reading; it closes its channel, which ends the consumer's ``async for``.

Run it: ``python examples/naturals_context.py``.
"""

from __future__ import annotations

import gokio
from gokio import context


def naturals(ctx: context.Context) -> gokio.Chan[int]:
    ch: gokio.Chan[int] = gokio.chan()

    async def produce() -> None:
        try:
            i = 0
            while True:
                sel = await gokio.select(ch.send(i), ctx.done())
                if sel.index == 1:  # the context is done: nothing was sent
                    return
                i += 1
        finally:
            ch.close()  # Go's defer close(ch)

    gokio.go(produce)
    return ch


@gokio.main
async def main() -> None:
    ctx, cancel = context.with_timeout(context.background(), 0.1)
    try:
        received: list[int] = []
        async for n in naturals(ctx):
            received.append(n)
            await gokio.sleep(0.01)  # a slow consumer: about ten numbers fit in 0.1 s
        # The numbers arrive in order, none skipped and none twice.
        assert received == list(range(len(received)))
        print(f"received {len(received)} naturals, in order, from 0 to {len(received) - 1}")
        print(f"stopped: {ctx.err()}")
    finally:
        cancel()  # Go's defer cancel(): releases the timer early


if __name__ == "__main__":
    main()
