"""A local outbox: messages appended as JSON lines to a file in the data dir.

Stands in for the phone or the mailbox in development and demos (``serve --demo`` exposes it at
``/api/v1/dev/outbox/...``). It holds real codes, so it lives only in the service's data dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from server.files import make_private_dir, open_private, write_all

logger = logging.getLogger(__name__)


class JsonlOutbox:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        """Append one line and fsync it. All or nothing: when the disk refuses part of it
        (full, read-only) the file is cut back to what it was and the OSError raised, so a
        message is reported sent only once it is whole on disk."""
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            make_private_dir(self.path.parent)
            fd = open_private(self.path, os.O_RDWR | os.O_APPEND)  # codes: 0600
            try:
                size = os.fstat(fd).st_size
                # after a crash mid-line, start on a fresh line: the torn one stays unreadable
                if size > 0 and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line
                try:
                    write_all(fd, line)
                    os.fsync(fd)
                except OSError:
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, size)
                    raise
            finally:
                os.close(fd)

    async def append_async(self, record: dict[str, Any]) -> None:
        await asyncio.to_thread(self.append, record)

    def read(self, key: str | None = None, value: str | None = None,
             limit: int = 200) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out: list[dict[str, Any]] = []
        with self._lock, self.path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue  # a torn line after a crash: skip it, keep the rest
                if not isinstance(rec, dict):
                    continue
                if key is not None and value is not None and rec.get(key) != value:
                    continue
                out.append(rec)
        return out[-limit:]
