"""The Qt bridge over the remote flow: the one place the windows' buttons and the autopilot call.

The rules are in ``console.flows.remote.RemoteFlow`` (no Qt). This bridge owns one flow, runs it
on the GUI thread's runner (``ui.tasks.QtRunner``: blocking work on the worker pool, outcomes
back on the GUI thread), turns each of its events into the Qt signal of the same name, and
forwards every other attribute and method to the flow. The only translation it does is for
the checklist: ``steps_changed`` carries ``ui.widgets.checklist.StepView`` (titles in the
interface's language) built from the flow's ``StepInfo``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from console.flows import adapters as integration
from console.flows.events import error_code
from console.flows.remote import CallStats, RemoteFlow
from ui.checks import ChecksBridge
from ui.tasks import QtRunner

__all__ = ["CallStats", "ConsoleController", "error_code", "step_views"]

log = logging.getLogger(__name__)

#: attributes a test or a driver may set: they are the flow's
_FLOW_ATTRIBUTES = frozenset({
    "session", "assignment", "client", "operator", "call_state", "engine", "otp_verified",
    "last_otp_heard", "stats", "injection", "audio", "evidence_path", "outage_since",
})


def step_views(workflow: integration.Workflow) -> list[Any]:
    """The checklist's views of a workflow's steps, with titles in the interface's language."""
    from ui.script_labels import random_action_label, step_title
    from ui.widgets.checklist import StepView

    return [StepView(id=info.id, title=f"{info.id}. {step_title(info.code)}",
                     required=info.required, status=info.status, at=info.at,
                     targets=info.targets, otp=info.otp,
                     detail=" · ".join(random_action_label(c) for c in info.random_actions))
            for info in workflow.steps()]


class ConsoleController(QObject):
    """A ``RemoteFlow`` with Qt signals (see ``console.flows.remote`` for what each means)."""

    signed_in = Signal(object)  # Operator
    sign_in_failed = Signal(str, object)  # code, locked_until | None
    queue_updated = Signal(object)  # QueueSnapshot
    queue_failed = Signal(str)
    assignment_ready = Signal(object)  # Assignment
    take_next_failed = Signal(str)
    call_state_changed = Signal(str)  # connecting | connected | lost | ended | failed:<code>
    link_changed = Signal(str, float)  # phase, since
    quality_changed = Signal(str, object)  # level, details
    injection_changed = Signal(object)  # {"suspected", "signals", "override"}
    utterance_heard = Signal(str)
    engine_error = Signal(str)
    frame_ready = Signal()  # a new applicant frame is in the engine's latest-frame slot
    engine_event = Signal(str, object)
    steps_changed = Signal(object)  # list of StepView
    step_refused = Signal(str, str)  # step id, code
    still_ready = Signal(str, str, object)  # step id, target, Still
    still_failed = Signal(str, str, str)  # step id, target, code
    otp_sent = Signal(int)
    otp_result = Signal(bool, int, bool)
    otp_failed = Signal(str)
    decision_done = Signal(str)
    decision_queued = Signal()
    decision_failed = Signal(str, list)
    evidence_ready = Signal(str)
    session_closed = Signal()
    auth_lost = Signal()
    liveness_changed = Signal(object)  # {"state", "challenge", "index", "count", "result"}

    def __init__(
        self,
        settings: integration.SettingsStore,
        *,
        engine_factory: Callable[..., Any] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        runner = QtRunner(self)

        def audio() -> Any:
            from ui.audio import AudioPlayer

            return AudioPlayer(settings.get("speaker") or "", self)

        flow = RemoteFlow(settings, runner, engine_factory=engine_factory, audio_factory=audio)
        self._flow = flow
        self.checks = ChecksBridge(flow.checks, self)
        flow.add_listener(self._on_flow_event)

    @property
    def flow(self) -> RemoteFlow:
        return self._flow

    def _on_flow_event(self, name: str, args: tuple[Any, ...]) -> None:
        """The flow's events as signals (the owner thread is the GUI thread, except for
        ``frame_ready``, whose signal Qt queues to the GUI thread)."""
        if name == "steps_changed":
            args = (step_views(self._flow.session),) if self._flow.session is not None else ([],)
        signal = getattr(type(self), name, None)
        if isinstance(signal, Signal):
            try:
                getattr(self, name).emit(*args)
            except RuntimeError:  # the bridge is being deleted (shutdown)
                log.debug("event %s after the bridge was deleted", name)
            return
        self.checks.forward(name, args)

    def __getattr__(self, name: str) -> Any:
        flow = self.__dict__.get("_flow") or object.__getattribute__(self, "_flow")
        return getattr(flow, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FLOW_ATTRIBUTES:
            setattr(self._flow, name, value)
        else:
            super().__setattr__(name, value)
