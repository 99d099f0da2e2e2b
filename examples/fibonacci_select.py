"""Go tour, "Select": Fibonacci numbers sent on a channel until a ``quit`` channel fires.

The Go program::

    func fibonacci(c, quit chan int) {
        x, y := 0, 1
        for {
            select {
            case c <- x:
                x, y = y, x+y
            case <-quit:
                fmt.Println("quit")
                return
            }
        }
    }

    func main() {
        c := make(chan int)
        quit := make(chan int)
        go func() {
            for i := 0; i < 10; i++ {
                fmt.Println(<-c)
            }
            quit <- 0
        }()
        fibonacci(c, quit)
    }

``gokio.select`` commits exactly one case: when ``quit`` wins, no Fibonacci number was
sent (nothing is half done), and when the send wins, ``quit`` was not consumed.

Run it: ``python examples/fibonacci_select.py``.
"""

from __future__ import annotations

import gokio


async def fibonacci(c: gokio.Chan[int], quit: gokio.Chan[int]) -> None:
    x, y = 0, 1
    while True:
        # The cases are lazy ops: nothing is sent or received until select commits one.
        sel = await gokio.select(c.send(x), quit.recv())
        if sel.index == 0:
            x, y = y, x + y
        else:
            print("quit")
            return


@gokio.main
async def main() -> None:
    c: gokio.Chan[int] = gokio.chan()  # unbuffered: each send meets a receive
    quit: gokio.Chan[int] = gokio.chan()

    async def consume() -> None:
        for _ in range(10):
            print(await c.recv())
        await quit.send(0)

    gokio.go(consume)
    await fibonacci(c, quit)


if __name__ == "__main__":
    main()
