"""Tiny benchmark harness: best-of-N timings, printed as a table with ratios.

Every benchmark module defines ``main()`` that calls `report` once per comparison; the
first row of a comparison is gokio, the others are its peers, and each row shows its
ratio to gokio (higher = gokio is faster by that factor).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

REPEAT = 5


@dataclass
class Row:
    name: str
    seconds: float  # best time for `ops` operations
    ops: int
    unit: str = "op"

    @property
    def per_op_us(self) -> float:
        return self.seconds / self.ops * 1e6


def best_of(fn: Callable[[], Any], repeat: int = REPEAT) -> float:
    """Best wall time of ``repeat`` calls of ``fn`` (gc collected before each)."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def best_of_each(fns: list[Callable[[], Any]], repeat: int = REPEAT) -> list[float]:
    """Best time of each function, the runs interleaved (a, b, c, a, b, c, ...).

    Interleaving spreads any background noise over every contender instead of letting it
    land on whichever ran during the noisy moment.
    """
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            gc.collect()
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def compare(
    title: str,
    contenders: list[tuple[str, Callable[[], Any]]],
    ops: int,
    *,
    unit: str = "op",
    target: str = "",
    repeat: int = REPEAT,
) -> list[Row]:
    """Time every contender (interleaved best-of-``repeat``) and `report` them."""
    times = best_of_each([fn for _, fn in contenders], repeat)
    rows = [Row(name, t, ops, unit) for (name, _), t in zip(contenders, times, strict=True)]
    report(title, rows, target=target)
    return rows


def run_on(loop_kind: str, factory: Callable[[], Awaitable[Any]]) -> Callable[[], Any]:
    """A callable that runs ``factory()`` on a fresh loop of ``loop_kind`` once."""

    def go() -> Any:
        if loop_kind == "uvloop":
            import uvloop

            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as r:
                return r.run(factory())  # type: ignore[arg-type]
        with asyncio.Runner() as r:
            return r.run(factory())  # type: ignore[arg-type]

    return go


def report(title: str, rows: list[Row], *, target: str = "") -> None:
    """Print one comparison: gokio first, then each peer with peer_time / gokio_time."""
    base = rows[0]
    print(f"\n## {title}" + (f"  (target: {target})" if target else ""))
    print(f"{'implementation':<44} {'us/' + base.unit:>10} {'ops/s':>12} {'gokio speedup':>14}")
    for r in rows:
        ratio = r.per_op_us / base.per_op_us
        print(f"{r.name:<44} {r.per_op_us:>10.3f} {1e6 / r.per_op_us:>12,.0f} {ratio:>13.2f}x")
