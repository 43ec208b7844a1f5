"""console.checks.model_files: the desktop build's packed dlib models, unpacked once into the
user's cache and checked by SHA-256."""

from __future__ import annotations

import lzma
from pathlib import Path

import numpy as np
import pytest

from console.checks import model_files as mf


def _dlib_ints(count: int, seed: int = 0) -> bytes:
    """Bytes as dlib serializes integers and floats (a control byte, then the bytes)."""
    rng = np.random.default_rng(seed)
    out = bytearray()
    for value in rng.integers(-(1 << 23), 1 << 23, size=count).tolist():
        magnitude = abs(value)
        size = (magnitude.bit_length() + 7) // 8
        out.append(size | (0x80 if value < 0 else 0))
        out += magnitude.to_bytes(size, "little")
    return bytes(out)


@pytest.mark.parametrize(("data", "method"), [
    (_dlib_ints(5000), "planes"), (b"\x01\x01\x01\x0dloss_metric_" + bytes(range(256)), "raw"),
    (b"", "planes")])
def test_pack_unpacks_to_the_same_bytes(tmp_path: Path, data: bytes, method: str) -> None:
    path = tmp_path / "m.dat.pack"
    path.write_bytes(mf.pack(data, "m.dat"))
    assert mf.read_header(path)["method"] == method
    assert mf.unpack(path) == data


def test_a_shape_predictor_is_packed_by_planes_and_smaller(tmp_path: Path) -> None:
    data = _dlib_ints(20000, seed=1)
    packed = mf.pack(data, "sp.dat")
    path = tmp_path / "sp.dat.pack"
    path.write_bytes(packed)
    assert mf.read_header(path)["method"] == "planes"
    assert len(packed) < 0.95 * len(lzma.compress(data, preset=6))  # better than plain xz


@pytest.fixture
def packed_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, bytes]:
    """A models folder holding only a pack, as in the desktop build; the cache in tmp_path."""
    models = tmp_path / "models"
    models.mkdir()
    data = _dlib_ints(3000, seed=2)
    (models / "sp.dat.pack").write_bytes(mf.pack(data, "sp.dat"))
    monkeypatch.setattr(mf, "models_dir", lambda: models)
    monkeypatch.setenv(mf.ENV_CACHE_DIR, str(tmp_path / "cache"))
    return models, data


def test_model_file_unpacks_once_into_the_cache(packed_only: tuple[Path, bytes]) -> None:
    _models, data = packed_only
    path = mf.model_file("sp.dat")
    assert path.parent == mf.cache_dir() and path.read_bytes() == data
    stamp = path.stat().st_mtime_ns
    assert mf.model_file("sp.dat") == path and path.stat().st_mtime_ns == stamp  # reused
    path.write_bytes(b"\x01" + data[1:])  # damaged: unpacked again
    assert mf.model_file("sp.dat").read_bytes() == data
    assert [p.name for p in path.parent.iterdir()] == ["sp.dat"]  # no temporary file left


def test_the_installed_file_wins_and_a_missing_one_is_reported(
        packed_only: tuple[Path, bytes]) -> None:
    models, _data = packed_only
    (models / "plain.dat").write_bytes(b"x")
    assert mf.model_file("plain.dat") == models / "plain.dat"
    with pytest.raises(mf.ModelFileMissing):
        mf.model_file("absent.dat")


def test_a_pack_that_does_not_unpack_to_its_checksum_is_refused(tmp_path: Path) -> None:
    packed = bytearray(mf.pack(b"abc" * 100, "m.dat"))
    head_end = packed.index(b"\n", len(mf.MAGIC))
    packed[len(mf.MAGIC):head_end] = packed[len(mf.MAGIC):head_end].replace(b'"size": 300',
                                                                           b'"size": 301')
    path = tmp_path / "m.dat.pack"
    path.write_bytes(bytes(packed))
    with pytest.raises(mf.ModelFileMissing):
        mf.unpack(path)
