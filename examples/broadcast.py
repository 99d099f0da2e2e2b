"""Broadcast: every message reaches each of three subscribers (Tokio's ``sync::broadcast``).

The Rust program::

    let (tx, _) = broadcast::channel(16);
    for id in 1..=3 {
        let mut rx = tx.subscribe();
        tokio::spawn(async move {
            while let Ok(msg) = rx.recv().await { println!("subscriber {id} got {msg}"); }
        });
    }
    for msg in ["alpha", "beta", "gamma"] { tx.send(msg)?; }
    drop(tx);   // the subscribers' loops end once they have read everything

``tx.send`` never waits: it stores the message once and returns how many receivers will
see it. A receiver that falls more than ``capacity`` messages behind gets `gokio.Lagged`
(how many it missed) instead of slowing the sender down.

Run it: ``python examples/broadcast.py``.
"""

from __future__ import annotations

import gokio
from gokio import broadcast


async def subscriber(sid: int, rx: broadcast.BroadcastReceiver[str]) -> list[str]:
    # The loop ends once every sender is closed and this receiver has read everything.
    got = [msg async for msg in rx]
    print(f"subscriber {sid} got {got}")
    return got


@gokio.main
async def main() -> None:
    tx: broadcast.BroadcastSender[str]
    tx, rx = broadcast.channel(16)
    # Subscribe before sending: a receiver sees the messages sent after it subscribed.
    receivers = [rx, tx.subscribe(), tx.subscribe()]
    handles = [gokio.spawn(subscriber(sid, r)) for sid, r in enumerate(receivers, 1)]

    for msg in ["alpha", "beta", "gamma"]:
        n = tx.send(msg)
        print(f"sent {msg!r} to {n} subscribers")
    tx.close()  # Rust's drop(tx)

    results = [await h for h in handles]
    assert all(r == ["alpha", "beta", "gamma"] for r in results)
    print("every subscriber got every message")


if __name__ == "__main__":
    main()
