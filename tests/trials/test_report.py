"""The HTML trial report: self-contained, escaped, atomic."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from dermatwin.report.html import DISCLAIMER
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
    assert "log-rank; hazard ratio " in text  # the Cox ratio of the time to relapse
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


def _sections(html: str) -> list[str]:
    return re.findall(r'<h2 id="([a-z]+)"', html)


def test_summary_first_metadata_last(tmp_path):
    html = _write(tmp_path / "r.html").read_text(encoding="utf-8")
    sections = _sections(html)
    assert sections[0] == "summary" and sections[-1] == "metadata"
    assert {"screening", "baseline", "endpoints", "comparisons"} <= set(sections)
    summary = html[html.index('id="summary"') : html.index('id="screening"')]
    assert "EASI-75@16w" in summary  # the first endpoint is the primary one
    assert "unpaired" in summary and "placebo" in summary


def test_consort_and_baseline_numbers_come_from_the_run(tmp_path):
    endpoints, kinds, trajectories = _trial()
    endpoints["candidate"] = endpoints["patient"] * 2 + 1  # every other candidate ineligible
    endpoints["age"] = 30.0 + endpoints["patient"]
    endpoints["sex"] = np.where(endpoints["patient"] % 5 == 0, "F", "M")
    summary = summarise(endpoints, kinds, seed=0)
    failures = pd.DataFrame({"arm": ["placebo"], "patient": [0], "status": [-1]})
    html = _write(
        tmp_path / "r.html", endpoints=endpoints, summary=summary, failures=failures
    ).read_text(encoding="utf-8")
    flow = html[html.index('id="screening"') : html.index('id="baseline"')]
    table1 = html[html.index('id="baseline"') : html.index('id="endpoints"')]
    for arm in ("placebo", "msc &lt;IV&gt;"):
        r = summary["arms"][arm.replace("&lt;", "<").replace("&gt;", ">")]["EASI-75@16w"]
        row = lambda label: re.search(rf"<td>{label}[^<]*</td>(.*?)</tr>", flow).group(1)  # noqa: E731
        assert f">{r['n']}<" in row("analysed for the primary endpoint")
    screened = int(endpoints["candidate"].max()) + 1
    assert re.search(rf"<td>candidates screened</td><td class=\"num\">{screened}</td>", flow)
    assert re.search(r"<td>simulation failed \(numerical\)</td><td class=\"num\">1</td>", flow)
    ages = endpoints.loc[endpoints["arm"] == "placebo", "age"]
    assert f"{ages.mean():.3g} \u00b1 {ages.std():.3g}" in table1
    female = 100 * (endpoints.loc[endpoints["arm"] == "placebo", "sex"] == "F").mean()
    assert f"{female:.0f} %" in table1
    base = trajectories[(trajectories["time"] == 0) & (trajectories["variable"] == "TEWL")]
    assert "TEWL (g/m2/h)" in table1
    assert f"{base[base['arm'] == 'placebo']['value'].mean():.3g} \u00b1" in table1


def test_multiplicity_note_counts_the_p_values(tmp_path):
    endpoints, kinds, _ = _trial()
    summary = summarise(endpoints, kinds, seed=0)
    n_p = sum(c["p_value"] is not None for c in summary["comparisons"])
    html = _write(tmp_path / "r.html").read_text(encoding="utf-8")
    assert f"shows {n_p} p-values; none is adjusted" in html


def test_arm_names_are_shown_literally_and_nothing_is_external(tmp_path):
    endpoints, kinds, trajectories = _trial()
    endpoints["arm"] = endpoints["arm"].replace("placebo", "<b>bold</b>")
    trajectories["arm"] = trajectories["arm"].replace("placebo", "<b>bold</b>")
    summary = summarise(endpoints, kinds, seed=0)
    html = _write(
        tmp_path / "r.html", endpoints=endpoints, summary=summary, trajectories=trajectories
    ).read_text(encoding="utf-8")
    text = _text_without_images(html)
    assert "<b>bold</b>" not in text and "&lt;b&gt;bold&lt;/b&gt;" in text
    assert not re.search(r"(src|href)=\"(?!data:)", html) and "//" not in text.replace(
        "<!DOCTYPE", ""
    )
