"""Translations: Italian by default, English switchable in the settings."""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

from ui.resources import resource_path

log = logging.getLogger(__name__)

LANGUAGES: dict[str, str] = {"it": "Italiano", "en": "English"}
DEFAULT_LANGUAGE = "it"

_installed: list[QTranslator] = []
_current: list[str] = [DEFAULT_LANGUAGE]


def install_language(language: str) -> str:
    """Install the translator for ``language`` (``it``/``en``); returns the language in use."""
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("install_language needs a QCoreApplication")
    if language not in LANGUAGES:
        log.warning("unknown language %r, using %s", language, DEFAULT_LANGUAGE)
        language = DEFAULT_LANGUAGE
    for old in _installed:
        QCoreApplication.removeTranslator(old)
    _installed.clear()
    translator = QTranslator(app)
    qm = resource_path("translations", f"console_{language}.qm")
    if translator.load(str(qm)):
        QCoreApplication.installTranslator(translator)
        _installed.append(translator)
    else:
        log.warning("translation file missing: %s", qm.name)
    QLocale.setDefault(
        QLocale(QLocale.Language.Italian if language == "it" else QLocale.Language.English)
    )
    _current[0] = language
    return language


def current_language() -> str:
    """The language last installed (``it`` until one is)."""
    return _current[0]
