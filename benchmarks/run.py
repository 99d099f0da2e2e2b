"""Run every benchmark module in one process, one after the other, and print all tables.

python benchmarks/run.py            # everything
python benchmarks/run.py tasks      # only benchmarks/bench_tasks.py
"""

from __future__ import annotations

import importlib
import pathlib
import platform
import sys

HERE = pathlib.Path(__file__).parent


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(HERE))
    names = argv or sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    print(f"# gokio benchmarks  (Python {platform.python_version()}, {platform.machine()})")
    print("Ratios are peer time / gokio time: above 1.00x gokio is faster.")
    for name in names:
        mod = importlib.import_module(f"bench_{name}")
        mod.main()


if __name__ == "__main__":
    main(sys.argv[1:])
