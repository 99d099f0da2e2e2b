"""Every program in ``examples/`` runs to completion and prints what it promises.

Each example runs in its own interpreter (``sys.executable``, the repository as working
directory), as a user would run it. The checks look at the key lines only, never at
timings: the machine running the tests may be slow.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TIMEOUT = 60.0

#: what must never appear on an example's stderr, whatever else it logs there
STDERR_ALARMS = (
    "Traceback",
    "Task was destroyed but it is pending",
    "was never awaited",
    "Exception ignored",
    "Unclosed",
    "Deadlock",
)


@dataclass(frozen=True)
class Case:
    """How to run one example and what its output must contain."""

    args: tuple[str, ...] = ()
    #: regular expressions, each matching somewhere in stdout (multiline mode)
    stdout: tuple[str, ...] = ()
    #: regular expressions, each matching somewhere in stderr
    stderr: tuple[str, ...] = ()
    #: further checks on stdout
    check: Callable[[str], None] | None = field(default=None, compare=False)


def _check_say(out: str) -> None:
    lines = out.splitlines()
    assert lines.count("hello") == 5, out
    # As in Go, main may return before the background task prints its fifth line.
    assert 4 <= lines.count("world") <= 5, out
    assert set(lines) == {"hello", "world"}, out


def _check_mpsc(out: str) -> None:
    got = re.findall(r"^  producer (\d): message (\d)$", out, re.MULTILINE)
    assert sorted(got) == [(str(p), str(m)) for p in range(1, 4) for m in range(1, 4)], out


SQUARES = re.escape(str([n * n for n in range(1, 13)]))

CASES: dict[str, Case] = {
    "say": Case(check=_check_say),
    "fibonacci_select": Case(
        stdout=(r"\A0\n1\n1\n2\n3\n5\n8\n13\n21\n34\nquit\n\Z",),
    ),
    "pipeline_go": Case(
        stdout=(
            r"^collected 12 results from 4 workers$",
            rf"^squares: {SQUARES}$",
            r"^sum: 650$",
            r"^jobs per worker: \{1: \d+, 2: \d+, 3: \d+, 4: \d+\}$",
        ),
    ),
    "pipeline_tokio": Case(
        stdout=(
            r"^collected 12 results from 4 workers$",
            rf"^squares: {SQUARES}$",
            r"^sum: 650$",
            r"^jobs done by the workers: 12$",
        ),
    ),
    "broadcast": Case(
        stdout=(
            *(rf"^sent '{m}' to 3 subscribers$" for m in ("alpha", "beta", "gamma")),
            *(rf"^subscriber {i} got \['alpha', 'beta', 'gamma'\]$" for i in (1, 2, 3)),
            r"^every subscriber got every message$",
        ),
    ),
    "naturals_context": Case(
        stdout=(
            r"^received [1-9]\d* naturals, in order, from 0 to \d+$",
            r"^stopped: context deadline exceeded$",
        ),
    ),
    "oneshot_request": Case(
        stdout=(
            r"^incr\('visits', 5\) -> 5$",
            r"^get\('hits'\) -> 10$",
            r"^get\('missing'\) -> None$",
            r"^server: every client is gone, stopping$",
        ),
    ),
    "mpsc_multi_producer": Case(
        stdout=(
            r"^received 9 messages:$",
            r"^every sender is gone: the receive loop ended$",
        ),
        check=_check_mpsc,
    ),
    "errgroup_limit": Case(
        stdout=(
            r"^error: job 5 failed$",
            r"^at most [1-4] jobs ran at once \(limit 4\)$",
            r"^group context: context canceled$",
        ),
    ),
    "fetch_joinset": Case(
        stdout=(
            r"^spawned 6 fetches$",
            *(rf"^/page/{n}: HTTP 200, \d+ bytes$" for n in range(1, 6)),
            r"^/missing: HTTP 404, \d+ bytes$",
            r"^fetched 6 URLs concurrently in [\d.]+ s$",
        ),
    ),
    "scraper": Case(
        stdout=(
            r"^scraped 8 pages: " + ", ".join(f"Page {n}" for n in range(1, 9)) + "$",
            r"^  ConnectError: http://127\.0\.0\.1:\d+/page/1: cannot connect",
            r"^  HTTPStatusError: http://127\.0\.0\.1:\d+/missing: HTTP 404$",
            r"^  HTTPStatusError: http://127\.0\.0\.1:\d+/error: HTTP 500$",
            r"^  RequestTimeoutError: http://127\.0\.0\.1:\d+/slow: no answer within 0\.5 s$",
            r"^summary: 8 succeeded, 4 failed \(1 ConnectError, 2 HTTPStatusError, "
            r"1 RequestTimeoutError\) in [\d.]+ s, at most [1-4] requests in flight$",
        ),
        stderr=(r"INFO +scraping 12 URLs, at most 4 at a time", r"WARNING +failed: "),
    ),
    "graceful_shutdown": Case(
        args=("--self-signal-after", "0.3"),
        stdout=(
            r"^ready \(pid \d+\)",
            r"^main: got SIGTERM, shutting down$",
            r"^worker: stop requested, finishing up after \d+ jobs$",
            r"^clean shutdown: worker finished \d+ jobs$",
        ),
    ),
    "shared_state": Case(
        stdout=(
            r"^mutex: counter = 1000 \(10 tasks x 100 increments, none lost\)$",
            r"^rwlock: up to [1-5] readers held the cache at once$",
            r"^rwlock: 2 writes, 0 while a reader held the lock$",
            r"^rwlock: the readers saw versions \[0(, 1)?(, 2)?\]$",
        ),
    ),
    "streams": Case(
        stdout=(
            *(rf"^ +{v} at \+[\d.]+ s$" for v in (0, 4, 16, 36, 64)),
            r"^  countdown\(5\) closed\n  \[5, 4, 3, 2, 1\]$",
            r"^  countdown\(10\) closed\n  \['T-10', 'T-9'\]$",
            r"^buffer_unordered\(4\), in completion order: \[[\d, ]+\]$",
            r"^buffered\(4\), in input order: +\[1, 4, 9, 16, 25, 36, 49, 64\]$",
        ),
    ),
    "spawn_blocking_cpu": Case(
        stdout=(
            r"^13848 primes below 150,000 counted on the blocking pool",
            r"^the ticker ticked [1-9]\d* times meanwhile",
        ),
    ),
    "showcase": Case(stdout=(r"^all done in [\d.]+ s$",)),
}


def _example_names() -> list[str]:
    return sorted(p.stem for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def _run(name: str, args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _assert_clean_stderr(err: str) -> None:
    for alarm in STDERR_ALARMS:
        assert alarm not in err, f"{alarm!r} on stderr:\n{err}"


def test_every_example_has_a_case() -> None:
    """A new example must say here what it prints (and a removed one be dropped)."""
    assert _example_names() == sorted(CASES)


@pytest.mark.parametrize("name", _example_names())
def test_example_runs_and_prints_its_key_lines(name: str) -> None:
    case = CASES[name]
    proc = _run(name, case.args)
    report = f"exit code {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    assert proc.returncode == 0, report
    _assert_clean_stderr(proc.stderr)
    for pattern in case.stdout:
        assert re.search(pattern, proc.stdout, re.MULTILINE), f"no {pattern!r} in\n{report}"
    for pattern in case.stderr:
        assert re.search(pattern, proc.stderr, re.MULTILINE), f"no {pattern!r} in\n{report}"
    if case.check is not None:
        case.check(proc.stdout)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_graceful_shutdown_stops_cleanly_on_a_signal_from_outside(sig: signal.Signals) -> None:
    """The test, not the program, sends the signal (SIGINT is Ctrl+C) once it says "ready"."""
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "graceful_shutdown.py")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("ready"), first
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, f"exit code {proc.returncode}\n{out}\n{err}"
    _assert_clean_stderr(err)
    assert f"main: got {sig.name}, shutting down" in out
    assert re.search(r"^clean shutdown: worker finished \d+ jobs$", out, re.MULTILINE), out
