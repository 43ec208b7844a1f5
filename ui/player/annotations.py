"""Trainer annotations: notes at moments of a recording, kept in a JSON file *beside* the
evidence package (``<package>.annotations.json``), never inside it, so the signed package
still verifies. No Qt here.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT = "recognition-console/annotations"


class AnnotationError(ValueError):
    """The annotation file exists but cannot be read (it is left untouched)."""


@dataclass(frozen=True)
class Annotation:
    offset_s: float
    text: str
    author: str = ""
    created_at: str = ""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Annotations:
    def __init__(self, path: Path, package_id: str = "") -> None:
        self.path = path
        self.package_id = package_id
        self.items: list[Annotation] = []

    @classmethod
    def load(cls, path: Path, package_id: str = "") -> Annotations:
        out = cls(path, package_id)
        if not path.exists():
            return out
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            items = data["annotations"]
            if not isinstance(items, list):
                raise TypeError("annotations is not a list")
            for item in items:
                out.items.append(Annotation(float(item["offset_s"]), str(item["text"]),
                                            str(item.get("author", "")),
                                            str(item.get("created_at", ""))))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError,
                ValueError) as exc:
            raise AnnotationError(f"{path.name}: unreadable ({type(exc).__name__})") from exc
        out.items.sort(key=lambda a: a.offset_s)
        return out

    def add(self, offset_s: float, text: str, author: str = "") -> Annotation:
        text = text.strip()
        if not text:
            raise ValueError("empty annotation")
        item = Annotation(round(max(0.0, offset_s), 3), text, author, _now())
        self.items.append(item)
        self.items.sort(key=lambda a: a.offset_s)
        return item

    def remove(self, item: Annotation) -> None:
        self.items.remove(item)

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": 1, "package_id": self.package_id,
                "annotations": [asdict(a) for a in self.items]}

    def save(self) -> Path:
        """Write atomically (temporary file + rename)."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n",
                       encoding="utf-8")
        os.replace(tmp, self.path)
        log.info("%d annotations saved", len(self.items))
        return self.path
