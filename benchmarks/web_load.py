"""Load check of the web application (issue 16): 20 small trial jobs submitted at once
through the HTTP API of a real server (``dermatwin serve`` in its own process on
127.0.0.1), and the latency of page loads while they run.

Measured: the submissions (each a GET of the designer for its CSRF token, then the upload
of a small trial YAML), every job's end state (none may be lost or fail), the total time
until the last job is done, and the response time of pages a visitor loads meanwhile
(the run list, the designer, a run page, a job's JSON), one request every 0.2 s. Target:
median page response under 300 ms while jobs run. Results to ``web_load_results.json``
beside this file and benchmarks/README.md.

    python benchmarks/web_load.py [--jobs 20] [--patients 4] [--max-jobs 2]

Traffic goes to 127.0.0.1 only; the loops are bounded in count and time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
#: seconds the whole check may take before it gives up
LIMIT_S = 1200.0
PAGES = ("/runs", "/designer", "/runs/{job}", "/api/runs/{job}")


def trial_yaml(i: int, patients: int) -> str:
    return (
        f"name: load {i}\ndisease: AD\nduration: 4 weeks\nseed: {i}\n"
        f"arms:\n  dupilumab: {{n: {patients}, regimen: [{{drug: dupilumab}}]}}\n"
        f"  placebo: {{n: {patients}}}\nendpoints: [EASI-50@4w]\n"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def submit(base: str, i: int, patients: int) -> tuple[str, float]:
    """One visitor: load the designer (cookie and CSRF token), upload a trial."""
    start = time.perf_counter()
    with httpx.Client(base_url=base, timeout=120) as client:
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/designer").text)
        response = client.post(
            "/upload",
            files={"trial": (f"load{i}.yaml", trial_yaml(i, patients))},
            data={"csrf_token": token.group(1)},
            follow_redirects=False,
        )
    if response.status_code != 303:
        raise RuntimeError(f"job {i}: {response.status_code} {response.text[:200]}")
    return response.headers["location"].rsplit("/", 1)[1], time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--patients", type=int, default=4, help="patients per arm")
    parser.add_argument("--max-jobs", type=int, default=2, help="jobs the server runs at once")
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="dermatwin-web-load-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-c", "from dermatwin.cli import main; main()", "serve"]
    command += ["--port", str(port), "--data", str(data), "--max-jobs", str(args.max_jobs)]
    command += ["--max-queue", str(args.jobs)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        start = time.monotonic()
        while True:
            try:
                httpx.get(f"{base}/designer", timeout=2)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() - start > 120:
                    raise RuntimeError(server.stderr.read().decode()[-2000:]) from None
                time.sleep(0.2)
        print(f"server up in {time.monotonic() - start:.1f} s; submitting {args.jobs} jobs")

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.jobs) as pool:
            submitted = list(pool.map(lambda i: submit(base, i, args.patients), range(args.jobs)))
        jobs = [job for job, _ in submitted]
        submit_s = [s for _, s in submitted]
        print(f"{len(jobs)} submitted in {time.perf_counter() - t0:.1f} s")

        latencies: dict[str, list[float]] = {p: [] for p in PAGES}
        states: dict[str, str] = {}
        with httpx.Client(base_url=base, timeout=60) as visitor:
            k = 0
            while time.perf_counter() - t0 < LIMIT_S:
                path = PAGES[k % len(PAGES)]
                url = path.format(job=jobs[k % len(jobs)])
                t = time.perf_counter()
                response = visitor.get(url)
                latency = time.perf_counter() - t
                assert response.status_code == 200, (url, response.status_code)
                latencies[path].append(latency)
                k += 1
                if k % len(PAGES) == 0:  # every job's state, once a round
                    states = {j: visitor.get(f"/api/runs/{j}").json()["status"] for j in jobs}
                    if all(s not in ("queued", "running") for s in states.values()):
                        break
                time.sleep(0.2)
        total_s = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(60)

    every = [x for values in latencies.values() for x in values]
    ms = lambda xs: round(1000 * xs, 1)  # noqa: E731
    result = {
        "jobs": args.jobs,
        "patients_per_job": 2 * args.patients,
        "server_jobs_at_once": args.max_jobs,
        "done": sum(s == "done" for s in states.values()),
        "lost_or_failed": sum(s != "done" for s in states.values()),
        "total_s": round(total_s, 1),
        "submit_median_ms": ms(statistics.median(submit_s)),
        "submit_max_ms": ms(max(submit_s)),
        "page_requests": len(every),
        "page_median_ms": ms(statistics.median(every)),
        "page_p95_ms": ms(statistics.quantiles(every, n=20)[-1]),
        "page_max_ms": ms(max(every)),
        "page_median_ms_by_page": {p: ms(statistics.median(v)) for p, v in latencies.items()},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%d"),
    }
    print(json.dumps(result, indent=2))
    (HERE / "web_load_results.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
