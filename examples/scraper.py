"""A small web scraper: bounded concurrency, per-request timeouts, typed errors, a summary.

What the Rust version does with ``futures::stream::iter(urls).map(fetch)
.buffer_unordered(4)`` and ``tokio::time::timeout``, in gokio:

* ``stream.iter(urls).map(lambda url: attempt(client, url)).buffer_unordered(4)``: at most
  4 requests in flight, results as they complete;
* ``gokio.timeout(seconds, client.get(url))`` per request: a slow page raises `gokio.Elapsed`
  after the request was cancelled;
* errors are typed (`HTTPStatusError`, `RequestTimeoutError`, `ConnectError`, all `ScrapeError`)
  and returned as values to the collector, so one bad page does not stop the others;
* ``logging`` for progress, and a final summary of successes, failures and elapsed time.

The example starts its own HTTP server on 127.0.0.1 (see ``_local_server.py``: fast pages,
a slow one, a 404 and a 500) and adds a URL where nothing listens; httpx is the client.

Run it: ``python examples/scraper.py``.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass

import httpx

import gokio
from _local_server import local_server, refused_url
from gokio import stream

CONCURRENCY = 4
REQUEST_TIMEOUT = 0.5  # seconds; /slow takes 2 s

log = logging.getLogger("scraper")


class ScrapeError(Exception):
    """A page could not be scraped."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url


class HTTPStatusError(ScrapeError):
    """The server answered with an error status."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(url, f"HTTP {status}")
        self.status = status


class RequestTimeoutError(ScrapeError):
    """No complete answer within the per-request timeout."""


class ConnectError(ScrapeError):
    """The server could not be reached."""


@dataclass(frozen=True)
class Page:
    url: str
    title: str
    size: int


TITLE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)

in_flight = 0
peak_in_flight = 0


async def fetch(client: httpx.AsyncClient, url: str) -> Page:
    """Fetch and parse one page, turning every failure into a `ScrapeError`."""
    try:
        resp = await gokio.timeout(REQUEST_TIMEOUT, client.get(url))
    except gokio.Elapsed as e:
        raise RequestTimeoutError(url, f"no answer within {REQUEST_TIMEOUT} s") from e
    except httpx.TransportError as e:  # refused, reset, DNS ...
        raise ConnectError(url, f"cannot connect ({type(e).__name__})") from e
    if resp.status_code >= 400:
        raise HTTPStatusError(url, resp.status_code)
    match = TITLE.search(resp.text)
    return Page(url, match.group(1).strip() if match else "(no title)", len(resp.content))


async def attempt(client: httpx.AsyncClient, url: str) -> Page | ScrapeError:
    """`fetch`, with the outcome as a value: the collector decides what a failure means."""
    global in_flight, peak_in_flight
    in_flight += 1
    peak_in_flight = max(peak_in_flight, in_flight)
    try:
        page = await fetch(client, url)
    except ScrapeError as e:
        log.warning("failed: %s (%s)", e, type(e).__name__)
        return e
    finally:
        in_flight -= 1
    log.info("scraped %s: %r, %d bytes", url, page.title, page.size)
    return page


@gokio.main
async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # our own log lines are enough
    t0 = gokio.Instant.now()
    async with local_server() as base, httpx.AsyncClient(trust_env=False) as client:
        # trust_env=False: no proxy from the environment, the requests stay on 127.0.0.1
        urls = [f"{base}/page/{n}" for n in range(1, 9)]
        urls += [f"{base}/slow", f"{base}/missing", f"{base}/error", refused_url()]
        log.info("scraping %d URLs, at most %d at a time", len(urls), CONCURRENCY)

        outcomes = await (
            stream.iter(urls)
            .map(lambda url: attempt(client, url))  # a sync lambda: a stream of coroutines
            .buffer_unordered(CONCURRENCY)  # runs them, at most 4 at once
            .collect()
        )
    elapsed = t0.elapsed()

    pages = sorted((o for o in outcomes if isinstance(o, Page)), key=lambda p: p.url)
    errors = [o for o in outcomes if isinstance(o, ScrapeError)]
    kinds = Counter(type(e).__name__ for e in errors)

    print(f"scraped {len(pages)} pages: {', '.join(p.title for p in pages)}")
    for e in sorted(errors, key=lambda e: (type(e).__name__, e.url)):
        print(f"  {type(e).__name__}: {e}")
    print(
        f"summary: {len(pages)} succeeded, {len(errors)} failed "
        f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}) "
        f"in {elapsed:.2f} s, at most {peak_in_flight} requests in flight"
    )


if __name__ == "__main__":
    main()
