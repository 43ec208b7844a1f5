"""Security features to check on video, per document type (resources/security_features.json).

ETSI TS 119 461: at least 3 features, at least 2 of them optically variable, chosen at random
so the applicant cannot prepare for them.  `pick_features` uses the system's CSPRNG unless a
generator is passed (tests).
"""

from __future__ import annotations

import functools
import json
import logging
import random
import secrets
from dataclasses import dataclass
from pathlib import Path

from console.resources import resource_path

logger = logging.getLogger(__name__)

DOC_TYPES = ("identity_card", "paper_identity_card", "driving_licence", "passport",
             "health_card")
ALIASES = {"cie": "identity_card", "tessera_sanitaria": "health_card", "ts": "health_card"}


@dataclass(frozen=True)
class SecurityFeature:
    id: str
    name_it: str
    name_en: str
    optically_variable: bool
    side: str
    location: str
    instruction: str  # a tilt/move code; see instruction_text()

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "name": {"it": self.name_it, "en": self.name_en},
                "optically_variable": self.optically_variable, "side": self.side,
                "location": self.location, "instruction": self.instruction}


class CatalogueError(ValueError):
    """The catalogue file is missing or malformed, or the document type is unknown."""


def _parse(data: object) -> tuple[dict[str, list[SecurityFeature]], dict[str, dict[str, str]]]:
    if not isinstance(data, dict) or not isinstance(data.get("documents"), dict):
        raise CatalogueError("catalogue has no 'documents' object")
    instructions = data.get("instructions", {})
    if not isinstance(instructions, dict):
        raise CatalogueError("'instructions' is not an object")
    docs: dict[str, list[SecurityFeature]] = {}
    for doc_type, items in data["documents"].items():
        if not isinstance(items, list):
            raise CatalogueError(f"{doc_type}: not a list")
        feats = []
        for item in items:
            try:
                feats.append(SecurityFeature(
                    id=str(item["id"]), name_it=str(item["name"]["it"]),
                    name_en=str(item["name"]["en"]),
                    optically_variable=bool(item["optically_variable"]),
                    side=str(item.get("side", "")), location=str(item["location"]),
                    instruction=str(item["instruction"])))
            except (KeyError, TypeError) as exc:
                raise CatalogueError(f"{doc_type}: malformed feature") from exc
            if feats[-1].instruction not in instructions:
                raise CatalogueError(f"{doc_type}: unknown instruction {feats[-1].instruction}")
        docs[str(doc_type)] = feats
    return docs, {str(k): dict(v) for k, v in instructions.items()}


@functools.lru_cache(maxsize=4)
def load_catalogue(path: Path | None = None) -> tuple[
        dict[str, list[SecurityFeature]], dict[str, dict[str, str]]]:
    """(features per document type, instruction texts per code {it, en})."""
    p = path or resource_path("security_features.json")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogueError(f"cannot read {p.name}") from exc
    return _parse(data)


def features_for(doc_type: str) -> list[SecurityFeature]:
    docs, _ins = load_catalogue()
    key = ALIASES.get(doc_type, doc_type)
    if key not in docs:
        raise CatalogueError(f"unknown document type {doc_type!r}")
    return list(docs[key])


def instruction_text(code: str, language: str = "it") -> str:
    _docs, ins = load_catalogue()
    entry = ins.get(code, {})
    return entry.get(language) or entry.get("en") or code


def pick_features(doc_type: str, rng: random.Random | None = None, count: int = 3,
                  min_optically_variable: int = 2) -> list[SecurityFeature]:
    """`count` distinct features of `doc_type`, at least `min_optically_variable` of them
    optically variable, in random order (secrets.SystemRandom unless `rng` is given)."""
    rng = rng or secrets.SystemRandom()
    feats = features_for(doc_type)
    ov = [f for f in feats if f.optically_variable]
    if len(ov) < min_optically_variable or len(feats) < count:
        raise CatalogueError(f"{doc_type}: catalogue too small for {count} features "
                             f"with {min_optically_variable} optically variable")
    chosen = rng.sample(ov, min_optically_variable)
    rest = [f for f in feats if f not in chosen]
    chosen += rng.sample(rest, max(0, count - len(chosen)))
    rng.shuffle(chosen)
    return chosen
