"""The session player on a generated evidence package: marks, seeking, stepping, zoom,
annotations beside the package (verify still passes), sealed packages, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.evidence import TrustStore, WorkstationKey, generate_archive_key, seal, verify
from media import framestamp
from media.playback import PlaybackError, probe
from ui.player.annotations import AnnotationError, Annotations
from ui.player.source import SourceError, open_source
from ui.player.testdata import DEFAULT_MARKS, synthetic_package

FPS = 10


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("player")
    key = WorkstationKey.load_or_create(root / "ws")
    return synthetic_package(root / "packages", key, seconds=10.0, fps=FPS)


def _trust(package: Path) -> TrustStore:
    """The local key that signed the fixture's package (root/ws), never the package's own."""
    return TrustStore.of_keys([WorkstationKey.load_or_create(package.parent.parent / "ws")])


def _stamp_s(frame: object) -> float:
    ms = framestamp.read_frame(frame)  # type: ignore[arg-type]
    assert ms is not None, "the shown frame carries no readable stamp"
    return ms / 1000


def _open(qtbot, package: Path):  # type: ignore[no-untyped-def]
    from ui.player.window import PlayerWindow

    window = PlayerWindow(open_source(package), author="formatore1")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.last_frames is not None, timeout=10_000)
    return window


def test_marks_are_read_from_the_package(package: Path) -> None:
    source = open_source(package)
    kinds = [(m.kind, m.label) for m in source.marks if m.kind != "gap"]
    assert kinds == [(k, lbl) for _t, k, lbl in DEFAULT_MARKS]
    gaps = [m for m in source.marks if m.kind == "gap"]
    assert gaps and all(m.end_s is not None and m.end_s > m.offset_s for m in gaps)
    info = probe(source.recording, index=True)
    assert set(info.videos) == {"applicant_video", "operator_video"}
    assert info.audio_kinds == ["applicant_audio", "operator_audio"]
    for idx in info.videos.values():  # the recorder's keyframe promise the seek relies on
        gaps_between = [b - a for a, b in zip(idx.key_times, idx.key_times[1:], strict=False)]
        assert max([*gaps_between, idx.times[-1] - idx.key_times[-1]]) <= 2.0 + 1e-6


def test_player_lands_on_each_mark_within_one_frame(qtbot, package: Path) -> None:  # type: ignore[no-untyped-def]
    window = _open(qtbot, package)
    frame_s = 1 / FPS
    for mark in window.source.marks:
        target = mark.offset_s
        # click the mark on the timeline, as the trainer does
        x = round(window.timeline.x_for(target))
        with qtbot.waitSignal(window.frames_shown, timeout=10_000) as blocker:
            from PySide6.QtCore import QPoint, Qt
            from PySide6.QtTest import QTest

            QTest.mouseClick(window.timeline, Qt.MouseButton.LeftButton, pos=QPoint(x, 20))
        frames = blocker.args[0]
        assert frames.reason == "seek"
        assert abs(frames.position_s - target) < 1e-6, "the click did not snap to the mark"
        shown_app = _stamp_s(frames.applicant)
        shown_op = _stamp_s(frames.operator)
        if mark.kind == "gap":  # no video inside a gap: the last picture before it is held
            assert shown_app <= target + 1e-3
            assert target - shown_app <= frame_s + 1e-3
        else:
            assert abs(shown_app - target) <= frame_s + 1e-3, (mark, shown_app)
        assert abs(shown_op - shown_app) <= frame_s + 1e-3  # the two sides in sync
        assert window.applicant_view.frames_shown > 0 and window.operator_view.frames_shown > 0
        assert window.last_seek_ms is not None
    window.close()


def test_frame_stepping_and_zoom(qtbot, package: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window = _open(qtbot, package)
    with qtbot.waitSignal(window.frames_shown, timeout=10_000):
        window.seek(3.0)
    for key, expected in ((Qt.Key.Key_Right, 3.1), (Qt.Key.Key_Right, 3.2),
                          (Qt.Key.Key_Left, 3.1)):
        with qtbot.waitSignal(window.frames_shown, timeout=10_000) as blocker:
            QTest.keyClick(window, key)
        assert blocker.args[0].reason == "step"
        assert abs(_stamp_s(blocker.args[0].applicant) - expected) < 1e-3
    shown = window.applicant_view.last_size
    QTest.keyClick(window, Qt.Key.Key_Plus)
    QTest.keyClick(window, Qt.Key.Key_Plus)
    assert window.zoom == pytest.approx(2.25)
    zoomed = window.applicant_view.last_size
    assert shown is not None and zoomed is not None and zoomed[0] < shown[0]
    window.set_zoom(1.0)
    assert window.applicant_view.last_size == shown
    window.close()


def test_play_advances_with_audio(qtbot, package: Path) -> None:  # type: ignore[no-untyped-def]
    window = _open(qtbot, package)
    with qtbot.waitSignal(window.frames_shown, timeout=10_000):
        window.seek(1.0)
    window.toggle_play()
    qtbot.waitUntil(lambda: window.last_frames is not None
                    and window.last_frames.position_s >= 1.5, timeout=10_000)
    window.toggle_play()
    qtbot.waitUntil(lambda: not window.playing, timeout=5_000)
    assert window.last_frames is not None and window.last_frames.reason == "play"
    window.close()


def test_annotations_beside_the_package_and_verify_still_passes(
        qtbot, package: Path) -> None:  # type: ignore[no-untyped-def]
    before = sorted(p.name for p in package.iterdir())
    window = _open(qtbot, package)
    with qtbot.waitSignal(window.frames_shown, timeout=10_000):
        window.seek(2.6)
    window.note_edit.setText("Guardate l'ologramma")
    window.add_note_button.click()
    window.add_annotation("Decision here", offset_s=8.9)
    assert window.annotation_list.count() == 2
    window.close()
    path = package.with_name(package.name + ".annotations.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [(a["offset_s"], a["text"]) for a in data["annotations"]] == [
        (2.6, "Guardate l'ologramma"), (8.9, "Decision here")]
    assert data["annotations"][0]["author"] == "formatore1"
    assert sorted(p.name for p in package.iterdir()) == before  # nothing added inside
    assert verify(package, trust=_trust(package)).ok
    # reopened: the notes are back, and a third one is appended
    again = _open(qtbot, package)
    assert again.annotation_list.count() == 2
    again.add_annotation("third", offset_s=5.0)
    again.close()
    assert len(Annotations.load(path).items) == 3
    assert verify(package, trust=_trust(package)).ok
    path.unlink()


def test_sealed_package_opens_with_the_key_only(tmp_path: Path, package: Path) -> None:
    public = generate_archive_key(tmp_path / "archive.key")
    sealed = tmp_path / "pkg.sealed"
    seal(package, public, sealed)
    with pytest.raises(SourceError) as err:
        open_source(sealed)
    assert err.value.code == "key_needed"
    source = open_source(sealed, tmp_path / "archive.key")
    try:
        assert source.recording.is_file() and source.marks
        assert source.annotations_path.parent == tmp_path
    finally:
        folder = source.temporary
        source.close()
    assert folder is not None and not folder.exists()


def test_bad_input_gets_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as err:
        open_source(tmp_path / "missing")
    assert err.value.code == "not_found"
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(SourceError) as err:
        open_source(junk)
    assert err.value.code == "not_a_package"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError):
        open_source(empty)
    bad_rec = tmp_path / "bad.mkv"
    bad_rec.write_bytes(b"not a video")
    with pytest.raises(PlaybackError):
        probe(bad_rec)
    bad_notes = tmp_path / "x.annotations.json"
    bad_notes.write_text("{", encoding="utf-8")
    with pytest.raises(AnnotationError):
        Annotations.load(bad_notes)


def test_sealed_package_replayed_from_the_archive_logs_the_access(
        tmp_path: Path, desk_server_shared, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    """A package sealed and uploaded to the real desk service; the trainer's anonymised export
    from the sealed file logs its access there (who, what, why)."""
    from console.cli import main as cli_main
    from console.evidence.cli import TokenApi
    from console.evidence.upload import Uploader

    srv = desk_server_shared
    request = srv.start_video_session("operatore1")  # uploads only on own sessions
    key = WorkstationKey.load_or_create(tmp_path / "ws")
    folder = synthetic_package(tmp_path / "packages", key, seconds=2.0, fps=FPS, marks=(),
                               gap=None, request_id=str(request["id"]))
    up = Uploader(TokenApi(srv.base_url, srv.login("operatore1")["access_token"]), tmp_path,
                  keep_sealed=True)
    item = up.submit(folder)
    assert up.run_pending().delivered == [item.idempotency_key]
    up.outbox.close()
    sealed = Path(item.payload["sealed"])
    pid = up.results[folder.name].service_package_id
    out = tmp_path / "class.mkv"
    trainer = srv.login("formatore1")["access_token"]
    capsys.readouterr()
    rc = cli_main(["replay", str(sealed), "--key", str(Path(srv.data_dir)
                                                       / "archive-demo-private.key"),
                   "--export-anonymised", str(out), "--end", "0.5", "--desk", srv.base_url,
                   f"--token={trainer}", "--reason", "corso operatori 2026"])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert f"access logged at the desk service for package {pid}" in printed
    assert out.is_file()
    sup = TokenApi(srv.base_url, srv.login("supervisore1")["access_token"])
    _, info = sup.call("GET", f"/evidence/{pid}")
    entries = [a for a in info["access_log"] if a["action"] == "export_anonymised"]
    assert entries and entries[-1]["reason"] == "corso operatori 2026"
    assert entries[-1]["operator"] == "formatore1"
    # a wrong token: nothing decrypted, a clear message, no traceback
    rc = cli_main(["replay", str(sealed), "--key", str(Path(srv.data_dir)
                                                       / "archive-demo-private.key"),
                   "--export-anonymised", str(tmp_path / "no.mkv"), "--desk", srv.base_url,
                   "--token", "not-a-token"])
    assert rc == 2 and not (tmp_path / "no.mkv").exists()
