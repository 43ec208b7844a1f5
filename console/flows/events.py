"""How a flow tells its host what happened: named events with positional arguments.

A flow calls ``self._emit(name, *args)``; every listener gets ``listener(name, args)``. The Qt
bridge (``ui.controller``) turns each name into the Qt signal of the same name; a headless
driver or a test collects them. Names and arguments are listed in each flow's module doc.
Codes, never sentences: the UI translates them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from console.errors import ConsoleError

log = logging.getLogger(__name__)

Listener = Callable[[str, tuple[Any, ...]], None]


class Emitter:
    """The listeners of one flow (added and removed from any thread)."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._listeners_lock = threading.Lock()

    def add_listener(self, listener: Listener) -> None:
        with self._listeners_lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        with self._listeners_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _emit(self, name: str, *args: Any) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(name, args)
            except Exception:
                log.exception("a listener failed on %s", name)


def error_code(exc: BaseException) -> str:
    """The code the UI translates for any exception (no message text is ever shown raw)."""
    if isinstance(exc, ConsoleError):
        return exc.code
    code = getattr(exc, "code", None)
    if isinstance(code, str):
        return code
    value = getattr(code, "value", None)
    if isinstance(value, str):
        return value
    if isinstance(exc, TimeoutError):
        return "timeout"
    return "internal_error"
