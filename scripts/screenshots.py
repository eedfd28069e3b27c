"""Screenshots of the trial and twin reports (issue 15), taken in headless Chromium.

Runs a tiny trial (12 patients per arm, with a withdrawal phase so the curves show the
mark) and a tiny twin fit with a prediction, renders their report.html files, and saves
PNGs to docs/images/ (referenced from docs/trials.md and docs/twins.md). Not run by
``make test``; needs the Debian package ``chromium`` (``apt-get install -y chromium``).

    PYTHONPATH=src python scripts/screenshots.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
WIDTH = 1280


def trial_report(folder: Path) -> Path:
    from dermatwin.trials.output import write_trial
    from dermatwin.trials.run import run_trial
    from dermatwin.trials.spec import load_trial

    spec = load_trial(ROOT / "examples" / "trials" / "kim2017_hucbmsc_ad.yaml")
    data = spec.model_dump()
    for arm in data["arms"].values():
        arm["n"] = 12
    data["duration"] = 24 * 7.0
    data["withdrawal"] = {"at": 12 * 7.0}
    data["endpoints"] = [
        "EASI-50@12w",
        "EASI-75@12w",
        "IGA01@12w",
        "mean_pct_change:EASI@12w",
        "mean_pct_change:pruritus_NRS@12w",
    ]
    data.pop("reference_rows", None)
    spec = type(spec).model_validate(data)
    folder.mkdir(parents=True, exist_ok=True)
    write_trial(run_trial(spec), folder)
    return folder / "report.html"


def twin_report(folder: Path) -> Path:
    from dermatwin.twins.fit import FitSettings, fit_twin
    from dermatwin.twins.predict import load_regimen, predict
    from dermatwin.twins.report import write_twin_report
    from dermatwin.twins.visits import load_visits

    twins = ROOT / "examples" / "twins"
    twin = fit_twin(
        load_visits(twins / "ad_patient.csv"),
        FitSettings(walkers=10, burn=0, steps=10, extend=False),
    )
    prediction = predict(twin, load_regimen(twins / "continue_dupilumab.yaml"), n_draws=10)
    folder.mkdir(parents=True, exist_ok=True)
    return write_twin_report(folder / "report.html", twin, prediction)


def screenshot(page: Path, out: Path, height: int) -> Path:
    """``page`` as a PNG of the top ``height`` pixels, quantised to keep it small."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("chromium not found: apt-get install -y chromium")
    raw = out.with_suffix(".raw.png")
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={raw}",
            f"--window-size={WIDTH},{height}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    from PIL import Image

    with Image.open(raw) as img:  # 64-colour palette: a page of tables and plots stays crisp
        img.convert("RGB").quantize(colors=64).save(out, optimize=True)
    raw.unlink()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="keep the rendered reports in this folder")
    args = parser.parse_args()
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        pages = (("trial_report", trial_report, 3600), ("twin_report", twin_report, 3400))
        for name, make, height in pages:
            png = screenshot(make(work / name), IMAGES / f"{name}.png", height)
            print(f"{png.relative_to(ROOT)}: {png.stat().st_size / 1024:.0f} kB")


if __name__ == "__main__":
    main()
