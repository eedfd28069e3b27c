"""Virtual clinical trials: statistics and reports (research use only).

Public names are imported on first use (:mod:`dermatwin._lazy`).
"""

from typing import TYPE_CHECKING

from dermatwin._lazy import attach

__all__ = [
    "bootstrap_mean_interval",
    "hazard_ratio",
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

if TYPE_CHECKING:  # what the names are, for type checkers and IDEs
    from dermatwin.trials.hazard_ratio import hazard_ratio
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

__getattr__, __dir__ = attach(
    __name__,
    {
        "dermatwin.trials.hazard_ratio": ["hazard_ratio"],
        "dermatwin.trials.paired": ["paired_effect", "paired_spec"],
        "dermatwin.trials.report": ["write_html_report"],
        "dermatwin.trials.statistics": [
            "bootstrap_mean_interval",
            "kaplan_meier",
            "logrank_test",
            "mean_difference",
            "power_from_replicates",
            "rate_difference",
            "search_n_per_arm",
            "summarise",
            "wilson_interval",
        ],
    },
)
