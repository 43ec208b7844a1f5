"""Data-driven recognition scripts: one JSON file per product in ``resources/scripts/``.

A script is an ordered list of steps. Each step has an ``id`` (for SPID the AgID letters a–m), a
``code`` the UI translates, a ``required`` flag, a ``kind`` and the words the operator says
(``text``, Italian and English) that the UI shows as the default reading script. Files are checked
against ``SCRIPT_SCHEMA`` and a few semantic rules on load; a broken file raises ``ScriptError``
naming the file and the place.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from random import Random
from typing import Any

import jsonschema

from console.errors import ScriptError
from console.resources import resource_path

log = logging.getLogger(__name__)

SCRIPTS_DIR = ("scripts",)
LANGUAGES = ("it", "en")
#: Placeholders a step text may use; the UI fills them with ``ScriptStep.say``.
PLACEHOLDERS = frozenset(
    {
        "operator_name",
        "applicant_name",
        "birth_date",
        "birth_place",
        "codice_fiscale",
        "mobile",
        "email",
        "product_name",
        "document_type",
        "random_action",
    }
)


class StepKind(StrEnum):
    CONFIRM = "confirm"
    CAPTURE = "capture"
    OTP = "otp"
    EMAIL = "email"
    RANDOM_ACTION = "random_action"
    SUMMARY = "summary"


class CaptureTarget(StrEnum):
    DOCUMENT_FRONT = "document_front"
    DOCUMENT_BACK = "document_back"
    HEALTH_CARD = "health_card"
    FACE = "face"
    SIGNED_FORM = "signed_form"


class Channel(StrEnum):
    REMOTE = "remote"
    IN_PERSON = "in_person"


_TEXT = {
    "type": "object",
    "required": list(LANGUAGES),
    "properties": {lang: {"type": "string", "minLength": 1} for lang in LANGUAGES},
    "additionalProperties": {"type": "string"},
}
_CODE = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 64}

SCRIPT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["schema_version", "id", "channel", "version", "title", "steps"],
    "additionalProperties": False,
    "properties": {
        "$comment": {"type": "string"},
        "schema_version": {"const": 1},
        "id": _CODE,
        "channel": {"enum": [c.value for c in Channel]},
        "product": {"type": ["string", "null"]},
        "version": {"type": "string", "minLength": 1},
        "regulation": {"type": "string"},
        "title": _TEXT,
        "random_action_count": {"type": "integer", "minimum": 0, "maximum": 5},
        "random_actions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "text"],
                "additionalProperties": False,
                "properties": {"code": _CODE, "text": _TEXT},
            },
        },
        "steps": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "code", "required", "kind", "text"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 64},
                    "code": _CODE,
                    "required": {"type": "boolean"},
                    "kind": {"enum": [k.value for k in StepKind]},
                    "targets": {
                        "type": "array",
                        "minItems": 1,
                        "uniqueItems": True,
                        "items": {"enum": [t.value for t in CaptureTarget]},
                    },
                    "with_email": {"type": "boolean"},
                    "text": _TEXT,
                    "operator_hint": _TEXT,
                },
            },
        },
    },
}

_VALIDATOR = jsonschema.Draft202012Validator(SCRIPT_SCHEMA)


@dataclass(frozen=True, slots=True)
class RandomAction:
    """A gesture asked of the applicant; ``code`` is what goes in the ``instruction`` message."""

    code: str
    text: Mapping[str, str]

    def say(self, language: str) -> str:
        return _pick(self.text, language)


@dataclass(frozen=True, slots=True)
class ScriptStep:
    id: str
    code: str
    required: bool
    kind: StepKind
    text: Mapping[str, str]
    targets: tuple[CaptureTarget, ...] = ()
    with_email: bool = False
    operator_hint: Mapping[str, str] = field(default_factory=dict)

    def say(self, language: str, values: Mapping[str, str] | None = None) -> str:
        """The operator's words in ``language`` (falls back to Italian), placeholders filled
        from ``values``; a placeholder with no value is left visible as ``{name}``."""
        return _fill(_pick(self.text, language), values or {})

    def hint(self, language: str) -> str:
        return _pick(self.operator_hint, language) if self.operator_hint else ""


@dataclass(frozen=True, slots=True)
class ScriptDefinition:
    id: str
    channel: Channel
    product: str | None
    version: str
    title: Mapping[str, str]
    steps: tuple[ScriptStep, ...]
    random_actions: tuple[RandomAction, ...] = ()
    random_action_count: int = 0
    regulation: str = ""
    source: str = ""

    @property
    def step_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.steps)

    @property
    def required_step_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.steps if s.required)

    def step(self, step_id: str) -> ScriptStep:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def index_of(self, step_id: str) -> int:
        return self.step_ids.index(step_id)

    def draw_random_actions(self, rng: Random | None = None) -> tuple[RandomAction, ...]:
        """``random_action_count`` distinct actions, drawn with ``secrets`` (unpredictable)."""
        if self.random_action_count == 0 or not self.random_actions:
            return ()
        chooser = rng or secrets.SystemRandom()
        return tuple(chooser.sample(list(self.random_actions), self.random_action_count))


# --- loading ------------------------------------------------------------------------------


def parse_script(data: object, source: str = "<script>") -> ScriptDefinition:
    """Validate a decoded JSON document and build the definition (ScriptError when invalid)."""
    errors = sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        location = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        extra = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise ScriptError(source, first.message + extra, location=location)
    assert isinstance(data, dict)
    actions = tuple(
        RandomAction(code=a["code"], text=dict(a["text"])) for a in data.get("random_actions", [])
    )
    steps: list[ScriptStep] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["steps"]):
        where = f"steps/{i}"
        if raw["id"] in seen:
            raise ScriptError(source, f"duplicate step id {raw['id']!r}", location=where)
        seen.add(raw["id"])
        kind = StepKind(raw["kind"])
        targets = tuple(CaptureTarget(t) for t in raw.get("targets", []))
        if kind is StepKind.CAPTURE and not targets:
            raise ScriptError(source, "a capture step needs 'targets'", location=where)
        if kind is not StepKind.CAPTURE and targets:
            raise ScriptError(source, "'targets' is only for capture steps", location=where)
        if raw.get("with_email") and kind is not StepKind.OTP:
            raise ScriptError(source, "'with_email' is only for otp steps", location=where)
        for lang, text in list(raw["text"].items()) + list(raw.get("operator_hint", {}).items()):
            _check_placeholders(text, source, f"{where}/text/{lang}")
        steps.append(
            ScriptStep(
                id=raw["id"],
                code=raw["code"],
                required=raw["required"],
                kind=kind,
                text=dict(raw["text"]),
                targets=targets,
                with_email=bool(raw.get("with_email", False)),
                operator_hint=dict(raw.get("operator_hint", {})),
            )
        )
    count = int(data.get("random_action_count", 1 if actions else 0))
    has_random_step = any(s.kind is StepKind.RANDOM_ACTION for s in steps)
    if has_random_step and (count < 1 or len(actions) < count):
        raise ScriptError(
            source,
            "a random_action step needs random_action_count >= 1 and at least that many "
            "random_actions",
            location="random_actions",
        )
    codes = [a.code for a in actions]
    if len(set(codes)) != len(codes):
        raise ScriptError(source, "duplicate random action code", location="random_actions")
    return ScriptDefinition(
        id=data["id"],
        channel=Channel(data["channel"]),
        product=data.get("product"),
        version=data["version"],
        title=dict(data["title"]),
        steps=tuple(steps),
        random_actions=actions,
        random_action_count=count if has_random_step else 0,
        regulation=data.get("regulation", ""),
        source=source,
    )


def load_script(path: str | Path) -> ScriptDefinition:
    """Load and validate one script file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ScriptError(p.name, f"cannot read the file ({exc.strerror or exc})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ScriptError(p.name, "the file is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ScriptError(p.name, f"not valid JSON: {exc.msg}",
                          location=f"line {exc.lineno} column {exc.colno}") from None
    script = parse_script(data, p.name)
    if script.id != p.stem:
        raise ScriptError(p.name, f"id {script.id!r} does not match the file name",
                          location="id")
    log.debug("loaded script %s v%s (%d steps)", script.id, script.version, len(script.steps))
    return script


def scripts_dir() -> Path:
    return resource_path(*SCRIPTS_DIR)


def available_scripts() -> tuple[str, ...]:
    """Ids of the bundled scripts (file names without ``.json``)."""
    folder = scripts_dir()
    if not folder.is_dir():
        return ()
    return tuple(sorted(p.stem for p in folder.glob("*.json")))


def load_builtin_script(script_id: str) -> ScriptDefinition:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", script_id):
        raise ScriptError(script_id, "invalid script id")
    path = scripts_dir() / f"{script_id}.json"
    if not path.exists():
        raise ScriptError(f"{script_id}.json", "no such script in resources/scripts")
    return load_script(path)


def script_for(product: str, *, in_person: bool = False) -> ScriptDefinition:
    """The script to run for a request: ``in_person`` at a partner point, else the product's."""
    return load_builtin_script("in_person" if in_person else str(product))


# --- helpers ------------------------------------------------------------------------------


def _pick(texts: Mapping[str, str], language: str) -> str:
    return texts.get(language) or texts.get("it") or next(iter(texts.values()), "")


class _KeepMissing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(text: str, values: Mapping[str, str]) -> str:
    try:
        return string.Formatter().vformat(text, (), _KeepMissing(values))
    except (ValueError, IndexError, KeyError):
        return text


def _check_placeholders(text: str, source: str, location: str) -> None:
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise ScriptError(source, f"bad braces in text: {exc}", location=location) from None
    for name in names:
        if name not in PLACEHOLDERS:
            raise ScriptError(
                source,
                f"unknown placeholder {{{name}}} (allowed: {', '.join(sorted(PLACEHOLDERS))})",
                location=location,
            )
