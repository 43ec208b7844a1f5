"""The synthetic applicant's picture: a person (scikit-image's public-domain astronaut
portrait) who holds up the identity card or the Tessera Sanitaria as the script advances.

Every combination of step and gesture is composed once and cached (BGR for stills, I420 for
the video track); per video frame only a small progress bar and the frame stamp change, so a
720p30 stream costs a buffer copy per frame.

Card images come from `console.specimens` when that module provides them; otherwise simple
placeholder cards are drawn here.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from demo.applicant import poses

logger = logging.getLogger(__name__)

U8 = npt.NDArray[np.uint8]

# Demo identity (docs/PROTOCOL.md)
SURNAME = "ROSSI"
GIVEN_NAMES = "MARIA"
CODICE_FISCALE = "RSSMRA85D52H501P"
BIRTH_DATE = "12.04.1985"
BIRTH_PLACE = "ROMA"
SEX = "F"
DOC_NUMBER = "CA00000AA"
DOC_ISSUER = "COMUNE DI ROMA"
DOC_EXPIRY = "12.04.2031"

CARD_RATIO = 85.60 / 53.98  # ID-1


class Step(StrEnum):
    FACE = "face"
    ID_FRONT = "id_front"
    ID_BACK = "id_back"
    TS_FRONT = "ts_front"
    TS_BACK = "ts_back"


SCRIPT: tuple[Step, ...] = (Step.FACE, Step.ID_FRONT, Step.ID_BACK, Step.TS_FRONT, Step.TS_BACK)


class Gesture(StrEnum):
    """What the person does on an `instruction` (the codes of resources/scripts' random
    actions). RIGHT/LEFT are aliases of the raised hands."""

    NONE = "none"
    RAISE_RIGHT_HAND = "raise_right_hand"
    RAISE_LEFT_HAND = "raise_left_hand"
    SHOW_THREE_FINGERS = "show_three_fingers"
    TOUCH_NOSE = "touch_nose"
    TOUCH_RIGHT_EAR = "touch_right_ear"
    COVER_LEFT_EYE = "cover_left_eye"
    TURN_HEAD_LEFT = "turn_head_left"
    TURN_HEAD_RIGHT = "turn_head_right"
    LOOK_UP = "look_up"
    LOOK_DOWN = "look_down"  # half of a nod
    BLINK = "blink"  # eyes shut (a blink is shut / open / shut: see applicant.py)
    MOVE_CLOSER = "move_closer"  # the face nearer the camera
    RIGHT = "raise_right_hand"
    LEFT = "raise_left_hand"


Hand = Gesture  # the first version's name

#: the liveness challenges (media.challenge) and the pose that answers each
CHALLENGE_GESTURES: dict[str, Gesture] = {
    "turn_left": Gesture.TURN_HEAD_LEFT,
    "turn_right": Gesture.TURN_HEAD_RIGHT,
    "look_up": Gesture.LOOK_UP,
    "blink": Gesture.BLINK,
    "move_closer": Gesture.MOVE_CLOSER,
}
NOD = "nod_twice"  # animated: LOOK_DOWN / NONE alternating


_STEP_ALIASES: dict[str, Step] = {
    "face": Step.FACE,
    "selfie": Step.FACE,
    "show_face": Step.FACE,
    "document_front": Step.ID_FRONT,
    "id_front": Step.ID_FRONT,
    "show_document_front": Step.ID_FRONT,
    "document_back": Step.ID_BACK,
    "id_back": Step.ID_BACK,
    "show_document_back": Step.ID_BACK,
    "health_card": Step.TS_BACK,  # the side with the Code 39 barcode of the codice fiscale
    "health_card_front": Step.TS_FRONT,
    "ts_front": Step.TS_FRONT,
    "show_health_card": Step.TS_FRONT,
    "health_card_back": Step.TS_BACK,
    "ts_back": Step.TS_BACK,
    "show_health_card_back": Step.TS_BACK,
}


def step_for(code: str) -> Step | None:
    """The scene a still step or instruction code asks for (None: not a scene change)."""
    return _STEP_ALIASES.get(code.strip().lower())


def gesture_for(code: str) -> Gesture | None:
    """The gesture an instruction code asks for (None: not a gesture; `nod_twice` is
    animated by the caller with LOOK_DOWN)."""
    c = code.strip().lower()
    if c == Gesture.BLINK:  # a blink is animated (liveness challenges), never a held pose
        return None
    try:
        return Gesture(c)
    except ValueError:
        pass
    if c == NOD:
        return Gesture.LOOK_DOWN
    if "hand" not in c and "mano" not in c:
        return None
    if "lower" in c or "abbass" in c:
        return Gesture.NONE
    if "left" in c or "sinistr" in c:
        return Gesture.LEFT
    return Gesture.RIGHT


hand_for = gesture_for


# --- cards -----------------------------------------------------------------------------------

_CARD_W = 856  # 10 px per mm
_CARD_H = round(_CARD_W / CARD_RATIO)
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_MONO = cv2.FONT_HERSHEY_PLAIN


def icao_check_digit(text: str) -> str:
    """ICAO 9303 check digit (weights 7, 3, 1)."""
    total = 0
    for i, ch in enumerate(text):
        if ch.isdigit():
            v = int(ch)
        elif "A" <= ch <= "Z":
            v = ord(ch) - 55
        else:
            v = 0
        total += v * (7, 3, 1)[i % 3]
    return str(total % 10)


def td1_mrz() -> tuple[str, str, str]:
    """The demo identity card's three 30-character MRZ lines (TD1)."""
    number = DOC_NUMBER
    line1 = f"C<ITA{number}{icao_check_digit(number)}" + "<" * 15
    birth = "850412"
    expiry = "310412"
    optional2 = "<" * 11
    line2_core = f"{birth}{icao_check_digit(birth)}{SEX}{expiry}{icao_check_digit(expiry)}ITA"
    line2_core += optional2
    composite = line1[5:30] + birth + icao_check_digit(birth)
    composite += expiry + icao_check_digit(expiry) + optional2
    line2 = line2_core + icao_check_digit(composite)
    line3 = f"{SURNAME}<<{GIVEN_NAMES}".ljust(30, "<")[:30]
    return line1, line2, line3


def _face_crop(size: int) -> U8:
    portrait = _astronaut_bgr()
    face = portrait[20:260, 130:340]
    out = cv2.resize(face, (size * 210 // 240, size), interpolation=cv2.INTER_AREA)
    return np.asarray(out, dtype=np.uint8)


def _text(img: U8, text: str, x: int, y: int, scale: float = 0.8, thick: int = 2,
          color: tuple[int, int, int] = (30, 30, 30), font: int = _FONT) -> None:
    cv2.putText(img, text, (x, y), font, scale, color, thick, cv2.LINE_AA)


def _blank_card(color: tuple[int, int, int]) -> U8:
    card = np.empty((_CARD_H, _CARD_W, 3), dtype=np.uint8)
    card[:] = color
    # a soft diagonal guilloche-like pattern
    yy, xx = np.mgrid[0:_CARD_H, 0:_CARD_W]
    wave = (np.sin((xx + yy) / 9.0) * 6).astype(np.int16)
    card[:] = np.clip(card.astype(np.int16) + wave[..., None], 0, 255).astype(np.uint8)
    return card


def placeholder_id_front() -> U8:
    card = _blank_card((225, 215, 235))
    _text(card, "REPUBBLICA ITALIANA", 250, 55, 1.0, 2, (90, 40, 20))
    _text(card, "CARTA DI IDENTITA'", 290, 95, 0.9, 2, (90, 40, 20))
    photo = _face_crop(300)
    card[130 : 130 + photo.shape[0], 40 : 40 + photo.shape[1]] = photo
    rows = [
        ("COGNOME / SURNAME", SURNAME),
        ("NOME / NAME", GIVEN_NAMES),
        ("LUOGO E DATA DI NASCITA", f"{BIRTH_PLACE} {BIRTH_DATE}"),
        ("SESSO / SEX", SEX),
        ("SCADENZA / EXPIRY", DOC_EXPIRY),
    ]
    y = 150
    for label, value in rows:
        _text(card, label, 330, y, 0.5, 1, (90, 60, 60))
        _text(card, value, 330, y + 32, 0.95, 2)
        y += 68
    _text(card, DOC_NUMBER, 620, 55, 0.9, 2, (20, 20, 160))
    _text(card, "SPECIMEN", 560, 510, 1.1, 2, (60, 60, 200))
    return card


def placeholder_id_back() -> U8:
    card = _blank_card((220, 225, 235))
    _text(card, "CODICE FISCALE / FISCAL CODE", 40, 50, 0.6, 1, (90, 60, 60))
    _text(card, CODICE_FISCALE, 40, 90, 1.0, 2)
    _text(card, "COMUNE DI RILASCIO", 40, 140, 0.6, 1, (90, 60, 60))
    _text(card, DOC_ISSUER, 40, 178, 0.9, 2)
    # MRZ band
    card[330:, :] = (245, 245, 245)
    for i, line in enumerate(td1_mrz()):
        y = 380 + i * 55
        for j, ch in enumerate(line):
            _text(card, ch, 40 + j * 26, y, 2.2, 2, (10, 10, 10), _MONO)
    return card


def placeholder_ts_front() -> U8:
    card = _blank_card((205, 225, 205))
    card[0:90, :] = (150, 110, 40)
    _text(card, "TESSERA SANITARIA", 40, 60, 1.2, 3, (255, 255, 255))
    _text(card, "CODICE FISCALE", 40, 150, 0.6, 1, (60, 60, 60))
    _text(card, CODICE_FISCALE, 40, 195, 1.3, 3)
    _text(card, "COGNOME", 40, 260, 0.6, 1, (60, 60, 60))
    _text(card, SURNAME, 40, 295, 1.0, 2)
    _text(card, "NOME", 40, 345, 0.6, 1, (60, 60, 60))
    _text(card, GIVEN_NAMES, 40, 380, 1.0, 2)
    _text(card, f"{BIRTH_PLACE}  {BIRTH_DATE}  SESSO {SEX}", 40, 430, 0.8, 2)
    _text(card, "SPECIMEN", 560, 510, 1.1, 2, (60, 60, 200))
    return card


def placeholder_ts_back() -> U8:
    card = _blank_card((225, 205, 190))
    card[0:90, :] = (140, 60, 20)
    _text(card, "TESSERA EUROPEA DI ASSICURAZIONE MALATTIA", 30, 58, 0.8, 2, (255, 255, 255))
    fields = [
        ("3 COGNOME", SURNAME),
        ("4 NOME", GIVEN_NAMES),
        ("5 DATA DI NASCITA", BIRTH_DATE),
        ("6 NUMERO DI IDENTIFICAZIONE", CODICE_FISCALE),
        ("9 DATA DI SCADENZA", DOC_EXPIRY),
    ]
    y = 140
    for label, value in fields:
        _text(card, label, 40, y, 0.55, 1, (60, 60, 60))
        _text(card, value, 40, y + 32, 0.9, 2)
        y += 75
    _text(card, "SPECIMEN", 560, 510, 1.1, 2, (60, 60, 200))
    return card


_PLACEHOLDERS: dict[Step, Callable[[], U8]] = {
    Step.ID_FRONT: placeholder_id_front,
    Step.ID_BACK: placeholder_id_back,
    Step.TS_FRONT: placeholder_ts_front,
    Step.TS_BACK: placeholder_ts_back,
}

# console.specimens renderers (BGR arrays, ID-1 at 300 dpi, corners outside the rounded
# rectangle set to black)
_SPECIMEN_NAMES: dict[Step, str] = {
    Step.ID_FRONT: "render_cie_front",
    Step.ID_BACK: "render_cie_back",
    Step.TS_FRONT: "render_ts_front",
    Step.TS_BACK: "render_ts_back",
}


@lru_cache(maxsize=8)
def card_image(step: Step) -> U8:
    """The card held up in a step (BGR): console.specimens if available, else a placeholder."""
    name = _SPECIMEN_NAMES[step]
    try:
        from console import specimens

        img = np.asarray(getattr(specimens, name)())
        if img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3:
            return np.ascontiguousarray(img)
        logger.warning("console.specimens.%s gave an unexpected image; using a placeholder", name)
    except Exception:  # another area's module: never let it break the peer
        logger.warning("console.specimens.%s unavailable; using a placeholder", name)
    return _PLACEHOLDERS[step]()


def _rounded_mask(w: int, h: int) -> npt.NDArray[np.bool_]:
    r = max(2, int(w * 0.035))
    mask = np.zeros((h, w), np.uint8)
    cv2.rectangle(mask, (r, 0), (w - r, h), 255, -1)
    cv2.rectangle(mask, (0, r), (w, h - r), 255, -1)
    for cx, cy in ((r, r), (w - r - 1, r), (r, h - r - 1), (w - r - 1, h - r - 1)):
        cv2.circle(mask, (cx, cy), r, 255, -1)
    return mask > 0


@lru_cache(maxsize=1)
def _astronaut_bgr() -> U8:
    from console.specimens import face_photo

    return np.ascontiguousarray(face_photo("astronaut"))


# --- scene -----------------------------------------------------------------------------------

SKIN = (150, 175, 225)  # BGR
SKIN_DARK = (120, 145, 200)


def _draw_hand(img: U8, cx: int, cy: int, size: int, fingers_up: bool = True,
               fingers: int = 4, forearm: bool = True) -> None:
    """A simple open hand: palm, `fingers` fingers and a thumb, drawn with outlines."""
    palm_w, palm_h = int(size * 0.55), int(size * 0.6)
    cv2.ellipse(img, (cx, cy), (palm_w // 2, palm_h // 2), 0, 0, 360, SKIN, -1, cv2.LINE_AA)
    cv2.ellipse(img, (cx, cy), (palm_w // 2, palm_h // 2), 0, 0, 360, SKIN_DARK, 2, cv2.LINE_AA)
    direction = -1 if fingers_up else 1
    fw = max(4, size // 11)
    spots = ((-0.2, 0.42), (-0.07, 0.5), (0.06, 0.48), (0.18, 0.4))
    for k, (dx, length) in enumerate(spots):
        x = cx + int(dx * size)
        y0 = cy + direction * palm_h // 3
        folded = k >= fingers
        y1 = y0 + direction * int((0.08 if folded else length) * size)
        cv2.line(img, (x, y0), (x, y1), SKIN, fw, cv2.LINE_AA)
        cv2.circle(img, (x, y1), fw // 2, SKIN_DARK if folded else SKIN, -1, cv2.LINE_AA)
    # thumb
    tx = cx - int(0.33 * size)
    cv2.line(img, (cx - palm_w // 3, cy), (tx, cy + direction * int(0.2 * size)), SKIN, fw,
             cv2.LINE_AA)
    if forearm:
        cv2.rectangle(img, (cx - palm_w // 3, cy + palm_h // 3),
                      (cx + palm_w // 3, min(img.shape[0] - 1, cy + palm_h // 3 + size)),
                      SKIN, -1)


# landmarks of the astronaut portrait, in its 512 x 512 pixels (x, y)
_NOSE = (228, 80)
_RIGHT_EAR = (178, 78)  # the person's right: the viewer's left
_LEFT_EYE = (248, 62)  # the person's left eye: the viewer's right


def _posed_portrait(g: Gesture, amount: float = 1.0) -> U8:
    """The portrait with the head turned, raised, lowered or the eyes shut (2.5-D: poses.py);
    `amount` scales the angles (1.0: 24° turns, 20° up/down)."""
    a = _astronaut_bgr()
    if g is Gesture.TURN_HEAD_LEFT:
        return poses.rotate_head(a, yaw_deg=poses.YAW_DEG * amount)
    if g is Gesture.TURN_HEAD_RIGHT:
        return poses.rotate_head(a, yaw_deg=-poses.YAW_DEG * amount)
    if g is Gesture.LOOK_UP:
        return poses.rotate_head(a, pitch_deg=poses.PITCH_DEG * amount)
    if g is Gesture.LOOK_DOWN:
        return poses.rotate_head(a, pitch_deg=-poses.PITCH_DEG * amount)
    if g is Gesture.BLINK:
        return poses.close_eyes(a)
    return a


CLOSER_ZOOM = 1.35


def _paste_closer(img: U8, portrait: U8, x0: int, y0: int, side: int,
                  amount: float = 1.0) -> None:
    """The person nearer the camera: scaled by CLOSER_ZOOM about the face's centre."""
    h, w = img.shape[:2]
    big = int(side * (1.0 + (CLOSER_ZOOM - 1.0) * amount))
    person = cv2.resize(portrait, (big, big), interpolation=cv2.INTER_AREA)
    fx, fy = poses.HEAD_CENTRE
    k, kb = side / 512.0, big / 512.0
    bx0 = x0 + int(fx * k) - int(fx * kb)
    by0 = y0 + int(fy * k) - int(fy * kb)
    sx0, sy0 = max(0, -bx0), max(0, -by0)
    dx0, dy0 = max(0, bx0), max(0, by0)
    dx1, dy1 = min(w, bx0 + big), min(h, by0 + big)
    img[dy0:dy1, dx0:dx1] = person[sy0 : sy0 + dy1 - dy0, sx0 : sx0 + dx1 - dx0]


class SceneRenderer:
    """Composes and caches the frames of the synthetic applicant at one resolution."""

    def __init__(self, width: int = 1280, height: int = 720) -> None:
        if width < 784 or height < 240 or width % 2 or height % 2:
            raise ValueError("scene size must be even and at least 784x240")
        self.width = width
        self.height = height
        self._i420: dict[tuple[Step, Gesture], U8] = {}
        self._flash: U8 | None = None

    # composition
    def _background(self) -> U8:
        w, h = self.width, self.height
        grad = np.linspace(215, 185, h, dtype=np.float32)[:, None]
        bg = np.empty((h, w, 3), dtype=np.uint8)
        bg[..., 0] = (grad * 0.92).astype(np.uint8)
        bg[..., 1] = (grad * 0.97).astype(np.uint8)
        bg[..., 2] = grad.astype(np.uint8)
        return bg

    def bgr(self, step: Step = Step.FACE, hand: Gesture = Gesture.NONE) -> U8:
        """The scene as BGR (composed on each call: tens of ms; not cached to save memory)."""
        return self._compose(step, hand)

    def posed_bgr(self, gesture: Gesture, amount: float = 1.0) -> U8:
        """The face step with a head movement scaled by `amount` (0.5: half the turn, half the
        approach), for the offline liveness sets."""
        return self._compose_scene(Step.FACE, gesture, amount)

    def prepare(self, gestures: Iterable[Gesture] = (Gesture.NONE,)) -> None:
        """Compose every step (with these gestures) once, before streaming, so the event loop
        never stalls on a first-time composition (about 0.1 s each)."""
        for step in Step:
            for gesture in gestures:
                self.i420(step, gesture)

    def cached(self, step: Step, gesture: Gesture) -> bool:
        return (step, gesture) in self._i420

    def _compose(self, step: Step, hand: Gesture) -> U8:
        return self._compose_scene(step, hand, 1.0)

    def _compose_scene(self, step: Step, hand: Gesture, amount: float) -> U8:
        w, h = self.width, self.height
        img = self._background()
        side = min(h, int(w * 0.56))
        g = Gesture(hand)
        portrait = _posed_portrait(g, amount)
        x0 = int(w * 0.10)
        y0 = h - side
        if g is Gesture.MOVE_CLOSER:
            _paste_closer(img, portrait, x0, y0, side, amount)
        else:
            img[y0:h, x0 : x0 + side] = cv2.resize(portrait, (side, side),
                                                   interpolation=cv2.INTER_AREA)
        k = side / 512.0

        def at(pt: tuple[int, int]) -> tuple[int, int]:
            return x0 + int(pt[0] * k), y0 + int(pt[1] * k)

        hand_size = int(side * 0.35)
        if g is Gesture.RAISE_RIGHT_HAND:
            _draw_hand(img, x0 + int(side * 0.08), int(h * 0.28), hand_size)
        elif g is Gesture.RAISE_LEFT_HAND:
            _draw_hand(img, x0 + int(side * 0.92), int(h * 0.28), hand_size)
        elif g is Gesture.SHOW_THREE_FINGERS:
            _draw_hand(img, x0 + int(side * 0.85), int(h * 0.45), hand_size, fingers=3)
        elif g in (Gesture.TOUCH_NOSE, Gesture.TOUCH_RIGHT_EAR):
            # fingertips on the point: the palm sits below it
            px, py = at(_NOSE if g is Gesture.TOUCH_NOSE else _RIGHT_EAR)
            size = int(hand_size * 0.45)
            _draw_hand(img, px + size // 10, py + int(size * 0.68), size)
        elif g is Gesture.COVER_LEFT_EYE:
            ex, ey = at(_LEFT_EYE)
            _draw_hand(img, ex, ey, int(hand_size * 0.5))
        if step is not Step.FACE:
            card = card_image(step)
            # held up close to the camera: about half the picture's width
            ratio = card.shape[1] / card.shape[0]
            cw = min(int(w * 0.50), int((h - 32) * ratio))
            ch = int(cw / ratio)
            small = cv2.resize(card, (cw, ch), interpolation=cv2.INTER_AREA)
            cx0 = w - cw - int(w * 0.06)
            cy0 = max(16, (h - ch) // 2)
            roi = img[cy0 : cy0 + ch, cx0 : cx0 + cw]
            mask = _rounded_mask(cw, ch)
            roi[mask] = small[mask]
            # a thumb and fingers at the card's right edge (they hide no printed field)
            fx = cx0 + cw
            for k in range(4):
                fy = cy0 + int(ch * 0.25) + k * max(14, ch // 9)
                cv2.ellipse(img, (fx, fy), (max(12, cw // 30), max(7, ch // 22)), 0, 0, 360,
                            SKIN, -1, cv2.LINE_AA)
            cv2.ellipse(img, (fx + cw // 25, cy0 + int(ch * 0.45)), (cw // 22, ch // 4), 0, 0,
                        360, SKIN, -1, cv2.LINE_AA)
        label = "DEMO - richiedente sintetico / synthetic applicant"
        _text(img, label, w - 500, 30, 0.55, 1, (40, 40, 40))
        return img

    def i420(self, step: Step = Step.FACE, hand: Gesture = Gesture.NONE) -> U8:
        """The scene as I420, cached (the plain steps stay; at most 12 gesture variants)."""
        key = (step, Gesture(hand))
        buf = self._i420.get(key)
        if buf is None:
            buf = np.ascontiguousarray(cv2.cvtColor(self.bgr(*key), cv2.COLOR_BGR2YUV_I420))
            self._i420[key] = buf
            variants = [k for k in list(self._i420) if k[1] is not Gesture.NONE]
            for old in variants[:-12]:
                self._i420.pop(old, None)
        return buf

    def flash_i420(self) -> U8:
        if self._flash is None:
            buf = np.full((self.height * 3 // 2, self.width), 128, dtype=np.uint8)
            buf[: self.height] = 255
            self._flash = buf
        return self._flash

    def video_frame(self, step: Step, hand: Gesture, frame_no: int, flash: bool,
                    sway: tuple[int, int] = (0, 0)) -> U8:
        """A fresh I420 buffer for one frame: the cached picture, shifted by `sway` (dx, dy)
        pixels like a hand-held camera, plus a moving bar."""
        if flash:
            src = self.flash_i420()
        else:
            # a gesture variant not composed yet shows the plain step (no stall)
            cached = self._i420.get((step, Gesture(hand)))
            src = cached if cached is not None else self.i420(step, Gesture.NONE)
        dx, dy = sway[0] & ~1, sway[1] & ~1  # even: chroma moves by whole pixels
        if flash or (dx == 0 and dy == 0):
            buf = src.copy()
        else:
            h, w = self.height, self.width
            buf = np.empty_like(src)
            buf[:h] = np.roll(src[:h], (dy, dx), axis=(0, 1))
            cw, ch = w // 2, h // 2
            for k in range(2):
                plane = src[h:].reshape(-1)[k * cw * ch : (k + 1) * cw * ch].reshape(ch, cw)
                out = buf[h:].reshape(-1)[k * cw * ch : (k + 1) * cw * ch].reshape(ch, cw)
                out[:] = np.roll(plane, (dy // 2, dx // 2), axis=(0, 1))
        if not flash:
            bar_w = self.width // 8
            pos = (frame_no * 8) % (self.width - bar_w)
            buf[self.height - 6 : self.height, pos : pos + bar_w] = 40
        return buf

    def png(self, step: Step = Step.FACE, hand: Gesture = Gesture.NONE) -> bytes:
        """Lossless PNG of the scene at full resolution (no stamp, no flash)."""
        ok, encoded = cv2.imencode(".png", self.bgr(step, hand), [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if not ok:
            raise RuntimeError("PNG encoding failed")
        return bytes(encoded.tobytes())


def flash_active(t: float, period: float, duration: float) -> bool:
    """True while wall-clock time `t` is inside a flash/beep window (both tracks use this)."""
    if period <= 0:
        return False
    return (t % period) < duration


def write_y4m(
    path: str | Path,
    width: int = 1280,
    height: int = 720,
    fps: int = 5,
    seconds_per_step: float = 2.0,
    steps: Iterable[Step] = SCRIPT,
    flash_period: float = 0.0,
    flash_duration: float = 0.1,
) -> Path:
    """Write the scene as a .y4m clip (header `C420`) for Chromium's fake camera.

    Chromium loops the file. The clip has no frame stamp (its time would be meaningless).
    Size: width*height*1.5 bytes per frame (1.4 MB at 720p): keep fps and length small.
    """
    out = Path(path)
    renderer = SceneRenderer(width, height)
    per_step = max(1, round(seconds_per_step * fps))
    n = 0
    with out.open("wb") as fh:
        fh.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420\n".encode("ascii"))
        for step in steps:
            for _ in range(per_step):
                t = n / fps
                flash = flash_active(t, flash_period, flash_duration)
                fh.write(b"FRAME\n")
                fh.write(renderer.video_frame(step, Gesture.NONE, n, flash).tobytes())
                n += 1
    logger.info("wrote %d frames of %dx%d to %s", n, width, height, out.name)
    return out


def frame_count_y4m(path: str | Path) -> int:
    """Number of frames in a .y4m file written by write_y4m (for checks)."""
    p = Path(path)
    with p.open("rb") as fh:
        header = fh.readline().decode("ascii").split()
    w = int(next(x[1:] for x in header if x.startswith("W")))
    h = int(next(x[1:] for x in header if x.startswith("H")))
    frame_bytes = len(b"FRAME\n") + w * h * 3 // 2
    header_len = len(" ".join(header)) + 1
    return math.floor((p.stat().st_size - header_len) / frame_bytes)


#: a hand-held sway: a smooth random walk (standard deviation in pixels, x and y); a person's
#: sway never repeats itself (two sines did, every 7.5 s: console.injection's
#: ``frames_repeating`` then took the live head for a looped clip)
SWAY_PX = (4.0, 2.7)
_SWAY_RATE = 20.0  # samples a second
_SWAY_SMOOTH_S = 0.35  # Gaussian smoothing of the walk: movements of about a second


def sway_track(seed: int, seconds: float = 900.0) -> npt.NDArray[np.float64]:
    """Unit-variance, smooth, random (x, y) movement for ``seconds`` (then it wraps): scale
    it by ``SWAY_PX`` and read it with ``sway_at``. The live synthetic applicant and the offline
    renderer both sway this way."""
    rng = np.random.default_rng(seed + 7919)
    n = int(seconds * _SWAY_RATE)
    sigma = _SWAY_SMOOTH_S * _SWAY_RATE
    k = np.arange(-int(4 * sigma), int(4 * sigma) + 1)
    kernel = np.exp(-0.5 * (k / sigma) ** 2)
    noise = rng.normal(0.0, 1.0, (n + len(k), 2))
    track = np.stack([np.convolve(noise[:, i], kernel, mode="valid")[:n] for i in (0, 1)],
                     axis=1)
    return np.asarray(track / track.std(axis=0), dtype=np.float64)


def sway_at(track: npt.NDArray[np.float64], t: float) -> tuple[float, float]:
    pos = (t * _SWAY_RATE) % (len(track) - 1)
    i = int(pos)
    f = pos - i
    a, b = track[i], track[i + 1]
    return float(a[0] + (b[0] - a[0]) * f), float(a[1] + (b[1] - a[1]) * f)
