"""Scenario packs: a folder with ``scenario.json`` (request data, what the applicant shows, answer
key) and optional applicant clips under ``clips/``.

``scenario.json``::

    {
      "format": 1,
      "id": "name-mismatch",
      "title": {"it": "...", "en": "..."},
      "product": "spid_personal",
      "request": {...the POST /requests body the desk holds...},
      "applicant": {
        "person": {...what the documents shown in the call say (SpecimenPerson fields)...},
        "live_face": "astronaut" | "camera",
        "third_person": null | {"from_step": "i"}
      },
      "answer_key": {"expected_decision": "rejected", "reason_code": "data_mismatch",
                     "findings": ["data_mismatch:surname"]},
      "clips": {"applicant": "clips/applicant.mkv"}      (optional)
    }
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

logger = logging.getLogger(__name__)

PACK_FORMAT = 1
SCENARIO_FILE = "scenario.json"
DECISIONS = ("approved", "rejected", "suspended")

_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["format", "id", "title", "product", "request", "applicant", "answer_key"],
    "properties": {
        "format": {"const": PACK_FORMAT},
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,63}$"},
        "title": {
            "type": "object",
            "required": ["it", "en"],
            "properties": {"it": {"type": "string"}, "en": {"type": "string"}},
        },
        "product": {
            "enum": ["spid_personal", "spid_professional", "digital_signature", "cns"],
        },
        "request": {
            "type": "object",
            "required": ["applicant", "product", "document"],
        },
        "applicant": {
            "type": "object",
            "required": ["person", "live_face"],
            "properties": {
                "person": {"type": "object"},
                "live_face": {"enum": ["astronaut", "camera"]},
                "third_person": {
                    "type": ["object", "null"],
                    "properties": {"from_step": {"type": "string"}},
                },
            },
        },
        "answer_key": {
            "type": "object",
            "required": ["expected_decision", "reason_code", "findings"],
            "properties": {
                "expected_decision": {"enum": list(DECISIONS)},
                "reason_code": {"type": "string"},
                "findings": {"type": "array", "items": {"type": "string"}},
            },
        },
        "clips": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


class PackError(ValueError):
    """A scenario pack that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class AnswerKey:
    expected_decision: str
    reason_code: str
    findings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScenarioPack:
    root: Path
    id: str
    title: dict[str, str]
    product: str
    request: dict[str, Any]
    applicant: dict[str, Any]
    answer_key: AnswerKey
    clips: dict[str, Path] = field(default_factory=dict)

    def title_in(self, language: str) -> str:
        return self.title.get(language) or self.title["it"]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PACK_FORMAT,
            "id": self.id,
            "title": dict(self.title),
            "product": self.product,
            "request": self.request,
            "applicant": self.applicant,
            "answer_key": {
                "expected_decision": self.answer_key.expected_decision,
                "reason_code": self.answer_key.reason_code,
                "findings": list(self.answer_key.findings),
            },
            "clips": {k: str(v.relative_to(self.root)) for k, v in self.clips.items()},
        }


def load_pack(path: str | Path) -> ScenarioPack:
    """Load and validate a pack folder (or its ``scenario.json``)."""
    root = Path(path)
    if root.is_file():
        root = root.parent
    file = root / SCENARIO_FILE
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PackError(f"{file}: no scenario file (is this a scenario pack?)") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackError(f"{file}: not valid JSON ({exc})") from exc
    try:
        jsonschema.validate(data, _SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise PackError(f"{file}: {where}: {exc.message}") from exc
    clips: dict[str, Path] = {}
    for name, rel in data.get("clips", {}).items():
        clip = (root / rel).resolve()
        if root.resolve() not in clip.parents:
            raise PackError(f"{file}: clip {name!r} points outside the pack")
        if not clip.is_file():
            raise PackError(f"{file}: clip {name!r} is missing ({rel})")
        clips[name] = clip
    key = data["answer_key"]
    return ScenarioPack(
        root=root,
        id=data["id"],
        title=dict(data["title"]),
        product=data["product"],
        request=data["request"],
        applicant=data["applicant"],
        answer_key=AnswerKey(key["expected_decision"], key["reason_code"],
                             tuple(key["findings"])),
        clips=clips,
    )


def write_pack(pack: ScenarioPack) -> Path:
    """Write ``scenario.json`` of ``pack`` into its root folder (created if needed)."""
    pack.root.mkdir(parents=True, exist_ok=True)
    data = pack.to_json()
    jsonschema.validate(data, _SCHEMA)
    target = pack.root / SCENARIO_FILE
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(target)
    logger.info("scenario pack %s written", pack.id)
    return target
