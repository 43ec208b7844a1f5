"""Injection signals (ETSI TS 119 461 v2, CEN/TS 18099): does the applicant's video come from a
real camera, or is it injected (a virtual camera, a file played as a camera, a frozen picture)?

The applicant's page reports its camera (``camera`` message: label, settings, capabilities) and
the media engine measures what is cheap where frames arrive; ``InjectionMonitor`` combines them
into ``{"suspected": bool, "signals": [{"code", "detail"}]}``. Every signal is *one* indication,
never proof: the operator sees them, the session records them, and a suspected injection blocks
approval (blocker ``injection_suspected``) until the operator overrides it with a reason
(``Session.override_blocker``), which is recorded in the evidence.

Signals (a signal, once seen, stays for the rest of the session):

``virtual_camera_name``
    The camera's label matches a known virtual or fake camera (``VIRTUAL_CAMERAS``: Chromium's
    fake devices, OBS, ManyCam, v4l2loopback, XSplit, Snap Camera…; case-insensitive regular
    expressions). Limits: the label is under the applicant's control (a modified browser or a
    renamed driver reports whatever it likes), so its absence proves nothing; a legitimate tool
    (a phone used as a webcam, a background blur driver) may match. ``detail`` names the matched
    entry, never the raw label (a file-backed fake camera's label is a file path).
``camera_settings_changed``
    The *camera track's* settings (not the encoded stream, which the browser adapts to the
    network) changed during the call: resolution by more than ``RESOLUTION_TOLERANCE_PX`` or frame
    rate by more than ``FRAME_RATE_TOLERANCE`` from the first report, or the label changed (another
    camera). Swapping the source mid-call is how an injection is typically switched in. Limits:
    the page reports it (a modified page stays silent); a camera whose driver renegotiates by
    itself can raise it.
``frames_identical``
    The decoded picture stayed exactly the same (a digest of a downscaled luma plane, sampled a
    few times a second; uniform pictures such as the black frames of a camera turned off are
    not counted) for at least ``FRAMES_IDENTICAL_S``: a frozen still image played as a camera. A
    live camera's sensor noise changes the picture every frame. Limits: a replayed video does
    not freeze; a very low bitrate on a static scene could in theory.

Not measured here: frame timing regularity (arrival times at the console carry network jitter,
so a "too regular" capture clock cannot be told apart soundly from here). The challenge-response
latency of the active liveness challenges is measured by ``console.liveness`` (its result's
``latency_ms`` and signals ``response_too_fast`` / ``response_slow``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

#: the session blocker a suspected injection raises (see console.session.OVERRIDABLE_BLOCKERS)
BLOCKER = "injection_suspected"

#: a picture unchanged for this long is a frozen picture (live cameras change every frame)
FRAMES_IDENTICAL_S = 5.0
#: camera settings tolerances before a change counts (rounding of reported values)
RESOLUTION_TOLERANCE_PX = 2
FRAME_RATE_TOLERANCE = 1.0

#: known virtual and fake cameras: (name shown and recorded, pattern on the label). Matched with
#: ``re.search`` ignoring case; keep entries specific enough not to hit ordinary webcams such as
#: "Integrated Camera (04f2:b6d9)" or "HD Pro Webcam C920".
VIRTUAL_CAMERAS: tuple[tuple[str, str], ...] = (
    ("Chromium fake device", r"^fake_device_\d+$|\bfake[ _-]?(video|camera|device)\b"),
    # --use-file-for-fake-video-capture: the label is the file's path
    ("Chromium file-backed fake device",
     r"\.(y4m|mjpe?g)$|placeholder-for-file-backed-fake-capture-device"),
    ("OBS Virtual Camera", r"\bobs\b|obs[- ]?(virtual|cam)"),
    ("ManyCam", r"manycam"),
    ("v4l2loopback", r"dummy video device|v4l2[ _-]?loopback"),
    ("XSplit VCam", r"xsplit"),
    ("Snap Camera", r"snap camera"),
    ("SplitCam", r"splitcam"),
    ("e2eSoft VCam", r"e2esoft|\bvcam\b"),
    ("CamTwist", r"camtwist"),
    ("Unity Capture", r"unity video capture"),
    ("AlterCam", r"altercam"),
    ("YouCam", r"youcam"),
    ("NVIDIA Broadcast", r"nvidia broadcast"),
    # the demo's Chromium applicant draws the synthetic scene on a canvas (demo.canvas_camera)
    ("Recognition demo canvas camera", r"recognition demo synthetic camera"),
    ("virtual camera", r"\bvirtual\b"),
)
_PATTERNS = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in VIRTUAL_CAMERAS)


def virtual_camera(label: str) -> str | None:
    """The ``VIRTUAL_CAMERAS`` name the label matches, or None."""
    text = label.strip()
    if not text:
        return None
    for name, pattern in _PATTERNS:
        if pattern.search(text):
            return name
    return None


@dataclass(frozen=True)
class InjectionSignal:
    code: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail}


@dataclass(frozen=True)
class _Camera:
    label: str
    width: int | None
    height: int | None
    frame_rate: float | None


def _fmt(camera: _Camera) -> str:
    size = f"{camera.width or '?'}x{camera.height or '?'}"
    rate = "" if camera.frame_rate is None else f"@{camera.frame_rate:g}"
    return size + rate


class InjectionMonitor:
    """Combines the signals of one session (see the module docstring). Not thread-safe: feed
    it from one thread (the UI's). Each feeding method returns the new signals it raised."""

    def __init__(self) -> None:
        self._signals: dict[str, InjectionSignal] = {}
        self._first: _Camera | None = None
        self._override: dict[str, Any] | None = None

    # --- inputs ------------------------------------------------------------------------------
    def camera(self, label: str, width: int | None = None, height: int | None = None,
               frame_rate: float | None = None) -> list[InjectionSignal]:
        """The page's camera report (sent when the control channel opens and on a change)."""
        now = _Camera(label, width, height, frame_rate)
        new: list[InjectionSignal] = []
        name = virtual_camera(label)
        if name is not None:
            new += self._raise("virtual_camera_name", name)
        if self._first is None:
            self._first = now
            return new
        first, changes = self._first, []
        if label != first.label:
            changes.append("camera label changed")
        if (_differs(first.width, width, RESOLUTION_TOLERANCE_PX)
                or _differs(first.height, height, RESOLUTION_TOLERANCE_PX)
                or _differs(first.frame_rate, frame_rate, FRAME_RATE_TOLERANCE)):
            changes.append(f"{_fmt(first)} -> {_fmt(now)}")
        if changes:
            new += self._raise("camera_settings_changed", "; ".join(changes))
        return new

    def frames(self, identical_s: float) -> list[InjectionSignal]:
        """How long the sampled picture has been exactly the same (0 while it changes)."""
        if math.isfinite(identical_s) and identical_s >= FRAMES_IDENTICAL_S:
            return self._raise("frames_identical", f">= {FRAMES_IDENTICAL_S:g} s unchanged")
        return []

    def signal(self, code: str, detail: str) -> list[InjectionSignal]:
        """A signal found elsewhere (the liveness check's response latency:
        ``response_too_fast``, ``response_slow``)."""
        if not code:
            return []
        return self._raise(code, detail)

    def _raise(self, code: str, detail: str) -> list[InjectionSignal]:
        if code in self._signals:
            return []
        signal = InjectionSignal(code, detail)
        self._signals[code] = signal
        return [signal]

    # --- the result --------------------------------------------------------------------------
    @property
    def signals(self) -> tuple[InjectionSignal, ...]:
        return tuple(self._signals.values())

    @property
    def suspected(self) -> bool:
        return bool(self._signals)

    @property
    def blocking(self) -> bool:
        """Suspected, with a signal that no override covers (a new signal after an override
        blocks again)."""
        covered = set(self._override["signals"]) if self._override else set()
        return any(code not in covered for code in self._signals)

    def override(self, reason: str) -> dict[str, Any]:
        """The operator overrides the signals seen so far; ``reason`` must not be blank."""
        reason = reason.strip()
        if not reason:
            raise ValueError("an override needs a reason")
        self._override = {"reason": reason, "signals": list(self._signals)}
        return dict(self._override)

    def result(self) -> dict[str, Any]:
        """``{"suspected", "signals": [{"code", "detail"}], "override": {...} | None}``."""
        return {
            "suspected": self.suspected,
            "signals": [s.to_dict() for s in self._signals.values()],
            "override": dict(self._override) if self._override else None,
        }


def _differs(a: float | None, b: float | None, tolerance: float) -> bool:
    if a is None or b is None:
        return False
    return abs(a - b) > tolerance
