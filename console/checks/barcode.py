"""The Tessera Sanitaria's Code 39 barcode (the codice fiscale), read with zxing-cpp.

A skewed photo defeats 1-D decoders, so the card is found and rectified first; the raw image
and a sharpened, binarised copy are tried as well.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import zxingcpp

from console.checks.card import CardDetection, find_document, rectify
from console.checks.codice_fiscale import CodiceFiscaleResult, validate

logger = logging.getLogger(__name__)


def _decode(img: np.ndarray) -> list[str]:
    try:
        results = zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.Code39)  # type: ignore[arg-type]
    except (ValueError, RuntimeError) as exc:  # pragma: no cover - defensive
        logger.debug("zxing failed: %s", type(exc).__name__)
        return []
    return [r.text for r in results if r.valid]


def read_code39(img: np.ndarray, card: CardDetection | None = None,
                rectified: bool = False) -> list[str]:
    """Code 39 texts found in the image (rectifying a detected card first when skewed)."""
    attempts: list[np.ndarray] = []
    if rectified:
        attempts.append(img)
    else:
        det = card or find_document(img)
        if det is not None:
            attempts.append(rectify(img, det.corners, det.format))
        attempts.append(img)
    for att in attempts:
        found = _decode(att)
        if found:
            return found
    for att in attempts[:1]:
        gray = cv2.cvtColor(att, cv2.COLOR_BGR2GRAY) if att.ndim == 3 else att
        sharp = cv2.addWeighted(gray, 1.8, cv2.GaussianBlur(gray, (0, 0), 2.0), -0.8, 0)
        _t, bw = cv2.threshold(sharp, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        for variant in (sharp, bw):
            found = _decode(variant)
            if found:
                return found
    return []


def read_codice_fiscale(img: np.ndarray, card: CardDetection | None = None,
                        rectified: bool = False) -> CodiceFiscaleResult | None:
    """The codice fiscale from a Tessera Sanitaria barcode; None when no Code 39 is found.

    Among several barcodes the first that validates wins, else the first found.
    """
    texts = read_code39(img, card, rectified)
    if not texts:
        return None
    results = [validate(t, source="barcode") for t in texts]
    return next((r for r in results if r.valid), results[0])
