""""Remember me": the operator's password in the OS keyring, never in a file of ours.

Entries are keyed by service URL and username, under ``SERVICE_NAME``. TOTP codes are never
stored (they change every 30 s and are the second factor). A machine without a usable keyring
raises ``CredentialsUnavailable`` on store and answers None on lookup, so the UI can hide the
option. No password, username or URL appears in a log line.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from console.errors import CredentialsUnavailable

log = logging.getLogger(__name__)

SERVICE_NAME = "it.infocert.recognition-console"


def _account(server_url: str, username: str) -> str:
    parts = urlsplit(server_url.strip())
    origin = f"{parts.scheme}://{parts.netloc}".lower() if parts.netloc else server_url.strip()
    return f"{username.strip()}@{origin}"


class Credentials:
    """Keyring wrapper. ``backend`` defaults to keyring's configured backend."""

    def __init__(self, backend: KeyringBackend | None = None,
                 service_name: str = SERVICE_NAME) -> None:
        self._backend = backend
        self.service_name = service_name

    @property
    def backend(self) -> KeyringBackend:
        return self._backend or keyring.get_keyring()

    def available(self) -> bool:
        """Whether a real keyring is usable (not the 'fail' backend)."""
        backend = self.backend
        name = f"{type(backend).__module__}.{type(backend).__name__}"
        return "keyring.backends.fail" not in name and "null" not in name.lower()

    def store(self, server_url: str, username: str, password: str) -> None:
        if not username or not password:
            raise ValueError("username and password are required")
        try:
            self.backend.set_password(self.service_name, _account(server_url, username), password)
        except (keyring.errors.KeyringError, OSError) as exc:
            log.warning("could not store the password in the keyring (%s)", type(exc).__name__)
            raise CredentialsUnavailable("the OS keyring is not available") from None

    def lookup(self, server_url: str, username: str) -> str | None:
        if not username:
            return None
        try:
            return self.backend.get_password(self.service_name, _account(server_url, username))
        except (keyring.errors.KeyringError, OSError) as exc:
            log.info("keyring lookup failed (%s)", type(exc).__name__)
            return None

    def forget(self, server_url: str, username: str) -> None:
        """Remove the entry; no error if there was none or no keyring."""
        try:
            self.backend.delete_password(self.service_name, _account(server_url, username))
        except keyring.errors.PasswordDeleteError:
            pass
        except (keyring.errors.KeyringError, OSError) as exc:
            log.info("keyring delete failed (%s)", type(exc).__name__)


# Module-level shortcuts on the default keyring.
def save_password(server_url: str, username: str, password: str) -> None:
    Credentials().store(server_url, username, password)


def load_password(server_url: str, username: str) -> str | None:
    return Credentials().lookup(server_url, username)


def delete_password(server_url: str, username: str) -> None:
    Credentials().forget(server_url, username)
