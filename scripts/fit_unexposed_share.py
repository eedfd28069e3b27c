"""Fit the triggers' ``unexposed_share`` to one row: NH_AD_FLARES_0.

The Danish Skin Cohort (NH_AD_FLARES_0): 57 of 1,557 patients with active AD reported no
flare in the past 12 months (3.7 %). This runs ``examples/trials/ad_flares_cohort.yaml``
(its own patients and seed, daily visits for a year) and bisects ``unexposed_share``
(0-0.2) until the share of patients with no flare meets 57/1557; the share rises with it
(a step function: whole patients). The value found is
:data:`dermatwin.patients.triggers.DEFAULT_TRIGGERS`' and the example's; the other three
flare categories (NH_AD_FLARES_1_5, _6_10, _GT10) are predictions, not fitted.

Usage: ``PYTHONPATH=src python scripts/fit_unexposed_share.py [--tolerance 0.001]``
(about nine runs of 300 patient-years; a few minutes on one core).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRIAL = ROOT / "examples" / "trials" / "ad_flares_cohort.yaml"
ENDPOINT = "flares_per_year:0-0"
#: NH_AD_FLARES_0: 57 of 1,557 patients reported no flare in 12 months
TARGET = 100.0 * 57 / 1557


def zero_flare_share(share: float) -> float:
    """The cohort's share of patients with no flare in the year (%) at ``share``."""
    from dermatwin.trials.run import run_trial
    from dermatwin.trials.spec import TrialSpec, load_trial

    data = load_trial(TRIAL).model_dump(mode="python")
    data["endpoints"] = [ENDPOINT]
    data["reference_rows"] = {}
    data["triggers"]["unexposed_share"] = share
    result = run_trial(TrialSpec.model_validate(data))
    return float(result.summary["arms"]["untreated"][ENDPOINT]["estimate"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tolerance", type=float, default=0.001, help="width of the last bracket")
    args = ap.parse_args(argv)
    lo, hi = 0.0, 0.2
    share_lo, share_hi = zero_flare_share(lo), zero_flare_share(hi)
    print(f"share {lo:.4f}: {share_lo:.2f} %; share {hi:.4f}: {share_hi:.2f} %", flush=True)
    if not share_lo <= TARGET <= share_hi:
        print(f"target {TARGET:.2f} % is outside [{share_lo:.2f}, {share_hi:.2f}]")
        return 1
    while hi - lo > args.tolerance:
        mid = 0.5 * (lo + hi)
        share = zero_flare_share(mid)
        print(f"share {mid:.4f}: {share:.2f} % (target {TARGET:.2f} %)", flush=True)
        if share < TARGET:
            lo, share_lo = mid, share
        else:
            hi, share_hi = mid, share
    best = lo if abs(share_lo - TARGET) <= abs(share_hi - TARGET) else hi
    print(
        f"unexposed_share = {best:.4f} (bracket {lo:.4f}-{hi:.4f}: {share_lo:.2f}-{share_hi:.2f} %)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
