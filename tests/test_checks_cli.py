"""`recognition-console inspect`: real files in, one JSON object per image out; hostile files
give a clear error and a non-zero exit status, never a traceback."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import pytest

from console import specimens as s


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "console", "inspect", *args],
                          capture_output=True, text=True, timeout=240)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_bomb(width: int, height: int) -> bytes:
    """A tiny file whose header claims width × height pixels (compressed zeros)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = zlib.compress(b"\0" * 65536, 9)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body)
            + _png_chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("inspect")
    out: dict[str, Path] = {}
    back, _t = s.place_in_scene(s.render_cie_back(), yaw=12, pitch=-7, roll=3, seed=11)
    out["back"] = d / "back.jpg"
    cv2.imwrite(str(out["back"]), back, [cv2.IMWRITE_JPEG_QUALITY, 90])
    ts, _t = s.place_in_scene(s.render_ts_back(), yaw=-15, pitch=10, seed=12)
    out["ts"] = d / "ts.png"
    cv2.imwrite(str(out["ts"]), ts)
    front, _t = s.place_in_scene(s.render_cie_front(), yaw=8, seed=13)
    out["front"] = d / "front.png"
    cv2.imwrite(str(out["front"]), front)
    out["empty"] = d / "empty.png"
    out["empty"].write_bytes(b"")
    out["truncated"] = d / "truncated.png"
    out["truncated"].write_bytes(out["ts"].read_bytes()[:5000])
    out["text"] = d / "notes.jpg"
    out["text"].write_text("not an image\n", encoding="utf-8")
    out["bomb"] = d / "bomb.png"
    out["bomb"].write_bytes(_png_bomb(100_000, 100_000))
    out["bomb2"] = d / "bomb2.png"
    out["bomb2"].write_bytes(_png_bomb(9_000, 9_000))  # under Pillow's limit, over ours
    out["request"] = d / "request.json"
    out["request"].write_text(json.dumps(s.DEMO_PERSON.request()), encoding="utf-8")
    return out


def test_good_images_with_request(files: dict[str, Path]) -> None:
    r = _run("--json", "--request", str(files["request"]), "--today", "2026-11-23",
             str(files["back"]), str(files["ts"]), str(files["front"]))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [Path(str(x["file"])).name for x in rows] == ["back.jpg", "ts.png", "front.png"]
    back, ts, front = rows
    assert back["card"] is not None and len(back["card"]) == 4
    m = back["mrz"]
    assert m["format"] == "TD1" and m["valid"] is True
    assert m["fields"] == {"document_number": "CA00000AA", "surname": "ROSSI",
                           "given_names": "MARIA", "birth_date": "850412", "sex": "F",
                           "expiry_date": "310412", "nationality": "ITA"}
    assert set(m["comparison"]["fields"].values()) == {"match"}
    assert set(back["quality"]) >= {"sharpness", "glare", "exposure"}
    assert ts["codice_fiscale"]["value"] == "RSSMRA85D52H501P"
    assert ts["codice_fiscale"]["valid"] is True and ts["codice_fiscale"]["source"] == "barcode"
    assert ts["mrz"] is None
    assert front["faces"]["count"] >= 1 and front["mrz"] is None
    for row in rows:
        assert row["errors"] == []


@pytest.mark.parametrize(("name", "code"), [
    ("empty", "image_empty"), ("truncated", "image_truncated"), ("text", "image_format"),
    ("bomb", "image_too_large"), ("bomb2", "image_too_large"),
])
def test_hostile_files(files: dict[str, Path], name: str, code: str) -> None:
    r = _run("--json", "--no-faces", str(files[name]))
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    row = json.loads(r.stdout)
    assert row["errors"][0]["code"] == code and row["errors"][0]["message"]
    assert row["mrz"] is None and row["card"] is None


def test_missing_file_and_directory_do_not_stop_the_others(files: dict[str, Path],
                                                           tmp_path: Path) -> None:
    r = _run("--json", "--no-faces", str(tmp_path / "missing.png"), str(tmp_path),
             str(files["ts"]))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [x["errors"][0]["code"] if x["errors"] else None for x in rows] == [
        "file_not_found", "not_a_file", None]
    assert rows[2]["codice_fiscale"]["value"] == "RSSMRA85D52H501P"


def test_bad_request_file(files: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "req.json"
    bad.write_text("[1, 2", encoding="utf-8")
    r = _run("--json", "--request", str(bad), str(files["ts"]))
    assert r.returncode == 2 and "request file" in r.stderr and "Traceback" not in r.stderr


def test_bad_live_face_image(files: dict[str, Path]) -> None:
    r = _run("--json", "--face", str(files["empty"]), str(files["ts"]))
    assert r.returncode == 2 and "image_empty" in r.stderr and "Traceback" not in r.stderr
