"""Shared test set-up. Each area keeps its fixtures in tests/fixtures/<area>.py."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# keyring: never touch a real OS keyring in tests
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")

pytest_plugins = [
    "tests.fixtures.desk",
    "tests.fixtures.postgres",
    "tests.fixtures.pcsc",
    "tests.fixtures.chromium",
]
