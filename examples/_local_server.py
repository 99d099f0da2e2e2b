"""A small local HTTP server for the HTTP examples (``fetch_joinset.py``, ``scraper.py``).

It listens on 127.0.0.1 only, on a port the OS picks, so the examples need no network
and never touch another address. Routes:

* ``/page/{n}``: a small HTML page, answered after ``n`` * 20 ms;
* ``/slow``: answers after 2 s (long enough to trip a client's timeout);
* ``/error``: HTTP 500;
* anything else: HTTP 404.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

HOST = "127.0.0.1"


async def _page(request: web.Request) -> web.Response:
    n = int(request.match_info["n"])
    await asyncio.sleep(0.02 * n)
    html = f"<html><head><title>Page {n}</title></head><body>{'lorem ' * n}</body></html>"
    return web.Response(text=html, content_type="text/html")


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(2.0)
    return web.Response(text="<html><head><title>Slow</title></head></html>")


async def _error(request: web.Request) -> web.Response:
    raise web.HTTPInternalServerError(text="something broke")


@asynccontextmanager
async def local_server() -> AsyncIterator[str]:
    """Serve the routes above on 127.0.0.1 for the duration of the block.

    Yields:
        The base URL, e.g. ``http://127.0.0.1:43817``.
    """
    app = web.Application()
    app.router.add_get("/page/{n:\\d+}", _page)
    app.router.add_get("/slow", _slow)
    app.router.add_get("/error", _error)
    # handler_cancellation: a handler whose client went away (a client-side timeout) is
    # cancelled, so shutting down does not wait for the slow page to finish.
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1)
    await runner.setup()
    try:
        site = web.TCPSite(runner, HOST, 0)  # port 0: the OS picks a free port
        await site.start()
        _, port = runner.addresses[0][:2]
        yield f"http://{HOST}:{port}"
    finally:
        await runner.cleanup()


def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (a port we bind, then release)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    return f"http://{HOST}:{port}/page/1"
