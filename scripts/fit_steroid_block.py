"""Fit the triggers' ``steroid_block`` to one row: AD_TCS_PROACTIVE_FP_RELAPSE.

Berth-Jones 2003 (BMJ 326:1367): 40 of the patients on twice-weekly fluticasone relapsed by
week 16 of maintenance (the row's notes; 295 patients in both arms, the example trial's even
split gives the fluticasone arm 148), 27.0 %. This runs the fluticasone arm of
``examples/trials/berth_jones2003_proactive_tcs_ad.yaml`` (its own patients and seed) and
bisects ``steroid_block`` (0-1) until the arm's ``relapse@20w`` meets 40/148; the relapse
share falls as the block grows (a step function of the block: whole patients). The value
found is :data:`dermatwin.patients.triggers.DEFAULT_STEROID_BLOCK`; the emollient arm, its
median time to relapse and the hazard ratio are predictions, not fitted.

Usage: ``PYTHONPATH=src python scripts/fit_steroid_block.py [--tolerance 0.005]``
(about ten runs of 148 patients; a few minutes on one core).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRIAL = ROOT / "examples" / "trials" / "berth_jones2003_proactive_tcs_ad.yaml"
ARM = "fluticasone_proactive"
ENDPOINT = "relapse@20w"
#: AD_TCS_PROACTIVE_FP_RELAPSE (notes): 40 relapsed by week 16 of maintenance, of 148
TARGET = 100.0 * 40 / 148


def relapse_share(block: float) -> float:
    """The fluticasone arm's relapse by week 20 (%) at ``steroid_block`` = ``block``."""
    from dermatwin.trials.run import run_trial
    from dermatwin.trials.spec import TrialSpec, load_trial

    data = load_trial(TRIAL).model_dump(mode="python")
    data.pop("n_total", None)
    data["arms"] = {ARM: data["arms"][ARM]}
    data["reference_arm"] = None
    data["paired"] = False
    data["endpoints"] = [ENDPOINT]
    data["triggers"]["steroid_block"] = block
    result = run_trial(TrialSpec.model_validate(data))
    return float(result.summary["arms"][ARM][ENDPOINT]["estimate"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tolerance", type=float, default=0.005, help="width of the last bracket")
    args = ap.parse_args(argv)
    lo, hi = 0.0, 1.0
    share_lo, share_hi = relapse_share(lo), relapse_share(hi)
    print(f"block {lo:.4f}: {share_lo:.1f} %; block {hi:.4f}: {share_hi:.1f} %", flush=True)
    if not share_hi <= TARGET <= share_lo:
        print(f"target {TARGET:.1f} % is outside [{share_hi:.1f}, {share_lo:.1f}]")
        return 1
    while hi - lo > args.tolerance:
        mid = 0.5 * (lo + hi)
        share = relapse_share(mid)
        print(f"block {mid:.4f}: {share:.1f} % (target {TARGET:.1f} %)", flush=True)
        if share > TARGET:
            lo, share_lo = mid, share
        else:
            hi, share_hi = mid, share
    best = lo if abs(share_lo - TARGET) <= abs(share_hi - TARGET) else hi
    print(
        f"steroid_block = {best:.3f} (bracket {lo:.4f}-{hi:.4f}: {share_lo:.1f}-{share_hi:.1f} %)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
