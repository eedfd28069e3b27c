"""The twin pages through the test client: upload a visit file, fit (tiny chains, so the
page must show the convergence warning), read the fit, rank regimens; bad input gets the
command line's one-line message and writes nothing; cancel between sampler steps."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402
from test_web_app import csrf_of, wait, written  # noqa: E402

from dermatwin._base.disclaimer import DISCLAIMER  # noqa: E402
from dermatwin.twins.plan import load_constraints, parse_goal  # noqa: E402
from dermatwin.twins.visits import TwinDataError, load_visits  # noqa: E402
from dermatwin.web.app import create_app  # noqa: E402
from dermatwin.web.limits import Limits  # noqa: E402
from dermatwin.web.routes_twins import PLAN_FILES, TWIN_FILES  # noqa: E402

#: tiny chains: the fit runs in seconds and does not converge
TINY_FIT = {"walkers": "10", "burn": "0", "steps": "10", "seed": "0"}
#: a small grid (8 regimens): one MSC source, one infusion, few drugs, combinations
SMALL_PLAN = {
    "goal": "EASI-50@8w",
    "draws": "4",
    "max_infusions": "1",
    "allowed_sources": "umbilical_cord",
    "exclude_drugs": "lebrikizumab, tralokinumab, upadacitinib, ciclosporin, prednisone",
}


def visits(examples_dir: Path) -> bytes:
    return (examples_dir / "twins" / "ad_patient.csv").read_bytes()


def upload(client, content, name="ad_patient.csv", **form):
    return client.post(
        "/twins",
        data={**TINY_FIT, **form, "csrf_token": csrf_of(client)},
        files={"visits": (name, content, "text/csv")},
        follow_redirects=False,
    )


@pytest.fixture(scope="module")
def planned(tmp_path_factory, examples_dir):
    """A server with one fitted twin and one plan: (client, data, twin id, plan id)."""
    data = tmp_path_factory.mktemp("twins")
    with TestClient(create_app(data)) as client:
        response = upload(client, visits(examples_dir))
        assert response.status_code == 303, response.text[-2000:]
        twin = response.headers["location"].rsplit("/", 1)[1]
        assert wait(client, twin)["status"] == "done"
        response = client.post(
            f"/twins/{twin}/plan",
            data={**SMALL_PLAN, "csrf_token": csrf_of(client)},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text[-2000:]
        plan = response.headers["location"].rsplit("/", 1)[1]
        assert wait(client, plan)["status"] == "done"
        yield client, data, twin, plan


def test_a_twin_is_fitted_and_its_page_shows_the_fit(planned):
    client, data, twin, _ = planned
    state = client.get(f"/api/runs/{twin}").json()
    assert state["kind"] == "twin" and state["chunks_done"] == state["chunks_total"] == 10
    page = client.get(f"/twins/{twin}").text
    # ten steps of ten walkers cannot converge: the page says so, with the numbers
    assert "TwinConvergenceWarning: not converged" in page
    rhat = float(re.search(r"max R-hat ([0-9.]+)", page).group(1))
    assert rhat >= 1.05
    rows = re.findall(r"<tr><td>(d1|b2|k1|k14|msc_ec50)</td>", page)
    assert sorted(rows) == ["b2", "d1", "k1", "k14", "msc_ec50"]
    assert 'id="fit-figure"' in page and DISCLAIMER in page
    for name in TWIN_FILES:
        response = client.get(f"/twins/{twin}/files/{name}")
        assert response.status_code == 200 and response.content, name
    assert client.get(f"/twins/{twin}/files/fit.png").content[:4] == b"\x89PNG"
    assert DISCLAIMER in client.get(f"/twins/{twin}/files/report.html").text
    assert (data / "twins" / twin / "visits.csv").is_file()  # never the upload's own name
    assert twin in client.get("/twins").text and "/twins/" + twin in client.get("/runs").text


def test_the_plan_ranks_regimens_with_p_best_and_monte_carlo_se(planned):
    client, data, twin, plan = planned
    page = client.get(f"/plans/{plan}").text
    assert "Regimens ranked for EASI-50@8w" in page and DISCLAIMER in page
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td><td>([0-9.]+) &plusmn; ([0-9.]+)", page)
    assert len(rows) == client.get(f"/api/runs/{plan}").json()["chunks_total"] == 8
    ranks = [int(r[0]) for r in rows]
    assert ranks[0] == 1 and ranks == sorted(ranks)
    p_best = [
        float(x) for x in re.findall(r"</td><td>([0-9.]+)</td><td>\d+</td><td>\d+</td>", page)
    ]
    ranking = client.get(f"/plans/{plan}/files/plan.json").json()["ranking"]
    assert p_best == [round(r["p_best"], 2) for r in ranking]  # the page shows the plan
    assert abs(sum(r["p_best"] for r in ranking) - 1.0) < 1e-9  # ties share the credit
    assert {r[1] for r in rows} >= {"dupilumab", "no further treatment"}
    for name in PLAN_FILES:
        assert client.get(f"/plans/{plan}/files/{name}").status_code == 200, name
    assert f"/plans/{plan}" in client.get(f"/twins/{twin}").text


def _cli_error(folder: Path, name: str, content: bytes) -> str:
    folder.mkdir()
    path = folder / name
    path.write_bytes(content)
    with pytest.raises(TwinDataError) as err:
        load_visits(path)
    return str(err.value)


@pytest.mark.parametrize(
    "name, content",
    [
        ("patient.csv", b"# disease: AD\nday,EASI\n0,31\n28,abc\n"),
        ("patient.csv", b"# disease: XY\nday,EASI\n0,31\n"),
        ("patient.csv", b"day,EASI\n0,31\n"),
        ("patient.yaml", b"visits: 3\n"),
    ],
)
def test_a_bad_visit_file_gets_the_command_line_message(tmp_path, examples_dir, name, content):
    message = _cli_error(tmp_path / "cli", name, content)  # the CLI's message, same name
    data = tmp_path / "data"
    with TestClient(create_app(data)) as client:
        response = upload(client, content, name=name)
        assert response.status_code == 422
        shown = re.search(r'id="error-visits">([^<]*)<', response.text).group(1)
        assert shown.replace("&#39;", "'").replace("&gt;", ">").replace("&lt;", "<") == message
        assert written(data) == []


@pytest.mark.parametrize(
    "name, form, message",
    [
        ("notes.txt", {}, "visits: 'notes.txt'; allowed: a .csv, .yaml, .yml visit file"),
        ("p.csv", {"walkers": "4"}, "walkers: '4'; allowed on this server: 10 to 48"),
        ("p.csv", {"steps": "9000"}, "steps: '9000'; allowed on this server: 10 to 400"),
        ("p.csv", {"burn": "300", "steps": "300"}, "burn + steps: 600; allowed on this server"),
    ],
)
def test_fit_settings_beyond_the_limits_are_refused(tmp_path, examples_dir, name, form, message):
    with TestClient(create_app(tmp_path, limits=Limits())) as client:
        response = upload(client, visits(examples_dir), name=name, **form)
        assert response.status_code in (422, 429)
        assert message in response.text.replace("&#39;", "'")
        assert written(tmp_path) == []


def test_a_bad_plan_request_gets_the_command_line_message(planned, tmp_path):
    client, data, twin, _ = planned
    before = sorted(p.name for p in (data / "plans").iterdir())
    with pytest.raises(TwinDataError) as goal:
        parse_goal("EASI-50@200w", "AD")
    bad = tmp_path / "constraints.yaml"
    bad.write_text("exclude_drugs: [aspirin]\n")
    with pytest.raises(TwinDataError) as constraint:
        load_constraints(bad)
    for change, message in (
        ({"goal": "EASI-50@200w"}, str(goal.value)),
        ({"exclude_drugs": "aspirin"}, str(constraint.value)),
        ({"draws": "1000"}, "draws: '1000'; allowed on this server: 2 to 64"),
    ):
        response = client.post(
            f"/twins/{twin}/plan", data={**SMALL_PLAN, **change, "csrf_token": csrf_of(client)}
        )
        assert response.status_code in (422, 429)
        assert message in response.text.replace("&#39;", "'")
    assert sorted(p.name for p in (data / "plans").iterdir()) == before
    # ids of another kind, or of nothing, are no twin and no plan
    assert client.get(f"/plans/{twin}").status_code == 404
    assert client.get(f"/runs/{twin}/trial.yaml").status_code == 404
    assert client.get(f"/runs/{twin}/files/summary.json").status_code == 404
    assert client.get("/twins/..%2F..%2Fjobs.sqlite").status_code == 404
    assert client.get(f"/twins/{twin}/files/..%2Fvisits.csv").status_code == 404


def test_a_fit_is_cancelled_between_sampler_steps(tmp_path, examples_dir):
    reached, go, released = threading.Event(), threading.Event(), []

    def hold(job, step):
        reached.set()
        released.append(go.wait(60))  # an assert here would fail on the job's thread

    with TestClient(create_app(tmp_path, chunk_hook=hold)) as client:
        twin = upload(client, visits(examples_dir)).headers["location"].rsplit("/", 1)[1]
        assert reached.wait(120)
        client.post(f"/runs/{twin}/cancel", data={"csrf_token": csrf_of(client)})
        go.set()
        state = wait(client, twin)
        assert released and all(released)
        assert state["status"] == "cancelled" and state["chunks_done"] == 1
        page = client.get(f"/twins/{twin}").text
        assert "Start again" in page and not (tmp_path / "twins" / twin / "fit").exists()


def test_a_restart_in_the_middle_of_a_fit_marks_it_interrupted_and_it_starts_again(
    tmp_path, examples_dir
):
    crashed = threading.Event()

    def crash(job, step):
        crashed.set()  # nothing writes the job's row after this: SystemExit passes by
        raise SystemExit  # the server dies after the first sampler step

    with TestClient(create_app(tmp_path, chunk_hook=crash)) as first:
        twin = upload(first, visits(examples_dir)).headers["location"].rsplit("/", 1)[1]
        assert crashed.wait(300)
        assert first.get(f"/api/runs/{twin}").json()["status"] == "running"  # as a kill leaves it
    with TestClient(create_app(tmp_path)) as client:
        state = client.get(f"/api/runs/{twin}").json()
        assert (
            state["status"] == "interrupted" and "Start again" in client.get(f"/twins/{twin}").text
        )
        client.post(f"/runs/{twin}/resume", data={"csrf_token": csrf_of(client)})
        state = wait(client, twin)
        assert state["status"] == "done" and state["chunks_done"] == 10
        assert "Fitted parameters" in client.get(f"/twins/{twin}").text
