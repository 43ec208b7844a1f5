"""Hash-chained audit log (JSON lines): each entry carries the hash of the one before.

Entry: ``{"seq", "at", "offset_s", "event", "data", "prev", "hash"}`` where ``hash`` is the
SHA-256 of the canonical JSON of the entry without ``hash``; the first entry's ``prev`` is 64
zeros. Appends are flushed and fsynced, so after a crash the log holds every event up to it (a torn
last line is detected and dropped when the log is reopened).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

GENESIS = "0" * 64


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def entry_hash(entry: Mapping[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    line: int  # 1-based line number in the file
    detail: str


def check_chain(lines: Iterable[bytes]) -> tuple[list[dict[str, Any]], list[ChainProblem], str]:
    """Check a chain; returns (entries, problems, head hash)."""
    entries: list[dict[str, Any]] = []
    problems: list[ChainProblem] = []
    prev = GENESIS
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except (ValueError, RecursionError):  # bad JSON/UTF-8, 5000-digit numbers, [[[[…]]]]
            problems.append(ChainProblem(n, "not valid JSON"))
            prev = "?"
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("hash"), str):
            problems.append(ChainProblem(n, "not an audit entry"))
            prev = "?"
            continue
        if entry_hash(entry) != entry["hash"]:
            problems.append(ChainProblem(n, "entry altered (its hash does not match)"))
        if entry.get("prev") != prev and prev != "?":
            problems.append(ChainProblem(n, "chain broken (prev does not match the entry before)"))
        if entry.get("seq") != len(entries):
            problems.append(ChainProblem(n, f"sequence number {entry.get('seq')!r} out of order"))
        entries.append(entry)
        prev = entry["hash"]
    return entries, problems, prev if entries else GENESIS


class AuditLog:
    """Append-only, hash-chained, fsynced audit log. Thread-safe."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.entries: list[dict[str, Any]] = []
        self.head = GENESIS
        if self.path.exists():
            self._reopen()
        self._fh = open(self.path, "ab")  # noqa: SIM115 - kept open for appends

    def _reopen(self) -> None:
        data = self.path.read_bytes()
        lines = [raw for raw in data.split(b"\n") if raw.strip()]
        _, problems, _ = check_chain(lines)
        # keep the longest valid prefix (a crash may leave a torn last line)
        good = lines[: problems[0].line - 1] if problems else lines
        if problems:
            log.warning("audit log: %d line(s) unreadable after a crash; dropped",
                        len(lines) - len(good))
        self.entries, _, self.head = check_chain(good)
        clean = b"".join(line + b"\n" for line in good)
        if clean != data:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_bytes(clean)
            os.replace(tmp, self.path)

    def append(self, event: str, data: Mapping[str, Any] | None = None,
               offset_s: float | None = None, at: str | None = None) -> dict[str, Any]:
        with self._lock:
            entry: dict[str, Any] = {
                "seq": len(self.entries),
                "at": at or utc_now(),
                "offset_s": None if offset_s is None else round(float(offset_s), 3),
                "event": event,
                "data": dict(data or {}),
                "prev": self.head,
            }
            entry["hash"] = entry_hash(entry)
            self._fh.write(canonical(entry) + b"\n")
            self._fh.flush()
            with contextlib.suppress(OSError):
                os.fsync(self._fh.fileno())
            self.entries.append(entry)
            self.head = entry["hash"]
            return entry

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.close()
