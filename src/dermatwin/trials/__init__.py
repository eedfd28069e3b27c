"""Virtual clinical trials: statistics and reports (research use only)."""

from dermatwin.trials.paired import paired_effect, paired_spec
from dermatwin.trials.report import write_html_report
from dermatwin.trials.statistics import (
    bootstrap_mean_interval,
    kaplan_meier,
    logrank_test,
    mean_difference,
    power_from_replicates,
    rate_difference,
    search_n_per_arm,
    summarise,
    wilson_interval,
)

__all__ = [
    "bootstrap_mean_interval",
    "kaplan_meier",
    "logrank_test",
    "mean_difference",
    "paired_effect",
    "paired_spec",
    "power_from_replicates",
    "rate_difference",
    "search_n_per_arm",
    "summarise",
    "wilson_interval",
    "write_html_report",
]
