"""The still-image pipeline: quality, document, MRZ, codice fiscale, faces — one JSON-able result.

Used by `recognition-console inspect` and by the session for stills the applicant sends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

import cv2
import numpy as np

from console.checks import barcode, card, mrz, mrz_ocr, quality
from console.checks import codice_fiscale as cfmod
from console.checks import faces as facemod

logger = logging.getLogger(__name__)


@dataclass
class Inspection:
    quality: quality.QualityReport | None = None
    card: card.CardDetection | None = None
    mrz: mrz_ocr.MrzRead | None = None
    mrz_comparison: dict[str, object] | None = None
    codice_fiscale: cfmod.CodiceFiscaleResult | None = None
    cf_comparison: dict[str, str] | None = None
    faces: list[facemod.Face] = field(default_factory=list)
    face_comparison: facemod.FaceComparison | None = None
    errors: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        q = self.quality
        out: dict[str, object] = {
            "quality": None if q is None else q.to_json(),
            "card": None if self.card is None else self.card.to_json(),
            "card_format": None if self.card is None else self.card.format,
            "mrz": None,
            "codice_fiscale": None,
            "faces": {"count": len(self.faces), "boxes": [list(f.box) for f in self.faces]},
            "errors": self.errors,
        }
        if self.mrz is not None and self.mrz.result is not None:
            m = self.mrz.result.to_json()
            if self.mrz_comparison is not None:
                m["comparison"] = self.mrz_comparison
            out["mrz"] = m
        if self.codice_fiscale is not None:
            c = self.codice_fiscale.to_json()
            if self.cf_comparison is not None:
                c["comparison"] = self.cf_comparison
            out["codice_fiscale"] = c
        if self.face_comparison is not None:
            out["face_match"] = self.face_comparison.to_json()
        return out


def _better(a: mrz_ocr.MrzRead | None, b: mrz_ocr.MrzRead) -> mrz_ocr.MrzRead:
    if a is None or a.result is None:
        return b
    if b.result is None:
        return a
    return b if sum(b.result.checks.values()) > sum(a.result.checks.values()) else a


def _faces_in_card_photo(img: np.ndarray, det: card.CardDetection) -> list[facemod.Face]:
    """Faces in the rectified document, boxes mapped back to the image."""
    flat = card.rectify(img, det.corners, det.format)
    found = facemod.detect_faces(flat, upsample=1)
    if not found:
        return []
    w, h = card.RECTIFIED_SIZE[det.format]
    dst = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    m = cv2.getPerspectiveTransform(dst, det.corners.astype(np.float32))
    out = []
    for f in found:
        pts = np.array([[[f.box[0], f.box[1]], [f.box[2], f.box[3]]]], np.float32)
        (x0, y0), (x1, y1) = cv2.perspectiveTransform(pts, m)[0]
        out.append(facemod.Face((int(min(x0, x1)), int(min(y0, y1)), int(max(x0, x1)),
                               int(max(y0, y1))), f.score))
    return out


def inspect_image(img: np.ndarray, request: dict[str, object] | None = None,
                  today: date | None = None, engine: mrz_ocr.Engine = "template",
                  detect_faces: bool = True, live_face: np.ndarray | None = None) -> Inspection:
    """Run every check on one decoded BGR image.  Never raises for image content: a failing
    step adds an entry to `errors` (code + English detail) and the others still run."""
    res = Inspection()
    today = today or date.today()
    try:
        res.quality = quality.assess(img)
        res.card = res.quality.card
    except cv2.error as exc:
        res.errors.append({"code": "quality_failed", "message": str(exc).splitlines()[0]})
    # MRZ: on the flat card first, then on the image as it is (a scan, or no card found)
    try:
        read: mrz_ocr.MrzRead | None = None
        if res.card is not None:
            flat = card.rectify(img, res.card.corners, res.card.format)
            read = mrz_ocr.read_mrz(flat, engine)
        if read is None or read.result is None or not read.result.valid:
            read = _better(read, mrz_ocr.read_mrz(img, engine, rectified=res.card is None))
        res.mrz = read
        if read.result is not None and request is not None:
            res.mrz_comparison = mrz.compare_with_request(read.result, request, today)
    except OSError as exc:  # e.g. the tesseract engine without the tesseract program
        res.errors.append({"code": "ocr_unavailable", "message": type(exc).__name__})
    except (cv2.error, RuntimeError, ValueError) as exc:
        res.errors.append({"code": "mrz_failed", "message": type(exc).__name__})
    try:
        res.codice_fiscale = barcode.read_codice_fiscale(img, res.card)
        if res.codice_fiscale is not None and request is not None:
            res.cf_comparison = cfmod.compare_with_request(res.codice_fiscale, request, today)
    except (cv2.error, RuntimeError, ValueError) as exc:
        res.errors.append({"code": "barcode_failed", "message": type(exc).__name__})
    if detect_faces:
        try:
            res.faces = facemod.detect_faces(img)
            if not res.faces and res.card is not None:
                res.faces = _faces_in_card_photo(img, res.card)
            if live_face is not None:
                doc_img = card.rectify(img, res.card.corners, res.card.format) \
                    if res.card is not None else img
                res.face_comparison = facemod.compare_faces(doc_img, live_face)
        except facemod.FaceModelsMissing as exc:
            res.errors.append({"code": "face_models_missing", "message": str(exc)})
        except (cv2.error, RuntimeError) as exc:
            res.errors.append({"code": "faces_failed", "message": type(exc).__name__})
    return res
