"""Every string the UI passes through tr()/translate has an Italian and an English translation."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QTranslator

ROOT = Path(__file__).resolve().parent.parent
TS_DIR = ROOT / "resources" / "translations"
PLACEHOLDER = re.compile(r"%[0-9n]")


def _messages(ts: Path) -> dict[tuple[str, str], ET.Element]:
    out = {}
    for context in ET.parse(ts).iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            out[(name, message.findtext("source") or "")] = message
    return out


def _texts(message: ET.Element) -> list[str]:
    tr = message.find("translation")
    if tr is None or tr.get("type") in ("unfinished", "obsolete", "vanished"):
        return []
    forms = [f.text or "" for f in tr.iter("numerusform")]
    return forms if forms else [tr.text or ""]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], ET.Element]:
    """What pyside6-lupdate finds in ui/ right now."""
    ts = tmp_path_factory.mktemp("ts") / "current.ts"
    sources = sorted(str(p) for p in (ROOT / "ui").rglob("*.py"))
    lupdate = Path(sys.executable).parent / "pyside6-lupdate"
    subprocess.run([str(lupdate), "-locations", "none", *sources, "-ts", str(ts)], check=True,
                   capture_output=True)
    found = _messages(ts)
    assert len(found) > 150  # the windows' strings are really extracted
    return found


@pytest.mark.parametrize("language", ["it", "en"])
def test_every_source_string_is_translated(extracted: dict, language: str) -> None:
    table = _messages(TS_DIR / f"console_{language}.ts")
    missing = [f"{c}: {s}" for (c, s) in extracted if not any(_texts(table.get((c, s))
               if (c, s) in table else ET.Element("m")))]
    assert not missing, f"{len(missing)} strings without {language} translation: {missing[:10]}"


@pytest.mark.parametrize("language", ["it", "en"])
def test_translations_keep_placeholders(language: str) -> None:
    for (context, source), message in _messages(TS_DIR / f"console_{language}.ts").items():
        wanted = sorted(set(PLACEHOLDER.findall(source)))
        for text in _texts(message):
            assert sorted(set(PLACEHOLDER.findall(text))) == wanted, (context, source, text)


def test_compiled_files_translate(qapp) -> None:
    it = QTranslator()
    assert it.load(str(TS_DIR / "console_it.qm"))
    en = QTranslator()
    assert en.load(str(TS_DIR / "console_en.qm"))
    assert it.translate("SignInWindow", "Sign in") == "Accedi"
    wrong = it.translate("Messages", "Wrong user name or password.")
    assert wrong == "Nome utente o password errati."
    assert en.translate("SignInWindow", "Sign in") == "Sign in"
    QCoreApplication.installTranslator(it)
    try:
        from ui.messages import error_message

        assert error_message("invalid_credentials") == "Nome utente o password errati."
    finally:
        QCoreApplication.removeTranslator(it)
