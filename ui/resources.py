"""Resource helpers for the UI (paths come from console.resources: source tree or bundle)."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from console.resources import resource_path, resources_root

log = logging.getLogger(__name__)

__all__ = ["icon_path", "resource_path", "resources_root", "stylesheet"]


@cache
def stylesheet() -> str:
    """The application style sheet (resources/style/console.qss); empty if missing."""
    path = resource_path("style", "console.qss")
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        log.warning("style sheet not found at %s", path)
        return ""


def icon_path(name: str) -> Path:
    return resource_path("icons", f"{name}.svg")
