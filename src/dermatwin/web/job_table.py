"""The persistent job table of a web server: one SQLite file under the data folder.

A job is one piece of background work (``kind``: a trial run, a twin fit, a twin plan or a
small validation): its id (16 hex digits, the only part of a request that names a
folder), name, status, patients, progress (``chunks_done`` of ``chunks_total`` units:
trial chunks, sampler steps, regimens or trial runs) and last message. The table
outlives the server: at start-up a job left ``running`` by a server that died is marked
``interrupted`` (it can be resumed), and a ``queued`` one is queued again.

>>> import tempfile, pathlib
>>> table = JobTable(pathlib.Path(tempfile.mkdtemp()) / "jobs.sqlite")
>>> job = table.add("demo", patients=8, chunks=2)
>>> table.get(job).status, is_job_id(job), is_job_id("../etc")
('queued', True, False)
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

#: queued -> running -> done | failed | cancelled; running -> interrupted (server died)
STATUSES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
ACTIVE = ("queued", "running")
#: stopped runs whose staged chunks a resume continues
RESUMABLE = ("cancelled", "interrupted")
_ID = re.compile(r"[0-9a-f]{16}")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    patients INTEGER NOT NULL,
    chunks_total INTEGER NOT NULL,
    chunks_done INTEGER NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT 'trial'
)
"""
#: kinds of work a job does (:mod:`dermatwin.web.runner`, :mod:`dermatwin.web.tasks`)
KINDS = ("trial", "twin", "plan", "validation")
#: what a job's progress counts, by kind
UNITS = {"trial": "chunks", "twin": "sampler steps", "plan": "regimens", "validation": "runs"}
#: the page of a job, by kind
PAGES = {"trial": "/runs", "twin": "/twins", "plan": "/plans", "validation": "/validation"}


def new_job_id() -> str:
    """A fresh job id (random: 16 hex digits)."""
    return secrets.token_hex(8)


def is_job_id(text: str) -> bool:
    """Whether ``text`` is a job id (the check every route makes before any file access)."""
    return isinstance(text, str) and _ID.fullmatch(text) is not None


@dataclass(frozen=True)
class Job:
    id: str
    name: str
    status: str
    created: float  # Unix time, s
    started: float | None
    finished: float | None
    patients: int
    chunks_total: int
    chunks_done: int
    message: str
    kind: str = "trial"

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def resumable(self) -> bool:
        return self.status in RESUMABLE

    @property
    def units(self) -> str:
        return UNITS[self.kind]

    @property
    def url(self) -> str:
        return f"{PAGES[self.kind]}/{self.id}"

    @property
    def percent(self) -> int:
        """Chunks done, % of the run (0-100)."""
        if self.status == "done":
            return 100
        return min(100, 100 * self.chunks_done // max(self.chunks_total, 1))


class JobTable:
    """The jobs of one data folder (thread-safe: one connection behind a lock)."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
            if "kind" not in columns:  # a table written before jobs had kinds: all trials
                self._db.execute("ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'trial'")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _rows(self, sql: str, args: tuple = ()) -> list[Job]:
        with self._lock:
            return [Job(*row) for row in self._db.execute(sql, args).fetchall()]

    def _write(self, sql: str, args: tuple) -> int:
        with self._lock:
            return self._db.execute(sql, args).rowcount

    def add(
        self, name: str, *, patients: int, chunks: int, kind: str = "trial", job: str | None = None
    ) -> str:
        """Queue a job (``job``: its id, default a :func:`new_job_id`); its id."""
        assert kind in KINDS, kind
        job = job or new_job_id()
        self._write(
            "INSERT INTO jobs (id, name, status, created, patients, chunks_total, kind) "
            "VALUES (?, ?, 'queued', ?, ?, ?, ?)",
            (job, name, time.time(), patients, chunks, kind),
        )
        return job

    def get(self, job: str) -> Job | None:
        rows = self._rows("SELECT * FROM jobs WHERE id = ?", (job,))
        return rows[0] if rows else None

    def all(self, kind: str | None = None) -> list[Job]:
        if kind is None:
            return self._rows("SELECT * FROM jobs ORDER BY created DESC")
        return self._rows("SELECT * FROM jobs WHERE kind = ? ORDER BY created DESC", (kind,))

    def count(self, status: str) -> int:
        with self._lock:
            return self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE status = ?", (status,)
            ).fetchone()[0]

    def move(self, job: str, status: str, *, when: tuple[str, ...] = (), message=None) -> bool:
        """Set ``status`` (only from one of ``when``, if given); whether a row changed."""
        assert status in STATUSES, status
        sets, args = ["status = ?"], [status]
        if status == "running":
            sets.append("started = ?")
            args.append(time.time())
        if status not in ACTIVE:
            sets.append("finished = ?")
            args.append(time.time())
        if message is not None:
            sets.append("message = ?")
            args.append(message)
        where = "id = ?"
        args.append(job)
        if when:
            where += f" AND status IN ({', '.join('?' * len(when))})"
            args += list(when)
        return self._write(f"UPDATE jobs SET {', '.join(sets)} WHERE {where}", tuple(args)) == 1

    def progress(self, job: str, chunks_done: int) -> None:
        self._write("UPDATE jobs SET chunks_done = ? WHERE id = ?", (chunks_done, job))

    def recover(self) -> list[str]:
        """After a restart: running jobs become interrupted; the queued ones, to queue again."""
        self._write(
            "UPDATE jobs SET status = 'interrupted', finished = ?, "
            "message = 'the server stopped during the run; resume continues it' "
            "WHERE status = 'running'",
            (time.time(),),
        )
        queued = self._rows("SELECT * FROM jobs WHERE status = 'queued' ORDER BY created")
        return [j.id for j in queued]
