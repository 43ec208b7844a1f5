"""The automated checks standing in for the trainee in a headless training run (no Qt here).

From the stills a session captured (document front and back, health card, face) and the request
the desk holds, the console's own checks (``console.checks``) produce the findings a careful
operator makes:

* ``data_mismatch:<field>`` -- an MRZ field differs from the request (surname, given_names,
  document_number, birth_date, expiry_date, sex);
* ``document_expired`` -- the MRZ expiry date is past;
* ``face_mismatch`` -- the document photo and the live face are different people;
* ``third_person_present`` -- more than one face in the live picture.

The decision follows: reject with the first finding's reason code, else approve.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np

from media import imagegate

log = logging.getLogger(__name__)

# the order in which findings give the rejection's reason code
REASON_ORDER = ("third_person_present", "face_mismatch", "document_expired", "data_mismatch")


def decode_still(data: bytes) -> np.ndarray | None:
    """A BGR image through the image gate (media.imagegate), None when the gate refuses it."""
    try:
        return imagegate.decode_image(data, formats=imagegate.STILL_FORMATS)
    except imagegate.ImageGateError as exc:
        log.warning("training: still refused by the image gate: %s", exc.code.value)
        return None


def findings_from_stills(stills: Mapping[str, np.ndarray], request: dict[str, Any],
                         today: date | None = None) -> tuple[list[str], dict[str, Any]]:
    """Findings (codes) and the check details they come from (no personal data)."""
    from console.checks import faces
    from console.checks.pipeline import inspect_image

    today = today or date.today()
    found: list[str] = []
    details: dict[str, Any] = {}
    face_img = stills.get("face")
    for target in ("document_back", "document_front"):
        img = stills.get(target)
        if img is None:
            continue
        live = face_img if target == "document_front" else None
        res = inspect_image(img, request=request, today=today, detect_faces=live is not None,
                            live_face=live)
        comp = res.mrz_comparison
        if comp is not None and "mrz" not in details:
            fields = comp.get("fields", {})
            details["mrz"] = {"fields": fields, "expired": comp.get("expired")}
            if isinstance(fields, dict):
                for name, verdict in fields.items():
                    if verdict == "differ" and name != "expiry_date":
                        found.append(f"data_mismatch:{name}")
            if comp.get("expired") is True:
                found.append("document_expired")
        if res.face_comparison is not None:
            fc = res.face_comparison
            details["face"] = {"decision": fc.decision,
                               "distance": None if fc.distance is None else round(fc.distance, 3)}
            if fc.decision == "different":
                found.append("face_mismatch")
    if face_img is not None:
        count = len(faces.detect_faces(face_img, upsample=1))
        details["live_faces"] = count
        if count > 1:
            found.append("third_person_present")
    return sorted(set(found), key=found.index), details


def decision_for(findings: list[str]) -> tuple[str, str]:
    """(decision, reason_code): reject with the most serious finding's code, else approve."""
    for code in REASON_ORDER:
        if any(f == code or f.startswith(code + ":") for f in findings):
            return "rejected", code
    return "approved", "ok"
