"""Head poses of the synthetic applicant's portrait, for the liveness challenges.

The portrait is flat, so a turn is rendered as a 2.5-D rotation: every pixel of the head gets a
depth (an ellipsoid plus the nose standing out of it) and moves by ``depth × sin(angle)``, so
the nose shifts across the face more than the eyes and the mouth do, as on a real head (a flat
picture moved or tilted cannot do that: console.liveness measures exactly this). Eyes closing
(a blink) paint the upper lids over the eyes. All in the portrait's own 512 × 512 pixels;
scene.py scales the result into the picture.
"""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]

# 68-point landmarks of scikit-image's astronaut portrait (dlib's model, measured once)
LANDMARKS: tuple[tuple[int, int], ...] = (
    (179, 104), (179, 116), (180, 128), (181, 139), (185, 151), (191, 160), (200, 169),
    (209, 176), (221, 178), (232, 177), (243, 171), (253, 164), (260, 154), (265, 144),
    (268, 132), (270, 121), (272, 109), (186, 94), (192, 88), (200, 87), (208, 89), (216, 92),
    (236, 94), (244, 91), (252, 91), (260, 92), (265, 98), (226, 102), (225, 111), (225, 119),
    (225, 127), (214, 131), (219, 133), (224, 134), (229, 133), (234, 132), (195, 101),
    (200, 98), (207, 98), (212, 104), (206, 104), (200, 104), (237, 105), (243, 100),
    (250, 100), (255, 104), (250, 106), (244, 106), (200, 139), (209, 139), (218, 139),
    (223, 141), (230, 140), (237, 140), (245, 141), (237, 151), (229, 155), (222, 155),
    (216, 154), (208, 149), (203, 140), (218, 143), (223, 144), (229, 143), (243, 142),
    (229, 150), (223, 150), (217, 149),
)
HEAD_CENTRE = (225.0, 122.0)
HEAD_AXES = (58.0, 80.0)  # half width, half height of the head ellipsoid
HEAD_DEPTH = 50.0
NOSE = (225.0, 121.0)
NOSE_HEIGHT = 26.0
NOSE_SIGMA = (8.0, 13.0)

YAW_DEG = 24.0
PITCH_DEG = 20.0


@lru_cache(maxsize=1)
def _depth() -> F32:
    yy, xx = np.mgrid[0:512, 0:512].astype(np.float32)
    cx, cy = HEAD_CENTRE
    a, b = HEAD_AXES
    r2 = ((xx - cx) / a) ** 2 + ((yy - cy) / b) ** 2
    z = HEAD_DEPTH * np.sqrt(np.clip(1.0 - r2, 0.0, 1.0))
    nx, ny = NOSE
    sx, sy = NOSE_SIGMA
    z += NOSE_HEIGHT * np.exp(-(((xx - nx) / sx) ** 2 + ((yy - ny) / sy) ** 2) / 2.0) * (r2 < 1)
    return z.astype(np.float32)


@lru_cache(maxsize=1)
def _head_mask() -> F32:
    mask = np.zeros((512, 512), np.float32)
    cx, cy = HEAD_CENTRE
    a, b = HEAD_AXES
    cv2.ellipse(mask, (int(cx), int(cy)), (int(a * 1.05), int(b * 1.02)), 0, 0, 360, 1.0, -1)
    return np.asarray(cv2.GaussianBlur(mask, (0, 0), 4.0), dtype=np.float32)


def rotate_head(portrait: U8, yaw_deg: float = 0.0, pitch_deg: float = 0.0) -> U8:
    """The portrait with the head turned: yaw > 0 is the person's left (the nose moves to the
    picture's right), pitch > 0 looks up (the nose moves up)."""
    z = _depth()
    yy, xx = np.mgrid[0:512, 0:512].astype(np.float32)
    cx, cy = HEAD_CENTRE
    sy_, cyaw = math.sin(math.radians(yaw_deg)), math.cos(math.radians(yaw_deg))
    sp, cp = math.sin(math.radians(pitch_deg)), math.cos(math.radians(pitch_deg))
    # forward: x' = cx + (x - cx) cos + z sin ; y' = cy + (y - cy) cos - z sin
    # inverse by fixed-point iteration (the depth is smooth)
    mx, my = xx.copy(), yy.copy()
    for _ in range(4):
        zs = cv2.remap(z, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        mx = cx + (xx - cx - zs * sy_) / cyaw
        my = cy + (yy - cy + zs * sp) / cp
    warped = cv2.remap(portrait, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    m = _head_mask()[..., None]
    out = portrait.astype(np.float32) * (1.0 - m) + warped.astype(np.float32) * m
    return np.asarray(np.clip(out, 0, 255), dtype=np.uint8)


def close_eyes(portrait: U8) -> U8:
    """The portrait with both eyes shut: the upper lids' skin over each eye and a lash line."""
    out = portrait.copy()
    pts = np.array(LANDMARKS, dtype=np.int32)
    for eye in (pts[36:42], pts[42:48]):
        x0, y0 = eye.min(axis=0)
        x1, y1 = eye.max(axis=0)
        # the skin between the eye and the brow gives the lid's colour
        band = portrait[max(0, y0 - 7) : max(1, y0 - 3), x0 : x1 + 1].reshape(-1, 3)
        colour = tuple(int(c) for c in np.median(band, axis=0))
        centre = (int((x0 + x1) / 2), int((y0 + y1) / 2))
        axes = (int((x1 - x0) / 2) + 3, int((y1 - y0) / 2) + 4)
        cv2.ellipse(out, centre, axes, 0, 0, 360, colour, -1, cv2.LINE_AA)
        # the lash line along the closed lid: a gentle downward curve
        cv2.ellipse(out, (centre[0], centre[1] + 1), (axes[0] - 2, 3), 0, 10, 170,
                    (40, 35, 40), 2, cv2.LINE_AA)
    region = (slice(80, 125), slice(180, 275))
    out[region] = cv2.GaussianBlur(out[region], (3, 3), 0.8)
    return out
