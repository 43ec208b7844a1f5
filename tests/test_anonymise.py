"""Anonymised export: on a recording of the synthetic applicant's scene (a real face, then the
identity card held up), the face detector finds faces in the source and none in the export."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from console.checks import faces
from console.training.anonymise import AnonymiseError, export_anonymised
from ui.player.testdata import synthetic_recording

FPS = 10
SIZE = (800, 448)


@pytest.fixture(scope="module")
def scene_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo.applicant.scene import SceneRenderer, Step

    renderer = SceneRenderer(*SIZE)
    pictures = {step: cv2.cvtColor(renderer.bgr(step), cv2.COLOR_BGR2RGB)
                for step in (Step.FACE, Step.ID_FRONT)}

    def make(kind: str, i: int, t: float) -> np.ndarray:
        step = Step.FACE if t < 1.5 else Step.ID_FRONT
        dx = int(6 * np.sin(i / 3.0)) & ~1  # a hand-held camera moves a little
        return np.roll(pictures[step], dx, axis=1)

    path = tmp_path_factory.mktemp("anon") / "recording.mkv"
    return synthetic_recording(path, seconds=3.0, fps=FPS, size=SIZE, marks=(), gap=None,
                               frame_maker=make, audio=False)


def _card_area() -> tuple[int, int, int, int]:
    from demo.applicant.scene import SceneRenderer, Step

    r = SceneRenderer(*SIZE)
    diff = np.abs(r.bgr(Step.ID_FRONT).astype(int) - r.bgr(Step.FACE).astype(int)).sum(axis=2)
    ys, xs = np.nonzero(diff > 30)
    return int(xs.min()) + 10, int(ys.min()) + 10, int(xs.max()) - 40, int(ys.max()) - 10


def _decoded(path: Path, stream_index: int = 0) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(c.streams.video[stream_index])]


def _faces(img: np.ndarray) -> int:
    return len(faces.detect_faces(img, upsample=1))


def test_export_has_no_face_the_detector_finds(scene_recording: Path, tmp_path: Path) -> None:
    source = _decoded(scene_recording)
    found_in_source = [_faces(img) for img in source[::4]]
    assert all(n >= 1 for n in found_in_source), "positive control: the source shows faces"

    out = tmp_path / "clip.mkv"
    result = export_anonymised(scene_recording, out)
    assert result.frames == len(source)
    assert result.detections > 0 and result.document_hits > 0
    assert result.verified_frames == result.frames  # the encoded clip was searched again
    exported = _decoded(out)
    assert len(exported) == len(source)
    for i, img in enumerate(exported):
        assert _faces(img) == 0, f"a face is still found in exported frame {i}"
    # the card's printed data is gone too: the card area (where the ID_FRONT scene differs
    # from the face-only scene) keeps little detail
    x0, y0, x1, y1 = _card_area()
    before = cv2.Laplacian(cv2.cvtColor(source[-1][y0:y1, x0:x1], cv2.COLOR_BGR2GRAY),
                           cv2.CV_64F).var()
    after = cv2.Laplacian(cv2.cvtColor(exported[-1][y0:y1, x0:x1], cv2.COLOR_BGR2GRAY),
                          cv2.CV_64F).var()
    assert after < before * 0.1
    with av.open(str(out)) as c:
        assert len(c.streams.audio) == 0  # no voice in the anonymised clip


def test_a_face_left_in_the_encoded_clip_fails_the_export(
        scene_recording: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The export checks what it wrote, not only what it meant to write: with the blur
    broken, the faces reach the encoded clip, the export fails and leaves no file."""
    from console.training import anonymise

    monkeypatch.setattr(anonymise, "blur_box", lambda img, box: None)
    out = tmp_path / "leaky.mkv"
    with pytest.raises(AnonymiseError, match="face is still recognisable"):
        export_anonymised(scene_recording, out)
    assert not out.exists() and not list(tmp_path.glob("leaky.mkv*"))


def test_export_clip_range_and_errors(scene_recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "part.mkv"
    result = export_anonymised(scene_recording, out, start_s=1.0, end_s=1.5)
    assert result.frames == FPS // 2  # 1.0 .. 1.4
    with av.open(str(out)) as c:
        times = [float(f.pts * f.time_base) for f in c.decode(video=0)]
    assert times[0] == pytest.approx(0.0, abs=1e-3) and times[-1] == pytest.approx(0.4, abs=1e-3)
    with pytest.raises(AnonymiseError):
        export_anonymised(scene_recording, tmp_path / "x.mkv", start_s=2.0, end_s=1.0)
    junk = tmp_path / "junk.mkv"
    junk.write_bytes(b"junk")
    with pytest.raises(AnonymiseError):
        export_anonymised(junk, tmp_path / "y.mkv")
    assert not (tmp_path / "y.mkv").exists()


def test_cli_export_from_a_package_folder(scene_recording: Path, tmp_path: Path) -> None:
    """`recognition-console replay PACKAGE --export-anonymised OUT` (a bare recording folder
    stands in for the package here: the player only needs recording.mkv)."""
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "recording.mkv").write_bytes(scene_recording.read_bytes())
    out = tmp_path / "cli.mkv"
    proc = subprocess.run(
        [sys.executable, "-m", "console.cli", "replay", str(folder), "--export-anonymised",
         str(out), "--start", "0", "--end", "0.5"],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "anonymised clip" in proc.stdout and out.is_file()
    bad = subprocess.run(
        [sys.executable, "-m", "console.cli", "replay", str(tmp_path / "nope"),
         "--export-anonymised", str(out)], capture_output=True, text=True, timeout=60,
        check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_a_recording_kept_as_received_that_changes_size_is_exported(tmp_path: Path) -> None:
    """The applicant's stream kept as the browser sent it (VP8) can change size in a call (a
    browser adapting to the network): the export brings every frame to one size, faces blurred."""
    from fractions import Fraction

    from demo.applicant.scene import SceneRenderer, Step
    from media.encoded import ENCODED_KIND, RTP_VIDEO_RATE, EncodedVideo, vp8_keyframe_size
    from media.recorder import Recorder

    sizes = [SIZE] * 15 + [(960, 540)] * 15  # 1.5 s of the face, then the card, larger
    rec = Recorder(tmp_path / "rec.mkv", start_ts=1000.0, fps=FPS, copy_received_video=True)
    rec.start()
    ctx: av.CodecContext | None = None
    decoder = av.CodecContext.create("libvpx", "r")  # the live call's decoder
    for i, (w, h) in enumerate(sizes):
        if ctx is None or (ctx.width, ctx.height) != (w, h):
            ctx = av.CodecContext.create("libvpx", "w")
            ctx.width, ctx.height, ctx.pix_fmt = w, h, "yuv420p"
            ctx.time_base = Fraction(1, FPS)
            ctx.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
        step = Step.FACE if i < 15 else Step.ID_FRONT
        picture = av.VideoFrame.from_ndarray(SceneRenderer(w, h).bgr(step), format="bgr24")
        picture = picture.reformat(format="yuv420p")
        picture.pts = i
        (packet,) = ctx.encode(picture)
        data = bytes(packet)
        size = vp8_keyframe_size(data)
        frame = EncodedVideo("vp8", data, i * RTP_VIDEO_RATE // FPS, size is not None,
                             size is None or i == 0, size)
        assert rec.submit(ENCODED_KIND, frame, 1000.0 + i / FPS)
        (twin,) = decoder.decode(av.Packet(data))
        twin.pts, twin.time_base = frame.pts, Fraction(1, RTP_VIDEO_RATE)
        assert rec.submit("applicant_video", twin, 1000.0 + i / FPS + 0.004)
    rec.stop()
    assert rec.stats()["copied"] == 30
    shown = _decoded(rec.path)
    assert {img.shape[:2] for img in shown} == {(448, 800), (540, 960)}
    assert _faces(shown[0]) >= 1  # the face is there before the export

    out = tmp_path / "anon.mkv"
    result = export_anonymised(rec.path, out)
    exported = _decoded(out)
    assert len(exported) == 30 and result.frames == 30
    assert {img.shape[:2] for img in exported} == {(448, 800)}
    assert not any(_faces(img) for img in exported)
