"""Finding an ID-1 card or an ID-3 passport page in a photo, and warping it flat.

The search runs on a downscaled copy (`work_width` px wide): edges (Canny) closed into
regions, the outer contour of each candidate reduced to a quadrilateral, then each side refined
by a line fit so rounded card corners give the virtual sharp corners.  Corners come back in the
input image's coordinates, ordered TL, TR, BR, BL with the long side horizontal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

logger = logging.getLogger(__name__)

DocFormat = Literal["ID1", "ID3"]
RECTIFIED_SIZE: dict[str, tuple[int, int]] = {"ID1": (1012, 638), "ID3": (1476, 1039)}
ASPECT = {"ID1": 85.60 / 53.98, "ID3": 125.0 / 88.0}


@dataclass
class CardDetection:
    corners: np.ndarray  # float32 (4, 2), TL TR BR BL, input image coordinates
    format: DocFormat
    area_fraction: float  # of the image
    score: float  # 0..1, how rectangular/plausible

    def to_json(self) -> list[list[float]]:
        return [[round(float(x), 1), round(float(y), 1)] for x, y in self.corners]


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Order 4 points TL, TR, BR, BL (clockwise from the top-left), long side horizontal."""
    pts = np.asarray(pts, np.float32).reshape(4, 2)
    c = pts.mean(axis=0)
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    pts = pts[np.argsort(ang)]  # clockwise in image coordinates (y down), starting near -pi
    # start at the point with the smallest x+y
    start = int(np.argmin(pts.sum(axis=1)))
    pts = np.roll(pts, -start, axis=0)
    top = np.linalg.norm(pts[1] - pts[0]) + np.linalg.norm(pts[2] - pts[3])
    side = np.linalg.norm(pts[3] - pts[0]) + np.linalg.norm(pts[2] - pts[1])
    if side > top:  # portrait: rotate so the long side is the top
        pts = np.roll(pts, -1, axis=0) if pts[0, 1] < pts[1, 1] else np.roll(pts, 1, axis=0)
    return pts


def _line_intersection(l1: np.ndarray, l2: np.ndarray) -> np.ndarray | None:
    (vx1, vy1, x1, y1), (vx2, vy2, x2, y2) = l1, l2
    den = vx1 * vy2 - vy1 * vx2
    if abs(den) < 1e-6:
        return None
    t = ((x2 - x1) * vy2 - (y2 - y1) * vx2) / den
    return np.array([x1 + t * vx1, y1 + t * vy1], np.float32)


def _refine_by_lines(contour: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """Fit a line to the contour points along each side (ends excluded); intersect them."""
    pts = contour.reshape(-1, 2).astype(np.float32)
    lines = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        ab = b - a
        length = float(np.linalg.norm(ab))
        if length < 4:
            return quad
        u = ab / length
        rel = pts - a
        t = rel @ u
        dist = np.abs(rel[:, 0] * u[1] - rel[:, 1] * u[0])
        sel = (t > 0.12 * length) & (t < 0.88 * length) & (dist < max(3.0, 0.03 * length))
        if int(sel.sum()) < 5:
            return quad
        lines.append(cv2.fitLine(pts[sel], cv2.DIST_HUBER, 0, 0.01, 0.01).reshape(4))
    out = []
    for i in range(4):
        p = _line_intersection(lines[i - 1], lines[i])
        if p is None:
            return quad
        out.append(p)
    refined = np.array(out, np.float32)
    if np.abs(refined - quad).max() > 0.15 * float(np.linalg.norm(quad[1] - quad[0])):
        return quad
    return refined


def _quad_from_contour(contour: np.ndarray) -> np.ndarray | None:
    hull = cv2.convexHull(contour)
    peri = cv2.arcLength(hull, True)
    for eps in (0.02, 0.03, 0.045, 0.06):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32)
    return None


def estimate_aspect(corners: np.ndarray, image_size: tuple[int, int]) -> float:
    """True width/height of the rectangle seen as `corners` (TL, TR, BR, BL) under perspective.

    Zhang & He's rectangle method: the focal length comes from the quad itself when it is
    well conditioned, else a typical webcam focal length (the image width) is assumed.
    """
    w, h = image_size
    u0, v0 = w / 2.0, h / 2.0
    tl, tr, br, bl = (np.array([p[0], p[1], 1.0]) for p in np.asarray(corners, np.float64))
    m1, m2, m3, m4 = tl, tr, bl, br
    d2 = float(np.dot(np.cross(m2, m4), m3))
    d3 = float(np.dot(np.cross(m3, m4), m2))
    if abs(d2) < 1e-9 or abs(d3) < 1e-9:
        return 0.0
    k2 = float(np.dot(np.cross(m1, m4), m3)) / d2
    k3 = float(np.dot(np.cross(m1, m4), m2)) / d3
    n2, n3 = k2 * m2 - m1, k3 * m3 - m1
    f2 = None
    if abs(n2[2] * n3[2]) > 1e-9:
        num = (n2[0] * n3[0] - (n2[0] * n3[2] + n2[2] * n3[0]) * u0 + n2[2] * n3[2] * u0 ** 2
               + n2[1] * n3[1] - (n2[1] * n3[2] + n2[2] * n3[1]) * v0 + n2[2] * n3[2] * v0 ** 2)
        cand = -num / (n2[2] * n3[2])
        if (0.5 * w) ** 2 < cand < (3.0 * w) ** 2:
            f2 = cand
    f = float(np.sqrt(f2)) if f2 is not None else float(w)
    a_inv = np.array([[1 / f, 0, -u0 / f], [0, 1 / f, -v0 / f], [0, 0, 1.0]])
    g2, g3 = a_inv @ n2, a_inv @ n3
    den = float(g3 @ g3)
    return float(np.sqrt((g2 @ g2) / den)) if den > 0 else 0.0


def _plausibility(quad: np.ndarray, img_area: float,
                  image_size: tuple[int, int] | None = None) -> tuple[float, DocFormat, float]:
    q = order_corners(quad)
    area = float(cv2.contourArea(q))
    frac = area / img_area
    top, bottom = np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3])
    left, right = np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1])
    if min(top, bottom, left, right) < 10:
        return 0.0, "ID1", frac
    aspect = float((top + bottom) / (left + right))
    true_aspect = estimate_aspect(q, image_size) if image_size else 0.0
    if 1.2 < true_aspect < 2.0:
        fmt: DocFormat = "ID1" if true_aspect > 1.5 else "ID3"
    else:
        fmt = "ID1" if aspect > 1.5 else "ID3"
    # perspective can stretch the ratio; stay within a generous band around both formats
    if not 1.15 < aspect < 2.1:
        return 0.0, fmt, frac
    parallel = min(top, bottom) / max(top, bottom) * min(left, right) / max(left, right)
    if parallel < 0.55 or frac < 0.04:
        return 0.0, fmt, frac
    score = float(parallel * min(1.0, frac / 0.15))
    return score, fmt, frac


def refine_edges(img: np.ndarray, corners: np.ndarray, reach: float = 10.0,
                 samples: int = 40) -> np.ndarray:
    """Move each side onto the strongest colour step along its normal (full resolution).

    A soft shadow beside the card makes a weaker, wider step than the card's own edge, so the
    strongest step is the card.  Sides are refitted as lines and intersected again.
    """
    q = np.asarray(corners, np.float32)
    src = img.astype(np.float32) if img.ndim == 3 else img.astype(np.float32)[..., None]
    centre = q.mean(axis=0)
    offsets = np.arange(-reach, reach + 0.5, 1.0, dtype=np.float32)
    lines = []
    for i in range(4):
        a, b = q[i], q[(i + 1) % 4]
        ab = b - a
        length = float(np.linalg.norm(ab))
        if length < 20:
            return q
        u = ab / length
        n = np.array([-u[1], u[0]], np.float32)
        if float(np.dot(centre - a, n)) > 0:
            n = -n  # outward normal
        ts = np.linspace(0.12, 0.88, samples, dtype=np.float32) * length
        base = a[None, :] + ts[:, None] * u[None, :]
        pts = base[:, None, :] + offsets[None, :, None] * n[None, None, :]
        mapx, mapy = pts[..., 0].astype(np.float32), pts[..., 1].astype(np.float32)
        prof = cv2.remap(src, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        prof = prof.reshape(samples, len(offsets), -1)
        grad = np.abs(np.diff(prof, axis=1)).sum(axis=2)  # (samples, len-1)
        k = np.argmax(grad, axis=1)
        good = grad[np.arange(samples), k] > 12.0
        kk = np.clip(k, 1, grad.shape[1] - 2)
        g0, g1, g2 = (grad[np.arange(samples), kk + d] for d in (-1, 0, 1))
        den = g0 - 2 * g1 + g2
        sub = np.where(np.abs(den) > 1e-6, 0.5 * (g0 - g2) / den, 0.0)
        off = offsets[kk] + 0.5 + np.clip(sub, -0.5, 0.5)
        edge = base + off[:, None] * n[None, :]
        if int(good.sum()) < samples // 3:
            return q
        lines.append(cv2.fitLine(edge[good].astype(np.float32), cv2.DIST_HUBER, 0, 0.01,
                                 0.01).reshape(4))
    out = []
    for i in range(4):
        p = _line_intersection(lines[i - 1], lines[i])
        if p is None:
            return q
        out.append(p)
    refined = np.array(out, np.float32)
    if np.abs(refined - q).max() > 2.5 * reach:
        return q
    return refined


def find_document(img: np.ndarray, work_width: int = 640, min_fraction: float = 0.04,
                  refine: bool = True) -> CardDetection | None:
    """Find the most plausible card/passport page; None when there is none.

    `refine`: move the sides onto the card's edges at full resolution (sub-pixel corners; a
    few ms more).  Live guidance skips it.
    """
    if img is None or img.size == 0:
        return None
    _h, w = img.shape[:2]
    scale = work_width / w if w > work_width else 1.0
    small = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) \
        if scale < 1.0 else img
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    sh, sw = gray.shape
    img_area = float(sh * sw)
    blurred = cv2.GaussianBlur(gray, (5, 5), 0)
    med = float(np.median(blurred))
    candidates: list[tuple[float, np.ndarray, DocFormat, float]] = []
    masks = []
    edges = cv2.Canny(blurred, max(10.0, 0.4 * med), max(30.0, 1.0 * med))
    if small.ndim == 3:  # colour edges: a blue header on a brown desk has little grey contrast
        for chan in cv2.split(cv2.GaussianBlur(small, (5, 5), 0)):
            edges = cv2.bitwise_or(edges, cv2.Canny(chan, 20, 60))
    masks.append(cv2.morphologyEx(edges, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)))
    _t, otsu = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    masks.append(cv2.morphologyEx(otsu, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)))
    for mask in masks:
        contours, _hier = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        for cnt in contours:
            if cv2.contourArea(cnt) < min_fraction * img_area * 0.8:
                continue
            # a card touching the frame border is cut: not usable as a whole document
            x, y, cw, ch = cv2.boundingRect(cnt)
            if x <= 1 or y <= 1 or x + cw >= sw - 1 or y + ch >= sh - 1:
                continue
            quad = _quad_from_contour(cnt)
            if quad is None:
                continue
            quad = _refine_by_lines(cnt, order_corners(quad))
            score, fmt, frac = _plausibility(quad, img_area, (sw, sh))
            if score > 0 and frac >= min_fraction:
                candidates.append((score, quad, fmt, frac))
    if not candidates:
        return None
    # a card's inner panels are rectangles too: among plausible quads take the largest
    best = max(c[0] for c in candidates)
    score, quad, fmt, frac = max((c for c in candidates if c[0] >= 0.8 * best),
                                 key=lambda c: c[3])
    corners = order_corners(quad) / scale
    if refine:
        corners = refine_edges(img, corners, reach=max(12.0, 6.0 / scale))
    return CardDetection(corners.astype(np.float32), fmt, frac, score)


def rectify(img: np.ndarray, corners: np.ndarray, fmt: DocFormat = "ID1",
            size: tuple[int, int] | None = None) -> np.ndarray:
    """Warp the quadrilateral `corners` (TL, TR, BR, BL) to a flat document image."""
    w, h = size or RECTIFIED_SIZE[fmt]
    dst = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    m = cv2.getPerspectiveTransform(np.asarray(corners, np.float32), dst)
    return cv2.warpPerspective(img, m, (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
