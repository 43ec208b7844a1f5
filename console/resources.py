"""Where the bundled resources (scripts, translations, icons) live.

From the source tree they are in ``<repo>/resources``; in a PyInstaller bundle in
``sys._MEIPASS/resources``. ``RECOGNITION_CONSOLE_RESOURCES`` overrides both (tests, packagers).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)

ENV_OVERRIDE = "RECOGNITION_CONSOLE_RESOURCES"


def resources_root() -> Path:
    override = os.environ.get(ENV_OVERRIDE)
    if override:
        return Path(override)
    frozen_base = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and frozen_base:
        return Path(frozen_base) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """Absolute path of a bundled resource, e.g. ``resource_path("scripts", "cns.json")``.

    Refuses absolute parts and ``..`` so a name coming from data cannot leave the folder.
    """
    for part in parts:
        if not part or Path(part).is_absolute() or ".." in Path(part).parts:
            raise ValueError(f"invalid resource path part: {part!r}")
    return resources_root().joinpath(*parts)
