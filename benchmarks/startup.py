"""Start-up benchmark: wall time of ``import dermatwin``, ``dermatwin --help`` and
``dermatwin --version`` in a fresh interpreter, and the heavy libraries each loaded.

Each command runs ``--runs`` times after one warm-up run (the operating system's file cache
then holds the package: a warm start); the median is the figure to quote. ``python -c
pass`` is the floor: the interpreter's own start. The heavy libraries are read from
``python -X importtime`` (tests/test_imports.py asserts there are none).

    python benchmarks/startup.py [--runs N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from dermatwin._lazy import HEAVY

COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "import dermatwin": ["-c", "import dermatwin"],
    "dermatwin --help": ["-m", "dermatwin.cli", "--help"],
    "dermatwin --version": ["-m", "dermatwin.cli", "--version"],
}


def wall_seconds(args: list[str], runs: int) -> list[float]:
    subprocess.run([sys.executable, *args], capture_output=True, check=True)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def heavy_loaded(args: list[str]) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True, check=True
    )
    top = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }
    return sorted(top.intersection(HEAVY))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    opts = parser.parse_args()
    rows = {}
    for name, args in COMMANDS.items():
        times = wall_seconds(args, opts.runs)
        rows[name] = {
            "median_s": round(statistics.median(times), 3),
            "min_s": round(min(times), 3),
            "max_s": round(max(times), 3),
            "heavy_libraries": heavy_loaded(args),
        }
        print(
            f"{name:22s} median {rows[name]['median_s']:.3f} s "
            f"(min {rows[name]['min_s']:.3f}, max {rows[name]['max_s']:.3f}); "
            f"heavy libraries: {', '.join(rows[name]['heavy_libraries']) or 'none'}"
        )
    if opts.json:
        result = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "runs": opts.runs,
            "commands": rows,
        }
        opts.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
