"""Request/response with a oneshot reply channel (the Tokio "actor" pattern).

The Rust program::

    enum Command { Get { key: String, resp: oneshot::Sender<Option<u64>> }, ... }

    let (tx, mut rx) = mpsc::channel::<Command>(32);
    tokio::spawn(async move {                       // the server owns the state
        let mut db = HashMap::new();
        while let Some(cmd) = rx.recv().await {
            match cmd { Command::Get { key, resp } => { let _ = resp.send(db.get(&key)); } ... }
        }
    });
    let (resp_tx, resp_rx) = oneshot::channel();
    tx.send(Command::Get { key: "a".into(), resp: resp_tx }).await?;
    let value = resp_rx.await?;

One task owns the state and no lock is needed: clients send a request together with a
oneshot sender, and await the reply on its receiver. If the server drops a request
without answering, the client gets `gokio.Closed` instead of waiting forever.

Run it: ``python examples/oneshot_request.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import gokio
from gokio import mpsc, oneshot


@dataclass
class Get:
    key: str
    reply: oneshot.OneshotSender[int | None]


@dataclass
class Incr:
    key: str
    by: int
    reply: oneshot.OneshotSender[int]


Request = Get | Incr


async def server(rx: mpsc.Receiver[Request]) -> None:
    db: dict[str, int] = {}
    async for req in rx:  # ends when every client sender is closed
        match req:
            case Get(key, reply):
                reply.send(db.get(key))
            case Incr(key, by, reply):
                db[key] = db.get(key, 0) + by
                reply.send(db[key])
    print("server: every client is gone, stopping")


async def incr(tx: mpsc.Sender[Request], key: str, by: int) -> int:
    reply_tx: oneshot.OneshotSender[int]
    reply_tx, reply_rx = oneshot.channel()
    await tx.send(Incr(key, by, reply_tx))
    return await reply_rx  # the server's answer, or Closed if it dropped the request


async def get(tx: mpsc.Sender[Request], key: str) -> int | None:
    reply_tx: oneshot.OneshotSender[int | None]
    reply_tx, reply_rx = oneshot.channel()
    await tx.send(Get(key, reply_tx))
    return await reply_rx


@gokio.main
async def main() -> None:
    tx: mpsc.Sender[Request]
    rx: mpsc.Receiver[Request]
    tx, rx = mpsc.channel(32)
    srv = gokio.spawn(server(rx))

    with tx:  # closing the last sender stops the server
        # Ten clients increment concurrently; the server applies them one at a time.
        await gokio.join(*(incr(tx, "hits", 1) for _ in range(10)))
        print("incr('visits', 5) ->", await incr(tx, "visits", 5))
        print("get('hits') ->", await get(tx, "hits"))
        print("get('missing') ->", await get(tx, "missing"))
    await srv


if __name__ == "__main__":
    main()
