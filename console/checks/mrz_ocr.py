"""Finding and reading the MRZ in a document image.

Two engines share the zone finder:
- ``template`` (default): fixed-pitch segmentation (MRZ characters sit on a 2.54 mm grid) and
  normalised cross-correlation against OCR-B glyph templates rendered from the same font the
  specimens use, restricted per position to the characters the field's format allows there
  (`position_alphabets`, national document numbers included) or '<' (an unreadable cell is
  then reported as such by the parser).  Each position keeps its runner-up, which
  `parse_mrz` may use where every check digit confirms it and no other reading fits.
- ``tesseract``: Debian's tesseract-ocr through pytesseract, one line at a time (psm 7,
  whitelist A–Z 0–9 <).  Kept for comparison; see bench/bench_checks.py for the numbers.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from console.checks.mrz import ALPHABET, FORMAT_SHAPE, MrzResult, parse_mrz, position_alphabets

logger = logging.getLogger(__name__)

Engine = Literal["template", "tesseract"]
_TW, _TH = 18, 26  # template size (w, h)
_MARGIN = 3  # search margin around a cell, template pixels
_WORK_WIDTH = 1000
MIN_CONFIDENCE = 0.7  # genuine MRZs read ≥ 0.85; printed text and barcodes ≤ 0.62


@dataclass
class LineBox:
    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def width(self) -> int:
        return self.x1 - self.x0


@dataclass
class MrzRead:
    result: MrzResult | None
    raw_lines: list[str]
    boxes: list[LineBox]  # in the coordinates of the image given to read_mrz
    engine: Engine
    rotated_180: bool = False
    confidence: float = 0.0  # mean template correlation of the chosen characters (0..1)


# ------------------------------------------------------------------------------------------
# Templates
# ------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _templates() -> tuple[np.ndarray, list[str]]:
    """(K, n_chars, _TH+2m, _TW+2m) float32 zero-mean unit-norm templates, and their chars.

    Rendered large from the MRZ font, cropped to the cell (advance width × cap height), then
    blurred at several strengths so soft photos still correlate.
    """
    from console.specimens import mrz_font_path

    path = mrz_font_path()
    size = 96
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont = (
        ImageFont.truetype(path, size) if path else ImageFont.load_default(size))
    advance = round(font.getlength("H"))
    hb = font.getbbox("H")
    cap_top, baseline = int(hb[1]), int(hb[3])
    cell_h = baseline - cap_top
    mx = round(_MARGIN * advance / _TW)
    my = round(_MARGIN * cell_h / _TH)
    variants: list[list[np.ndarray]] = [[], [], []]
    for ch in ALPHABET:
        canvas = Image.new("L", (advance + 2 * mx, size * 2), 255)
        ImageDraw.Draw(canvas).text((mx, 0), ch, font=font, fill=0)
        arr = np.asarray(canvas, np.float32)[cap_top - my: baseline + my]
        for vi, sigma in enumerate((0.0, 1.2, 2.2)):
            t = cv2.resize(arr, (_TW + 2 * _MARGIN, _TH + 2 * _MARGIN),
                           interpolation=cv2.INTER_AREA)
            if sigma:
                t = cv2.GaussianBlur(t, (0, 0), sigma)
            variants[vi].append(t[_MARGIN:-_MARGIN, _MARGIN:-_MARGIN].copy())
    stack = np.array(variants, np.float32)  # (3, n, TH, TW)
    stack = 255.0 - stack  # ink positive
    return stack, list(ALPHABET)


# ------------------------------------------------------------------------------------------
# Zone finding
# ------------------------------------------------------------------------------------------

def _ink(gray: np.ndarray) -> np.ndarray:
    """Dark text as 255 (adaptive: tolerant of glare gradients and uneven light)."""
    block = max(15, (gray.shape[1] // 30) | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                 block, 12)


def find_mrz_lines(gray: np.ndarray, bottom_fraction: float = 1.0) -> list[LineBox]:
    """Boxes of the 2–3 MRZ text lines (top to bottom) in an upright grey image, or []."""
    h, w = gray.shape
    y_start = int(h * (1.0 - bottom_fraction))
    ink = _ink(gray)
    ink[:y_start] = 0
    kw = max(9, int(w * 0.03))
    joined = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(
        cv2.MORPH_RECT, (kw, 1)))
    joined = cv2.morphologyEx(joined, cv2.MORPH_OPEN, cv2.getStructuringElement(
        cv2.MORPH_RECT, (kw, 3)))
    n, _labels, stats, _c = cv2.connectedComponentsWithStats(joined, connectivity=8)
    cands: list[LineBox] = []
    for i in range(1, n):
        x, y, bw, bh, area = (int(v) for v in stats[i])
        if bh < h * 0.015 or bh > h * 0.12 or bw < bh * 12 or bw < w * 0.3:
            continue
        if area < 0.35 * bw * bh:
            continue
        cands.append(LineBox(x, y, x + bw, y + bh))
    if len(cands) < 2:
        return []
    cands.sort(key=lambda b: b.y0)
    best: list[LineBox] = []
    for i in range(len(cands)):
        group = [cands[i]]
        for c in cands[i + 1:]:
            last = group[-1]
            gap = c.y0 - last.y1
            similar = abs(c.width - last.width) < 0.12 * max(c.width, last.width) and \
                abs(c.x0 - last.x0) < 0.08 * max(c.width, last.width)
            if similar and -0.2 * last.height < gap < 1.6 * last.height and \
                    0.6 < c.height / last.height < 1.6:
                group.append(c)
            if len(group) == 3:
                break
        if len(group) >= 2 and (len(group) > len(best) or
                                (len(group) == len(best) and group[0].y0 > best[0].y0)):
            best = group
    return best[:3]


# ------------------------------------------------------------------------------------------
# Segmentation and classification
# ------------------------------------------------------------------------------------------

def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of consecutive True runs."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.nonzero(d == 1)[0].tolist(), np.nonzero(d == -1)[0].tolist(),
                    strict=True))


def _fit_grid(ink_cols: np.ndarray, x0: int, x1: int, n: int) -> tuple[float, float]:
    """Pitch and origin of the n-cell grid of a monospaced line.

    Glyphs of a monospaced font are centred in their cells, so the centres of the first and
    last glyphs pin the grid; a boundary-ink search is the fallback when they are merged.
    """
    prof = np.convolve(ink_cols.astype(np.float32), np.ones(3, np.float32) / 3, mode="same")
    nominal = (x1 - x0) / n
    runs = [r for r in _runs(prof > 0.08 * float(prof.max())) if r[1] - r[0] >= 2]
    if len(runs) >= 2:
        (a0, a1), (b0, b1) = runs[0], runs[-1]
        if a1 - a0 < 1.15 * nominal and b1 - b0 < 1.15 * nominal:
            ca = float((prof[a0:a1] * np.arange(a0, a1)).sum() / max(1e-6, prof[a0:a1].sum()))
            cb = float((prof[b0:b1] * np.arange(b0, b1)).sum() / max(1e-6, prof[b0:b1].sum()))
            pitch = (cb - ca) / (n - 1)
            if 0.9 * nominal < pitch < 1.1 * nominal:
                return pitch, ca - pitch / 2
    best = (float("inf"), nominal, float(x0))
    cols = np.arange(len(prof), dtype=np.float32)
    for pf in np.linspace(0.985, 1.03, 10):
        pitch = nominal * pf
        for off in np.linspace(-0.25, 0.25, 11):
            origin = x0 + (off - (pf - 1) * n / 2) * pitch
            bounds = origin + pitch * np.arange(1, n)
            cost = float(np.interp(bounds, cols, prof).sum())
            if cost < best[0]:
                best = (cost, pitch, origin)
    return best[1], best[2]


def _allowed(chars: str) -> np.ndarray:
    """Mask of the characters the OCR may choose at a position: the format's, and '<'."""
    return np.array([c in chars or c == "<" for c in ALPHABET])


def _cells(gray: np.ndarray, box: LineBox, n: int) -> np.ndarray | None:
    """The n cells of one line, each with a margin, in template geometry: (n, H+2m, W+2m)."""
    pad_y = max(2, box.height // 6)
    y0, y1 = max(0, box.y0 - pad_y), min(gray.shape[0], box.y1 + pad_y)
    x0, x1 = max(0, box.x0 - box.height), min(gray.shape[1], box.x1 + box.height)
    crop = gray[y0:y1, x0:x1]
    # flat-field the line (a highlight leaves glyphs faint but still darker than their
    # surroundings), then Otsu: faint glyphs at a glare end still pin the grid
    bg = cv2.morphologyEx(crop, cv2.MORPH_CLOSE, cv2.getStructuringElement(
        cv2.MORPH_RECT, (box.height | 1, box.height | 1)))
    flat = cv2.divide(crop, bg, scale=255)
    _t, otsu = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = otsu
    lo, hi = max(0, box.x0 - x0 - 3), box.x1 - x0 + 3
    ink[:, :lo] = 0
    ink[:, hi:] = 0
    on = np.nonzero(ink.any(axis=0))[0]
    if len(on) and (on[0] - lo > box.height / 2 or hi - on[-1] > box.height / 2):
        # the ends of the line are faint (glare): take any pixel clearly darker than paper
        faint = cv2.morphologyEx((flat < 225).astype(np.uint8) * 255, cv2.MORPH_OPEN,
                                 np.ones((2, 2), np.uint8))
        ink = cv2.bitwise_or(otsu, faint)
        ink[:, :lo] = 0
        ink[:, hi:] = 0
    rows = ink.sum(axis=1).astype(np.float32)
    if rows.max() <= 0:
        return None
    rows_on = np.nonzero(rows > 0.12 * rows.max())[0]
    if len(rows_on) == 0:
        return None
    ty0, ty1 = int(rows_on[0]), int(rows_on[-1]) + 1
    cols = ink[ty0:ty1].sum(axis=0).astype(np.float32) / 255.0
    cols_on = np.nonzero(cols > 0)[0]
    if len(cols_on) == 0:
        return None
    pitch, origin = _fit_grid(cols, int(cols_on[0]), int(cols_on[-1]) + 1, n)
    bh = ty1 - ty0
    my, mx = _MARGIN * bh / _TH, _MARGIN * pitch / _TW
    sx, sy = (pitch + 2 * mx) / (_TW + 2 * _MARGIN), (bh + 2 * my) / (_TH + 2 * _MARGIN)
    src = crop.astype(np.float32)
    out = np.empty((n, _TH + 2 * _MARGIN, _TW + 2 * _MARGIN), np.float32)
    for k in range(n):
        m = np.array([[sx, 0, origin + k * pitch - mx], [0, sy, ty0 - my]], np.float32)
        out[k] = cv2.warpAffine(src, m, (_TW + 2 * _MARGIN, _TH + 2 * _MARGIN),
                                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_REPLICATE)
    return 255.0 - out


def _normalise(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=-1, keepdims=True)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-6)


@functools.lru_cache(maxsize=1)
def _template_matrix() -> np.ndarray:
    stack, _chars = _templates()
    v, c = stack.shape[:2]
    return _normalise(stack.reshape(v * c, -1)).T.copy()  # (D, V*C)


def score_cells(cells: np.ndarray) -> np.ndarray:
    """(n, 37) best normalised correlation of each cell with each glyph over small shifts."""
    stack, chars = _templates()
    v, c = stack.shape[:2]
    win = np.lib.stride_tricks.sliding_window_view(cells, (_TH, _TW), axis=(1, 2))
    n, sy, sx = win.shape[:3]
    flat = _normalise(win.reshape(n * sy * sx, _TH * _TW))
    corr = flat @ _template_matrix()  # (n*sy*sx, V*C)
    corr = corr.reshape(n, sy * sx, v, c).max(axis=(1, 2))
    # a flat cell (no ink) correlates with nothing; call it a filler
    empty = cells.std(axis=(1, 2)) < 6.0
    corr[empty] = -1.0
    corr[empty, chars.index("<")] = 1.0
    return corr


def decide(scores: np.ndarray, alphabets: list[str]) -> list[list[tuple[str, float]]]:
    """Best and runner-up (char, score) per position among the characters allowed there."""
    chars = ALPHABET
    out = []
    for k in range(scores.shape[0]):
        allowed = _allowed(alphabets[k]) if k < len(alphabets) else np.ones(len(chars), bool)
        masked = np.where(allowed, scores[k], -2.0)
        order = np.argsort(-masked)
        out.append([(chars[int(order[0])], float(masked[order[0]])),
                    (chars[int(order[1])], float(masked[order[1]]))])
    return out


def _guess_format(boxes: list[LineBox]) -> list[str]:
    """Formats to try, most likely first, from line count and width/height ratio."""
    ratio = float(np.median([b.width / max(1, b.height) for b in boxes]))
    if len(boxes) == 3:
        return ["TD1"]
    # OCR-B pitch ≈ 0.72 × cap height: 36 chars ≈ 26×, 44 chars ≈ 32×
    return ["TD3", "TD2"] if ratio > 29 else ["TD2", "TD3"]


def _tesseract_line(gray: np.ndarray, box: LineBox, n: int, right_anchor: bool) -> str:
    import pytesseract  # imported lazily: only this engine needs it

    pad_y = max(2, box.height // 4)
    y0, y1 = max(0, box.y0 - pad_y), min(gray.shape[0], box.y1 + pad_y)
    x0, x1 = max(0, box.x0 - box.height), min(gray.shape[1], box.x1 + box.height)
    crop = gray[y0:y1, x0:x1]
    scale = 48.0 / max(1, box.height)
    crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    _t, bw = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bw = cv2.copyMakeBorder(bw, 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255)
    text = pytesseract.image_to_string(
        bw, lang="eng",
        config="--psm 7 -c tessedit_char_whitelist=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<",
        timeout=10)
    text = "".join(c for c in text.upper() if c in ALPHABET)
    return _fit_length(text, n, right_anchor)


def _fit_length(text: str, n: int, right_anchor: bool) -> str:
    """Make an OCR line exactly n long; fillers are what OCR miscounts, so adjust the longest
    filler run (keeping a final check digit in place when `right_anchor`)."""
    if len(text) == n:
        return text
    runs = [(m, len(m)) for m in text.split("<")]
    del runs
    # find the longest run of '<'
    best_start, best_len, i = -1, 0, 0
    while i < len(text):
        if text[i] == "<":
            j = i
            while j < len(text) and text[j] == "<":
                j += 1
            if j - i > best_len:
                best_start, best_len = i, j - i
            i = j
        else:
            i += 1
    if best_start < 0:
        return (text + "<" * n)[:n]
    if not right_anchor and best_start + best_len == len(text):
        return (text[:best_start] + "<" * n)[:n]
    diff = n - len(text)
    new_len = max(1, best_len + diff)
    out = text[:best_start] + "<" * new_len + text[best_start + best_len:]
    return (out + "<" * n)[:n] if len(out) < n else out[:n] if not right_anchor else out[-n:]


def _read_with(gray: np.ndarray, boxes: list[LineBox], engine: Engine) -> tuple[
        MrzResult | None, list[str], float]:
    best: tuple[MrzResult | None, list[str], float] = (None, [], 0.0)
    best_score = -1
    for fmt in _guess_format(boxes):
        rows, n = FORMAT_SHAPE[fmt]
        if len(boxes) < rows:
            continue
        use = boxes[-rows:]
        alphabets = position_alphabets(fmt)
        lines: list[str] = []
        alts: list[list[tuple[str, float]]] = []
        all_scores: list[np.ndarray] = []
        for li, box in enumerate(use):
            if engine == "tesseract":
                lines.append(_tesseract_line(gray, box, n, right_anchor=(fmt != "TD1" or li == 1)))
            else:
                cells = _cells(gray, box, n)
                if cells is None:
                    break
                all_scores.append(score_cells(cells))
        if engine == "template" and len(all_scores) == rows:
            scores = np.concatenate(all_scores)
            first = decide(scores[:n], alphabets[:n])
            alphabets = position_alphabets(fmt, "".join(c[0][0] for c in first))
            alts = decide(scores, alphabets)
            lines = ["".join(a[0][0] for a in alts[i * n:(i + 1) * n]) for i in range(rows)]
        if len(lines) != rows:
            continue
        confidence = float(np.mean([a[0][1] for a in alts])) if alts else 1.0
        if confidence < MIN_CONFIDENCE:
            continue  # text that is not an MRZ (a barcode, printed data lines)
        result = parse_mrz(lines, alternatives=alts or None)
        if result is None:
            continue
        score = sum(result.checks.values())
        if score > best_score:
            best, best_score = (result, lines, confidence), score
        if result.valid:
            break
    return best


def read_mrz(img: np.ndarray, engine: Engine = "template",
             rectified: bool = True) -> MrzRead:
    """Find and read the MRZ of a document image (BGR or grey).

    `rectified`: the image is a flat document (from `card.rectify`), so the MRZ is searched in
    its lower part and the image is also tried upside down.  Otherwise the whole image is
    searched as it is.
    """
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    # a flat document keeps its resolution (a passport page is 1476 px wide: its glyphs are
    # as big as an ID card's); any other image is brought to a known width
    target = min(max(gray.shape[1], _WORK_WIDTH), 1600) if rectified else _WORK_WIDTH
    scale = target / gray.shape[1]
    if abs(scale - 1.0) > 0.05:
        gray = cv2.resize(gray, None, fx=scale, fy=scale,
                          interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    else:
        scale = 1.0
    attempts = [(gray, False)]
    if rectified:
        attempts.append((cv2.rotate(gray, cv2.ROTATE_180), True))
    fallback = MrzRead(None, [], [], engine)
    for g, rot in attempts:
        boxes = find_mrz_lines(g, bottom_fraction=0.6 if rectified else 1.0)
        if not boxes:
            continue
        result, lines, confidence = _read_with(g, boxes, engine)
        back = [LineBox(int(b.x0 / scale), int(b.y0 / scale), int(b.x1 / scale),
                        int(b.y1 / scale)) for b in boxes]
        read = MrzRead(result, lines, back, engine, rot, confidence)
        if result is not None and result.valid:
            return read
        if fallback.result is None or (result is not None and sum(result.checks.values())
                                       > sum(fallback.result.checks.values())):
            fallback = read
    return fallback
