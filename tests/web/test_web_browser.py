"""The main flows in a real browser: headless Chromium (Debian's package) driven by
Playwright against a server on 127.0.0.1. Design a small trial in the form, run it,
watch its progress (server-sent events), open the report, download the YAML and check it
equals the form's; upload a twin visit file, fit, read the fit, rank regimens.

Skipped, with the reason, when Playwright or Chromium is missing (``make test-browser``
installs Debian's chromium). Screenshots go to ``$DERMATWIN_SCREENSHOTS`` (default: the
test's temporary folder); docs/web.md shows copies of them.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install -e '.[test]')"
)
uvicorn = pytest.importorskip("uvicorn")

from dermatwin._base.disclaimer import DISCLAIMER  # noqa: E402
from dermatwin.web.app import create_app  # noqa: E402

CHROMIUM = os.environ.get("DERMATWIN_CHROMIUM") or shutil.which("chromium")
if not CHROMIUM:
    pytest.skip(
        "no Chromium on this machine: `make test-browser` installs Debian's chromium "
        "(or set DERMATWIN_CHROMIUM to a Chromium binary)",
        allow_module_level=True,
    )

#: Chromium as this machine runs it: no sandbox as root, no calls to the outside
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: ms a step may wait (a shared 2-core machine: a job takes tens of seconds)
WAIT_MS = 240_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The application served by uvicorn on 127.0.0.1 in a thread: its base URL."""
    data = tmp_path_factory.mktemp("browser")
    port = free_port()
    config = uvicorn.Config(create_app(data), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    start = time.monotonic()
    while not srv.started:
        assert time.monotonic() - start < 60 and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(60)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1100, "height": 900})
    context.set_default_timeout(WAIT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("DERMATWIN_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_design_run_report_and_download(server, page, shots):
    page.goto(f"{server}/designer")
    assert DISCLAIMER in page.inner_text("body")
    page.fill("input[name=name]", "browser trial")
    page.fill("input[name=duration]", "4 weeks")
    page.fill("input[name=arm0_n]", "4")
    page.fill("input[name=arm1_n]", "4")
    page.fill("textarea[name=endpoints]", "EASI-50@4w\nmean_pct_change:EASI@4w")
    page.fill("input[name=duration]", "forever")  # a bad value: the YAML preview says so
    page.locator("input[name=duration]").dispatch_event("change")
    sync_api.expect(page.locator("#preview-problem")).to_contain_text("duration")
    page.fill("input[name=duration]", "4 weeks")
    page.locator("input[name=duration]").dispatch_event("change")
    sync_api.expect(page.locator("#preview-ok")).to_be_visible()
    sync_api.expect(page.locator("#yaml")).to_contain_text("name: browser trial")
    shown = page.inner_text("#yaml")
    page.screenshot(path=shots / "web_designer.png", full_page=True)
    page.get_by_role("button", name="Run the trial").click()
    page.wait_for_url("**/runs/*")
    page.screenshot(path=shots / "web_run_progress.png")
    # server-sent events move the bar; the page reloads itself when the run is done
    sync_api.expect(page.locator("#status")).to_have_text("done", timeout=WAIT_MS)
    sync_api.expect(page.locator("#downloads")).to_contain_text("report.html")
    page.screenshot(path=shots / "web_run_done.png")
    with page.expect_download() as download:
        page.click("#downloads >> text=trial.yaml")
    assert Path(download.value.path()).read_text().strip() == shown.strip()
    with page.context.expect_page() as report:
        page.click("#downloads >> text=report.html")
    report.value.wait_for_load_state()
    assert "Virtual trial: browser trial" in report.value.inner_text("body")
    assert DISCLAIMER in report.value.inner_text("body")


def test_twin_upload_fit_and_plan(server, page, shots, examples_dir):
    page.goto(f"{server}/twins")
    page.set_input_files("input[name=visits]", examples_dir / "twins" / "ad_patient.csv")
    page.fill("input[name=walkers]", "10")
    page.fill("input[name=burn]", "0")
    page.fill("input[name=steps]", "10")
    page.uncheck("input[name=extend]")
    page.get_by_role("button", name="Upload and fit").click()
    page.wait_for_url("**/twins/*")
    sync_api.expect(page.locator("#status")).to_have_text("done", timeout=WAIT_MS)
    sync_api.expect(page.locator("#convergence")).to_contain_text("max R-hat")
    figure = page.locator("#fit-figure")
    sync_api.expect(figure).to_be_visible()
    assert figure.evaluate("img => img.naturalWidth") > 100  # the PNG loaded
    page.screenshot(path=shots / "web_twin_fit.png", full_page=True)
    page.fill("input[name=goal]", "EASI-50@8w")
    page.fill("input[name=draws]", "4")
    page.fill("input[name=max_infusions]", "1")
    page.fill("input[name=allowed_sources]", "umbilical_cord")
    page.fill(
        "input[name=exclude_drugs]",
        "lebrikizumab, tralokinumab, upadacitinib, ciclosporin, prednisone",
    )
    page.get_by_role("button", name="Rank regimens").click()
    page.wait_for_url("**/plans/*")
    sync_api.expect(page.locator("#status")).to_have_text("done", timeout=WAIT_MS)
    rows = page.locator("#ranking tr")
    sync_api.expect(rows).to_have_count(9)  # header + 8 regimens
    assert "±" in rows.nth(1).inner_text() and DISCLAIMER in page.inner_text("body")
    page.screenshot(path=shots / "web_plan.png", full_page=True)
