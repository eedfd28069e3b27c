"""The web application through FastAPI's test client: every route, bad input (one line
next to the field, nothing written), limits, CSRF, the access token, path traversal, and a
server restart in the middle of a job (marked interrupted, then resumed)."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
import yaml

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from dermatwin._base.disclaimer import DISCLAIMER  # noqa: E402
from dermatwin.trials.spec import TrialError, load_trial  # noqa: E402
from dermatwin.web.app import create_app  # noqa: E402
from dermatwin.web.limits import Limits  # noqa: E402
from dermatwin.web.routes_runs import DOWNLOADS  # noqa: E402

#: a tiny trial: 4 patients per arm, 4 weeks (seconds to run)
FORM = {
    "name": "tiny",
    "disease": "AD",
    "duration": "4 weeks",
    "seed": "3",
    "endpoints": "EASI-50@4w\nmean_pct_change:EASI@4w",
    "inclusion_score": "EASI",
    "inclusion_min": "16",
    "placebo_background": "on",
    "arm0_name": "dupilumab",
    "arm0_n": "4",
    "arm0_kind": "drug",
    "arm0_drug": "dupilumab",
    "arm1_name": "placebo",
    "arm1_n": "4",
    "arm1_kind": "none",
}
TINY_YAML = """name: tiny upload
disease: AD
duration: 4 weeks
chunk_size: 1
arms:
  dupilumab: {n: 3, regimen: [{drug: dupilumab}]}
  placebo: {n: 3}
endpoints: [EASI-50@4w]
"""


def csrf_of(client: TestClient) -> str:
    page = client.get("/designer")
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)


def wait(client: TestClient, job: str, until=("done", "failed", "cancelled"), limit=300.0):
    start = time.monotonic()
    while time.monotonic() - start < limit:
        state = client.get(f"/api/runs/{job}").json()
        if state["status"] in until:
            return state
        time.sleep(0.1)
    raise AssertionError(f"job {job} still {state['status']}")


def written(data: Path) -> list[str]:
    """What a request left in the data folder besides the job table and the secret."""
    return sorted(p.name for p in data.iterdir() if not p.name.startswith(("jobs.sqlite", ".")))


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A server with one finished run of FORM: (client, data folder, job id)."""
    data = tmp_path_factory.mktemp("web")
    with TestClient(create_app(data)) as client:
        response = client.post(
            "/designer", data={**FORM, "csrf_token": csrf_of(client)}, follow_redirects=False
        )
        assert response.status_code == 303, response.text
        job = response.headers["location"].rsplit("/", 1)[1]
        assert wait(client, job)["status"] == "done"
        yield client, data, job


@pytest.fixture
def fresh(tmp_path):
    with TestClient(create_app(tmp_path)) as client:
        yield client, tmp_path


def test_a_designed_trial_runs_and_its_files_download(finished):
    client, data, job = finished
    page = client.get(f"/runs/{job}")
    assert page.status_code == 200 and 'id="status">done' in page.text
    assert client.get("/runs").text.count(f"/runs/{job}") == 1
    for name in DOWNLOADS:
        response = client.get(f"/runs/{job}/files/{name}")
        assert response.status_code == 200 and response.content, name
    assert "Virtual trial: tiny" in client.get(f"/runs/{job}/files/report.html").text
    csv = client.get(f"/runs/{job}/files/endpoints.csv").text.splitlines()
    assert csv[0].startswith("arm,patient,EASI-50@4w") and len(csv) == 1 + 8
    # the YAML downloaded is the YAML the form showed, and the trial it describes
    shown = client.post("/designer/preview", data={**FORM, "csrf_token": csrf_of(client)})
    downloaded = client.get(f"/runs/{job}/trial.yaml").text
    assert downloaded in shown.text.replace("&#39;", "'") and "Valid trial." in shown.text
    assert yaml.safe_load(downloaded)["arms"]["dupilumab"] == {
        "n": 4,
        "regimen": [{"drug": "dupilumab"}],
    }
    assert (data / "runs" / job / "summary.json").is_file()


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"arm0_n": "many"}, "arm0_n", "arms.dupilumab.n: expected a whole number, got 'many'"),
        ({"arm0_drug": "aspirin"}, "arm0_regimen", "aspirin"),
        ({"endpoints": "EASI-50@40w"}, "endpoints", "time must be within the trial"),
        ({"duration": "forever"}, "duration", "duration"),
        ({"arm1_name": "dupilumab"}, "arm1_name", "'dupilumab' is given twice"),
        ({"arm1_name": "a/b"}, "arm1_name", "arm name 'a/b': allowed: 1-40 letters"),
        ({"name": ""}, "name", "name:"),
    ],
)
def test_bad_form_input_is_one_line_next_to_the_field_and_nothing_is_written(
    fresh, change, field, message
):
    client, data = fresh
    response = client.post("/designer", data={**FORM, **change, "csrf_token": csrf_of(client)})
    assert response.status_code == 422
    shown = re.search(rf'id="error-{field}">([^<]*)<', response.text)
    assert shown, response.text[:2000]
    text = shown.group(1).replace("&#39;", "'")
    assert message in text and "\n" not in text and "--" not in text
    assert written(data) == [] and client.get("/runs").text.count("/runs/") == 0


def test_an_uploaded_trial_gets_the_messages_of_the_command_line(fresh, tmp_path_factory):
    client, data = fresh
    bad = "name: x\nname: y\n"
    file = tmp_path_factory.mktemp("cli") / "trial.yaml"
    file.write_text(bad)
    with pytest.raises(TrialError) as cli:
        load_trial(file)
    for content in (bad, "arms: [1\n", b"\xff\xfe", "- a list\n"):
        response = client.post(
            "/upload",
            files={"trial": ("trial.yaml", content)},
            data={"csrf_token": csrf_of(client)},
        )
        assert response.status_code == 422
        assert 'id="error-upload">trial.yaml' in response.text
    assert str(cli.value) == f"{file} line 2: duplicate key 'name'"
    response = client.post(
        "/upload", files={"trial": ("trial.yaml", bad)}, data={"csrf_token": csrf_of(client)}
    )
    assert "trial.yaml line 2: duplicate key &#39;name&#39;" in response.text
    assert written(data) == []


def test_limits_refuse_in_one_line_before_any_work(tmp_path):
    limits = Limits(max_upload_bytes=4096, max_patients=6)
    with TestClient(create_app(tmp_path, limits=limits)) as client:
        csrf = csrf_of(client)
        big = client.post(
            "/upload", files={"trial": ("t.yaml", "#" * 5000)}, data={"csrf_token": csrf}
        )
        assert big.status_code == 413 and big.text.count("\n") == 1
        assert "allowed on this server: up to 4 KiB" in big.text
        many = client.post("/designer", data={**FORM, "csrf_token": csrf})
        assert many.status_code == 429
        assert "arms: 8 patients in all; allowed on this server: up to 6 per job" in many.text
        assert written(tmp_path) == []


def test_forms_need_the_csrf_token(fresh):
    client, data = fresh
    for sent in ({}, {"csrf_token": "0" * 64}):
        response = client.post("/designer", data={**FORM, **sent})
        assert response.status_code == 403 and "CSRF" in response.text
    assert client.post("/runs/0123456789abcdef/cancel").status_code == 403
    assert written(data) == []


def test_the_access_token_is_required_when_set(tmp_path):
    token = "s3cret-token-for-tests"
    with TestClient(create_app(tmp_path, token=token)) as client:
        refused = client.get("/designer")
        assert refused.status_code == 401 and 'name="token"' in refused.text
        assert DISCLAIMER in refused.text
        assert client.get("/designer", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = client.get("/designer", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
        assert client.post("/login", data={"token": "wrong"}).status_code == 401
        client.post("/login", data={"token": token}, follow_redirects=False)
        assert client.get("/runs").status_code == 200  # the login cookie


@pytest.mark.parametrize(
    "path",
    [
        "/runs/..%2F..%2Fetc%2Fpasswd",
        "/runs/../../etc/passwd",
        "/runs/0123456789abcdef",
        "/runs/%2Fetc%2Fpasswd/files/summary.json",
        "/runs/{job}/files/..%2Fjobs.sqlite",
        "/runs/{job}/files/..%2F..%2Ftrials%2F{job}.yaml",
        "/runs/{job}/files/jobs.sqlite",
        "/runs/{job}/files/.dermatwin-output.json",
        "/static/..%2Fjob_table.py",
        "/static/../app.py",
    ],
)
def test_no_request_reaches_outside_the_data_folder(finished, path):
    client, _, job = finished
    response = client.get(path.format(job=job))
    assert response.status_code == 404
    assert "import" not in response.text and "SQLite" not in response.text


def test_every_page_shows_the_disclaimer(finished):
    client, _, job = finished
    for path in ("/designer", "/runs", f"/runs/{job}", "/runs/0123456789abcdef"):
        assert DISCLAIMER in client.get(path).text, path
    assert "htmx" in client.get("/static/htmx.min.js").text[:200]
    assert client.get("/", follow_redirects=False).headers["location"] == "/designer"
    more = client.post("/designer", data={**FORM, "add_arm": "1", "csrf_token": csrf_of(client)})
    assert 'name="arm3_name"' in more.text  # three rows shown, one more asked for


def test_cancel_queue_limit_and_resume_rules(tmp_path):
    reached, go = threading.Event(), threading.Event()

    def hold(job, chunk):
        reached.set()
        assert go.wait(60)

    limits = Limits(max_running=1, max_queued=1)
    with TestClient(create_app(tmp_path, limits=limits, chunk_hook=hold)) as client:
        csrf = csrf_of(client)

        def submit():
            return client.post(
                "/upload",
                files={"trial": ("t.yaml", TINY_YAML)},
                data={"csrf_token": csrf},
                follow_redirects=False,
            )

        first = submit().headers["location"].rsplit("/", 1)[1]
        assert reached.wait(120)
        second = submit().headers["location"].rsplit("/", 1)[1]
        full = submit()
        assert full.status_code == 429 and "queue full: 1 jobs waiting" in full.text
        assert len(list((tmp_path / "trials").iterdir())) == 2
        form = {"csrf_token": csrf}
        client.post(f"/runs/{second}/cancel", data=form)
        assert client.get(f"/api/runs/{second}").json()["status"] == "cancelled"
        client.post(f"/runs/{first}/cancel", data=form)
        go.set()
        state = wait(client, first)
        assert state["status"] == "cancelled" and state["chunks_done"] == 1
        refused = client.post(f"/runs/{first}/cancel", data=form)
        assert refused.status_code == 409 and "cannot cancel" in refused.text
        files = client.get(f"/runs/{first}/files/summary.json")
        assert files.status_code == 409


def test_a_failed_write_leaves_neither_a_job_row_nor_a_file(tmp_path):
    """The job's files are written before its row is added, and removed if the write
    fails: a queued row whose trial or request is missing never exists."""
    with TestClient(create_app(tmp_path), raise_server_exceptions=False) as client:
        runner = client.app.state.runner
        (tmp_path / "trials").write_text("")  # a file where the trials folder goes
        response = client.post(
            "/upload",
            files={"trial": ("t.yaml", TINY_YAML)},
            data={"csrf_token": csrf_of(client)},
            follow_redirects=False,
        )
        assert response.status_code == 500
        assert runner.table.all() == []

        def half_written(job):  # the folder and one file, then the disk fails
            folder = tmp_path / "validations" / job
            folder.mkdir(parents=True)
            (folder / "request.json").write_text("{")
            raise OSError(28, "No space left on device")

        with pytest.raises(OSError, match="No space left"):
            runner.submit_task("validation", "v", 1, half_written)
        assert runner.table.all() == []
        assert list((tmp_path / "validations").iterdir()) == []


def test_a_restart_in_the_middle_of_a_job_marks_it_interrupted_and_it_resumes(tmp_path):
    recorded = []
    crashed = threading.Event()

    def crash(job, chunk):
        recorded.append(chunk)
        if len(recorded) == 2:  # the server dies once two of the six chunks are recorded
            crashed.set()  # nothing writes the job's row after this: SystemExit passes by
            raise SystemExit

    first = TestClient(create_app(tmp_path, chunk_hook=crash))
    with first:
        csrf = csrf_of(first)
        response = first.post(
            "/upload",
            files={"trial": ("t.yaml", TINY_YAML)},
            data={"csrf_token": csrf},
            follow_redirects=False,
        )
        job = response.headers["location"].rsplit("/", 1)[1]
        assert crashed.wait(120)
        assert first.get(f"/api/runs/{job}").json()["status"] == "running"  # as a kill leaves it
    assert (tmp_path / "runs" / f".{job}.partial").is_dir()

    computed = []
    second = create_app(tmp_path, chunk_hook=lambda job, chunk: computed.append(chunk))
    with TestClient(second) as client:
        state = client.get(f"/api/runs/{job}").json()
        assert state["status"] == "interrupted" and "resume" in state["message"]
        assert "Resume" in client.get(f"/runs/{job}").text
        client.post(f"/runs/{job}/resume", data={"csrf_token": csrf_of(client)})
        state = wait(client, job)
        assert state["status"] == "done" and state["chunks_done"] == 6
        every = {f"{arm}:{chunk:05d}" for arm in (0, 1) for chunk in range(3)}
        assert sorted(computed) == sorted(every - set(recorded))  # the staged ones are kept
        again = client.post(f"/runs/{job}/resume", data={"csrf_token": csrf_of(client)})
        assert again.status_code == 409 and "allowed to resume" in again.text
        assert client.get(f"/runs/{job}/files/summary.json").status_code == 200


def test_an_upload_cannot_read_server_files_or_buy_unbounded_work(tmp_path):
    """A trial may name only a shipped parameter set (a path would read a server file and
    echo its keys), and its visits and screening effort are bounded."""
    secret = tmp_path / "secret.yaml"
    secret.write_text("secret_key: 1\n")
    limits = Limits(max_patient_visits=100)
    cases = {
        "parameter_set": TINY_YAML + f"parameter_set: {secret}\n",
        "visits": TINY_YAML.replace("duration: 4 weeks", "duration: 4 weeks\nvisit_every: 1 day"),
    }
    with TestClient(create_app(tmp_path / "data", limits=limits)) as client:
        csrf = csrf_of(client)
        for field, text in cases.items():
            reply = client.post(
                "/upload", files={"trial": ("t.yaml", text)}, data={"csrf_token": csrf}
            )
            assert reply.status_code == 429 and field in reply.text, reply.text
            assert "secret_key" not in reply.text
        assert written(tmp_path / "data") == []
