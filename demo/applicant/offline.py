"""The synthetic applicant and presentation attacks rendered frame by frame, without a network:
for the liveness tests and ``bench.bench_attacks`` (DEMO/TEST code).

A *timeline* is what the person in front of the camera does: ``Action(start, end, gesture)``
in seconds. :func:`answer_timeline` is how the live synthetic applicant answers a plan's
challenges (a human reaction time, then the pose; two blinks). The renderers give BGR frames of
1280 × 720 (or the size asked) at any time ``t``:

* :class:`GenuineRenderer`: the scene with the pose the timeline says, a hand-held sway, a
  lighting (gain, gamma, colour) and sensor noise;
* :class:`PhotoAttack`: a printed photograph of the applicant's face (halftone, paper white,
  lower contrast) held still or shaken (moved, tilted, bent in perspective) in front of the
  camera;
* :class:`ReplayAttack`: a recorded genuine session (answering *another* plan) played back,
  either filmed off a screen (moiré, gamma, bezel, a slight perspective) or injected clean
  (a virtual camera);
* :class:`LoopAttack`: a few seconds of a recorded genuine session looped as the camera through a
  virtual camera renamed to look like a webcam;
* :class:`FaceSwapAttack`: the live head answers the challenges, but its face is replaced by a
  flat still of a face that follows the head's position and size (a 2-D face swap).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from demo.applicant import poses
from demo.applicant.scene import (
    CHALLENGE_GESTURES,
    SWAY_PX,
    Gesture,
    SceneRenderer,
    sway_at,
    sway_track,
)

U8 = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Action:
    start: float
    end: float
    gesture: Gesture


def answer_timeline(windows: Sequence[tuple[str, float, float]], rng: random.Random,
                    reaction: tuple[float, float] = (0.45, 0.9)) -> list[Action]:
    """How the synthetic applicant answers challenges ``(code, window_start, seconds)``: after a
    reaction time the pose is held for half the window (0.8–2 s); a blink is two 0.35 s
    closings 0.7 s apart (as demo.applicant.applicant does live)."""
    out: list[Action] = []
    for code, start, seconds in windows:
        g = CHALLENGE_GESTURES[code]
        t = start + rng.uniform(*reaction)
        if g is Gesture.BLINK:
            out += [Action(t, t + 0.35, g), Action(t + 0.7, t + 1.05, g)]
        else:
            out.append(Action(t, t + min(2.0, max(0.8, seconds * 0.5)), g))
    return out


def gesture_at(timeline: Sequence[Action], t: float) -> Gesture:
    for a in timeline:
        if a.start <= t < a.end:
            return a.gesture
    return Gesture.NONE


@dataclass(frozen=True)
class Lighting:
    gain: float = 1.0
    gamma: float = 1.0
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)  # B, G, R
    noise: float = 2.0  # sensor noise, grey levels (sigma)

    @classmethod
    def random(cls, rng: random.Random) -> Lighting:
        warm = rng.uniform(-0.12, 0.12)
        return cls(rng.uniform(0.6, 1.25), rng.uniform(0.75, 1.35),
                   (1.0 - warm, 1.0, 1.0 + warm), rng.uniform(1.0, 4.0))

    def apply(self, img: U8, rng: np.random.Generator) -> U8:
        lut = np.clip(255.0 * (np.arange(256) / 255.0) ** self.gamma * self.gain, 0, 255)
        out = cv2.LUT(img, lut.astype(np.uint8))
        if self.tint != (1.0, 1.0, 1.0):
            out = cv2.multiply(out, np.array([*self.tint, 0.0]), dtype=cv2.CV_8U)
        if self.noise > 0:
            out = cv2.add(out, _noise(out.shape, self.noise, int(rng.integers(_NOISE_BANK))),
                          dtype=cv2.CV_8U)
        return np.asarray(out, dtype=np.uint8)


_NOISE_BANK = 6


@lru_cache(maxsize=_NOISE_BANK * 4)
def _noise(shape: tuple[int, ...], sigma: float, k: int) -> npt.NDArray[np.int16]:
    """Sensor noise fields, made once (drawing 1280 × 720 normals costs ~20 ms a frame)."""
    field = np.random.default_rng(k).normal(0.0, sigma, shape[:2])
    return np.asarray(np.repeat(field[..., None], shape[2], axis=2), dtype=np.int16)


class _Poses:
    """The scene's BGR pictures, one per gesture, composed once."""

    def __init__(self, width: int, height: int) -> None:
        self.renderer = SceneRenderer(width, height)
        self._cache: dict[tuple[Gesture, float], U8] = {}

    def get(self, g: Gesture, amount: float = 1.0) -> U8:
        key = (g, round(amount, 2))
        img = self._cache.get(key)
        if img is None:
            img = self.renderer.posed_bgr(g, key[1])
            if len(self._cache) > 40:
                self._cache.clear()
            self._cache[key] = img
        return img


@lru_cache(maxsize=4)
def _poses(width: int, height: int) -> _Poses:
    return _Poses(width, height)


def _shift(img: U8, dx: float, dy: float, scale: float = 1.0) -> U8:
    h, w = img.shape[:2]
    m = np.array([[scale, 0, dx + (1 - scale) * w / 2], [0, scale, dy + (1 - scale) * h / 2]],
                 dtype=np.float32)
    return np.asarray(cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE),
                      dtype=np.uint8)


class GenuineRenderer:
    """The synthetic applicant live: pose from the timeline, sway, offset, lighting, noise."""

    def __init__(self, timeline: Sequence[Action], seed: int = 0, width: int = 1280,
                 height: int = 720, lighting: Lighting | None = None,
                 offset: tuple[float, float] = (0.0, 0.0), distance: float = 1.0,
                 amount: float = 1.0) -> None:
        self.timeline = list(timeline)
        self.amount = amount  # how far the head turns / comes closer (1.0: as the live peer)
        self.poses = _poses(width, height)
        self.lighting = lighting or Lighting()
        self.offset = offset
        self.distance = distance  # 1.0: as in the live scene; < 1 farther away
        self._rng = np.random.default_rng(seed)
        self._sway = sway_track(seed)

    def frame(self, t: float) -> U8:
        img = self.poses.get(gesture_at(self.timeline, t), self.amount)
        sway = sway_at(self._sway, t)
        dx = self.offset[0] + SWAY_PX[0] * sway[0]
        dy = self.offset[1] + SWAY_PX[1] * sway[1]
        return self.lighting.apply(_shift(img, dx, dy, self.distance), self._rng)




# --- attacks -----------------------------------------------------------------------------------

def _halftone(img: U8, period: int = 4) -> U8:
    """A print's look: a dot screen, paper white, less contrast."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    screen = (np.sin(2 * np.pi * xx / period) * np.sin(2 * np.pi * yy / period)).astype(np.float32)
    f = img.astype(np.float32) * 0.82 + 30.0 + 10.0 * screen[..., None]
    f[..., 0] *= 0.95  # warm paper
    return np.asarray(np.clip(f, 0, 255), dtype=np.uint8)


@lru_cache(maxsize=2)
def printed_photo(size: int = 360) -> U8:
    """The applicant's face (the portrait's head and shoulders) as a printed photograph."""
    from demo.applicant.scene import _astronaut_bgr

    crop = _astronaut_bgr()[20:300, 100:360]
    photo = cv2.resize(crop, (size * 260 // 280, size), interpolation=cv2.INTER_AREA)
    photo = _halftone(np.asarray(photo, dtype=np.uint8))
    return np.asarray(cv2.copyMakeBorder(photo, 12, 12, 12, 12, cv2.BORDER_CONSTANT,
                                         value=(235, 240, 245)), dtype=np.uint8)


class PhotoAttack:
    """A printed photo held in front of the camera: still (``shake=0``) or shaken: moved,
    turned about its vertical and horizontal axes (perspective), brought nearer."""

    def __init__(self, seed: int = 0, width: int = 1280, height: int = 720,
                 shake: float = 1.0, lighting: Lighting | None = None) -> None:
        self.width, self.height = width, height
        self.shake = shake
        self.lighting = lighting or Lighting()
        self._rng = np.random.default_rng(seed)
        r = random.Random(seed)
        self._freq = [r.uniform(0.3, 1.6) for _ in range(6)]
        self._phase = [r.uniform(0, 6.3) for _ in range(6)]
        self._size = r.randint(330, 420)
        self._bg = _poses(width, height).renderer._background()

    def frame(self, t: float) -> U8:
        photo = printed_photo(self._size)
        ph, pw = photo.shape[:2]
        s = [math.sin(2 * math.pi * f * t + p) * self.shake
             for f, p in zip(self._freq, self._phase, strict=True)]
        cx = self.width * 0.4 + 60 * s[0]
        cy = self.height * 0.45 + 40 * s[1]
        scale = 1.0 + 0.25 * s[2]
        yaw = 0.35 * s[3]  # the paper turned about its vertical axis (radians)
        pitch = 0.3 * s[4]
        roll = 0.15 * s[5]
        corners = np.array([[-pw / 2, -ph / 2], [pw / 2, -ph / 2], [pw / 2, ph / 2],
                            [-pw / 2, ph / 2]], dtype=np.float64) * scale
        f = 900.0
        pts3 = np.column_stack((corners, np.zeros(4)))
        rvec = np.array([pitch, yaw, roll], dtype=np.float64)
        rot, _ = cv2.Rodrigues(rvec)
        p = pts3 @ rot.T + np.array([0, 0, f])
        dst = np.column_stack((cx + f * p[:, 0] / p[:, 2], cy + f * p[:, 1] / p[:, 2]))
        src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], dtype=np.float32)
        m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
        out = self._bg.copy()
        cv2.warpPerspective(photo, m, (self.width, self.height), dst=out,
                            borderMode=cv2.BORDER_TRANSPARENT)
        return self.lighting.apply(out, self._rng)


class ReplayAttack:
    """A recorded genuine session (``source``: a renderer of it) played from ``start`` seconds
    into the recording: filmed off a screen (``screen=True``: moiré, gamma, bezel, perspective)
    or injected as is (a virtual camera)."""

    def __init__(self, source: GenuineRenderer, start: float = 0.0, screen: bool = True,
                 seed: int = 0) -> None:
        self.source = source
        self.start = start
        self.screen = screen
        self._rng = np.random.default_rng(seed)
        r = random.Random(seed)
        self._period = r.uniform(3.0, 6.0)
        self._angle = r.uniform(0.1, 0.6)
        self._gamma = r.uniform(0.7, 0.9)
        self._moire: U8 | None = None

    def frame(self, t: float) -> U8:
        img = self.source.frame(self.start + t)
        if not self.screen:
            return img
        h, w = img.shape[:2]
        if self._moire is None:
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            a = self._angle
            wave = np.sin(2 * np.pi * (xx * math.cos(a) + yy * math.sin(a)) / self._period)
            self._moire = np.asarray(np.clip(128 + 11 * wave, 0, 255), dtype=np.uint8)
        f = img.astype(np.float32) / 255.0
        f = np.power(f, self._gamma) * (self._moire[..., None].astype(np.float32) / 128.0)
        shown = np.asarray(np.clip(f * 230.0 + 12, 0, 255), dtype=np.uint8)
        # the screen inside the camera's view: smaller, a dark bezel, a slight perspective
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
        dst = np.array([[w * 0.06, h * 0.05], [w * 0.95, h * 0.08], [w * 0.94, h * 0.93],
                        [w * 0.07, h * 0.96]], dtype=np.float32)
        out = np.full_like(img, 25)
        cv2.warpPerspective(shown, cv2.getPerspectiveTransform(src, dst), (w, h), dst=out,
                            borderMode=cv2.BORDER_TRANSPARENT)
        noise = _noise(out.shape, 2.0, int(self._rng.integers(_NOISE_BANK)))
        return np.asarray(cv2.add(out, noise, dtype=cv2.CV_8U), dtype=np.uint8)


class LoopAttack:
    """A short recorded genuine session (``source``), ``length`` seconds from ``start``, looped
    as the camera and injected clean through a renamed virtual camera (its label looks like a
    webcam's): a 30 fps clip, so each loop shows the same frames."""

    def __init__(self, source: GenuineRenderer, start: float, length: float) -> None:
        self.source = source
        self.start = start
        self.length = length

    def frame(self, t: float) -> U8:
        clip_t = round(((t % self.length) + self.start) * 30.0) / 30.0
        return self.source.frame(clip_t)


class FaceSwapAttack:
    """The live synthetic head answers (``live``), but a flat still face is pasted over its face,
    following the head's position and size (found on each frame with the face detector)."""

    def __init__(self, live: GenuineRenderer,
                 locate: Callable[[U8], tuple[int, int, int, int] | None]) -> None:
        self.live = live
        self._locate = locate
        neutral = _poses(live.poses.renderer.width, live.poses.renderer.height)
        self._face = self._face_still(neutral.get(Gesture.NONE))
        self._ref = locate(self._face)
        self._last: tuple[int, int, int, int] | None = None

    @staticmethod
    def _face_still(scene: U8) -> U8:
        # another person's photo in a real attack; here the neutral face, recoloured and
        # flattened: what matters is that it is a still that does not turn or blink
        face = scene.copy()
        return np.asarray(cv2.convertScaleAbs(face, alpha=0.95, beta=8), dtype=np.uint8)

    def frame(self, t: float) -> U8:
        img = self.live.frame(t)
        box = self._locate(img) or self._last
        if box is None:
            return img
        self._last = box
        x0, y0, x1, y1 = box
        # the neutral face's own box in the neutral scene, scaled onto this one
        if self._ref is None:
            return img
        rx0, ry0, rx1, _ry1 = self._ref
        k = (x1 - x0) / max(1, rx1 - rx0)
        m = np.array([[k, 0, x0 - rx0 * k], [0, k, y0 - ry0 * k]], dtype=np.float32)
        h, w = img.shape[:2]
        pasted = cv2.warpAffine(self._face, m, (w, h))
        mask = np.zeros((h, w), np.float32)
        cx, cy = (x0 + x1) // 2, (y0 + y1) // 2 + (y1 - y0) // 12
        cv2.ellipse(mask, (cx, cy), (int((x1 - x0) * 0.55), int((y1 - y0) * 0.7)), 0, 0, 360,
                    1.0, -1)
        soft = cv2.GaussianBlur(mask, (0, 0), max(2.0, (x1 - x0) * 0.06))[..., None]
        out = img.astype(np.float32) * (1 - soft) + pasted.astype(np.float32) * soft
        return np.asarray(np.clip(out, 0, 255), dtype=np.uint8)


def render(source: Any, times: Sequence[float]) -> list[U8]:
    """Frames of any renderer above at these times."""
    return [source.frame(t) for t in times]


def plan_windows(plan: Any, t0: float = 0.0) -> list[tuple[str, float, float]]:
    """(code, absolute start, seconds) of a console.liveness.ChallengePlan started at t0."""
    return [(c.code, t0 + c.start_s, c.seconds) for c in plan.challenges]


def run_check(plan: Any, source: Any, fps: float = 10.0, t0: float = 0.0,
              on_frame: Callable[[float, U8], None] | None = None) -> Any:
    """Feed `source`'s frames at `fps` to a console.liveness.LivenessCheck of `plan`, announcing
    each challenge when due, until the plan is over; returns the check (``.result()``)."""
    from console.liveness import GRACE_S, LivenessCheck

    check = LivenessCheck(plan, analysis_fps=fps)
    check.start(t0)
    n = 0
    end = t0 + plan.duration_s + GRACE_S + 4.0  # room for late announcements
    while True:
        t = t0 + n / fps
        n += 1
        check.to_announce(t)
        img = source.frame(t)
        if on_frame is not None:
            on_frame(t, img)
        check.feed(img, t)
        if check.done(t) or t > end:
            return check


__all__ = [
    "Action",
    "FaceSwapAttack",
    "GenuineRenderer",
    "Lighting",
    "PhotoAttack",
    "ReplayAttack",
    "answer_timeline",
    "gesture_at",
    "plan_windows",
    "poses",
    "printed_photo",
    "render",
    "run_check",
]
