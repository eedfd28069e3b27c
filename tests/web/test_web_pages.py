"""The comparison page, the validation page (a stored result and a small validation job)
and live progress by server-sent events, through the test client."""

from __future__ import annotations

import json
import re
import shutil

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402
from test_web_app import TINY_YAML, csrf_of, wait  # noqa: E402

from dermatwin._base.disclaimer import DISCLAIMER  # noqa: E402
from dermatwin.calibration.targets import EXAMPLE_TRIALS  # noqa: E402
from dermatwin.calibration.validate import coverage_lines, summary, validate  # noqa: E402
from dermatwin.web.app import create_app  # noqa: E402


def submit(client, text: str) -> str:
    response = client.post(
        "/upload",
        files={"trial": ("t.yaml", text)},
        data={"csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[-1000:]
    return response.headers["location"].rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server whose validation jobs may run one small reference trial (the shipped
    dupilumab phase 2 design at 8 patients per arm): (client, data folder, trials)."""
    trials = tmp_path_factory.mktemp("trials")
    shipped = (EXAMPLE_TRIALS / "dupilumab_phase2_ad.yaml").read_text()
    (trials / "dupilumab_small.yaml").write_text(shipped.replace("n: 200", "n: 8"))
    data = tmp_path_factory.mktemp("pages")
    with TestClient(create_app(data, validation_trials=trials)) as client:
        yield client, data, trials


def test_server_sent_events_follow_a_job_to_its_end(server):
    client, _, _ = server
    job = submit(client, TINY_YAML)
    seen = []
    with client.stream("GET", f"/runs/{job}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                assert event == "progress"
                seen.append(json.loads(line[6:]))
    # the stream ends by itself with the job; progress never goes back
    assert seen[-1]["status"] == "done" and not seen[-1]["active"]
    assert seen[-1]["chunks_done"] == seen[-1]["chunks_total"] == 6  # chunk_size 1
    done = [s["chunks_done"] for s in seen]
    assert done == sorted(done) and len({json.dumps(s) for s in seen}) == len(seen)
    # a finished job's stream is its state, once
    with client.stream("GET", f"/runs/{job}/events") as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert [json.loads(line[6:]) for line in lines] == [seen[-1]]
    assert 'data-events="/runs/' not in client.get(f"/runs/{job}").text  # ended: no stream
    assert client.get("/runs/0123456789abcdef/events").status_code == 404


def test_two_runs_are_compared_endpoint_by_endpoint(server):
    client, data, _ = server
    a = submit(client, TINY_YAML)
    b = submit(client, TINY_YAML.replace("name: tiny upload", "name: tiny again\nseed: 7"))
    wait(client, a), wait(client, b)
    page = client.get(f"/compare?run={a}&run={b}")
    assert page.status_code == 200 and DISCLAIMER in page.text
    summaries = [json.loads((data / "runs" / j / "summary.json").read_text()) for j in (a, b)]
    for arm in ("dupilumab", "placebo"):
        x, y = (s["arms"][arm]["EASI-50@4w"]["estimate"] for s in summaries)
        row = re.search(rf"<tr><td>{arm}</td><td>EASI-50@4w</td>(.*?)</tr>", page.text, re.S)
        assert f"{x:.1f} (" in row.group(1) and f"{y:.1f} (" in row.group(1)
        difference = re.search(r'class="difference">([^<]*)<', row.group(1)).group(1)
        assert difference == f"{y - x:+.1f}"
    for query, message in (
        (f"run={a}", "run: 1 picked; allowed: 2 to 6 runs"),
        (f"run={a}&run=../../etc", "run '../../etc': no finished trial run of this server"),
    ):
        bad = client.get(f"/compare?{query}")
        assert bad.status_code == 422 and message in bad.text.replace("&#39;", "'")
    assert "Compare" in client.get("/compare").text


def test_a_small_validation_job_shows_predicted_vs_observed(server):
    client, data, trials = server
    page = client.get("/validation")
    assert 'id="no-stored"' in page.text and DISCLAIMER in page.text
    for form, message in (
        ({"trial": "solo1.yaml"}, "trial: 'solo1.yaml'; allowed: dupilumab_small.yaml"),
        ({"trial": "dupilumab_small.yaml", "draws": "9"}, "draws: '9'; allowed on this server"),
    ):
        bad = client.post("/validation", data={**form, "csrf_token": csrf_of(client)})
        assert bad.status_code in (422, 429) and message in bad.text.replace("&#39;", "'")
    assert not (data / "validations").exists()
    response = client.post(
        "/validation",
        data={"trial": "dupilumab_small.yaml", "draws": "1", "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    job = response.headers["location"].rsplit("/", 1)[1]
    assert wait(client, job, limit=300)["status"] == "done"
    page = client.get(f"/validation/{job}").text
    # the same rows as the library's validation of that trial (its own run, here)
    expected = summary(
        *validate("default", trials, trials=["dupilumab_small.yaml"], draws=1, placebo_nodes=0)
    )
    shown = re.findall(r"<tr><td>(AD_[A-Z0-9_]+)</td>.*?<td>([0-9.-]+)</td><td>([0-9.-]+) to", page)
    assert [(r, float(p)) for r, p, _ in shown] == [
        (r["row"], round(r["predicted"], 1)) for r in expected["rows"]
    ]
    assert len(shown) == 4 and all(line in page for line in coverage_lines(expected))
    assert client.get(f"/validation/{job}/plot.png").content[:4] == b"\x89PNG"
    # a stored `dermatwin validate --json` result is the page's main table
    shutil.copy(data / "validations" / job / "validation.json", data / "validation.json")
    page = client.get("/validation").text
    assert 'id="no-stored"' not in page and "AD_DUPI_P2_12W_EASI50_T" in page
    assert client.get("/validation/stored.png").content[:4] == b"\x89PNG"
    (data / "validation.json").write_text("[1, 2]")
    assert "validation.json: not a validation result" in client.get("/validation").text
