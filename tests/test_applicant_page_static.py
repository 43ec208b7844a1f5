"""The applicant page's files, read as files: strings complete in both languages, nothing loaded
from another site. (The browser tests are in test_applicant_page.py.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "server" / "static"
I18N = STATIC / "js" / "i18n.js"


def load_strings() -> dict[str, dict[str, str]]:
    """The STRINGS object of i18n.js (a JSON-compatible literal between the markers)."""
    text = I18N.read_text(encoding="utf-8")
    start = text.index("export const STRINGS = ") + len("export const STRINGS = ")
    end = text.index("};", start) + 1
    literal = text[start:end]
    literal = re.sub(r"^\s*//.*$", "", literal, flags=re.M)
    literal = re.sub(r",(\s*[}\]])", r"\1", literal)  # trailing commas
    literal = re.sub(r"^(\s*)(it|en):", r'\1"\2":', literal, flags=re.M)
    data: dict[str, dict[str, str]] = json.loads(literal)
    return data


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    strings = load_strings()
    assert set(strings) == {"it", "en"}
    it, en = strings["it"], strings["en"]
    assert len(it) > 100
    assert sorted(it) == sorted(en), set(it) ^ set(en)
    for key, text in it.items():
        assert text.strip(), f"empty Italian string {key}"
        assert en[key].strip(), f"empty English string {key}"
        assert placeholders(text) == placeholders(en[key]), key
    # the translation really is one: most strings differ between the languages
    same = [k for k in it if it[k] == en[k]]
    assert len(same) < 10, same


def used_keys() -> set[str]:
    keys: set[str] = set()
    html = (STATIC / "join.html").read_text(encoding="utf-8")
    keys |= set(re.findall(r'data-i18n="([\w.]+)"', html))
    for attr in re.findall(r'data-i18n-attr="([^"]+)"', html):
        keys |= {pair.split(":")[1] for pair in attr.split(";")}
    for js in (STATIC / "js").glob("*.js"):
        src = js.read_text(encoding="utf-8")
        keys |= set(re.findall(r'(?:tr|setText|setCallStatus|toast|banner|setItem)\([^)]*?"'
                               r'((?:app|lang|steps|conn|landing|check|consent|waiting|call|'
                               r'instr|ended|product)\.[\w.]+)"', src))
        keys |= set(re.findall(r'"((?:check|call|ended|waiting|conn)\.[a-z_]+(?:\.[a-z_]+)?)"',
                               src))
    return keys


def test_every_key_the_page_uses_exists() -> None:
    strings = load_strings()
    used = used_keys()
    assert len(used) > 60
    missing = sorted(k for k in used if k not in strings["it"])
    assert not missing, missing


def test_every_instruction_and_outcome_has_a_text() -> None:
    it = load_strings()["it"]
    for code in ("raise_right_hand", "raise_left_hand", "turn_head_left", "turn_head_right",
                 "show_document_front", "show_document_back", "read_otp", "generic"):
        assert f"instr.{code}" in it
    for state in ("approved", "rejected", "suspended", "hangup", "invalid", "replaced"):
        assert f"ended.{state}" in it
    for item in ("camera", "microphone"):
        for code in ("ok", "denied", "missing", "busy", "error"):
            assert f"check.{item}.{code}" in it
    for code in ("ok", "slow", "fail"):
        assert f"check.connection.{code}" in it


def test_nothing_is_loaded_from_another_site() -> None:
    for path in STATIC.rglob("*"):
        if path.suffix not in (".html", ".js", ".css", ".svg"):
            continue
        text = path.read_text(encoding="utf-8")
        for url in re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(([^)]+)\)""", text):
            ref = next(u for u in url if u) if isinstance(url, tuple) else url
            assert not re.match(r"^(https?:)?//", ref.strip("'\"")), f"{path.name}: {ref}"
        assert "import(" not in text or "http" not in text
        for m in re.findall(r"""from\s+["']([^"']+)["']""", text):
            assert m.startswith("./"), f"{path.name}: import from {m}"
        # only the SVG namespace may name another host
        for m in re.findall(r"https?://[^\s\"'<>)]+", text):
            assert m.startswith("http://www.w3.org/2000/svg"), f"{path.name}: {m}"
