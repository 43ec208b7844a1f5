"""Synthetic applicant parts: scene, script mapping, A/V flash sync, y4m clip, CLI errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from demo.applicant.scene import (
    SCRIPT,
    Gesture,
    Hand,
    SceneRenderer,
    Step,
    flash_active,
    frame_count_y4m,
    gesture_for,
    hand_for,
    icao_check_digit,
    step_for,
    td1_mrz,
    write_y4m,
)
from demo.applicant.tracks import SceneState, SyntheticAudioTrack
from media import framestamp

REPO = Path(__file__).resolve().parents[1]


def test_step_and_hand_mapping() -> None:
    assert step_for("document_front") is Step.ID_FRONT
    assert step_for("DOCUMENT_BACK") is Step.ID_BACK
    assert step_for("health_card") is Step.TS_BACK  # the barcode side
    assert step_for("face") is Step.FACE
    assert step_for("unknown") is None
    assert hand_for("raise_right_hand") is Hand.RIGHT
    assert hand_for("raise_left_hand") is Hand.LEFT
    assert hand_for("lower_hand") is Hand.NONE
    assert hand_for("blink") is None
    for code in ("turn_head_right", "turn_head_left", "touch_right_ear", "touch_nose",
                 "show_three_fingers", "look_up", "cover_left_eye"):
        assert gesture_for(code) is Gesture(code)
    assert gesture_for("nod_twice") is Gesture.LOOK_DOWN


def test_every_gesture_changes_the_picture() -> None:
    r = SceneRenderer(1280, 720)
    plain = r.bgr(Step.FACE, Gesture.NONE)
    seen: list[np.ndarray] = []
    for g in Gesture:
        if g is Gesture.NONE:
            continue
        img = r.bgr(Step.FACE, g)
        assert not np.array_equal(img, plain), g
        assert all(not np.array_equal(img, other) for other in seen), g
        seen.append(img)


def test_nod_alternates() -> None:
    state = SceneState()
    state.perform(Gesture.LOOK_DOWN, nod=True)
    import time as _t

    now = _t.time()
    shown = {state.current_gesture(now + dt) for dt in (0.05, 0.45, 0.85, 1.25)}
    assert shown == {Gesture.LOOK_DOWN, Gesture.NONE}
    assert state.current_gesture(now + 2.0) is Gesture.NONE


def test_scenes_differ_per_step() -> None:
    r = SceneRenderer(1280, 720)
    frames = {s: r.i420(s, Hand.NONE) for s in SCRIPT}
    for s in SCRIPT:
        assert frames[s].shape == (1080, 1280)
    keys = list(frames)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            assert not np.array_equal(frames[a], frames[b]), (a, b)
    assert not np.array_equal(r.i420(Step.FACE, Hand.RIGHT), frames[Step.FACE])
    png = r.png(Step.ID_BACK)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError):
        SceneRenderer(640, 480)


def test_video_frame_carries_stamp_and_flash() -> None:
    r = SceneRenderer(1280, 720)
    buf = r.video_frame(Step.FACE, Hand.NONE, 3, flash=False)
    framestamp.paint_i420(buf, 1280, 720, 123456789)
    assert framestamp.read_plane(buf[:720]) == 123456789
    flash = r.video_frame(Step.FACE, Hand.NONE, 3, flash=True)
    assert flash[:720].min() == 255


def test_mrz_check_digits() -> None:
    # ICAO 9303 part 4 specimen document number check digit
    assert icao_check_digit("L898902C3") == "6"
    l1, l2, l3 = td1_mrz()
    assert len(l1) == len(l2) == len(l3) == 30
    assert l3.startswith("ROSSI<<MARIA")


def test_beep_and_flash_share_the_clock() -> None:
    state = SceneState(flash_period=4.0, flash_duration=0.1)
    track = SyntheticAudioTrack(state, mode="silence")
    t = np.arange(0, 8.0, 1 / 48_000) + 1_800_000_000.0  # two periods of wall-clock time
    samples = track.samples(t)
    loud = np.abs(samples) > 0.1
    in_flash = np.array([flash_active(x, 4.0, 0.1) for x in t[240::480]])  # block middles
    # every 10 ms block: beep present exactly when the video would flash
    blocks = loud.reshape(-1, 480).any(axis=1)
    assert np.array_equal(blocks, in_flash)
    assert blocks.sum() == 20  # 2 windows x 100 ms
    speech = SyntheticAudioTrack(SceneState(flash_period=0), mode="speech").samples(t[:48_000])
    assert 0.01 < float(np.abs(speech).mean()) < 0.5
    with pytest.raises(ValueError):
        SyntheticAudioTrack(state, mode="music")


def test_write_y4m(tmp_path: Path) -> None:
    out = write_y4m(tmp_path / "clip.y4m", 800, 240, fps=2, seconds_per_step=1.0)
    header = out.read_bytes().split(b"\n", 1)[0].decode()
    assert header.split() == ["YUV4MPEG2", "W800", "H240", "F2:1", "Ip", "A1:1", "C420"]
    assert frame_count_y4m(out) == 2 * len(SCRIPT)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "demo.applicant", *args], cwd=str(REPO),
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_cli_bad_arguments() -> None:
    res = _cli("--desk", "http://127.0.0.1:9")
    assert res.returncode == 2
    assert "required" in res.stderr
    res = _cli("--desk", "http://127.0.0.1:9", "--join-token", "x" * 20, "--width", "100")
    assert res.returncode == 2
    assert "Traceback" not in res.stderr


def test_cli_refused_join_link(desk_server_shared: Any) -> None:
    secret = "not-a-valid-join-token-123"
    res = _cli("--desk", desk_server_shared.base_url, env={"SYNTHETIC_JOIN_TOKEN": secret})
    assert res.returncode == 3
    assert "Traceback" not in res.stderr
    assert secret not in res.stderr + res.stdout  # tokens never in a log line


def test_in_process_applicant_thread(desk_server_shared: Any) -> None:
    import threading

    from demo.applicant import ApplicantConfig, ApplicantThread

    before = set(threading.enumerate())
    events: list[str] = []
    app = ApplicantThread(ApplicantConfig(desk_server_shared.base_url, "x" * 30),
                          on_event=lambda name, data: events.append(name)).start()
    assert app.done.wait(30)
    app.stop(10)
    assert app.result == "auth"  # the desk closed the socket 4401: invalid join link
    assert not app.alive
    assert [t for t in threading.enumerate() if t not in before and t.is_alive()] == []
