"""The Chromium demo applicant's canvas camera (demo.canvas_camera): its pictures, pre-rendered
with the synthetic applicant's renderer, and the init script that carries them. The camera in a
real Chromium call is covered by tests/test_demo_autopilot.py."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from console.injection import virtual_camera
from demo import canvas_camera
from demo.applicant.scene import Step


def test_parse_size() -> None:
    assert canvas_camera.parse_size("1920x1080") == (1920, 1080)
    assert canvas_camera.parse_size("1280X720") == (1280, 720)
    for bad in ("1280", "axb", "1281x720", "640x480", "7680x4320"):
        with pytest.raises(ValueError):
            canvas_camera.parse_size(bad)


def test_pictures_and_init_script(tmp_path: Path) -> None:
    manifest_path = canvas_camera.render_frames(tmp_path / "camera", 800, 450)
    manifest = json.loads(manifest_path.read_text())
    assert (manifest["width"], manifest["height"]) == (800, 450)
    assert set(manifest["steps"]) == {s.value for s in Step}
    for pose in ("turn_head_left", "turn_head_right", "look_up", "move_closer"):
        assert [a for a, _ in manifest["poses"][pose]] == list(canvas_camera.AMOUNTS)
    assert manifest["poses"]["blink"] and manifest["gestures"]
    names = list(manifest["steps"].values())
    names += [n for levels in manifest["poses"].values() for _, n in levels]
    for name in names:
        img = cv2.imread(str(manifest_path.parent / name))
        assert img is not None and img.shape == (450, 800, 3)
    # a head turn changes the picture; the pictures differ from step to step
    face = cv2.imread(str(manifest_path.parent / manifest["steps"]["face"])).astype(np.int16)
    turned = cv2.imread(str(manifest_path.parent / manifest["poses"]["turn_head_left"][-1][1]))
    assert np.abs(face - turned.astype(np.int16)).mean() > 0.5
    # rendered once: a second call reuses them
    stamp = manifest_path.stat().st_mtime_ns
    assert canvas_camera.render_frames(tmp_path / "camera", 800, 450) == manifest_path
    assert manifest_path.stat().st_mtime_ns == stamp

    script = canvas_camera.init_script(manifest_path)
    assert "__CONFIG__" not in script
    assert canvas_camera.CAMERA_LABEL in script and "captureStream" in script
    # the control codes come from the synthetic applicant's own tables
    assert '"document_back":"id_back"' in script and '"turn_left":"turn_head_left"' in script


def test_the_canvas_camera_is_flagged_as_a_virtual_camera() -> None:
    assert virtual_camera(canvas_camera.CAMERA_LABEL) == "Recognition demo canvas camera"
    assert virtual_camera("Integrated Camera (04f2:b6d9)") is None
