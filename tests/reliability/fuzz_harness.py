"""Run one fuzz case as a user would, in a forked child, and sort the outcome into a class.

Each case runs ``dermatwin.cli.main()`` (what the ``dermatwin`` script runs: ``sys.argv``
patched, ``SystemExit`` caught) in a child forked from a warm "zygote" process
(``multiprocessing`` forkserver with :mod:`fuzz_zygote` preloaded). A child of its own keeps
the test process safe from the very things being looked for: a case that runs out of
memory, hangs inside compiled code or crashes is killed, measured and classified, and the
next case starts clean. Children fork from the zygote, never from the test process,
because numba's GNU OpenMP thread pool is not fork-safe once a kernel ran in the parent.

Limits (documented in README.md, Development; environment variables change them):

- wall time per case: ``DERMATWIN_FUZZ_CASE_SECONDS`` (default 60 s, measured from the
  fork; a valid tiny trial run takes about 4 s on an idle 2-core machine, most of it
  drawing the HTML report). Over the limit the child is killed: class ``hang``.
- memory per case: the child's resident memory may grow by ``DERMATWIN_FUZZ_CASE_MIB``
  (default 1536 MiB) over its size at the fork; the parent samples it every 20 ms and
  kills the child above that (class ``memory``). As a hard backstop the child's address
  space (RLIMIT_AS) is capped at its size at the fork plus twice that, so a runaway
  allocation is a MemoryError (also class ``memory``), never the machine's memory.

Safety: every path a case gives is inside its own temporary folder (``HOME`` points there
too), and in the child ``shutil.rmtree`` refuses any folder outside that folder (recorded
as class ``data_lost``): a command that deletes ``--out`` must not delete the machine.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

CASE_SECONDS = float(os.environ.get("DERMATWIN_FUZZ_CASE_SECONDS", "60"))
CASE_MIB = int(os.environ.get("DERMATWIN_FUZZ_CASE_MIB", "1536"))
#: an error line longer than this echoes a value instead of naming it (issue 12 item 10)
MAX_ERROR_CHARS = 1000
_POLL_S = 0.02

#: outcome classes, in the order reports list them; all but the first two are failures
CLASSES = (
    "exit0",
    "one_line_error",
    "unnamed_error",
    "long_error",
    "multi_line_error",
    "traceback",
    "other_exit",
    "silent_nonsense",
    "hang",
    "memory",
    "crash",
    "data_lost",
)
GOOD = frozenset({"exit0", "one_line_error"})


@dataclass
class Case:
    """One command line over a set of files, written into a fresh folder per run.

    ``argv`` may contain ``{dir}`` (the case folder), ``{run}`` (a copy of the stored tiny
    trial run) and ``{twin}`` (a copy of the fitted tiny twin). ``files`` maps a path
    inside the case folder to its bytes (``None``: an empty folder). The child runs in
    ``cwd`` (relative to the case folder).
    """

    kind: str
    argv: list[str]
    files: dict[str, bytes | None] = field(default_factory=dict)
    note: str = ""
    #: invalid by construction: exit 0 is "silent nonsense"
    must_reject: bool = False
    #: words of which an error line must contain one (field, flag or file names)
    names: tuple[str, ...] = ()
    #: (loader, path): with the loader's result too large to run, the CLI is not run
    guard: tuple[str, str] | None = None
    #: files (case-relative) that must exist with the same bytes after the command
    sentinels: tuple[str, ...] = ()
    cwd: str = "."

    def command_line(self) -> str:
        """The case as a shell-like line, for reports (long arguments cut)."""
        return "dermatwin " + " ".join(_cut(a, 60) for a in self.argv)


@dataclass
class Outcome:
    kind: str
    klass: str
    exit_code: int | None
    stderr: str
    stdout_tail: str
    seconds: float
    peak_mib: float
    detail: str = ""
    case: Case | None = None

    def explain(self) -> str:
        case = self.case
        files = {k: _cut(repr(v), 300) for k, v in (case.files.items() if case else [])}
        return (
            f"[{self.klass}] {case.command_line() if case else ''}\n"
            f"  note: {case.note if case else ''}\n  files: {files}\n"
            f"  exit {self.exit_code}, {self.seconds:.1f} s, peak +{self.peak_mib:.0f} MiB; "
            f"{self.detail}\n  stderr: {_cut(self.stderr, 800)!r}"
        )

    def as_dict(self) -> dict:
        data = {k: v for k, v in dataclasses.asdict(self).items() if k != "case"}
        if self.case is not None:
            data["command"] = self.case.command_line()
            data["note"] = self.case.note
            data["must_reject"] = self.case.must_reject
        return data


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


# --------------------------------------------------------------------------------------
# child side


def _too_large(loader: str, path: Path) -> str | None:
    """Why the loaded file would be too costly to run here (None: cheap enough).

    Any exception is left to the command itself (it must give its own one-line error)."""
    try:
        if loader == "trial":
            from dermatwin.trials.spec import load_trial

            spec = load_trial(path)
            n = sum(spec.arm_sizes().values())
            points = len(spec.visit_times())
            if n > 12 or spec.duration > 8 * 7 or points > 60:
                return f"n={n}, duration={spec.duration:g} d, {points} visits"
        elif loader == "scenario":
            from dermatwin.scenario import load_scenario

            spec = load_scenario(path)
            n = spec.patients.n if spec.patients else 1
            if n > 4 or spec.horizon > 2000 or spec.horizon / spec.output_every > 3000:
                return f"n={n}, horizon={spec.horizon:g} d"
        elif loader == "visits":
            from dermatwin.twins.visits import load_visits

            record = load_visits(path)
            days = [v.day for v in record.visits]
            if max(days) > 2000 or len(days) > 50:
                return f"{len(days)} visits up to day {max(days):g}"
        elif loader in ("regimen", "constraints"):
            from dermatwin.twins.plan import load_constraints
            from dermatwin.twins.predict import load_regimen

            spec = (load_regimen if loader == "regimen" else load_constraints)(path)
            if spec.horizon > 104 * 7:
                return f"horizon={spec.horizon:g} d"
    except BaseException:  # noqa: BLE001 - judged by running the command itself
        return None
    return None


def _sandbox_rmtree(root: Path, record: list):
    real = shutil.rmtree

    def rmtree(path, *args, **kwargs):
        target = Path(path).resolve()
        if target != root and root not in target.parents:
            record.append(str(target))
            raise PermissionError(13, "fuzz sandbox: refusing to delete", str(path))
        return real(path, *args, **kwargs)

    return rmtree


def child_main(argv, root, cwd, out_path, err_path, guard, conn) -> None:
    """Run ``dermatwin.cli.main()`` with ``argv``; send a small result dict on ``conn``."""
    import resource

    import psutil

    proc = psutil.Process()
    base = proc.memory_info()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = base.vms + 2 * CASE_MIB * 2**20
    if hard == resource.RLIM_INFINITY or cap < hard:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    root = Path(root).resolve()
    os.environ["HOME"] = str(root / "home")
    os.chdir(root / cwd)
    for fd, path in ((1, out_path), (2, err_path)):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(handle, fd)
        os.close(handle)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    refused: list[str] = []
    shutil.rmtree = _sandbox_rmtree(root, refused)
    result = {"base_rss": base.rss, "refused_rmtree": refused}
    if guard is not None and (why := _too_large(guard[0], root / guard[1])):
        result.update(exit_code=0, skipped=f"accepted by the loader, not run ({why})")
        conn.send(result)
        return
    sys.argv = ["dermatwin", *argv]
    code = 0
    try:
        from dermatwin.cli import main

        main()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        if isinstance(stop.code, str):
            print(stop.code, file=sys.stderr)
    except MemoryError:
        result["memory_error"] = True
        code = 1
    except BaseException as err:  # noqa: BLE001 - the traceback class is what we look for
        text = "".join(traceback.format_exception(err))
        print(text, file=sys.stderr, end="")  # what Python would show the user
        result["exception"] = f"{type(err).__name__}: {_cut(str(err), 300)}"
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    result["exit_code"] = code
    conn.send(result)


# --------------------------------------------------------------------------------------
# parent side


def _start_zygote() -> None:
    """Start the forkserver with this folder importable (it preloads :mod:`fuzz_zygote`).

    The forkserver does not get the caller's ``sys.path`` before preloading, so the folder
    goes on ``PYTHONPATH`` for the moment it starts, then the variable is restored."""
    from multiprocessing import forkserver

    here = str(Path(__file__).resolve().parent)
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (here, saved) if p)
    try:
        forkserver.ensure_running()
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved


class Runner:
    """Runs cases in children of a warm zygote; one per test session or probe run."""

    def __init__(self, root: Path, fixtures: dict[str, Path] | None = None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.fixtures = dict(fixtures or {})
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["fuzz_zygote"])
        _start_zygote()
        self._count = 0

    def _prepare(self, case: Case) -> tuple[Path, list[str]]:
        self._count += 1
        folder = Path(tempfile.mkdtemp(prefix=f"case{self._count:05d}-", dir=self.root))
        (folder / "home").mkdir()
        for rel, content in case.files.items():
            path = folder / rel
            if content is None:
                path.mkdir(parents=True, exist_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
        (folder / case.cwd).mkdir(parents=True, exist_ok=True)
        subs = {"{dir}": str(folder)}
        for name, src in self.fixtures.items():
            key = "{" + name + "}"
            if any(key in a for a in case.argv):
                shutil.copytree(src, folder / name)
                subs[key] = str(folder / name)
        argv = []
        for arg in case.argv:
            for key, value in subs.items():
                arg = arg.replace(key, value)
            argv.append(arg)
        return folder, argv

    def make_fixture(self, name: str, case: Case, produced: str) -> Outcome:
        """Run ``case`` and keep the folder it made (``produced``, case-relative) as the
        fixture ``name`` (a copy of it replaces ``{name}`` in later cases' arguments)."""
        outcome = self.run(case, keep={produced: name})
        if name not in self.fixtures:
            raise RuntimeError(f"fixture {name} not made:\n{outcome.explain()}")
        return outcome

    def run(
        self, case: Case, seconds: float = CASE_SECONDS, keep: dict[str, str] | None = None
    ) -> Outcome:
        import psutil

        folder, argv = self._prepare(case)
        before = {rel: case.files.get(rel) for rel in case.sentinels}
        io_dir = Path(tempfile.mkdtemp(prefix="io-", dir=self.root))
        out_path, err_path = io_dir / "stdout", io_dir / "stderr"
        receive, send = self._ctx.Pipe(duplex=False)
        child = self._ctx.Process(
            target=child_main,
            args=(argv, str(folder), case.cwd, str(out_path), str(err_path), case.guard, send),
            daemon=True,
        )
        child.start()  # returns once forked (the first call waits for the zygote to warm)
        send.close()
        start = time.monotonic()
        result, base, peak, killed = None, None, 0, ""
        try:
            ps = psutil.Process(child.pid)
        except psutil.Error:
            ps = None
        while True:
            if result is None and receive.poll(_POLL_S):
                try:
                    result = receive.recv()
                except (EOFError, OSError):
                    result = {}
            if not child.is_alive():
                break
            if result is not None:
                child.join(5)  # finished: let it exit (non-daemon threads), then stop it
                break
            try:
                rss = ps.memory_info().rss if ps else 0
            except psutil.Error:
                rss = 0
            base = rss if base is None else base  # the zygote's size, shared at the fork
            peak = max(peak, rss)
            if rss - base > CASE_MIB * 2**20:
                killed = "memory"
                break
            if time.monotonic() - start > seconds:
                killed = "hang"
                break
        seconds_taken = time.monotonic() - start
        if child.is_alive():
            child.kill()
        child.join()
        if result is None and receive.poll(0.1):
            try:
                result = receive.recv()
            except (EOFError, OSError):
                result = None
        receive.close()
        peak_mib = max(0, peak - (base or peak)) / 2**20
        stdout = out_path.read_text(errors="replace") if out_path.exists() else ""
        stderr = err_path.read_text(errors="replace") if err_path.exists() else ""
        shutil.rmtree(io_dir, ignore_errors=True)
        lost = [rel for rel, content in before.items() if not _same(folder / rel, content)]
        for rel, name in (keep or {}).items():
            if (folder / rel).is_dir() and child.exitcode == 0:
                target = self.root / "fixtures" / name
                shutil.rmtree(target, ignore_errors=True)
                target.parent.mkdir(exist_ok=True)
                shutil.move(folder / rel, target)
                self.fixtures[name] = target
        shutil.rmtree(folder, ignore_errors=True)
        outcome = classify(case, result, stderr, killed, child.exitcode, lost)
        outcome.stdout_tail = stdout[-300:]
        outcome.seconds = seconds_taken
        outcome.peak_mib = peak_mib
        return outcome


def _same(path: Path, content: bytes | None) -> bool:
    if content is None:
        return path.is_dir()
    try:
        return path.read_bytes() == content
    except OSError:
        return False


def classify(case, result, stderr, killed, child_exit, lost) -> Outcome:
    """Sort one finished (or killed) case into one of :data:`CLASSES`."""
    code = None if result is None else result.get("exit_code")
    detail = ""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    if result and result.get("skipped"):
        detail = result["skipped"]
    if lost or (result and result.get("refused_rmtree")):
        klass = "data_lost"
        refused = (result or {}).get("refused_rmtree") or []
        detail = f"sentinels lost: {lost}; rmtree outside the case refused: {refused}"
    elif killed == "hang":
        klass, detail = "hang", f"killed after {CASE_SECONDS:g} s"
    elif killed == "memory" or (result and result.get("memory_error")):
        klass, detail = "memory", f"over {CASE_MIB} MiB (killed or MemoryError)"
    elif result is None or code is None:
        klass, detail = "crash", f"child died without a result (exit {child_exit})"
    elif (result.get("exception") or "Traceback (most recent call last)" in stderr) and code:
        klass, detail = "traceback", result.get("exception", "Traceback in stderr")
    elif code == 0:
        klass = "silent_nonsense" if case.must_reject else "exit0"
    elif code == 2:
        if len(lines) != 1 or not lines[0].startswith("error: "):
            klass = "multi_line_error"
            detail = f"{len(lines)} stderr lines"
        elif len(lines[0]) > MAX_ERROR_CHARS:
            klass, detail = "long_error", f"{len(lines[0])} characters"
        elif case.names and not any(n.lower() in lines[0].lower() for n in case.names):
            klass, detail = "unnamed_error", f"names none of {list(case.names)}"
        else:
            klass = "one_line_error"
    else:
        klass, detail = "other_exit", f"exit code {code}"
    return Outcome(case.kind, klass, code, stderr[-2000:], "", 0.0, 0.0, detail, case)


def summarise(outcomes: list[Outcome]) -> dict:
    """Counts per class: overall and per case kind (the probe's JSON)."""
    kinds: dict[str, dict] = {}
    for o in outcomes:
        counts = kinds.setdefault(o.kind, {"cases": 0, **dict.fromkeys(CLASSES, 0)})
        counts["cases"] += 1
        counts[o.klass] += 1
    total = {"cases": 0, **dict.fromkeys(CLASSES, 0)}
    for counts in kinds.values():
        for k, v in counts.items():
            total[k] += v
    return {"overall": total, "per_kind": kinds}


def dump(outcomes: list[Outcome], path: Path) -> None:
    Path(path).write_text(json.dumps([o.as_dict() for o in outcomes], indent=1))
