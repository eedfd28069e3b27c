"""SHA-256 fingerprints of every example trial's and scenario's summary.json (small n).

A refactoring that must not change results runs this before and after and compares the
output line by line (``diff``). Each trial runs with ``n`` patients per arm (default 12,
via a copy of the spec), each scenario with ``n`` patients; the summary is serialised as
``summary.json`` is (``dermatwin.io.json_safe.dumps``, indent 2). The per-patient endpoint
table of each trial is fingerprinted too (a stronger check than the summary alone).
Summaries hold no environment or timing fields (those live in manifest.json).

Usage: ``PYTHONPATH=src python scripts/summary_fingerprints.py [--n 12] [NAME ...]``
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def trial_fingerprints(path: Path, n: int) -> tuple[str, str]:
    from dermatwin.io.json_safe import dumps
    from dermatwin.trials.run import run_trial
    from dermatwin.trials.spec import TrialSpec, load_trial

    spec = load_trial(path)
    data = spec.model_dump(mode="python")
    data.pop("n_total", None)
    for arm in data["arms"].values():
        arm["n"], arm["allocation"] = n, None
    small = TrialSpec.model_validate(data)
    result = run_trial(small)
    table = result.endpoints.to_csv(index=False, float_format="%.17g")
    return _sha(dumps(result.summary, indent=2)), _sha(table)


def scenario_fingerprint(path: Path, n: int) -> str:
    from dermatwin.io.json_safe import dumps
    from dermatwin.run import run_scenario
    from dermatwin.scenario import load_scenario

    spec = load_scenario(path)
    spec = spec.model_copy(update={"patients": spec.patients.model_copy(update={"n": n})})
    return _sha(dumps(run_scenario(spec).summary(), indent=2))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=12, help="patients per arm / scenario")
    ap.add_argument("names", nargs="*", help="only these example stems")
    args = ap.parse_args(argv)
    for path in sorted((ROOT / "examples" / "trials").glob("*.yaml")):
        if args.names and path.stem not in args.names:
            continue
        summary, table = trial_fingerprints(path, args.n)
        print(f"trial    {path.stem:40s} summary {summary} endpoints {table}", flush=True)
    for path in sorted((ROOT / "examples" / "scenarios").glob("*.yaml")):
        if args.names and path.stem not in args.names:
            continue
        print(f"scenario {path.stem:40s} summary {scenario_fingerprint(path, args.n)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
