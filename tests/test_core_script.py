"""Script engine: the bundled JSON scripts load and follow the rules; broken files fail clearly."""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from random import Random
from typing import Any

import pytest

from console.errors import ScriptError
from console.models import Product
from console.resources import resource_path, resources_root
from console.script import (
    CaptureTarget,
    Channel,
    StepKind,
    available_scripts,
    load_builtin_script,
    load_script,
    parse_script,
    script_for,
)

EXPECTED = {"spid_personal", "spid_professional", "digital_signature", "cns", "in_person"}


def test_all_bundled_scripts_load() -> None:
    assert set(available_scripts()) >= EXPECTED
    for name in EXPECTED:
        script = load_builtin_script(name)
        assert script.id == name
        assert script.steps
        for step in script.steps:
            assert step.text["it"].strip() and step.text["en"].strip()
            assert step.text["it"] != step.text["en"]


def test_every_product_has_a_script() -> None:
    for product in Product:
        assert script_for(product.value).product == product.value
    assert script_for("spid_personal", in_person=True).channel is Channel.IN_PERSON


@pytest.mark.parametrize("name", ["spid_personal", "spid_professional"])
def test_spid_has_the_13_agid_steps(name: str) -> None:
    script = load_builtin_script(name)
    assert script.step_ids == tuple("abcdefghijklm")
    assert script.required_step_ids == script.step_ids
    kinds = {s.id: s.kind for s in script.steps}
    assert kinds["g"] is StepKind.OTP and script.step("g").with_email
    assert kinds["i"] is StepKind.CAPTURE
    assert {CaptureTarget.DOCUMENT_FRONT, CaptureTarget.DOCUMENT_BACK} <= set(
        script.step("i").targets)
    assert script.step("j").targets == (CaptureTarget.HEALTH_CARD,)
    assert kinds["l"] is StepKind.RANDOM_ACTION
    assert kinds["m"] is StepKind.SUMMARY
    assert script.random_action_count >= 1
    assert len(script.random_actions) >= 5


def test_in_person_acquires_signed_form_and_cards() -> None:
    script = load_builtin_script("in_person")
    targets = {t for s in script.steps for t in s.targets}
    assert {CaptureTarget.SIGNED_FORM, CaptureTarget.DOCUMENT_FRONT,
            CaptureTarget.HEALTH_CARD} <= targets
    # the person's photo (required before approval) is taken with the identity document
    assert CaptureTarget.FACE in script.step("identity_document").targets
    assert not any(s.kind is StepKind.OTP for s in script.steps)


def test_say_fills_placeholders_and_keeps_missing_ones() -> None:
    step = load_builtin_script("spid_personal").step("b")
    it = step.say("it", {"operator_name": "Luca Bianchi"})
    en = step.say("en", {"operator_name": "Luca Bianchi"})
    assert "Luca Bianchi" in it and "Luca Bianchi" in en and it != en
    assert "{operator_name}" in step.say("it")
    assert step.say("fr", {"operator_name": "X"}) == step.say("it", {"operator_name": "X"})


def test_random_actions_are_distinct_and_vary() -> None:
    script = load_builtin_script("spid_personal")
    draws = [script.draw_random_actions() for _ in range(200)]
    for draw in draws:
        assert len(draw) == script.random_action_count
        assert len({a.code for a in draw}) == len(draw)
    seen = Counter(a.code for d in draws for a in d)
    # with secrets, 200 draws of 2 among >= 5 cover every action
    assert set(seen) == {a.code for a in script.random_actions}
    seeded = script.draw_random_actions(Random(7))
    assert seeded == script.draw_random_actions(Random(7))


def _raw(name: str = "spid_personal") -> dict:
    return json.loads(resource_path("scripts", f"{name}.json").read_text("utf-8"))


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d["steps"][2].update(kind="dance"), "steps/2/kind"),
        (lambda d: d["steps"][0].pop("required"), "steps/0"),
        (lambda d: d["steps"][1]["text"].pop("en"), "steps/1/text"),
        (lambda d: d["steps"][8].pop("targets"), "capture step needs 'targets'"),
        (lambda d: d["steps"][1].update(targets=["face"]), "only for capture"),
        (lambda d: d["steps"][3].update(id="a"), "duplicate step id"),
        (lambda d: d.update(random_actions=[]), "random_action"),
        (lambda d: d["steps"][0]["text"].update(it="Ciao {nome}"), "unknown placeholder"),
        (lambda d: d["steps"][0]["text"].update(it="Ciao {"), "bad braces"),
        (lambda d: d.update(schema_version=2), "schema_version"),
        (lambda d: d.update(extra=True), "extra"),
    ],
)
def test_broken_script_gives_a_clear_error(mutate: Callable[[Any], object], needle: str) -> None:
    data = copy.deepcopy(_raw())
    mutate(data)
    with pytest.raises(ScriptError) as info:
        parse_script(data, "spid_personal.json")
    text = str(info.value)
    assert text.startswith("spid_personal.json: ")
    assert needle in text


def test_broken_files(tmp_path: Path) -> None:
    bad_json = tmp_path / "cns.json"
    bad_json.write_text('{"id": "cns", ', encoding="utf-8")
    with pytest.raises(ScriptError, match=r"cns.json: line 1 column \d+: not valid JSON"):
        load_script(bad_json)
    binary = tmp_path / "x.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ScriptError, match="not UTF-8"):
        load_script(binary)
    with pytest.raises(ScriptError, match="cannot read"):
        load_script(tmp_path / "missing.json")
    renamed = tmp_path / "other.json"
    renamed.write_text(json.dumps(_raw("cns")), encoding="utf-8")
    with pytest.raises(ScriptError, match="does not match the file name"):
        load_script(renamed)
    with pytest.raises(ScriptError, match="no such script"):
        load_builtin_script("nonexistent")
    with pytest.raises(ScriptError, match="invalid script id"):
        load_builtin_script("../etc/passwd")


def test_resource_path_helper(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert resource_path("scripts", "cns.json").is_file()
    with pytest.raises(ValueError):
        resource_path("..", "secrets")
    with pytest.raises(ValueError):
        resource_path("/etc/passwd")
    # frozen (PyInstaller): resources come from sys._MEIPASS
    import sys

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources_root() == tmp_path / "resources"
    monkeypatch.setenv("RECOGNITION_CONSOLE_RESOURCES", str(tmp_path / "r"))
    assert resource_path("scripts") == tmp_path / "r" / "scripts"
