"""A local outbox: messages appended as JSON lines to a file in the data dir.

Stands in for the phone or the mailbox in development and demos (``serve --demo`` exposes it at
``/api/v1/dev/outbox/...``). It holds real codes, so it lives only in the service's data dir.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from server.files import make_private_dir, open_private

logger = logging.getLogger(__name__)


class JsonlOutbox:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            make_private_dir(self.path.parent)
            fd = open_private(self.path, os.O_RDWR | os.O_APPEND)  # codes: 0600
            with os.fdopen(fd, "a+b") as fh:
                # after a crash mid-line, start on a fresh line: the torn one stays unreadable
                if fh.tell() > 0:
                    fh.seek(-1, 2)
                    if fh.read(1) != b"\n":
                        fh.write(b"\n")
                fh.write(line.encode("utf-8"))

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
