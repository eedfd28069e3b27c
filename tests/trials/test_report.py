"""The HTML trial report: self-contained, escaped, atomic."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from dermatwin.report.plots import DISCLAIMER
from dermatwin.trials.report import write_html_report
from dermatwin.trials.statistics import summarise


def _trial():
    rng = np.random.default_rng(1)
    rows, traj = [], []
    for arm, eff in [("placebo", 0.1), ("msc <IV>", 0.6)]:
        for i in range(25):
            base = rng.uniform(15, 40)
            frac = np.clip(eff + rng.normal(0, 0.2), -0.3, 1.0)
            for t in (0.0, 28.0, 56.0, 112.0):
                easi = base * (1 - frac * t / 112.0)
                traj.append((arm, i, t, "EASI", easi))
                traj.append((arm, i, t, "TEWL", 20 + 0.3 * easi))
            t_rel = rng.exponential(200 if eff > 0.5 else 80)
            rows.append(
                {
                    "arm": arm,
                    "patient": i,
                    "EASI-75@16w": float(frac >= 0.75),
                    "mean_pct_change:EASI@16w": -100 * frac,
                    "time_to_relapse": min(t_rel, 365.0),
                    "time_to_relapse_event": float(t_rel < 365.0),
                }
            )
    endpoints = pd.DataFrame(rows)
    endpoints.loc[0, "EASI-75@16w"] = np.nan
    trajectories = pd.DataFrame(traj, columns=["arm", "patient", "time", "variable", "value"])
    kinds = {
        "EASI-75@16w": "rate",
        "mean_pct_change:EASI@16w": "mean",
        "time_to_relapse": "time_to_event",
    }
    return endpoints, kinds, trajectories


def _write(path, **extra):
    endpoints, kinds, trajectories = _trial()
    summary = summarise(endpoints, kinds, seed=0)
    args = {
        "title": "MSC vs placebo <AD>",
        "summary": summary,
        "endpoints": endpoints,
        "kinds": kinds,
        "trajectories": trajectories,
        "manifest": {"spec": "ad_msc.yaml", "seed": 0, "model hash": "abc&123"},
        "notes": ["virtual cohort of 25 per arm"],
    }
    args.update(extra)
    return write_html_report(path, **args)


def _text_without_images(html: str) -> str:
    return re.sub(r'src="data:image/png;base64,[^"]*"', 'src=""', html)


def test_report_content(tmp_path):
    path = _write(tmp_path / "report.html")
    html = path.read_text(encoding="utf-8")
    assert DISCLAIMER in html
    # 2 trajectory variables + responder bars + waterfall + 1 Kaplan-Meier
    assert html.count("<img ") == 5
    assert html.count('src="data:image/png;base64,') == 5
    text = _text_without_images(html)
    assert not re.search(r"nan|inf\b", text, flags=re.IGNORECASE)
    assert "<AD>" not in text and "&lt;AD&gt;" in text  # escaped title
    assert "msc &lt;IV&gt;" in text and "abc&amp;123" in text
    assert "ad_msc.yaml" in text and "virtual cohort of 25 per arm" in text
    assert "EASI-75@16w" in text and "p-value" in text
    assert "Newcombe CI; Fisher exact" in text  # 0/24 vs 4/25: expected counts < 5
    assert "<script" not in text and "http" not in text  # self-contained


def test_report_atomic_write_leaves_no_temp_file(tmp_path):
    target = tmp_path / "out" / "report.html"
    _write(target)
    _write(target)  # overwrite in place
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]


def test_report_failed_write_keeps_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("dermatwin._base.atomic.os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        _write(target)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_report_without_rate_or_survival_endpoints(tmp_path):
    endpoints, kinds, trajectories = _trial()
    kinds = {"mean_pct_change:EASI@16w": "mean"}
    summary = summarise(endpoints, kinds, seed=0)
    path = write_html_report(
        tmp_path / "r.html",
        title="t",
        summary=summary,
        endpoints=endpoints,
        kinds=kinds,
        trajectories=trajectories,
        manifest={},
        primary="TEWL",
    )
    html = path.read_text(encoding="utf-8")
    assert html.count("<img ") == 3  # EASI, TEWL, waterfall of TEWL
    assert "TEWL" in html
