"""Compile the shipped skin model's solver ahead of time (``make setup`` runs this).

numba compiles a kernel on its first call and caches it on disk (kernel cache,
:mod:`dermatwin.engine.kernel`); without this step the first simulation of ``make demo``
would sit silent for a minute or two. One short steady-state simulation of one patient
calls both entry points (``equilibrate_batch``, ``solve_batch``). Safe to run again: a
cached kernel loads in about a second.

    python scripts/compile_kernels.py
"""

from __future__ import annotations

import sys
import time


def main() -> None:
    from dermatwin.engine.simulate import simulate
    from dermatwin.model.skin import build

    start = time.perf_counter()
    print("compiling the skin model's solver (once; 1-2 minutes)...", file=sys.stderr, flush=True)
    simulate(build(), [0.0, 1.0], steady_state=True)
    print(f"solver ready ({time.perf_counter() - start:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
