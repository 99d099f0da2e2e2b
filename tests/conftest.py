"""Shared fixtures: run a coroutine on each loop a user runs gokio on."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from tests._vclock import run_virtual

T = TypeVar("T")

Runner = Callable[[Coroutine[Any, Any, Any]], Any]

LOOP_KINDS = ["asyncio", "asyncio-debug"]
if sys.platform != "win32":
    LOOP_KINDS.append("uvloop")


def _runner_for(kind: str) -> Runner:
    def run(coro: Coroutine[Any, Any, T]) -> T:
        if kind == "uvloop":
            import uvloop

            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as r:
                return r.run(coro)
        with asyncio.Runner(debug=kind == "asyncio-debug") as r:
            return r.run(coro)

    return run


@pytest.fixture(params=LOOP_KINDS)
def run(request: pytest.FixtureRequest) -> Runner:
    """``run(coro)`` runs it on the default loop, in debug mode, and on uvloop."""
    return _runner_for(request.param)


@pytest.fixture
def run_default() -> Runner:
    """``run(coro)`` on the default asyncio loop only (for slow stress tests)."""
    return _runner_for("asyncio")


@pytest.fixture
def vrun() -> Runner:
    """``vrun(coro)`` runs it on a virtual clock: sleeps and timeouts take no real time."""
    return run_virtual
