"""Specimen documents rendered as numpy BGR images, and helpers to photograph them in a scene.

Used by the synthetic applicant (media), the card reader emulation, tests and benchmarks.
Every document says SPECIMEN.  Defaults are the demo identity of docs/PROTOCOL.md; the face is
the public-domain astronaut portrait (``resources/faces``).  `OTHER_PERSON` is a fixed second
person whose face (the cameraman, same folder) is a different person, for mismatch tests.

Sizes at 300 dpi: ID-1 cards (CIE, Tessera Sanitaria) 1012×638 px, passport data page (ID-3)
1476×1039 px.  MRZ text uses the OCR-B font (Debian fonts-ocr-b) or DejaVu Sans Mono.
"""

from __future__ import annotations

import functools
import logging
import math
import secrets
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from console.checks import codice_fiscale
from console.checks.mrz import check_digit, name_field, pad

logger = logging.getLogger(__name__)

ID1_SIZE = (1012, 638)  # width, height at 300 dpi (85.60 × 53.98 mm)
ID3_SIZE = (1476, 1039)  # 125 × 88 mm
FaceName = Literal["astronaut", "camera"]
DocKind = Literal["cie_front", "cie_back", "ts_front", "ts_back", "passport"]

_FONT_DIRS = ("/usr/share/fonts/opentype/ocr-b", "/usr/share/fonts/truetype/dejavu",
              "/usr/share/fonts/truetype/ocr-b", "/usr/share/fonts/dejavu")
_MRZ_FONTS = ("OCRB.otf", "DejaVuSansMono.ttf")
_SANS = ("DejaVuSans.ttf",)
_SANS_BOLD = ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf")


def _find_font(names: tuple[str, ...]) -> str | None:
    for name in names:
        for d in _FONT_DIRS:
            p = Path(d) / name
            if p.is_file():
                return str(p)
    return None


def mrz_font_path() -> str | None:
    """Path of the font used for MRZ lines (OCR-B when installed), or None (Pillow default)."""
    return _find_font(_MRZ_FONTS)


@functools.lru_cache(maxsize=64)
def _font(kind: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    names = {"mrz": _MRZ_FONTS, "sans": _SANS, "bold": _SANS_BOLD}[kind]
    path = _find_font(names)
    if path is None:
        logger.warning("font %s not found, using Pillow's default", kind)
        return ImageFont.load_default(size)
    return ImageFont.truetype(path, size)


# ------------------------------------------------------------------------------------------
# People
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SpecimenPerson:
    """The holder printed on specimens (defaults: the demo identity in PROTOCOL.md)."""

    surname: str = "ROSSI"
    given_names: str = "MARIA"
    codice_fiscale: str = "RSSMRA85D52H501P"
    birth_date: date = date(1985, 4, 12)
    birth_place: str = "ROMA"
    birth_place_code: str = "H501"
    birth_province: str = "RM"
    sex: str = "F"
    nationality: str = "ITA"
    height_cm: int = 168
    address: str = "VIA DEL CORSO 1, ROMA (RM)"
    document_number: str = "CA00000AA"
    issuer: str = "COMUNE DI ROMA"
    issue_date: date = date(2021, 4, 12)
    expiry_date: date = date(2031, 4, 12)
    passport_number: str = "YA0000000"
    ts_card_number: str = "80380000000000000001"
    face: FaceName = "astronaut"

    def request(self, product: str = "spid_personal") -> dict[str, object]:
        """The request (PROTOCOL.md `POST /requests` body) this person would have made."""
        return {
            "applicant": {
                "surname": self.surname, "given_names": self.given_names,
                "codice_fiscale": self.codice_fiscale,
                "birth_date": self.birth_date.isoformat(),
                "birth_place": f"{self.birth_place} ({self.birth_place_code})",
                "sex": self.sex, "email": "maria.rossi@example.test",
                "mobile": "+393331234567",
            },
            "product": product,
            "document": {"type": "identity_card", "number": self.document_number,
                         "issuer": self.issuer, "expiry_date": self.expiry_date.isoformat()},
        }


DEMO_PERSON = SpecimenPerson()
OTHER_PERSON = SpecimenPerson(
    surname="BIANCHI", given_names="LUCA", codice_fiscale="BNCLCU79P30F205G",
    birth_date=date(1979, 9, 30), birth_place="MILANO", birth_place_code="F205",
    birth_province="MI", sex="M", height_cm=181, address="VIA TORINO 10, MILANO (MI)",
    document_number="CA11111BB", issuer="COMUNE DI MILANO", issue_date=date(2022, 9, 30),
    expiry_date=date(2032, 9, 30), passport_number="YB1111111",
    ts_card_number="80380000000000000002", face="camera",
)


def random_person(rng: np.random.Generator) -> SpecimenPerson:
    """A varied person with a consistent codice fiscale (for benchmarks and property tests)."""
    surnames = ["ROSSI", "BIANCHI", "ESPOSITO", "COLOMBO", "RICCI", "MARINO", "GRECO", "BRUNO",
                "GALLO", "CONTI", "DE LUCA", "MANCINI", "COSTA", "GIORDANO", "RIZZO", "LOMBARDI",
                "MORETTI", "BARBIERI", "FONTANA", "SANTORO", "D'ANGELO", "DELL'ORTO"]
    female = ["MARIA", "GIULIA", "FRANCESCA", "ANNA", "CHIARA", "SARA", "ELENA", "ALESSIA",
              "MARIA GRAZIA", "ANNA CHIARA"]
    male = ["LUCA", "MARCO", "GIUSEPPE", "ANDREA", "FRANCESCO", "MATTEO", "LORENZO", "PIETRO",
            "GIAN LUCA", "DAVIDE"]
    places = [("ROMA", "H501", "RM"), ("MILANO", "F205", "MI"), ("NAPOLI", "F839", "NA"),
              ("TORINO", "L219", "TO"), ("PALERMO", "G273", "PA"), ("BOLOGNA", "A944", "BO")]
    sex = "F" if rng.random() < 0.5 else "M"
    given = str(rng.choice(female if sex == "F" else male))
    surname = str(rng.choice(surnames))
    born = date(int(rng.integers(1940, 2006)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
    place, code, prov = places[int(rng.integers(len(places)))]
    cf = codice_fiscale.compute(surname, given, born, sex, code)
    letters = "ABCDEFGHJKLMNPRSTUVZ"
    number = ("C" + letters[int(rng.integers(len(letters)))] + f"{int(rng.integers(0, 100000)):05d}"
              + "".join(letters[int(rng.integers(len(letters)))] for _ in range(2)))
    issued = date(int(rng.integers(2017, 2026)), born.month, born.day)
    return SpecimenPerson(
        surname=surname, given_names=given, codice_fiscale=cf, birth_date=born,
        birth_place=place, birth_place_code=code, birth_province=prov, sex=sex,
        height_cm=int(rng.integers(150, 200)), document_number=number,
        issuer=f"COMUNE DI {place}", issue_date=issued,
        expiry_date=issued.replace(year=issued.year + 10),
        passport_number="Y" + letters[int(rng.integers(len(letters)))]
        + f"{int(rng.integers(0, 10_000_000)):07d}",
        face="astronaut" if rng.random() < 0.5 else "camera",
    )


# ------------------------------------------------------------------------------------------
# Faces
# ------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=2)
def face_photo(name: FaceName) -> np.ndarray:
    """One of the two public-domain photographs in ``resources/faces`` (BGR, read-only)."""
    from console.resources import resource_path

    if name not in ("astronaut", "camera"):
        raise ValueError(f"unknown face {name!r}")
    img = cv2.imread(str(resource_path("faces", f"{name}.png")), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f"resources/faces/{name}.png is missing")
    img.setflags(write=False)
    return img


@functools.lru_cache(maxsize=4)
def face_portrait(name: FaceName = "astronaut") -> np.ndarray:
    """A 3:4 head-and-shoulders BGR portrait (300×400) of a real, public-domain face."""
    if name == "astronaut":
        img = face_photo("astronaut")
        crop = img[20:260, 130:310]  # face at about (175..265, 80..170)
    elif name == "camera":
        img = face_photo("camera")
        crop = img[60:220, 160:280]  # the cameraman's head
    else:
        raise ValueError(f"unknown face {name!r}")
    out = cv2.resize(crop, (300, 400), interpolation=cv2.INTER_CUBIC)
    out.setflags(write=False)
    return out


# ------------------------------------------------------------------------------------------
# MRZ builders
# ------------------------------------------------------------------------------------------

def mrz_td1(document_number: str, birth_date: date, sex: str, expiry_date: date,
            surname: str, given_names: str, nationality: str = "ITA",
            issuing_state: str = "ITA", document_code: str = "CI",
            optional_1: str = "", optional_2: str = "") -> list[str]:
    """Three 30-character TD1 lines with all check digits (ICAO 9303 part 5)."""
    num = document_number.upper().replace(" ", "")
    line1 = pad(document_code, 2) + pad(issuing_state, 3) + pad(num, 9) + check_digit(pad(num, 9))
    line1 += pad(optional_1, 15)
    bd, ed = birth_date.strftime("%y%m%d"), expiry_date.strftime("%y%m%d")
    line2 = bd + check_digit(bd) + (sex.upper() or "<") + ed + check_digit(ed)
    line2 += pad(nationality, 3) + pad(optional_2, 11)
    composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
    line2 += check_digit(composite)
    line3 = name_field(surname, given_names, 30)
    return [line1, line2, line3]


def mrz_td3(passport_number: str, birth_date: date, sex: str, expiry_date: date,
            surname: str, given_names: str, nationality: str = "ITA",
            issuing_state: str = "ITA", document_code: str = "P",
            personal_number: str = "") -> list[str]:
    """Two 44-character TD3 lines with all check digits (ICAO 9303 part 4)."""
    line1 = pad(document_code, 2) + pad(issuing_state, 3) + name_field(surname, given_names, 39)
    num = pad(passport_number.upper(), 9)
    bd, ed = birth_date.strftime("%y%m%d"), expiry_date.strftime("%y%m%d")
    pn = pad(personal_number, 14)
    line2 = (num + check_digit(num) + pad(nationality, 3) + bd + check_digit(bd)
             + (sex.upper() or "<") + ed + check_digit(ed) + pn + check_digit(pn))
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    line2 += check_digit(composite)
    return [line1, line2]


def person_mrz_td1(p: SpecimenPerson) -> list[str]:
    return mrz_td1(p.document_number, p.birth_date, p.sex, p.expiry_date, p.surname,
                   p.given_names, p.nationality)


def person_mrz_td3(p: SpecimenPerson) -> list[str]:
    return mrz_td3(p.passport_number, p.birth_date, p.sex, p.expiry_date, p.surname,
                   p.given_names, p.nationality)


# ------------------------------------------------------------------------------------------
# Code 39
# ------------------------------------------------------------------------------------------

# 9 elements bar/space/bar/...; "w" wide, "n" narrow
CODE39: dict[str, str] = {
    "0": "nnnwwnwnn", "1": "wnnwnnnnw", "2": "nnwwnnnnw", "3": "wnwwnnnnn", "4": "nnnwwnnnw",
    "5": "wnnwwnnnn", "6": "nnwwwnnnn", "7": "nnnwnnwnw", "8": "wnnwnnwnn", "9": "nnwwnnwnn",
    "A": "wnnnnwnnw", "B": "nnwnnwnnw", "C": "wnwnnwnnn", "D": "nnnnwwnnw", "E": "wnnnwwnnn",
    "F": "nnwnwwnnn", "G": "nnnnnwwnw", "H": "wnnnnwwnn", "I": "nnwnnwwnn", "J": "nnnnwwwnn",
    "K": "wnnnnnnww", "L": "nnwnnnnww", "M": "wnwnnnnwn", "N": "nnnnwnnww", "O": "wnnnwnnwn",
    "P": "nnwnwnnwn", "Q": "nnnnnnwww", "R": "wnnnnnwwn", "S": "nnwnnnwwn", "T": "nnnnwnwwn",
    "U": "wwnnnnnnw", "V": "nwwnnnnnw", "W": "wwwnnnnnn", "X": "nwnnwnnnw", "Y": "wwnnwnnnn",
    "Z": "nwwnwnnnn", "-": "nwnnnnwnw", ".": "wwnnnnwnn", " ": "nwwnnnwnn", "*": "nwnnwnwnn",
}


def code39_modules(text: str, narrow: int = 3, ratio: float = 2.5) -> np.ndarray:
    """1-D array of 1 (bar) / 0 (space) pixels for `*TEXT*` (quiet zones not included)."""
    wide = max(narrow + 1, round(narrow * ratio))
    out: list[int] = []
    for i, ch in enumerate("*" + text.upper() + "*"):
        pattern = CODE39[ch]
        for j, e in enumerate(pattern):
            out += [1 if j % 2 == 0 else 0] * (wide if e == "w" else narrow)
        if i < len(text) + 1:
            out += [0] * narrow  # inter-character gap
    return np.array(out, dtype=np.uint8)


def code39_image(text: str, height: int = 90, narrow: int = 3, quiet: int = 30) -> np.ndarray:
    """Grayscale barcode image (white background, black bars) with quiet zones."""
    mods = code39_modules(text, narrow)
    row = np.where(mods == 1, 0, 255).astype(np.uint8)
    row = np.concatenate([np.full(quiet, 255, np.uint8), row, np.full(quiet, 255, np.uint8)])
    return np.repeat(row[None, :], height, axis=0)


# ------------------------------------------------------------------------------------------
# Drawing helpers (Pillow RGB canvas, converted to BGR at the end)
# ------------------------------------------------------------------------------------------

def _guilloche(w: int, h: int, base: tuple[int, int, int], line: tuple[int, int, int],
               seed: int) -> Image.Image:
    """A light security-print background: colour gradient plus fine sine-wave lines."""
    rng = np.random.default_rng(seed)
    xx = np.mgrid[0:h, 0:w][1].astype(np.float32)
    img = np.empty((h, w, 3), np.float32)
    grad = 0.92 + 0.08 * (xx / w)
    for c in range(3):
        img[..., c] = base[c] * grad
    canvas = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    for k in range(26):
        amp, freq = rng.uniform(8, 30), rng.uniform(0.008, 0.02)
        phase, y0 = rng.uniform(0, 6.28), rng.uniform(-20, h + 20)
        pts = [(x, y0 + amp * math.sin(freq * x + phase + k * 0.3)) for x in range(0, w + 8, 8)]
        draw.line(pts, fill=line, width=1)
    cx, cy = w * 0.72, h * 0.55
    for r in range(30, int(h * 0.45), 9):
        draw.ellipse([cx - r * 1.3, cy - r, cx + r * 1.3, cy + r], outline=line, width=1)
    return canvas


def _text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int,
          fill: tuple[int, int, int] = (20, 20, 30), kind: str = "sans") -> None:
    draw.text(xy, text, font=_font(kind, size), fill=fill)


def _label_value(draw: ImageDraw.ImageDraw, x: float, y: float, label: str, value: str,
                 vsize: int = 30) -> None:
    _text(draw, (x, y), label, 15, (90, 60, 90))
    _text(draw, (x, y + 18), value, vsize, (15, 15, 25), "bold")


def _paste_photo(canvas: Image.Image, face: FaceName, box: tuple[int, int, int, int],
                 gray: bool = True) -> None:
    x0, y0, x1, y1 = box
    photo = cv2.resize(face_portrait(face), (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    if gray:
        photo = cv2.cvtColor(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    canvas.paste(Image.fromarray(cv2.cvtColor(photo, cv2.COLOR_BGR2RGB)), (x0, y0))


def _specimen_stamp(canvas: Image.Image, xy: tuple[int, int], size: int = 46) -> None:
    layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    d.text(xy, "SPECIMEN", font=_font("bold", size), fill=(200, 30, 30, 150))
    rotated = layer.rotate(12, center=xy, resample=Image.Resampling.BICUBIC)
    canvas.paste(rotated, (0, 0), rotated)


def _mrz_block(draw: ImageDraw.ImageDraw, lines: list[str], x0: int, y0: int,
               width: int) -> tuple[int, int, int, int]:
    """Draw MRZ lines on a fixed grid spanning `width` (ICAO: 10 characters per inch, 6 lines
    per inch, i.e. 30 × 50 px at 300 dpi); the font size makes the glyph advance the pitch."""
    pitch = width / len(lines[0])
    probe = _font("mrz", 100)
    advance = probe.getlength("H") / 100 if hasattr(probe, "getlength") else 0.6
    font = _font("mrz", max(8, round(pitch / advance)))
    line_h = round(pitch * 5 / 3)
    for li, line in enumerate(lines):
        for ci, ch in enumerate(line):
            draw.text((x0 + ci * pitch, y0 + li * line_h), ch, font=font, fill=(10, 10, 10))
    return x0, y0, x0 + width, y0 + line_h * len(lines)


def _rounded(canvas: Image.Image, radius: int) -> np.ndarray:
    """BGR array with corners outside the rounded rectangle set to transparent-black marker."""
    arr = cv2.cvtColor(np.asarray(canvas), cv2.COLOR_RGB2BGR)
    mask = np.zeros(arr.shape[:2], np.uint8)
    h, w = mask.shape
    cv2.rectangle(mask, (radius, 0), (w - radius, h), 255, -1)
    cv2.rectangle(mask, (0, radius), (w, h - radius), 255, -1)
    for cx, cy in ((radius, radius), (w - radius - 1, radius), (radius, h - radius - 1),
                   (w - radius - 1, h - radius - 1)):
        cv2.circle(mask, (cx, cy), radius, 255, -1)
    arr[mask == 0] = 0
    return arr


# ------------------------------------------------------------------------------------------
# Documents
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Zones:
    """Where things are on a rendered document, in its own pixel coordinates (x0, y0, x1, y1)."""

    photo: tuple[int, int, int, int] | None = None
    mrz: tuple[int, int, int, int] | None = None
    barcode: tuple[int, int, int, int] | None = None
    extra: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)


def _fmt(d: date) -> str:
    return d.strftime("%d.%m.%Y")


def render_cie_front(p: SpecimenPerson = DEMO_PERSON) -> np.ndarray:
    return _cie_front(p)[0]


def _cie_front(p: SpecimenPerson) -> tuple[np.ndarray, Zones]:
    w, h = ID1_SIZE
    c = _guilloche(w, h, (236, 228, 236), (214, 196, 222), seed=1)
    d = ImageDraw.Draw(c)
    d.rectangle([0, 0, w, 86], fill=(196, 212, 232))
    _text(d, (40, 14), "REPUBBLICA ITALIANA", 30, (20, 40, 110), "bold")
    _text(d, (40, 52), "CARTA DI IDENTITÀ / IDENTITY CARD", 20, (20, 40, 110))
    _text(d, (w - 250, 30), p.document_number, 36, (170, 20, 30), "bold")
    photo = (40, 120, 300, 467)
    _paste_photo(c, p.face, photo)
    _text(d, (40, 480), p.issuer, 20, (30, 30, 60), "bold")
    x = 340
    _label_value(d, x, 110, "COMUNE DI / MUNICIPALITY", p.issuer.removeprefix("COMUNE DI "), 26)
    _label_value(d, x, 170, "COGNOME / SURNAME", p.surname)
    _label_value(d, x, 236, "NOME / NAME", p.given_names)
    _label_value(d, x, 302, "LUOGO E DATA DI NASCITA / PLACE AND DATE OF BIRTH",
                 f"{p.birth_place} ({p.birth_province}) {_fmt(p.birth_date)}", 26)
    _label_value(d, x, 364, "SESSO / SEX", p.sex, 26)
    _label_value(d, x + 170, 364, "STATURA / HEIGHT", str(p.height_cm), 26)
    _label_value(d, x + 380, 364, "CITTADINANZA / NATIONALITY", p.nationality, 26)
    _label_value(d, x, 426, "EMISSIONE / ISSUING", _fmt(p.issue_date), 26)
    _label_value(d, x + 300, 426, "SCADENZA / EXPIRY", _fmt(p.expiry_date), 26)
    _text(d, (x, 500), "FIRMA DEL TITOLARE / HOLDER'S SIGNATURE", 14, (90, 60, 90))
    d.line([(x, 570), (x + 330, 560)], fill=(30, 30, 90), width=3)
    d.rounded_rectangle([w - 170, 470, w - 40, 570], radius=12, fill=(205, 180, 95),
                        outline=(150, 120, 50), width=2)  # chip
    _specimen_stamp(c, (420, 520))
    zones = Zones(photo=photo, extra={"chip": (w - 170, 470, w - 40, 570),
                                      "number": (w - 250, 30, w - 20, 75)})
    return _rounded(c, 38), zones


def render_cie_back(p: SpecimenPerson = DEMO_PERSON) -> np.ndarray:
    return _cie_back(p)[0]


def _cie_back(p: SpecimenPerson) -> tuple[np.ndarray, Zones]:
    w, h = ID1_SIZE
    c = _guilloche(w, h, (236, 228, 236), (214, 196, 222), seed=2)
    d = ImageDraw.Draw(c)
    _label_value(d, 40, 30, "CODICE FISCALE / FISCAL CODE", p.codice_fiscale, 28)
    _label_value(d, 40, 96, "INDIRIZZO DI RESIDENZA / RESIDENCE", p.address, 24)
    _label_value(d, 40, 156, "ESTREMI ATTO DI NASCITA", "00012 / I / A / 1985", 22)
    ghost = (w - 200, 30, w - 60, 206)
    _paste_photo(c, p.face, ghost)  # ghost image
    _specimen_stamp(c, (380, 190), 40)
    mrz_box = (0, 392, w, h)
    d.rectangle(mrz_box, fill=(246, 244, 246))
    zone = _mrz_block(d, person_mrz_td1(p), 56, 430, 900)
    return _rounded(c, 38), Zones(mrz=zone, extra={"ghost": ghost})


def render_ts_front(p: SpecimenPerson = DEMO_PERSON) -> np.ndarray:
    return _ts_front(p)[0]


def _ts_front(p: SpecimenPerson) -> tuple[np.ndarray, Zones]:
    w, h = ID1_SIZE
    c = _guilloche(w, h, (214, 232, 240), (182, 210, 226), seed=3)
    d = ImageDraw.Draw(c)
    d.rectangle([0, 0, w, 96], fill=(40, 90, 160))
    _text(d, (40, 18), "TESSERA SANITARIA", 40, (255, 255, 255), "bold")
    _text(d, (w - 330, 34), "Carta Nazionale dei Servizi", 22, (255, 255, 255))
    d.rounded_rectangle([60, 150, 210, 260], radius=14, fill=(205, 180, 95),
                        outline=(150, 120, 50), width=2)
    x = 300
    _label_value(d, x, 120, "Codice fiscale", p.codice_fiscale, 32)
    _label_value(d, x, 190, "Cognome", p.surname)
    _label_value(d, x, 256, "Nome", p.given_names)
    _label_value(d, x, 322, "Luogo di nascita", p.birth_place, 26)
    _label_value(d, x + 320, 322, "Provincia", p.birth_province, 26)
    _label_value(d, x, 386, "Data di nascita", _fmt(p.birth_date), 26)
    _label_value(d, x + 320, 386, "Sesso", p.sex, 26)
    _label_value(d, x, 450, "Data di scadenza", _fmt(p.expiry_date), 26)
    _text(d, (40, 560), "MINISTERO DELL'ECONOMIA E DELLE FINANZE", 18, (40, 90, 160), "bold")
    _specimen_stamp(c, (560, 470))
    return _rounded(c, 38), Zones(extra={"chip": (60, 150, 210, 260)})


def render_ts_back(p: SpecimenPerson = DEMO_PERSON) -> np.ndarray:
    return _ts_back(p)[0]


def _ts_back(p: SpecimenPerson) -> tuple[np.ndarray, Zones]:
    w, h = ID1_SIZE
    c = _guilloche(w, h, (226, 232, 244), (196, 206, 232), seed=4)
    d = ImageDraw.Draw(c)
    d.rectangle([0, 40, w, 130], fill=(35, 30, 30))  # magnetic stripe
    _text(d, (40, 150), "TESSERA EUROPEA DI ASSICURAZIONE MALATTIA", 22, (30, 40, 120), "bold")
    _label_value(d, 40, 190, "3. Cognome / Surname", p.surname, 26)
    _label_value(d, 40, 250, "4. Nome / Given names", p.given_names, 26)
    _label_value(d, 520, 190, "5. Data di nascita", _fmt(p.birth_date), 26)
    _label_value(d, 520, 250, "8. N. identificazione tessera", p.ts_card_number, 22)
    bar = code39_image(p.codice_fiscale, height=110, narrow=3, quiet=34)
    bx, by = (w - bar.shape[1]) // 2, 360
    c.paste(Image.fromarray(bar).convert("RGB"), (bx, by))
    _text(d, (bx + 34, by + 116), p.codice_fiscale, 26, (10, 10, 10), "sans")
    _specimen_stamp(c, (600, 520), 40)
    zone = (bx, by, bx + bar.shape[1], by + bar.shape[0])
    return _rounded(c, 38), Zones(barcode=zone)


def render_passport(p: SpecimenPerson = DEMO_PERSON) -> np.ndarray:
    return _passport(p)[0]


def _passport(p: SpecimenPerson) -> tuple[np.ndarray, Zones]:
    w, h = ID3_SIZE
    c = _guilloche(w, h, (232, 226, 240), (206, 190, 220), seed=5)
    d = ImageDraw.Draw(c)
    _text(d, (60, 30), "REPUBBLICA ITALIANA", 36, (100, 20, 40), "bold")
    _text(d, (60, 76), "PASSAPORTO / PASSPORT", 24, (100, 20, 40))
    photo = (60, 150, 440, 650)
    _paste_photo(c, p.face, photo)
    x = 490
    _label_value(d, x, 130, "Tipo / Type", "P", 28)
    _label_value(d, x + 200, 130, "Codice / Code", p.nationality, 28)
    _label_value(d, x + 470, 130, "Passaporto N. / Passport No.", p.passport_number, 30)
    _label_value(d, x, 200, "Cognome / Surname", p.surname, 32)
    _label_value(d, x, 270, "Nome / Given names", p.given_names, 32)
    _label_value(d, x, 340, "Cittadinanza / Nationality", "ITALIANA", 28)
    _label_value(d, x, 405, "Data di nascita / Date of birth", _fmt(p.birth_date), 28)
    _label_value(d, x + 470, 405, "Sesso / Sex", p.sex, 28)
    _label_value(d, x, 470, "Luogo di nascita / Place of birth", p.birth_place, 28)
    _label_value(d, x, 535, "Data di rilascio / Date of issue", _fmt(p.issue_date), 28)
    _label_value(d, x + 470, 535, "Data di scadenza / Date of expiry", _fmt(p.expiry_date), 28)
    _label_value(d, x, 600, "Autorità / Authority", "MINISTRO AFFARI ESTERI", 26)
    _specimen_stamp(c, (700, 690), 60)
    d.rectangle([0, 780, w, h], fill=(244, 242, 246))
    zone = _mrz_block(d, person_mrz_td3(p), 80, 840, 1320)
    return cv2.cvtColor(np.asarray(c), cv2.COLOR_RGB2BGR), Zones(photo=photo, mrz=zone)


_RENDERERS = {"cie_front": _cie_front, "cie_back": _cie_back, "ts_front": _ts_front,
              "ts_back": _ts_back, "passport": _passport}


def render(kind: DocKind, person: SpecimenPerson = DEMO_PERSON) -> tuple[np.ndarray, Zones]:
    """Render one document side; returns (BGR image, zones in image coordinates)."""
    if kind not in _RENDERERS:
        raise ValueError(f"unknown document {kind!r}")
    return _RENDERERS[kind](person)


# ------------------------------------------------------------------------------------------
# Scenes: a document photographed at an angle, with blur, glare and noise
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SceneParams:
    size: tuple[int, int] = (1280, 720)  # output width, height
    yaw: float = 0.0  # degrees, rotation about the vertical axis
    pitch: float = 0.0  # degrees, about the horizontal axis
    roll: float = 0.0  # degrees, in-plane
    scale: float = 0.6  # card width as a fraction of the frame width
    center: tuple[float, float] = (0.5, 0.5)  # fractions of the frame
    blur: float = 0.0  # Gaussian sigma in output pixels
    motion_blur: int = 0  # horizontal motion blur length in pixels
    glare: float = 0.0  # 0..1 strength of a specular highlight
    glare_at: tuple[float, float] = (0.3, 0.4)  # highlight centre, fractions of the document
    glare_size: float = 0.18  # highlight radius as a fraction of the document width
    noise: float = 2.0  # Gaussian sensor noise sigma (grey levels)
    brightness: float = 1.0  # global gain (exposure)
    jpeg_quality: int = 0  # 0 = no JPEG round trip
    background: Literal["desk", "dark", "light"] = "desk"
    seed: int = 0


def random_scene(rng: np.random.Generator, size: tuple[int, int] = (1280, 720),
                 hard: bool = False, aspect: float = ID1_SIZE[0] / ID1_SIZE[1]) -> SceneParams:
    """Varied but plausible capture conditions (what an applicant's webcam gives).

    `aspect` is the document's width/height: the document is kept inside the frame.
    """
    k = 1.6 if hard else 1.0
    top = min(0.7, 0.72 * size[1] * aspect / size[0])
    return SceneParams(
        size=size, yaw=float(rng.uniform(-18, 18) * k), pitch=float(rng.uniform(-15, 15) * k),
        roll=float(rng.uniform(-10, 10) * k), scale=float(rng.uniform(0.72, 1.0) * top),
        center=(float(rng.uniform(0.42, 0.58)), float(rng.uniform(0.42, 0.58))),
        blur=float(rng.choice([0, 0, 0.8, 1.2, 1.8 * k])),
        glare=float(rng.choice([0, 0, 0.5, 0.8])),
        glare_at=(float(rng.uniform(0.1, 0.9)), float(rng.uniform(0.1, 0.9))),
        noise=float(rng.uniform(1, 4)), brightness=float(rng.uniform(0.85, 1.1)),
        jpeg_quality=int(rng.choice([0, 85, 70])), background=str(  # type: ignore[arg-type]
            rng.choice(["desk", "dark", "light"])), seed=int(rng.integers(1 << 30)),
    )


def _background(w: int, h: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "dark":
        base = np.array([48, 44, 40], np.float32)
    elif kind == "light":
        base = np.array([175, 180, 185], np.float32)
    else:
        base = np.array([60, 95, 135], np.float32)  # wooden desk, BGR
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    grain = 12 * np.sin(xx / 23.0 + 3 * np.sin(yy / 61.0)) + rng.normal(0, 4, (h, w))
    img = base[None, None, :] + grain[..., None] * np.array([0.6, 0.8, 1.0], np.float32)
    shade = 0.85 + 0.25 * (1 - ((xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2))
    return np.clip(img * shade[..., None], 0, 255).astype(np.uint8)


def document_corners(doc_size: tuple[int, int], p: SceneParams) -> np.ndarray:
    """Where the document's corners (TL, TR, BR, BL) land in the frame, float32 (4, 2)."""
    dw, dh = doc_size
    fw, fh = p.size
    width = p.scale * fw
    hw, hh = width / 2, width * dh / dw / 2
    pts = np.array([[-hw, -hh, 0], [hw, -hh, 0], [hw, hh, 0], [-hw, hh, 0]], np.float64)
    ya, pi, ro = (math.radians(v) for v in (p.yaw, p.pitch, p.roll))
    ry = np.array([[math.cos(ya), 0, math.sin(ya)], [0, 1, 0], [-math.sin(ya), 0, math.cos(ya)]])
    rx = np.array([[1, 0, 0], [0, math.cos(pi), -math.sin(pi)], [0, math.sin(pi), math.cos(pi)]])
    rz = np.array([[math.cos(ro), -math.sin(ro), 0], [math.sin(ro), math.cos(ro), 0], [0, 0, 1]])
    rotated = pts @ (rz @ rx @ ry).T
    f = 1.2 * fw  # focal length in pixels (a ~55° webcam)
    z = f + rotated[:, 2]
    u = f * rotated[:, 0] / z + p.center[0] * fw
    v = f * rotated[:, 1] / z + p.center[1] * fh
    return np.stack([u, v], axis=1).astype(np.float32)


def place_in_scene(doc: np.ndarray, params: SceneParams | None = None,
                   **overrides: object) -> tuple[np.ndarray, np.ndarray]:
    """Photograph `doc` (BGR) in a scene; returns (BGR frame, corners TL,TR,BR,BL float32 (4,2)).

    Pure-black pixels of `doc` (the outside of rounded corners) show the background.
    """
    p = replace(params or SceneParams(), **overrides)  # type: ignore[arg-type]
    rng = np.random.default_rng(p.seed)
    fw, fh = p.size
    dh, dw = doc.shape[:2]
    frame = _background(fw, fh, p.background, rng)
    corners = document_corners((dw, dh), p)
    src = np.array([[0, 0], [dw - 1, 0], [dw - 1, dh - 1], [0, dh - 1]], np.float32)
    m = cv2.getPerspectiveTransform(src, corners)
    warped = cv2.warpPerspective(doc, m, (fw, fh), flags=cv2.INTER_AREA)
    mask_src = (doc.max(axis=2) > 0).astype(np.uint8) * 255
    mask = cv2.warpPerspective(mask_src, m, (fw, fh), flags=cv2.INTER_LINEAR)
    # soft shadow under the card
    shadow = cv2.GaussianBlur(mask, (0, 0), 8).astype(np.float32) / 255.0
    shadow = np.roll(shadow, (6, 6), axis=(0, 1))
    out = frame.astype(np.float32) * (1 - 0.35 * shadow[..., None])
    a = mask.astype(np.float32)[..., None] / 255.0
    out = out * (1 - a) + warped.astype(np.float32) * a
    if p.glare > 0:
        gx, gy = p.glare_at
        centre = cv2.perspectiveTransform(np.array([[[gx * dw, gy * dh]]], np.float32), m)[0, 0]
        radius = p.glare_size * float(np.linalg.norm(corners[1] - corners[0]))
        yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float32)
        dist2 = ((xx - centre[0]) / 1.5) ** 2 + (yy - centre[1]) ** 2
        blob = np.exp(-dist2 / (2 * (radius / 2) ** 2)) * p.glare
        core = np.clip(blob * 1.6, 0, 1)[..., None] * a
        out = out * (1 - core) + 255 * core
    out *= p.brightness
    if p.blur > 0:
        out = cv2.GaussianBlur(out, (0, 0), p.blur)
    if p.motion_blur > 1:
        k = np.full((1, p.motion_blur), 1.0 / p.motion_blur, np.float32)
        out = cv2.filter2D(out, -1, k)
    if p.noise > 0:
        out = out + np.asarray(rng.normal(0, p.noise, out.shape), np.float32)
    img = np.clip(out, 0, 255).astype(np.uint8)
    if p.jpeg_quality:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, p.jpeg_quality])
        if ok:
            img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return img, corners


def random_seed() -> int:
    """A fresh seed for callers that want unpredictable scenes (the synthetic applicant)."""
    return secrets.randbelow(1 << 30)
