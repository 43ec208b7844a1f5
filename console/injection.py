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

``frames_repeating``
    Moving pictures came back from earlier in the call, frame sequence after frame sequence at
    one fixed lag, for at least ``REPEAT_S``: a clip looped as the camera
    (``media.frame_signals.RepeatDetector``: 32×18 luma thumbnails four times a second, a match
    must be far closer than the movement between samples). A live scene never replays itself.
    Limits: a clip longer than the call, or played once, does not repeat; a still scene gives no
    movement to match, which ``frames_identical`` covers when it is a frozen picture.
``frame_clock_exact`` (weak)
    The RTP timestamps of at least ``EXACT_CLOCK_FRAMES`` consecutive frames lie on one exact
    grid (the same interval to the 90 kHz tick): the frames were stamped by a synthetic clock,
    as a custom WebRTC client pushing a file's or a generator's timestamps does. Browsers stamp
    frames from the capture time in whole milliseconds, so a browser camera at 30 fps
    alternates 33 and 34 ms and never raises it. Limits: a browser camera at a frame rate that
    divides 1000 ms exactly (25, 20, 10 fps) with a steady clock gives an exact grid too, hence
    weak; a sender can add jitter on purpose.
``sensor_noise_absent`` (weak)
    None of at least ``NOISE_STILLS`` stills of the applicant's camera shows sensor noise: the
    noise estimated on the smooth parts of the picture (``sensor_noise``, Immerkær's Laplacian
    estimate with edges left out) stays under ``NOISE_FLOOR`` grey levels on every one: a
    rendered picture (a canvas, a synthetic or swapped face drawn clean) rather than a camera's.
    Limits: a camera with strong noise reduction in good light, or heavy compression, gives
    clean pictures too, hence weak; an attacker can add noise.

How they combine: a strong signal (every one but those marked weak) makes the session suspected
on its own; weak signals only when two of them are seen. Each signal carries ``weight``.

The challenge-response latency of the active liveness challenges is measured by
``console.liveness`` (its result's ``latency_ms`` and signals ``response_too_fast`` /
``response_slow``) and raised here through ``signal``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

#: the session blocker a suspected injection raises (see console.session.OVERRIDABLE_BLOCKERS)
BLOCKER = "injection_suspected"

#: a picture unchanged for this long is a frozen picture (live cameras change every frame)
FRAMES_IDENTICAL_S = 5.0
#: moving pictures repeating at one lag for this long are a looped clip
REPEAT_S = 4.0
#: this many consecutive frames on an exact timestamp grid (5 s at 30 fps): a synthetic clock
EXACT_CLOCK_FRAMES = 150
#: sensor noise (grey levels, standard deviation) under which a still is "clean", and how many
#: stills must all be clean before the signal is raised
NOISE_FLOOR = 0.2
NOISE_STILLS = 2
#: signals that raise a suspicion only together with another weak one
WEAK_SIGNALS = frozenset({"frame_clock_exact", "sensor_noise_absent"})
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

    @property
    def weak(self) -> bool:
        return self.code in WEAK_SIGNALS

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail,
                "weight": "weak" if self.weak else "strong"}


def _suspects(codes: Iterable[str]) -> bool:
    """One strong signal, or two weak ones."""
    weak = 0
    for code in codes:
        if code not in WEAK_SIGNALS:
            return True
        weak += 1
    return weak >= 2


def sensor_noise(image: np.ndarray) -> float:
    """Standard deviation (grey levels) of the noise in a picture (BGR or grey), estimated on
    its smooth parts: the image convolved with Immerkær's Laplacian-difference kernel (which
    cancels smooth shading), averaged in absolute value where the Sobel gradient is in the
    lowest half (edges and texture left out), scaled by sqrt(pi/2)/6. Measured on the demo's
    1920×1080 scene: drawn clean 0.03 (0.04 after the page's JPEG q95); with a sensor noise of
    σ 1 / 2 / 4 grey levels 0.37 / 1.2 / 4.1 after JPEG q95; photographs (scikit-image's
    512×512 "astronaut" and "camera") 1.1 and 0.84."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    gray = image.astype(np.float32)
    if gray.shape[0] < 8 or gray.shape[1] < 8:
        raise ValueError("picture too small for a noise estimate")
    response = np.abs(cv2.filter2D(gray, -1, _NOISE_KERNEL))[1:-1, 1:-1]
    gradient = (np.abs(cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3))
                + np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)))[1:-1, 1:-1]
    smooth = gradient <= np.median(gradient)
    if not smooth.any():
        return 0.0
    return float(math.sqrt(math.pi / 2.0) * response[smooth].mean() / 6.0)


_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


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
        self._noise: list[float] = []

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

    def frames(self, identical_s: float, exact_clock_frames: int = 0, repeat_s: float = 0.0,
               repeat_lag_s: float = 0.0) -> list[InjectionSignal]:
        """The media engine's frame checks (``media.api.FrameCheck``): how long the sampled
        picture has been exactly the same (0 while it changes), the run of frames on an exact
        timestamp grid, the longest stretch of pictures repeated and at what lag."""
        new: list[InjectionSignal] = []
        if math.isfinite(identical_s) and identical_s >= FRAMES_IDENTICAL_S:
            new += self._raise("frames_identical", f">= {FRAMES_IDENTICAL_S:g} s unchanged")
        if math.isfinite(repeat_s) and repeat_s >= REPEAT_S:
            lag = repeat_lag_s if math.isfinite(repeat_lag_s) else 0.0
            new += self._raise("frames_repeating",
                               f"{repeat_s:.1f} s of moving pictures repeated {lag:.1f} s later")
        if exact_clock_frames >= EXACT_CLOCK_FRAMES:
            new += self._raise("frame_clock_exact",
                               f">= {EXACT_CLOCK_FRAMES} frames on an exact timestamp grid")
        return new

    def still_noise(self, sigma: float) -> list[InjectionSignal]:
        """The sensor noise estimated on one still of the applicant's camera
        (``sensor_noise``)."""
        if not math.isfinite(sigma) or sigma < 0:
            return []
        self._noise.append(sigma)
        if len(self._noise) >= NOISE_STILLS and max(self._noise) < NOISE_FLOOR:
            return self._raise(
                "sensor_noise_absent",
                f"noise < {NOISE_FLOOR:g} grey levels on {len(self._noise)} stills")
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
        """One strong signal or two weak ones (see the module docstring)."""
        return _suspects(self._signals)

    @property
    def blocking(self) -> bool:
        """Suspected, with a signal that counts towards it and that no override covers (a new
        signal after an override blocks again)."""
        if not self.suspected:
            return False
        covered = set(self._override["signals"]) if self._override else set()
        weak = sum(code in WEAK_SIGNALS for code in self._signals)
        return any(code not in covered and (code not in WEAK_SIGNALS or weak >= 2)
                   for code in self._signals)

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
