"""The Qt face of the session checks: ``controller.checks`` as signals.

The checks themselves (stills, faces, live hints, security features, the supervisor's second
look) are ``console.flows.checks.SessionChecks``, which runs no Qt; this bridge gives the
windows its events as signals and forwards everything else.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

from console.flows.checks import DOCUMENT_TARGETS, FACE_BLOCKER, SessionChecks

__all__ = ["DOCUMENT_TARGETS", "FACE_BLOCKER", "ChecksBridge"]

log = logging.getLogger(__name__)


class ChecksBridge(QObject):
    """The flow's ``SessionChecks`` with Qt signals (``controller.checks``); every other
    attribute and method is the checks' own."""

    still_checked = Signal(str, object)  # target, StillCheck
    still_check_failed = Signal(str, str)  # target, code
    face_checked = Signal(object)  # dict (decision, similarity, live_face_count...)
    findings_changed = Signal(object)  # list of finding codes
    blockers_changed = Signal(object)  # tuple of blocker codes
    live_hints = Signal(str, object, bool)  # target, list of hint codes, auto-capture ready
    auto_capture = Signal(str, str)  # step id, target: the window asks for the still
    features_changed = Signal(object)  # list of SecurityFeature
    feature_updated = Signal(str, object)  # feature id, {"verdict", "still"}
    supervisor_done = Signal(bool, str)  # confirmed, error code

    def __init__(self, checks: SessionChecks, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._checks = checks

    def forward(self, name: str, args: tuple[Any, ...]) -> None:
        if isinstance(getattr(type(self), name, None), Signal):
            try:
                getattr(self, name).emit(*args)
            except RuntimeError:
                log.debug("event %s after the bridge was deleted", name)
        else:
            log.debug("event %s has no signal", name)

    def __getattr__(self, name: str) -> Any:
        return getattr(object.__getattribute__(self, "_checks"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        checks = self.__dict__.get("_checks")
        if checks is not None and hasattr(checks, name) and not name.startswith("_"):
            setattr(checks, name, value)
        else:
            super().__setattr__(name, value)
