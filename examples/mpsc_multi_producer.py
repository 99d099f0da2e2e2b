"""Several producers, one consumer: the consumer's loop ends when every sender is gone.

The Rust program::

    let (tx, mut rx) = mpsc::channel(8);
    for id in 1..=3 {
        let tx = tx.clone();
        tokio::spawn(async move {
            for i in 1..=3 { tx.send(format!("producer {id}: message {i}")).await.unwrap(); }
        });                                 // this clone is dropped here
    }
    drop(tx);                               // keep no sender in main, or the loop never ends
    while let Some(msg) = rx.recv().await { println!("{msg}"); }

The channel is bounded (capacity 8): a fast producer waits for room instead of growing a
queue without limit. Closing a sender handle (``tx.close()`` or ``with tx:``) is Rust's
``drop(tx)``; the channel closes when the last handle is closed, and the receiver's
``async for`` then ends after draining what is buffered.

Run it: ``python examples/mpsc_multi_producer.py``.
"""

from __future__ import annotations

import gokio
from gokio import mpsc


async def producer(pid: int, tx: mpsc.Sender[str]) -> None:
    with tx:  # closes this clone when the producer ends, however it ends
        for i in range(1, 4):
            await tx.send(f"producer {pid}: message {i}")
            await gokio.sleep(0.01 * pid)


@gokio.main
async def main() -> None:
    tx: mpsc.Sender[str]
    rx: mpsc.Receiver[str]
    tx, rx = mpsc.channel(8)
    for pid in range(1, 4):
        gokio.spawn(producer(pid, tx.clone()))
    tx.close()  # Rust's drop(tx): otherwise main's own sender keeps the channel open

    received = [msg async for msg in rx]  # ends when the last sender is closed
    print(f"received {len(received)} messages:")
    for msg in sorted(received):
        print(" ", msg)
    print("every sender is gone: the receive loop ended")


if __name__ == "__main__":
    main()
