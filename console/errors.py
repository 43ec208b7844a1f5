"""Typed errors of the console core.

The UI maps each class (and its ``code``) to a translated message; ``str(error)`` is an English
text for logs and developers and never contains personal data, OTP codes or tokens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime


class ConsoleError(Exception):
    """Base of every error raised on purpose by the console core."""

    code: str = "console_error"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.__class__.__name__)
        if code is not None:
            self.code = code


# --- desk service ---------------------------------------------------------------------------


class DeskError(ConsoleError):
    """An error talking to the desk service. ``status`` is the HTTP status when there was one."""

    code = "desk_error"

    def __init__(
        self, message: str = "", *, code: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.status = status


class ServerUnreachable(DeskError):
    """No answer: connection refused, DNS failure, timeout. Transient: retrying may help."""

    code = "server_unreachable"


class TlsError(DeskError):
    """The TLS handshake failed (untrusted or wrong certificate, CA bundle missing)."""

    code = "tls_error"


class InsecureUrl(DeskError, ValueError):
    """A plain ``http://`` desk URL to a host that is not loopback: passwords, tokens and
    personal data would cross the network in clear. Use ``https://`` (a ``ValueError`` too, like
    any other unusable URL)."""

    code = "insecure_url"


class ProtocolError(DeskError):
    """The service answered something that does not follow docs/PROTOCOL.md."""

    code = "protocol_error"


class InvalidCredentials(DeskError):
    code = "invalid_credentials"


class InvalidTotp(DeskError):
    code = "invalid_totp"


class AccountLocked(DeskError):
    code = "account_locked"

    def __init__(
        self,
        message: str = "",
        *,
        locked_until: datetime | None = None,
        code: str | None = None,
        status: int | None = 423,
    ) -> None:
        super().__init__(message, code=code, status=status)
        self.locked_until = locked_until


class NotAuthenticated(DeskError):
    """Not signed in, or the session expired and the refresh token was refused: sign in again."""

    code = "not_authenticated"


class Forbidden(DeskError):
    code = "forbidden"


class NotFound(DeskError):
    code = "not_found"


class ValidationError(DeskError):
    """400/422. ``fields`` maps a field name to an error code (``{"code": "invalid"}``)."""

    code = "validation_error"

    def __init__(
        self,
        message: str = "",
        *,
        fields: Mapping[str, str] | None = None,
        code: str | None = None,
        status: int | None = 422,
    ) -> None:
        super().__init__(message, code=code, status=status)
        self.fields: dict[str, str] = dict(fields or {})


class Conflict(DeskError):
    """409: e.g. ``already_decided``, a wrong upload offset, ``retention_not_expired``."""

    code = "conflict"


class ApprovalRefused(Conflict):
    """409 ``approval_refused``: the service has not recorded everything an approval needs;
    ``missing`` names what (``otp_verified``, ``capture:face``, ``recording_uploaded``…)."""

    code = "approval_refused"

    def __init__(self, message: str = "", *, missing: Sequence[str] = (),
                 status: int | None = 409) -> None:
        super().__init__(message, code="approval_refused", status=status)
        self.missing = tuple(missing)


class RateLimited(DeskError):
    """429: e.g. ``resend_too_soon``. ``retry_after`` in seconds when the service said so."""

    code = "rate_limited"

    def __init__(
        self,
        message: str = "",
        *,
        retry_after: float | None = None,
        code: str | None = None,
        status: int | None = 429,
    ) -> None:
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after


class ServerError(DeskError):
    """5xx, or an unexpected status. Transient from the console's point of view."""

    code = "server_error"


class InsufficientStorage(ServerError):
    """507: the desk service's disk is full (``insufficient_storage``) or read-only
    (``read_only_storage``). Nothing of the refused write was kept there; what the console
    queued stays in its outbox and is sent again once space is freed (transient).
    ``retry_after`` in seconds when the service said so."""

    code = "insufficient_storage"

    def __init__(
        self,
        message: str = "",
        *,
        retry_after: float | None = None,
        code: str | None = None,
        status: int | None = 507,
    ) -> None:
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after


# --- local ----------------------------------------------------------------------------------


class ScriptError(ConsoleError):
    """A script file is missing, not JSON, or does not match the schema."""

    code = "script_invalid"

    def __init__(self, source: str, problem: str, *, location: str = "") -> None:
        where = f"{source}: {location}: " if location else f"{source}: "
        super().__init__(where + problem)
        self.source = source
        self.problem = problem
        self.location = location


class SessionError(ConsoleError):
    """An action the recognition session refuses (``code`` says why)."""

    code = "session_error"


class ApprovalBlocked(SessionError):
    """approve() refused: ``missing`` lists the ids of required steps not passed, ``blockers``
    the codes of active blockers (e.g. ``face_mismatch`` from the automated checks)."""

    code = "approval_blocked"

    def __init__(self, missing: Sequence[str], blockers: Sequence[str] = ()) -> None:
        parts = []
        if missing:
            parts.append("required steps not passed: " + ", ".join(missing))
        if blockers:
            parts.append("blocked by: " + ", ".join(blockers))
        super().__init__("; ".join(parts) or "approval blocked")
        self.missing: tuple[str, ...] = tuple(missing)
        self.blockers: tuple[str, ...] = tuple(blockers)


class OutboxError(ConsoleError):
    code = "outbox_error"


class CredentialsUnavailable(ConsoleError):
    """No usable OS keyring: "remember me" cannot work on this machine."""

    code = "keyring_unavailable"


# Errors after which an automatic retry (outbox) makes sense.
TRANSIENT_ERRORS: tuple[type[DeskError], ...] = (
    ServerUnreachable,
    ServerError,
    InsufficientStorage,
    RateLimited,
    NotAuthenticated,
    TlsError,
)
