"""The chunk manifest of a streamed run: which chunks are complete, which failed.

A JSON-lines journal (``chunks.jsonl``): the first line identifies the run (spec hash,
seed, model hash, ...), every later line records one chunk, appended and fsynced only
after the chunk's files are in place. Appending one short line is atomic in practice
and a torn last line (a kill mid-write) is not valid JSON, so it is ignored: a chunk
counts as done only when its record is complete. Rewriting one JSON document per chunk
would cost O(chunks^2) bytes for a million patients.

Each record lists the files it vouches for (path relative to the run folder, SHA-256 and
size in bytes, :func:`file_entry`), so a resumed run can tell a file damaged after it
was recorded (a disk error, a copy cut short, a hand edit) and compute it again
(:meth:`ChunkManifest.damaged`) instead of failing on it. Lines that are not records
(garbage, a torn line, a record missing its fields) are skipped: that chunk is redone.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from dermatwin.execution.base import ExecutionError

MANIFEST_NAME = "chunks.jsonl"
#: header fields that must match for ``--resume`` (the most specific named first)
IDENTITY = ("format", "seed", "chunk_size", "model_hash", "spec_sha256")
#: 2: records carry the SHA-256 and size of their files
FORMAT = 2
STATUSES = ("done", "failed")
_READ_BYTES = 1 << 20


def file_entry(folder: Path, path: Path) -> tuple[str, dict[str, Any]]:
    """``path`` relative to ``folder`` (with ``/``) and its SHA-256 and size in bytes."""
    digest, size = _digest(Path(path))
    name = Path(path).resolve().relative_to(Path(folder).resolve()).as_posix()
    return name, {"sha256": digest, "bytes": size}


def _digest(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size of a file, read in 1 MiB blocks (memory stays bounded)."""
    sha, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while block := fh.read(_READ_BYTES):
            sha.update(block)
            size += len(block)
    return sha.hexdigest(), size


def _is_record(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("chunk"), str)
        and entry.get("status") in STATUSES
    )


class ChunkManifest:
    """Open with :meth:`create` (new run) or :meth:`resume` (continue an interrupted one)."""

    def __init__(self, path: Path, header: dict, records: list[dict]) -> None:
        self.path = Path(path)
        self.header = header
        self.records = records

    @classmethod
    def create(cls, folder: Path, header: dict) -> ChunkManifest:
        path = Path(folder) / MANIFEST_NAME
        header = {"format": FORMAT, **header}
        manifest = cls(path, header, [])
        path.write_text("")
        manifest._append({"header": header})
        return manifest

    @classmethod
    def resume(cls, folder: Path, header: dict) -> ChunkManifest:
        path = Path(folder) / MANIFEST_NAME
        content = path.read_bytes() if path.exists() else b""
        whole = content.rfind(b"\n") + 1
        if whole < len(content):  # drop a torn last record so new ones start on a new line
            with open(path, "r+b") as fh:
                fh.truncate(whole)
        lines = content[:whole].decode(errors="replace").splitlines()
        entries = []
        for line in lines:
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a record torn by a kill: that chunk is not done
        if not entries or not isinstance(entries[0], dict) or "header" not in entries[0]:
            raise ExecutionError(
                f"resume: {path} is not a dermatwin chunk manifest (damaged?); start over "
                "without resuming",
                parameter="resume",
            )
        old = entries[0]["header"]
        if not isinstance(old, dict):
            raise ExecutionError(
                f"resume: the header of {path} is damaged; start over without resuming",
                parameter="resume",
            )
        new = {"format": FORMAT, **header}
        for key in IDENTITY:
            if old.get(key) != new.get(key):
                raise ExecutionError(
                    f"resume: the interrupted run in {path.parent} has a different {key} "
                    f"({old.get(key)!r}, now {new.get(key)!r}); start over without resuming",
                    parameter="resume",
                )
        return cls(path, old, [e for e in entries[1:] if _is_record(e)])

    def _append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, separators=(",", ":"), allow_nan=False) + "\n"
        with open(self.path, "a") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def record(
        self, chunk: str, status: str, files: list[Path] | tuple[Path, ...] = (), **info: Any
    ) -> None:
        """Record ``chunk`` as ``done`` or ``failed`` (call after its ``files`` are written:
        their checksums are taken now)."""
        entry = {"chunk": chunk, "status": status, **info}
        if files:
            entry["files"] = dict(file_entry(self.path.parent, f) for f in files)
        self._append(entry)
        self.records.append(entry)

    def latest(self) -> dict[str, dict]:
        """The last record of each chunk (a failed chunk that was redone counts as done)."""
        return {e["chunk"]: e for e in self.records}

    def done(self) -> dict[str, dict]:
        return {k: e for k, e in self.latest().items() if e["status"] == "done"}

    def damaged(self, entry: dict) -> str | None:
        """Why a file of a recorded chunk can no longer be trusted (``"endpoints/arm=a/
        chunk-00001.parquet corrupt (checksum mismatch)"``), or None when every file is intact."""
        files = entry.get("files")
        if not isinstance(files, dict):
            return "its record lists no file checksums"
        root = self.path.parent.resolve()
        for name, want in files.items():
            path = self.path.parent / name
            if not isinstance(want, dict) or not path.resolve().is_relative_to(root):
                return f"{name} damaged record"
            if not path.is_file():
                return f"{name} missing"
            if path.stat().st_size != want.get("bytes"):
                return f"{name} corrupt (size mismatch)"
            if _digest(path)[0] != want.get("sha256"):
                return f"{name} corrupt (checksum mismatch)"
        return None
