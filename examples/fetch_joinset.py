"""Fetch several URLs concurrently with a `gokio.JoinSet`, handling each as it completes.

The Rust program (reqwest + Tokio)::

    let mut set = JoinSet::new();
    for url in urls {
        let client = client.clone();
        set.spawn(async move {
            let resp = client.get(&url).send().await?;
            Ok::<_, reqwest::Error>((url, resp.status(), resp.text().await?.len()))
        });
    }
    while let Some(res) = set.join_next().await {
        let (url, status, len) = res??;
        println!("{url}: {status}, {len} bytes");
    }

The example starts its own HTTP server on 127.0.0.1 (see ``_local_server.py``) and uses
httpx as the client. Slower pages are spawned first, so the completion order (the order
``join_next`` returns them) differs from the spawn order. ``async with JoinSet()`` aborts
whatever would still run if the block were left early (an exception, a cancellation).

Run it: ``python examples/fetch_joinset.py``.
"""

from __future__ import annotations

import httpx

import gokio
from _local_server import local_server


async def fetch(client: httpx.AsyncClient, url: str) -> tuple[str, int, int]:
    resp = await client.get(url)
    return url, resp.status_code, len(resp.content)


@gokio.main
async def main() -> None:
    async with local_server() as base, httpx.AsyncClient(trust_env=False) as client:
        # trust_env=False: no proxy from the environment, the requests stay on 127.0.0.1
        urls = [f"{base}/page/{n}" for n in (5, 4, 3, 2, 1)] + [f"{base}/missing"]
        t0 = gokio.Instant.now()
        async with gokio.JoinSet[tuple[str, int, int]]() as fetches:
            for url in urls:
                fetches.spawn(fetch(client, url))
            print(f"spawned {len(fetches)} fetches")
            while fetches:  # join_next() re-raises a fetch's exception, if any
                result = await fetches.join_next()
                assert result is not None
                url, status, size = result
                print(f"{url.removeprefix(base)}: HTTP {status}, {size} bytes")
        elapsed = t0.elapsed()
    # Sequentially this would take the sum of the delays (0.3 s); concurrently, the longest.
    print(f"fetched {len(urls)} URLs concurrently in {elapsed:.2f} s")


if __name__ == "__main__":
    main()
