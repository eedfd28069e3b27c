"""The persistent job table of a web server: one SQLite file under the data folder.

A job is one submitted trial: its id (16 hex digits, the only part of a request that
names a folder), name, status, patients, chunk progress and last message. The table
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
    message TEXT NOT NULL DEFAULT ''
)
"""


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

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def resumable(self) -> bool:
        return self.status in RESUMABLE

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

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _rows(self, sql: str, args: tuple = ()) -> list[Job]:
        with self._lock:
            return [Job(*row) for row in self._db.execute(sql, args).fetchall()]

    def _write(self, sql: str, args: tuple) -> int:
        with self._lock:
            return self._db.execute(sql, args).rowcount

    def add(self, name: str, *, patients: int, chunks: int) -> str:
        job = secrets.token_hex(8)
        self._write(
            "INSERT INTO jobs (id, name, status, created, patients, chunks_total) "
            "VALUES (?, ?, 'queued', ?, ?, ?)",
            (job, name, time.time(), patients, chunks),
        )
        return job

    def get(self, job: str) -> Job | None:
        rows = self._rows("SELECT * FROM jobs WHERE id = ?", (job,))
        return rows[0] if rows else None

    def all(self) -> list[Job]:
        return self._rows("SELECT * FROM jobs ORDER BY created DESC")

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
