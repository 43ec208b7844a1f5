"""Image quality and capture guidance: sharpness, glare, exposure, framing, hint codes.

`assess(frame)` measures one image; `LiveAnalyzer.analyze(frame)` adds steadiness over
consecutive frames and the `auto_capture_ready` decision.  Live analysis works on a downscaled
copy (≤ 15 ms per 720p frame on this machine; bench/bench_checks.py measures it).  Hints are
codes (`Hint`), the UI translates them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np

from console.checks.card import CardDetection, find_document, rectify

logger = logging.getLogger(__name__)

SHARPNESS_SIZE = (640, 404)  # rectified ID-1 size used for the sharpness measure
SHARP_MIN = 25.0  # variance of Laplacian on SHARPNESS_SIZE; ≈ Gaussian blur σ 1.8 px at 720p
GLARE_MAX = 0.015  # fraction of the document area washed out by a highlight
GLARE_ZONE_MAX = 0.04  # inside the photo or MRZ zone
DARK_MAX = 0.28  # mean luminance (0..1) below which we ask for more light
BRIGHT_CLIP_MAX = 0.30  # fraction of clipped pixels (overexposure)
MIN_AREA = 0.18  # document area as a fraction of the frame: smaller -> move closer
MAX_AREA = 0.80
STEADY_MOTION = 0.01  # corner motion per frame, fraction of the frame diagonal (≈ 15 px at 720p)
STEADY_FRAMES = 6

# zones of a rectified ID-1/ID-3 document, fractions (x0, y0, x1, y1); photo is the CIE/passport
# front position, mrz the band where TD1/TD3 zones sit
ZONES = {"photo": (0.03, 0.17, 0.31, 0.75), "mrz": (0.03, 0.64, 0.97, 0.97)}


class Hint(StrEnum):
    NO_DOCUMENT = "no_document"
    MOVE_CLOSER = "move_closer"
    MOVE_AWAY = "move_away"
    CENTER_DOCUMENT = "center_document"
    HOLD_STILL = "hold_still"
    TILT_AWAY_FROM_LIGHT = "tilt_away_from_light"
    MORE_LIGHT = "more_light"
    LESS_LIGHT = "less_light"
    FOCUS = "focus"  # blurred but not moving: camera focus or dirty lens


@dataclass
class QualityReport:
    sharpness: float
    glare: float
    glare_zones: dict[str, float]
    exposure: float  # mean luminance 0..1
    clipped: float  # fraction of clipped (≥ 250) pixels
    card: CardDetection | None
    hints: list[Hint] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"sharpness": round(self.sharpness, 1), "glare": round(self.glare, 4),
                "glare_zones": {k: round(v, 4) for k, v in self.glare_zones.items()},
                "exposure": round(self.exposure, 3), "clipped": round(self.clipped, 4),
                "hints": [h.value for h in self.hints]}


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian after a light 3×3 smoothing that takes out sensor noise
    (higher is sharper)."""
    smooth = cv2.GaussianBlur(gray, (3, 3), 0)
    return float(cv2.Laplacian(smooth, cv2.CV_32F, ksize=1).var())


def glare_mask(bgr: np.ndarray) -> np.ndarray:
    """Washed-out highlight pixels: near-white, unsaturated, in blobs (not isolated pixels)."""
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    mask = ((hsv[..., 2] >= 250) & (hsv[..., 1] <= 35)).astype(np.uint8)
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))


def _zone_fraction(mask: np.ndarray, zone: tuple[float, float, float, float]) -> float:
    h, w = mask.shape
    x0, y0, x1, y1 = zone
    sub = mask[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w)]
    return float(sub.mean()) if sub.size else 0.0


def assess(frame: np.ndarray, card: CardDetection | None = None, *, detect: bool = True,
           work_width: int = 640) -> QualityReport:
    """Measure one image.  With a detected card the measures are taken on the rectified card."""
    h, w = frame.shape[:2]
    if card is None and detect:
        card = find_document(frame, work_width=work_width)
    if card is not None:
        flat = rectify(frame, card.corners, "ID1", SHARPNESS_SIZE)
        area = card.area_fraction
    else:
        scale = SHARPNESS_SIZE[0] / w
        flat = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        area = 0.0
    gray = cv2.cvtColor(flat, cv2.COLOR_BGR2GRAY)
    sharp = sharpness(gray)
    gmask = glare_mask(flat)
    glare = float(gmask.mean())
    zones = {name: _zone_fraction(gmask, z) for name, z in ZONES.items()}
    exposure = float(gray.mean()) / 255.0
    clipped = float((gray >= 250).mean())
    report = QualityReport(sharp, glare, zones, exposure, clipped, card)
    report.hints = _hints(report, area, (w, h))
    return report


def _hints(r: QualityReport, area: float, size: tuple[int, int]) -> list[Hint]:
    hints: list[Hint] = []
    if r.exposure < DARK_MAX:
        hints.append(Hint.MORE_LIGHT)
    elif r.clipped > BRIGHT_CLIP_MAX:
        hints.append(Hint.LESS_LIGHT)
    if r.card is None:
        hints.append(Hint.NO_DOCUMENT)
        return hints
    if area < MIN_AREA:
        hints.append(Hint.MOVE_CLOSER)
    elif area > MAX_AREA:
        hints.append(Hint.MOVE_AWAY)
    cx, cy = r.card.corners.mean(axis=0)
    if abs(cx / size[0] - 0.5) > 0.22 or abs(cy / size[1] - 0.5) > 0.22:
        hints.append(Hint.CENTER_DOCUMENT)
    if r.glare > GLARE_MAX or max(r.glare_zones.values(), default=0.0) > GLARE_ZONE_MAX:
        hints.append(Hint.TILT_AWAY_FROM_LIGHT)
    if r.sharpness < SHARP_MIN:
        hints.append(Hint.FOCUS)
    return hints


@dataclass
class LiveResult:
    report: QualityReport
    steady_frames: int
    motion: float  # corner motion since the previous frame, fraction of the frame diagonal
    auto_capture_ready: bool
    hints: list[Hint]
    elapsed_ms: float

    def to_json(self) -> dict[str, object]:
        out = self.report.to_json()
        out.update({"steady_frames": self.steady_frames, "motion": round(self.motion, 4),
                    "auto_capture_ready": self.auto_capture_ready,
                    "hints": [h.value for h in self.hints],
                    "card": None if self.report.card is None else self.report.card.to_json()})
        return out


class LiveAnalyzer:
    """Per-frame guidance for a live document presentation (not thread-safe: one per stream)."""

    def __init__(self, steady_frames: int = STEADY_FRAMES, work_width: int = 427) -> None:
        self.required = steady_frames
        self.work_width = work_width
        self._prev: np.ndarray | None = None
        self._steady = 0

    def reset(self) -> None:
        self._prev, self._steady = None, 0

    def analyze(self, frame: np.ndarray) -> LiveResult:
        t0 = time.perf_counter()
        h, w = frame.shape[:2]
        # integer decimation is nearly free; the detector blurs before looking at edges
        step = max(1, round(w / self.work_width))
        small = np.ascontiguousarray(frame[::step, ::step])
        scale = small.shape[1] / w
        det = find_document(small, work_width=small.shape[1], refine=False)
        card = None
        if det is not None:
            card = CardDetection(det.corners / scale, det.format, det.area_fraction, det.score)
        report = assess(frame, card, detect=False)
        motion = 1.0
        if card is not None:
            norm = card.corners / np.array([w, h], np.float32)
            if self._prev is not None:
                motion = float(np.abs(norm - self._prev).max()) / np.sqrt(2)
            self._prev = norm
        else:
            self._prev = None
        self._steady = self._steady + 1 if motion < STEADY_MOTION else 0
        hints = list(report.hints)
        if card is not None and self._steady < self.required and motion >= STEADY_MOTION:
            hints.insert(0, Hint.HOLD_STILL)
            if Hint.FOCUS in hints:
                hints.remove(Hint.FOCUS)  # blur from motion, not focus
        ready = (card is not None and self._steady >= self.required and not report.hints)
        return LiveResult(report, self._steady, motion, ready, hints,
                          (time.perf_counter() - t0) * 1000.0)
