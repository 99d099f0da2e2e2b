"""Go tour, "Goroutines": ``go say("world")`` running next to ``say("hello")``.

The Go program::

    func say(s string) {
        for i := 0; i < 5; i++ {
            time.Sleep(100 * time.Millisecond)
            fmt.Println(s)
        }
    }

    func main() {
        go say("world")
        say("hello")
    }

In gokio, ``gokio.go(say, "world")`` is Go's ``go say("world")``: it spawns the async
function as a task and returns at once. As in Go, when ``main`` returns the program ends,
so the background task may not get to print its last line: ``gokio.run`` aborts the tasks
still running when ``main`` returns (nothing is left pending).

Run it: ``python examples/say.py``.
"""

from __future__ import annotations

import gokio


async def say(s: str) -> None:
    for _ in range(5):
        await gokio.sleep(0.1)
        print(s, flush=True)


@gokio.main
async def main() -> None:
    gokio.go(say, "world")  # fire and forget: the runtime keeps the task alive
    await say("hello")


if __name__ == "__main__":
    main()
