"""Face detection and comparison, fully offline.

dlib's HOG frontal-face detector finds faces; the 5-point shape predictor aligns them and
dlib's ResNet model (both from the CC0 `face_recognition_models` package, located with
importlib so that package's `pkg_resources` import never runs) turns each into a 128-d
embedding.  Two embeddings closer than 0.6 (Euclidean) are the same person on dlib's
benchmark; we answer ``same`` below SAME_MAX, ``different`` above DIFFERENT_MIN and
``unknown`` in between or when a face is missing.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from console.checks import model_files

logger = logging.getLogger(__name__)

SAME_MAX = 0.55
DIFFERENT_MIN = 0.65
Decision = Literal["same", "different", "unknown"]
_MAX_SIDE = 1280  # detection runs on at most this many pixels per side


class FaceModelsMissing(RuntimeError):
    """dlib or the face_recognition_models files are not installed."""


def models_dir() -> Path:
    try:
        return model_files.models_dir()
    except model_files.ModelFileMissing as exc:
        raise FaceModelsMissing(str(exc)) from exc


def model_file(name: str) -> Path:
    """Model ``name``: the installed file, or (desktop build) the copy unpacked once into the
    user's cache from the bundled pack (console/checks/model_files.py)."""
    try:
        return model_files.model_file(name)
    except model_files.ModelFileMissing as exc:
        raise FaceModelsMissing(str(exc)) from exc


@functools.lru_cache(maxsize=1)
def _models() -> tuple[Any, Any, Any]:
    try:
        import dlib
    except ImportError as exc:  # pragma: no cover - dlib-bin is a dependency
        raise FaceModelsMissing("dlib is not installed") from exc
    sp = model_file("shape_predictor_5_face_landmarks.dat")
    rec = model_file("dlib_face_recognition_resnet_model_v1.dat")
    return (dlib.get_frontal_face_detector(), dlib.shape_predictor(str(sp)),
            dlib.face_recognition_model_v1(str(rec)))


@dataclass
class Face:
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the input image
    score: float
    embedding: np.ndarray | None = None

    @property
    def size(self) -> int:
        return min(self.box[2] - self.box[0], self.box[3] - self.box[1])


def _rgb(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def detect_faces(img: np.ndarray, upsample: int | None = None, embed: bool = False,
                 min_score: float = 0.0) -> list[Face]:
    """Faces in a BGR image, largest first.  `upsample` None: 1 for small images, else 0."""
    import dlib

    detector, predictor, recogniser = _models()
    h, w = img.shape[:2]
    scale = min(1.0, _MAX_SIDE / max(h, w))
    work = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) \
        if scale < 1.0 else img
    rgb = np.ascontiguousarray(_rgb(work))
    if upsample is None:
        upsample = 1 if max(work.shape[:2]) <= 700 else 0
    rects, scores, _idx = detector.run(rgb, upsample, min_score)
    faces: list[Face] = []
    for rect, score in zip(rects, scores, strict=True):
        box = (int(max(0, rect.left()) / scale), int(max(0, rect.top()) / scale),
               int(min(work.shape[1], rect.right()) / scale),
               int(min(work.shape[0], rect.bottom()) / scale))
        face = Face(box, float(score))
        if embed:
            shape = predictor(rgb, rect)
            face.embedding = np.array(recogniser.compute_face_descriptor(rgb, shape, 0))
        faces.append(face)
    del dlib
    faces.sort(key=lambda f: -(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
    return faces


def best_face(img: np.ndarray) -> Face | None:
    """The largest face with its embedding; tries upsampling when none is found."""
    faces = detect_faces(img, embed=True)
    if not faces and max(img.shape[:2]) <= 1400:
        faces = detect_faces(img, upsample=2 if max(img.shape[:2]) <= 500 else 1, embed=True)
    return faces[0] if faces else None


def decide(distance: float | None) -> Decision:
    if distance is None:
        return "unknown"
    if distance < SAME_MAX:
        return "same"
    if distance > DIFFERENT_MIN:
        return "different"
    return "unknown"


@dataclass
class FaceComparison:
    distance: float | None
    decision: Decision
    document_face: Face | None
    live_face: Face | None
    live_face_count: int

    def to_json(self) -> dict[str, object]:
        return {
            "distance": None if self.distance is None else round(self.distance, 4),
            "similarity": (None if self.distance is None
                           else round(max(0.0, 1.0 - self.distance), 4)),
            "decision": self.decision,
            "document_face": None if self.document_face is None else list(self.document_face.box),
            "live_face": None if self.live_face is None else list(self.live_face.box),
            "live_face_count": self.live_face_count,
        }


def compare_faces(document_img: np.ndarray, live_img: np.ndarray) -> FaceComparison:
    """Compare the face on a document image (ideally the rectified card or its photo zone)
    with the face in a live frame.  More than one live face is reported (third person)."""
    doc = best_face(document_img)
    live_faces = detect_faces(live_img, embed=True)
    if not live_faces:
        one = best_face(live_img)
        live_faces = [one] if one else []
    live = live_faces[0] if live_faces else None
    dist = None
    if doc is not None and live is not None and doc.embedding is not None \
            and live.embedding is not None:
        dist = float(np.linalg.norm(doc.embedding - live.embedding))
    return FaceComparison(dist, decide(dist), doc, live, len(live_faces))
