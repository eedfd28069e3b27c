"""Streamed trials: executors agree bit for bit, resume, lost workers, failing chunks, SQL."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import cloudpickle
import numpy as np
import pandas as pd
import pytest
import yaml
from support import small_ad_trial
from typer.testing import CliRunner

from dermatwin.cli import app, main
from dermatwin.execution import ExecutionError, get_executor
from dermatwin.execution.manifest import MANIFEST_NAME
from dermatwin.patients.population import generate, select_candidates
from dermatwin.trials.run import run_trial, simulate_chunk, trial_model
from dermatwin.trials.spec import TrialSpec
from dermatwin.trials.streaming import CHUNK_FAILED, chunk_task, run_trial_to, staging_folder

# Dask workers do not import this test folder: ship the fault-injecting tasks by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

SPEC = small_ad_trial(4, name="scale", seed=11, chunk_size=5)
N_CHUNKS = 6  # 2 arms x ceil(12 / 5)
TINY_ARMS = {"dupilumab": {"n": 2, "regimen": [{"drug": "dupilumab"}]}, "placebo": {"n": 2}}


def spec(**update) -> TrialSpec:
    return TrialSpec.model_validate({**SPEC, **update})


@pytest.fixture(scope="module")
def reference():
    return run_trial(spec())


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        yield c


def assert_same(result, reference):
    pd.testing.assert_frame_equal(result.endpoints, reference.endpoints)
    assert json.dumps(result.summary, allow_nan=False) == json.dumps(reference.summary)
    traj = pd.read_parquet(result.folder / "trajectories.parquet")
    pd.testing.assert_frame_equal(traj, reference.trajectories)


def test_population_from_candidate_chunks_equals_generate():
    model = trial_model(spec())
    pop_spec = spec().population_spec()
    pop = generate(model, pop_spec, 5, 3, stream=1)
    rebuilt = select_candidates(model, pop_spec, 3, 1, pop.covariates["candidate"].to_numpy())
    np.testing.assert_array_equal(rebuilt.parameters, pop.parameters)
    np.testing.assert_array_equal(rebuilt.y0, pop.y0)
    pd.testing.assert_frame_equal(rebuilt.covariates, pop.covariates)


def test_serial_stream_equals_in_memory_run(reference, tmp_path):
    result = run_trial_to(spec(chunk_size=7), tmp_path / "out")
    assert_same(result, reference)
    names = sorted(p.name for p in (tmp_path / "out" / "trajectories" / "arm=placebo").iterdir())
    assert names == ["chunk-00000.parquet", "chunk-00001.parquet"]
    assert not staging_folder(tmp_path / "out").exists()


def test_processes_and_dask_agree_bit_for_bit(reference, cluster, tmp_path):
    with get_executor("processes", workers=2) as ex:
        assert_same(run_trial_to(spec(chunk_size=4), tmp_path / "p", executor=ex), reference)
    with get_executor("dask", scheduler=cluster.scheduler_address) as ex:
        assert_same(run_trial_to(spec(chunk_size=12), tmp_path / "d", executor=ex), reference)


class KillWorkerOnce:
    """Kills the worker process running the first chunk, once (a lost machine)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __call__(self, spec, arm_index, lo, candidates, *states):
        if arm_index == 0 and lo == 0 and not self.marker.exists():
            self.marker.touch()
            os._exit(1)
        return chunk_task(spec, arm_index, lo, candidates, *states)


def test_dask_run_survives_a_killed_worker(reference, cluster, tmp_path):
    marker = tmp_path / "killed"
    with get_executor("dask", scheduler=cluster.scheduler_address, retries=1) as ex:
        result = run_trial_to(spec(), tmp_path / "out", executor=ex, task=KillWorkerOnce(marker))
    assert marker.exists()
    assert result.manifest["chunks"]["failed"] == []
    assert_same(result, reference)


class Killed(Exception):
    pass


def test_killed_run_resumes_with_only_the_missing_chunks(reference, tmp_path):
    out = tmp_path / "out"
    seen = []

    def kill_after_two(chunk):
        seen.append(chunk)
        if len(seen) == 2:
            raise Killed

    with pytest.raises(Killed):
        run_trial_to(spec(), out, on_chunk=kill_after_two)
    stage = staging_folder(out)
    assert not out.exists() and stage.exists()
    # a chunk file half-written at the kill is not in the manifest, so it does not count
    (stage / "endpoints" / "arm=dupilumab" / ".chunk-00002.parquet.x.tmp").write_bytes(b"PAR1")
    with pytest.raises(ExecutionError, match="different seed"):
        run_trial_to(spec(), out, seed=12, resume=True)
    result = run_trial_to(spec(), out, resume=True)
    assert result.computed_chunks == N_CHUNKS - 2
    assert_same(result, reference)


def test_cli_resume_gives_the_uninterrupted_json(reference, tmp_path, capsys):
    path = tmp_path / "trial.yaml"
    path.write_text(yaml.safe_dump(SPEC))
    runner = CliRunner()
    args = ["trial", "run", str(path), "--json", "--out", str(tmp_path / "o"), "--chunk-size", "7"]
    res = runner.invoke(app, [*args, "--resume"])  # nothing to resume: a fresh run
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == json.dumps(reference.summary, allow_nan=False)
    capsys.readouterr()
    with pytest.raises(SystemExit) as bad:  # what a user sees: dermatwin.cli.main
        main([*args, "--executor", "cluster"])
    err = capsys.readouterr().err
    assert bad.value.code == 2 and err.count("\n") == 1 and err.startswith("error: "), err
    assert "--executor" in err and "cluster" in err and "serial" in err, err


class FailChunk:
    """Raises for one chunk on every attempt; poisons one patient of another chunk."""

    def __call__(self, spec, arm_index, lo, candidates, *states):
        if arm_index == 1 and lo == 5:
            raise FloatingPointError("chunk always fails")
        model = trial_model(spec)
        pop = select_candidates(model, spec.population_spec(), spec.seed, arm_index, candidates)
        if arm_index == 0 and lo == 0:
            pop.parameters[2, :] = np.nan  # a numerically poisoned patient
        patients = np.arange(lo, lo + len(candidates))
        return simulate_chunk(spec, model, arm_index, patients, pop)


def test_failing_chunk_and_poisoned_patient_are_reported(reference, tmp_path):
    result = run_trial_to(spec(), tmp_path / "out", task=FailChunk())
    failed = result.manifest["chunks"]["failed"]
    assert failed == [{"chunk": "1:00001", "arm": "placebo", "patients": [5, 9]}]
    f = result.failures
    assert set(f.loc[f["status"] == CHUNK_FAILED, "patient"]) == {5, 6, 7, 8, 9}
    poisoned = f[(f["arm"] == "dupilumab") & (f["status"] != CHUNK_FAILED)]
    assert poisoned["patient"].tolist() == [2] and (poisoned["status"] > 0).all()
    assert result.summary["arms"]["placebo"]["EASI-50@4w"]["n"] == 7
    assert np.isnan(result.endpoints.loc[2, "mean_pct_change:EASI@4w"])
    lines = (tmp_path / "out" / MANIFEST_NAME).read_text().splitlines()
    assert any('"status":"failed"' in line for line in lines)
    good = result.endpoints[result.endpoints["arm"] == "dupilumab"].drop(index=2)
    ref = reference.endpoints[reference.endpoints["arm"] == "dupilumab"].drop(index=2)
    pd.testing.assert_frame_equal(good, ref)


def test_results_query_over_the_chunks(reference, tmp_path):
    out = tmp_path / "out"
    run_trial_to(spec(), out)
    runner = CliRunner()
    sql = "SELECT arm, count(*) AS n FROM endpoints GROUP BY arm ORDER BY arm"
    res = runner.invoke(app, ["results", "query", str(out), sql, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == [{"arm": "dupilumab", "n": 12}, {"arm": "placebo", "n": 12}]
    sql = "SELECT avg(value) AS v FROM trajectories WHERE variable = 'EASI' AND time = 28"
    res = runner.invoke(app, ["results", "query", str(out), sql, "--json"])
    t = reference.trajectories
    expected = t[(t["variable"] == "EASI") & (t["time"] == 28)]["value"].mean()
    assert json.loads(res.stdout)[0]["v"] == pytest.approx(expected, rel=1e-12)
    bad = runner.invoke(app, ["results", "query", str(out), "SELEC nonsense"])
    assert bad.exit_code == 2 and bad.stderr.startswith("error: SQL: ")
    assert bad.stderr.count("\n") == 1


def test_power_replicates_on_an_executor_match_a_plain_loop():
    from dermatwin.trials.power import estimate_power
    from dermatwin.trials.statistics import power_from_replicates

    small = spec(
        arms={"dupilumab": {"n": 6, "regimen": [{"drug": "dupilumab"}]}, "placebo": {"n": 6}}
    )
    ps = []
    for r in range(3):
        comps = run_trial(small, seed=small.seed + r).summary["comparisons"]
        ps.append(max(c["p_value"] for c in comps if c["endpoint"] == "EASI-50@4w"))
    with get_executor("serial") as ex:
        got = estimate_power(small, "EASI-50@4w", alpha=0.2, replicates=3, executor=ex)
    assert got == {
        "endpoint": "EASI-50@4w",
        "alpha": 0.2,
        "arms": {"dupilumab": 6, "placebo": 6},
        **power_from_replicates(ps, 0.2),
    }


def test_bootstrap_in_bounded_batches_gives_the_same_interval(monkeypatch):
    from dermatwin.trials import statistics

    x = np.random.default_rng(3).normal(size=1001)
    whole = statistics.bootstrap_mean_interval(x, seed=[1, 2])
    monkeypatch.setattr(statistics, "BOOTSTRAP_BATCH_VALUES", 1001 * 37)
    calls = []
    original = statistics.stats.bootstrap

    def spy(*args, **kwargs):
        calls.append(kwargs["batch"])
        return original(*args, **kwargs)

    monkeypatch.setattr(statistics.stats, "bootstrap", spy)
    assert statistics.bootstrap_mean_interval(x, seed=[1, 2]) == whole
    assert calls == [37]


def test_impossible_inclusion_is_one_line_and_leaves_nothing(tmp_path):
    path = tmp_path / "trial.yaml"
    strict = {"inclusion": {"EASI": {"min": 71}}, "max_draws_per_patient": 1}
    path.write_text(yaml.safe_dump({**SPEC, "population": strict}))
    out = tmp_path / "o"
    res = CliRunner().invoke(app, ["trial", "run", str(path), "--out", str(out)])
    assert res.exit_code == 2 and res.stderr.startswith("error: inclusion: only ")
    assert res.stderr.count("\n") == 1
    assert not out.exists() and not staging_folder(out).exists()


def recorded_chunks(stage: Path) -> list[str]:
    """Chunks recorded as done (the order in which chunks finish may vary)."""
    lines = (stage / MANIFEST_NAME).read_text().splitlines()[1:]
    return [e["chunk"] for e in map(json.loads, lines) if not e["chunk"].startswith("population")]


def chunk_file(stage: Path, table: str, chunk: str) -> Path:
    arm = ["dupilumab", "placebo"][int(chunk[0])]
    return stage / table / f"arm={arm}" / f"chunk-{chunk[2:]}.parquet"


def test_damaged_staged_files_are_recomputed_on_resume(reference, tmp_path, capsys):
    out = tmp_path / "out"
    seen = []

    def kill_after_three(chunk):
        seen.append(chunk)
        if len(seen) == 3:
            raise Killed

    with pytest.raises(Killed):
        run_trial_to(spec(), out, on_chunk=kill_after_three)
    stage = staging_folder(out)
    cut, forged = recorded_chunks(stage)[1:]
    # a chunk file cut short, a population block overwritten with garbage, a manifest
    # with a garbage line, a JSON line that is no record, a record without its fields
    # and a torn last line
    chunk = chunk_file(stage, "endpoints", cut)
    chunk.write_bytes(chunk.read_bytes()[:-20])
    block = sorted((stage / "population" / "arm=placebo").iterdir())[0]
    block.write_bytes(b"garbage" * 10)
    with open(stage / MANIFEST_NAME, "a") as fh:
        fh.write(f'\x00\x01garbage\n[1, 2]\n{{"chunk": "{forged}", "status": "done"}}\n{{"chu')
    result = run_trial_to(spec(), out, resume=True)
    assert_same(result, reference)
    assert result.computed_chunks == N_CHUNKS - 3 + 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        f"population of arm 'placebo': population/arm=placebo/{block.name} corrupt (size "
        "mismatch); screening the arm again",
        f"chunk {cut}: {chunk.relative_to(stage).as_posix()} corrupt (size mismatch); recomputing",
        f"chunk {forged}: its manifest record is damaged; recomputing",
    ]


def test_a_flipped_byte_is_caught_by_the_checksum(reference, tmp_path):
    out = tmp_path / "out"

    def kill_after_one(chunk):
        raise Killed

    with pytest.raises(Killed):
        run_trial_to(spec(), out, on_chunk=kill_after_one)
    stage = staging_folder(out)
    (done,) = recorded_chunks(stage)
    chunk = chunk_file(stage, "trajectories", done)
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0xFF
    chunk.write_bytes(bytes(data))
    log = []
    result = run_trial_to(spec(), out, resume=True, log=log.append)
    assert log == [
        f"chunk {done}: {chunk.relative_to(stage).as_posix()} corrupt (checksum mismatch); "
        "recomputing"
    ]
    assert result.computed_chunks == N_CHUNKS
    assert_same(result, reference)


def test_a_fresh_run_says_it_discards_the_interrupted_one(tmp_path):
    tiny = spec(arms=TINY_ARMS, chunk_size=1)
    out = tmp_path / "out"

    def kill(chunk):
        raise Killed

    with pytest.raises(Killed):
        run_trial_to(tiny, out, on_chunk=kill)
    assert (staging_folder(out) / ".dermatwin-stage").is_file()
    log = []
    result = run_trial_to(tiny, out, log=log.append)
    assert log == [
        f"discarding the interrupted run in {staging_folder(out)}; resume=True continues it"
    ]
    assert result.computed_chunks == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert not (out / ".dermatwin-stage").exists()


class FailArm:
    """Every chunk of the first arm fails."""

    def __call__(self, spec, arm_index, lo, candidates, *states):
        if arm_index == 0:
            raise FloatingPointError("arm always fails")
        return chunk_task(spec, arm_index, lo, candidates, *states)


def test_an_arm_whose_chunks_all_failed_keeps_its_place(tmp_path):
    tiny = spec(arms=TINY_ARMS)
    result = run_trial_to(tiny, tmp_path / "out", task=FailArm())
    assert list(result.summary["arms"]) == ["dupilumab", "placebo"]
    assert result.summary["arms"]["dupilumab"]["EASI-50@4w"]["excluded"] == 2
