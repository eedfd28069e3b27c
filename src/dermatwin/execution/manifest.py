"""The chunk manifest of a streamed run: which chunks are complete, which failed.

A JSON-lines journal (``chunks.jsonl``): the first line identifies the run (spec hash,
seed, model hash, ...), every later line records one chunk, appended and fsynced only
after the chunk's files are in place. Appending one short line is atomic in practice
and a torn last line (a kill mid-write) is not valid JSON, so it is ignored: a chunk
counts as done only when its record is complete. Rewriting one JSON document per chunk
would cost O(chunks^2) bytes for a million patients.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dermatwin.execution.base import ExecutionError

MANIFEST_NAME = "chunks.jsonl"
#: header fields that must match for ``--resume`` (the most specific named first)
IDENTITY = ("format", "seed", "chunk_size", "model_hash", "spec_sha256")
FORMAT = 1


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
        if not entries or "header" not in entries[0]:
            raise ExecutionError(f"--resume: {path} is not a dermatwin chunk manifest")
        old = entries[0]["header"]
        new = {"format": FORMAT, **header}
        for key in IDENTITY:
            if old.get(key) != new.get(key):
                raise ExecutionError(
                    f"--resume: the interrupted run in {path.parent} has a different {key} "
                    f"({old.get(key)!r}, now {new.get(key)!r}); run without --resume to start over"
                )
        return cls(path, old, [e for e in entries[1:] if "chunk" in e])

    def _append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, separators=(",", ":"), allow_nan=False) + "\n"
        with open(self.path, "a") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def record(self, chunk: str, status: str, **info: Any) -> None:
        """Record ``chunk`` as ``done`` or ``failed`` (call after its files are written)."""
        entry = {"chunk": chunk, "status": status, **info}
        self._append(entry)
        self.records.append(entry)

    def latest(self) -> dict[str, dict]:
        """The last record of each chunk (a failed chunk that was redone counts as done)."""
        return {e["chunk"]: e for e in self.records}

    def done(self) -> dict[str, dict]:
        return {k: e for k, e in self.latest().items() if e["status"] == "done"}
