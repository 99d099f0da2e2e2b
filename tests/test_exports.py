"""The public surface is a visible decision: these lists change only on purpose."""

from __future__ import annotations

import importlib

import pytest

import gokio

EXPECTED = [
    "AbortHandle",
    "Barrier",
    "CancellationToken",
    "Chan",
    "Closed",
    "Deadlock",
    "Elapsed",
    "Empty",
    "ErrGroup",
    "Full",
    "Handle",
    "Instant",
    "Interval",
    "JoinHandle",
    "JoinSet",
    "Lagged",
    "Mutex",
    "Notify",
    "OnceCell",
    "Runtime",
    "RwLock",
    "Selected",
    "Semaphore",
    "Stream",
    "TaskAborted",
    "WaitGroup",
    "WouldBlock",
    "after",
    "block_on",
    "chan",
    "go",
    "interval",
    "join",
    "main",
    "run",
    "select",
    "sleep",
    "sleep_until",
    "spawn",
    "spawn_blocking",
    "timeout",
    "timeout_at",
    "try_join",
    "yield_now",
]

SUBMODULES = {
    "mpsc": ["Permit", "Receiver", "Sender", "channel", "unbounded_channel"],
    "oneshot": ["OneshotReceiver", "OneshotSender", "channel"],
    "broadcast": ["BroadcastReceiver", "BroadcastSender", "channel"],
    "watch": ["WatchReceiver", "WatchSender", "channel"],
    "context": [
        "CancelCauseFunc",
        "CancelFunc",
        "Canceled",
        "Context",
        "DeadlineExceeded",
        "Done",
        "background",
        "todo",
        "with_cancel",
        "with_cancel_cause",
        "with_deadline",
        "with_timeout",
        "with_value",
        "without_cancel",
    ],
    "stream": ["Stream", "empty", "from_channel", "interval", "iter", "merge", "once", "repeat"],
}


def test_all_is_exactly_the_intended_list() -> None:
    assert gokio.__all__ == EXPECTED


def test_all_is_sorted() -> None:
    assert gokio.__all__ == sorted(gokio.__all__)


@pytest.mark.parametrize("name", EXPECTED)
def test_every_exported_name_exists(name: str) -> None:
    assert getattr(gokio, name) is not None


@pytest.mark.parametrize("name", EXPECTED)
def test_exported_objects_live_in_private_modules(name: str) -> None:
    """Implementation lives in private modules; gokio only re-exports."""
    module = getattr(getattr(gokio, name), "__module__", "gokio._")
    assert module.startswith("gokio._"), f"{name} is defined in {module}"


@pytest.mark.parametrize(("module", "names"), sorted(SUBMODULES.items()))
def test_public_submodules_export_exactly_their_names(module: str, names: list[str]) -> None:
    mod = importlib.import_module(f"gokio.{module}")
    assert sorted(mod.__all__) == names
    assert getattr(gokio, module) is mod
    for name in names:
        assert getattr(mod, name) is not None


def test_exceptions_hierarchy_matches_the_contract() -> None:
    assert issubclass(gokio.Full, gokio.WouldBlock)
    assert issubclass(gokio.Empty, gokio.WouldBlock)
    assert issubclass(gokio.Elapsed, TimeoutError)
    assert issubclass(gokio.Deadlock, RuntimeError)
    for exc in (gokio.Closed, gokio.WouldBlock, gokio.Lagged, gokio.TaskAborted):
        assert issubclass(exc, Exception)
    assert issubclass(gokio.context.DeadlineExceeded, TimeoutError)
