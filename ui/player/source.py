"""Opening an evidence package for the player (no Qt here).

A package may be its folder, its ``.tar`` archive, or a sealed file (decrypted with the
reviewer's archive key through ``console.evidence.open_sealed`` into a private temporary
folder that is removed when the player closes). The marks come from the package's sidecar
timeline (``recording.timeline.jsonl``): script steps, captures, OTP/e-mail events, connection
changes, gaps and the decision.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.evidence.package import RECORDING, TIMELINE

log = logging.getLogger(__name__)

MARK_KINDS = ("step", "capture", "otp", "email", "connection", "gap", "note", "decision")


class SourceError(ValueError):
    """The package cannot be opened; ``code`` is translated by the UI."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Mark:
    offset_s: float
    kind: str
    label: str
    end_s: float | None = None  # gaps: where the gap ends
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class PackageSource:
    given: Path  # what the user named (folder, tar or sealed file)
    folder: Path  # the plaintext package folder
    recording: Path
    marks: list[Mark]
    temporary: Path | None = None  # removed by close()

    @property
    def annotations_path(self) -> Path:
        """Beside the package, never inside it: ``<name>.annotations.json``."""
        return self.given.with_name(self.given.name + ".annotations.json")

    def close(self) -> None:
        if self.temporary is not None:
            shutil.rmtree(self.temporary, ignore_errors=True)
            self.temporary = None


def read_marks(timeline: Path) -> list[Mark]:
    from media.recorder import Timeline

    marks: list[Mark] = []
    for entry in Timeline.read(timeline):
        if entry.get("type") != "marker":
            continue
        try:
            offset = float(entry["offset_s"])
        except (KeyError, TypeError, ValueError):
            continue
        kind = str(entry.get("kind", "note"))
        raw = entry.get("data")
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        end = None
        if kind == "gap":
            with contextlib.suppress(KeyError, TypeError, ValueError):
                offset = float(data["from_s"])
                end = float(data["to_s"])
        marks.append(Mark(offset, kind, str(entry.get("label", "")), end, dict(data)))
    marks.sort(key=lambda m: m.offset_s)
    return marks


def _find_package_folder(root: Path) -> Path:
    if (root / RECORDING).is_file():
        return root
    for child in sorted(root.iterdir()):
        if child.is_dir() and (child / RECORDING).is_file():
            return child
    raise SourceError("no_recording", root.name)


def open_source(path: str | Path, key_file: str | Path | None = None) -> PackageSource:
    """Open a package folder, tar archive or sealed package for playback."""
    from console.evidence.seal import is_sealed

    given = Path(path)
    if not given.exists():
        raise SourceError("not_found", given.name)
    temporary: Path | None = None
    if given.is_dir():
        folder = _find_package_folder(given)
    elif is_sealed(given):
        if key_file is None:
            raise SourceError("key_needed", given.name)
        from console.errors import ConsoleError
        from console.evidence import open_sealed

        temporary = Path(tempfile.mkdtemp(prefix="recognition-player-"))
        try:
            folder = open_sealed(given, key_file, temporary)
        except (ConsoleError, OSError, ValueError) as exc:
            shutil.rmtree(temporary, ignore_errors=True)
            raise SourceError("cannot_decrypt", type(exc).__name__) from exc
    else:
        temporary = Path(tempfile.mkdtemp(prefix="recognition-player-"))
        try:
            with tarfile.open(given, mode="r:") as tar:
                tar.extractall(temporary, filter="data")
            folder = _find_package_folder(temporary)
        except (tarfile.TarError, OSError, SourceError) as exc:
            shutil.rmtree(temporary, ignore_errors=True)
            raise SourceError("not_a_package", given.name) from exc
    recording = folder / RECORDING
    if not recording.is_file():
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
        raise SourceError("no_recording", given.name)
    return PackageSource(given, folder, recording, read_marks(folder / TIMELINE), temporary)
