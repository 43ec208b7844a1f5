"""Update the translation sources from ui/ and compile them.

    .venv/bin/python resources/translations/build.py

1. pyside6-lupdate scans every ui/**/*.py into console_it.ts and console_en.ts (existing
   translations are kept; strings no longer used are dropped).
2. English: the source strings are English, so every English message is filled with its source
   (plural forms included) and marked finished.
3. Italian: an unfinished Italian message is filled from it.json ("Context|source" → text, a
   list for plural forms), the one place Italian texts are written; translations already in
   console_it.ts are kept.
4. pyside6-lrelease compiles both into .qm files next to them (committed with the .ts).

tests/test_ui_translations.py fails while an Italian message is missing or unfinished.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LANGUAGES = ("it", "en")


def tool(name: str) -> str:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else (shutil.which(name) or name)


def sources() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "ui").rglob("*.py"))


def lupdate() -> None:
    for lang in LANGUAGES:
        ts = HERE / f"console_{lang}.ts"
        subprocess.run(
            [tool("pyside6-lupdate"), "-no-obsolete", "-locations", "none", "-target-language",
             "it_IT" if lang == "it" else "en_GB", *sources(), "-ts", str(ts.relative_to(ROOT))],
            cwd=ROOT, check=True, capture_output=True,
        )


def fill_english() -> None:
    ts = HERE / "console_en.ts"
    tree = ET.parse(ts)  # noqa: S314 - our own committed .ts file
    for message in tree.iter("message"):
        source = message.findtext("source") or ""
        tr = message.find("translation")
        if tr is None:
            tr = ET.SubElement(message, "translation")
        tr.attrib.pop("type", None)
        if message.get("numerus") == "yes":
            for child in list(tr):
                tr.remove(child)
            tr.text = None
            singular = source.replace("%n", "%n")
            for text in (_singular(singular), source):
                ET.SubElement(tr, "numerusform").text = text
        else:
            tr.text = source
    tree.write(ts, encoding="utf-8", xml_declaration=True)


def _singular(source: str) -> str:
    """"%n waiting" stays; "%n appointments today" → "%n appointment today"."""
    words = source.split(" ")
    for i, w in enumerate(words):
        if w.endswith("s") and i > 0 and words[i - 1] == "%n":
            words[i] = w[:-1]
    return " ".join(words)


def italian_sources() -> dict[str, Any]:
    table: dict[str, Any] = json.loads((HERE / "it.json").read_text(encoding="utf-8"))
    return table


def fill_italian() -> list[str]:
    """Fill unfinished Italian messages; returns the keys still missing."""
    ts = HERE / "console_it.ts"
    tree = ET.parse(ts)  # noqa: S314 - our own committed .ts file
    table = italian_sources()
    missing: list[str] = []
    for context in tree.iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            source = message.findtext("source") or ""
            tr = message.find("translation")
            if tr is None:
                tr = ET.SubElement(message, "translation")
            done = tr.get("type") is None and (tr.text or list(tr))
            if done:
                continue
            value = table.get(f"{name}|{source}")
            if value is None:
                missing.append(f"{name}|{source}")
                continue
            tr.attrib.pop("type", None)
            if message.get("numerus") == "yes":
                for child in list(tr):
                    tr.remove(child)
                tr.text = None
                forms = value if isinstance(value, list) else [value, value]
                for text in forms:
                    ET.SubElement(tr, "numerusform").text = text
            else:
                tr.text = value if isinstance(value, str) else value[0]
    tree.write(ts, encoding="utf-8", xml_declaration=True)
    return missing


def lrelease() -> None:
    for lang in LANGUAGES:
        ts = HERE / f"console_{lang}.ts"
        subprocess.run([tool("pyside6-lrelease"), "-silent", str(ts), "-qm",
                        str(ts.with_suffix(".qm"))], check=True)


def main() -> int:
    lupdate()
    fill_english()
    missing = fill_italian()
    lrelease()
    for key in missing:
        print(f"no Italian yet: {key}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
