"""Reliability probe (issue 12): run the fuzz suite's generators without asserting, and
count outcomes per class.

    python benchmarks/reliability_probe.py [--cases 15] [--json benchmarks/reliability_probe.json]

For each generator of tests/reliability/fuzz_cases.py it runs ``--cases`` cases (hypothesis,
derandomized: the same cases every time), then every by-construction-invalid case, every
``--out`` data-loss case (6 writing commands x 6 targets) and the issue's other concrete
examples. Each case runs in a forked child with the harness's limits (per-case wall time
``DERMATWIN_FUZZ_CASE_SECONDS``, memory ``DERMATWIN_FUZZ_CASE_MIB``; see
tests/reliability/fuzz_harness.py). Output: counts per kind and overall (cases, exit 0,
one-line errors, tracebacks, multi-line errors, silent nonsense, hangs, memory, data lost,
...) and the first example of every failing (kind, class) pair as a reproducer.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "reliability"))
os.environ.setdefault(
    "DERMATWIN_CACHE_DIR", str(Path(tempfile.gettempdir()) / "dermatwin-test-kernels")
)


def _collect(runner, strategy, n: int, outcomes: list) -> None:
    from fuzz_settings import fuzz_settings
    from hypothesis import given

    @fuzz_settings(n)
    @given(case=strategy)
    def run(case):
        outcomes.append(runner.run(case))

    run()


def main() -> None:
    import fuzz_cases as fc
    from fuzz_harness import GOOD, summarise

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=15, help="cases per generator")
    parser.add_argument("--json", type=Path, default=HERE / "reliability_probe.json")
    parser.add_argument("--skip-concrete", action="store_true")
    args = parser.parse_args()
    os.environ.pop("DERMATWIN_FUZZ_EXAMPLES", None)  # --cases decides here

    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dermatwin-probe-") as root:
        runner = fc.make_runner(root)
        outcomes: list = []
        generators = {f"{k}/yaml": fc.yaml_mutation(k) for k in fc.FILE_KINDS}
        generators |= {f"{k}/text": fc.text_mutation(k) for k in fc.FILE_KINDS}
        generators |= {"visits/csv": fc.csv_mutation(), "sql": fc.sql_case()}
        generators |= {f"args/{c}": fc.argument_mutation(c) for c in fc.COMMANDS}
        for name, strategy in generators.items():
            _collect(runner, strategy, args.cases, outcomes)
            print(
                f"{name}: {len(outcomes)} cases so far, {time.monotonic() - start:.0f} s",
                file=sys.stderr,
            )
        if not args.skip_concrete:
            concrete = fc.all_must_reject_cases() + fc.concrete_cases()
            concrete += [fc.data_loss_case(c, t) for c in fc.WRITERS for t in fc.TARGETS]
            for case in concrete:
                outcomes.append(runner.run(case))
            print(
                f"concrete: {len(outcomes)} cases, {time.monotonic() - start:.0f} s",
                file=sys.stderr,
            )
    summary = summarise(outcomes)
    reproducers = {}
    for o in outcomes:
        if o.klass not in GOOD:
            reproducers.setdefault(f"{o.kind} / {o.klass}", o.as_dict())
    report = {
        "seconds": round(time.monotonic() - start, 1),
        "cases_per_generator": args.cases,
        "limits": {
            "case_seconds": float(os.environ.get("DERMATWIN_FUZZ_CASE_SECONDS", "60")),
            "case_mib": int(os.environ.get("DERMATWIN_FUZZ_CASE_MIB", "1536")),
        },
        **summary,
        "reproducers": reproducers,
        "cases": [o.as_dict() for o in outcomes],
    }
    args.json.write_text(json.dumps(report, indent=1, default=str))
    total = summary["overall"]
    print(json.dumps(total))
    for kind, counts in summary["per_kind"].items():
        bad = {k: v for k, v in counts.items() if k not in ("cases", *GOOD) and v}
        print(f"{kind:32s} {counts['cases']:4d} cases  {bad or 'ok'}")


if __name__ == "__main__":
    main()
