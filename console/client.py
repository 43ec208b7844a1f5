"""Blocking HTTP client of the desk service REST API (docs/PROTOCOL.md, ``/api/openapi.json``).

Every call has a timeout; every failure surfaces as a typed ``console.errors.DeskError`` subclass
that the UI maps to a translated message. Tokens stay inside the client and are never logged; log
lines carry the method, the path template and the status only.

The client is safe to share between threads: the token refresh is serialised by a lock. It does
not own a thread; the UI calls it from a worker.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from console import __version__
from console.errors import (
    AccountLocked,
    ApprovalRefused,
    Conflict,
    DeskError,
    Forbidden,
    InsufficientStorage,
    InvalidCredentials,
    InvalidTotp,
    NotAuthenticated,
    NotFound,
    ProtocolError,
    RateLimited,
    ServerError,
    ServerUnreachable,
    TlsError,
    ValidationError,
)
from console.models import (
    ArchiveKey,
    Assignment,
    Decision,
    DecisionResult,
    EmailVerificationStatus,
    LoginResult,
    Operator,
    OtpSent,
    OtpVerification,
    QueueSnapshot,
    ReasonCode,
    RecognitionRequest,
    parse_datetime,
)
from console.urls import require_secure_url

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
#: (connect, read) seconds, used for every call unless the caller gives its own.
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 15.0)
OTP_PATTERN = re.compile(r"^[0-9]{6}$")

Timeout = float | tuple[float, float]


class _RedactQueries(logging.Filter):
    """urllib3 logs request URLs at DEBUG, query string included (``?booking_code=``): cut it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                a.split("?", 1)[0] + "?…" if isinstance(a, str) and "?" in a else a
                for a in record.args
            )
        return True


_REDACT = _RedactQueries()


def _install_log_redaction() -> None:
    target = logging.getLogger("urllib3.connectionpool")
    if _REDACT not in target.filters:
        target.addFilter(_REDACT)


@dataclass(slots=True)
class _Tokens:
    access: str
    refresh: str
    expires_at: float  # time.monotonic() deadline of the access token


class DeskClient:
    """The console's view of the desk service.

    ``base_url`` is the service origin (``https://desk.example:8443``); ``/api/v1`` is added
    unless already present; plain ``http://`` is refused (:class:`~console.errors.InsecureUrl`)
    except to a loopback host. ``ca_bundle`` is a PEM file (or directory) that TLS certificates
    are checked against; ``None`` uses the system store. Verification is never switched off.
    ``on_auth_lost`` is called (from the calling thread) when the refresh token is refused and the
    operator must sign in again.
    """

    def __init__(
        self,
        base_url: str,
        *,
        ca_bundle: str | Path | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        on_auth_lost: Callable[[], None] | None = None,
        http: requests.Session | None = None,
    ) -> None:
        url = base_url.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+", url):
            raise ValueError("base_url must start with http:// or https://")
        require_secure_url(url)
        if url.endswith(API_PREFIX):
            url = url[: -len(API_PREFIX)]
        self._origin = url
        self._api = url + API_PREFIX
        self._timeout = timeout
        self._http = http or requests.Session()
        self._http.headers["User-Agent"] = f"recognition-console/{__version__}"
        self._http.headers["Accept"] = "application/json"
        self._verify: bool | str = str(ca_bundle) if ca_bundle else True
        self._tokens: _Tokens | None = None
        self._lock = threading.Lock()
        self._operator: Operator | None = None
        self.on_auth_lost = on_auth_lost
        _install_log_redaction()

    # --- state --------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        """``scheme://host:port`` of the service (the WebSocket URL is derived from it)."""
        return self._origin

    @property
    def operator(self) -> Operator | None:
        return self._operator

    @property
    def is_authenticated(self) -> bool:
        return self._tokens is not None

    @property
    def verify(self) -> bool | str:
        """What ``requests`` gets as ``verify=`` (for other clients of the same service)."""
        return self._verify

    def access_token(self) -> str:
        """The current access token, for the operator WebSocket. Never log it."""
        tokens = self._tokens
        if tokens is None:
            raise NotAuthenticated("not signed in")
        return tokens.access

    def socket_token(self, refused: bool = False, min_valid_s: float = 60.0) -> str:
        """An access token to (re)open the operator WebSocket: the media engine's
        ``token_provider``. Refreshed first when it expires within ``min_valid_s`` or when
        ``refused`` (the service just refused it). Blocks (a REST call): worker threads only.

        Raises ``PermissionError`` when the service no longer accepts this sign-in (refresh
        refused: signed out, revoked, expired; or signed out here): retrying is pointless.
        Other errors (``ServerUnreachable``…) are transient: the caller retries later."""
        with self._lock:
            tokens = self._tokens
            if tokens is None:
                raise PermissionError("not signed in")
            if refused or tokens.expires_at - time.monotonic() < min_valid_s:
                try:
                    self._refresh_locked()
                except NotAuthenticated:
                    raise PermissionError("the sign-in is no longer valid") from None
            current = self._tokens
            if current is None:
                raise PermissionError("not signed in")
            return current.access

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DeskClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- auth -----------------------------------------------------------------------------

    def login(self, username: str, password: str, totp: str) -> LoginResult:
        body = {"username": username, "password": password, "totp": totp.strip()}
        _, data = self._send("POST", "/auth/login", json=body, auth=False, expected=(200,))
        result = self._accept_tokens(data)
        log.info("signed in (role %s)", result.operator.role.value)
        return result

    def refresh(self) -> LoginResult:
        """Exchange the refresh token for new tokens. Raises NotAuthenticated when refused."""
        with self._lock:
            return self._refresh_locked()

    def logout(self) -> None:
        """Revoke the session on the service (best effort) and forget the tokens locally."""
        tokens = self._tokens
        try:
            if tokens is not None:
                self._send("POST", "/auth/logout", expected=(200, 204))
        except DeskError as exc:
            log.info("logout on the service failed (%s); tokens dropped locally", exc.code)
        finally:
            self._tokens = None
            self._operator = None

    def me(self) -> Operator:
        """The signed-in operator as the service sees it now."""
        _, data = self._send("GET", "/auth/me")
        return Operator.from_json(data)

    # --- queue and requests ---------------------------------------------------------------

    def queue(self) -> QueueSnapshot:
        _, data = self._send("GET", "/queue")
        return QueueSnapshot.from_json(data)

    def take_next(self) -> Assignment | None:
        """Take the next applicant (chosen at random by the service); None when nobody waits."""
        status, data = self._send("POST", "/queue/next", expected=(200, 204))
        if status == 204:
            return None
        return Assignment.from_json(data)

    def get_request(self, request_id: str) -> RecognitionRequest:
        _, data = self._send("GET", f"/requests/{_seg(request_id)}")
        return RecognitionRequest.from_json(data)

    def find_by_booking_code(self, code: str) -> RecognitionRequest | None:
        """The request with that booking code, or None. The code is never logged."""
        code = "".join(ch for ch in code.upper() if ch.isascii() and ch.isalnum())
        if not code or len(code) > 64:
            raise ValidationError("booking code format",
                                  fields={"booking_code": "invalid_format"})
        try:
            _, data = self._send("GET", "/requests", params={"booking_code": code})
        except NotFound:
            return None
        found = _first_request(data)
        return None if found is None else RecognitionRequest.from_json(found)

    def start_in_person(self, request_id: str) -> Assignment:
        """Partner point (role partner/supervisor): start the in-person session of a request
        found with ``find_by_booking_code``. Conflict('illegal_transition') if it is closed."""
        _, data = self._send("POST", f"/requests/{_seg(request_id)}/in-person",
                             expected=(200, 201))
        return Assignment.from_json(data)

    # --- OTP and e-mail ------------------------------------------------------------------

    def send_otp(self, request_id: str) -> OtpSent:
        """Send (or re-send) the SMS code. RateLimited(code='resend_too_soon') if too early."""
        _, data = self._send("POST", f"/requests/{_seg(request_id)}/otp", expected=(200, 201))
        return OtpSent.from_json(data)

    def verify_otp(self, request_id: str, code: str) -> OtpVerification:
        """Check the code the applicant read back. A malformed code is refused locally."""
        code = re.sub(r"\s", "", code)
        if not OTP_PATTERN.match(code):
            raise ValidationError("the code must be 6 digits", fields={"code": "invalid_format"})
        _, data = self._send(
            "POST", f"/requests/{_seg(request_id)}/otp/verify", json={"code": code}
        )
        return OtpVerification.from_json(data)

    def send_email_verification(self, request_id: str) -> EmailVerificationStatus:
        path = f"/requests/{_seg(request_id)}/email-verification"
        _, data = self._send("POST", path, expected=(200, 201))
        if isinstance(data, Mapping) and ("confirmed" in data or "sent_at" in data):
            return EmailVerificationStatus.from_json(data)
        return EmailVerificationStatus(sent_at=datetime.now(UTC), confirmed=False,
                                       confirmed_at=None)

    def email_status(self, request_id: str) -> EmailVerificationStatus:
        _, data = self._send("GET", f"/requests/{_seg(request_id)}/email-verification")
        return EmailVerificationStatus.from_json(data)

    # --- decisions and evidence ----------------------------------------------------------

    def decide(
        self,
        request_id: str,
        decision_id: str | uuid.UUID,
        decision: Decision | str,
        reason_code: ReasonCode | str,
        note: str = "",
    ) -> DecisionResult:
        """Record the decision. Idempotent by ``decision_id``: sending the same one again gets
        the same answer; a different one after a decision raises Conflict('already_decided')."""
        try:
            did = str(uuid.UUID(str(decision_id)))
            dec = Decision(decision)
            reason = ReasonCode(reason_code)
        except ValueError:
            raise ValidationError(
                "decision fields", fields={"decision": "invalid"}
            ) from None
        body = {"decision_id": did, "decision": dec.value, "reason_code": reason.value,
                "note": note}
        _, data = self._send("POST", f"/requests/{_seg(request_id)}/decision", json=body)
        return DecisionResult.from_json(data)

    def archive_key(self) -> ArchiveKey:
        _, data = self._send("GET", "/archive-key")
        return ArchiveKey.from_json(data)

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        data: bytes | None = None,
        expected: tuple[int, ...] = (200, 201, 204),
        timeout: Timeout | None = None,
    ) -> tuple[int, Any]:
        """Any other API call (``path`` relative to /api/v1), with the same auth, refresh,
        timeouts and error mapping. Returns (status, decoded JSON or None)."""
        return self._send(method, path, json=json, params=params, data=data,
                          expected=expected, timeout=timeout)

    # --- internals ------------------------------------------------------------------------

    def _accept_tokens(self, data: Any) -> LoginResult:
        if not isinstance(data, Mapping):
            raise ProtocolError("login answer is not an object")
        access, refresh = data.get("access_token"), data.get("refresh_token")
        expires_in = data.get("expires_in", 900)
        if not isinstance(access, str) or not isinstance(refresh, str) or not access:
            raise ProtocolError("login answer without tokens")
        if isinstance(expires_in, bool) or not isinstance(expires_in, int | float):
            raise ProtocolError("login answer: expires_in is not a number")
        operator = Operator.from_json(data.get("operator"))
        self._tokens = _Tokens(access, refresh, time.monotonic() + float(expires_in))
        self._operator = operator
        return LoginResult(operator=operator, expires_in=int(expires_in))

    def _refresh_locked(self) -> LoginResult:
        tokens = self._tokens
        if tokens is None:
            raise NotAuthenticated("not signed in")
        try:
            _, data = self._send(
                "POST",
                "/auth/refresh",
                json={"refresh_token": tokens.refresh},
                auth=False,
                expected=(200,),
            )
        except (InvalidCredentials, InvalidTotp, NotAuthenticated, Forbidden, ValidationError):
            self._tokens = None
            log.info("refresh token refused: sign-in needed")
            if self.on_auth_lost is not None:
                self.on_auth_lost()
            raise NotAuthenticated("session expired, sign in again", status=401) from None
        log.debug("access token refreshed")
        return self._accept_tokens(data)

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        data: bytes | None = None,
        auth: bool = True,
        expected: tuple[int, ...] = (200,),
        retry_auth: bool = True,
        timeout: Timeout | None = None,
    ) -> tuple[int, Any]:
        used_token: str | None = None
        if auth:
            tokens = self._tokens
            if tokens is None:
                raise NotAuthenticated("not signed in")
            used_token = tokens.access
        response = self._raw(method, path, json=json, params=params, data=data,
                             token=used_token, timeout=timeout)
        if response.status_code == 401 and auth and retry_auth:
            with self._lock:
                current = self._tokens
                if current is None:
                    raise NotAuthenticated("not signed in", status=401)
                if current.access == used_token:
                    self._refresh_locked()
                assert self._tokens is not None
                used_token = self._tokens.access
            response = self._raw(method, path, json=json, params=params, data=data,
                                 token=used_token, timeout=timeout)
        if response.status_code in expected:
            return response.status_code, _decode(response)
        raise self._error(response, auth=auth)

    def _raw(
        self,
        method: str,
        path: str,
        *,
        json: Any,
        params: Mapping[str, str] | None,
        data: bytes | None,
        token: str | None,
        timeout: Timeout | None,
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if data is not None:
            headers["Content-Type"] = "application/octet-stream"
        url = self._api + path
        started = time.monotonic()
        try:
            response = self._http.request(
                method,
                url,
                json=json,
                params=params,
                data=data,
                headers=headers,
                timeout=timeout or self._timeout,
                verify=self._verify,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError as exc:
            log.warning("%s %s: TLS failure (%s)", method, path, type(exc).__name__)
            raise TlsError("TLS handshake failed: " + _short(exc)) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            log.info("%s %s: unreachable (%s)", method, path, type(exc).__name__)
            raise ServerUnreachable(f"desk service unreachable ({type(exc).__name__})") from None
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as exc:
            raise ServerUnreachable(f"bad service URL ({type(exc).__name__})") from None
        except OSError as exc:  # e.g. the CA bundle file does not exist
            raise TlsError(f"cannot use the CA bundle ({type(exc).__name__})") from None
        log.debug("%s %s -> %d in %.0f ms", method, path, response.status_code,
                  (time.monotonic() - started) * 1000)
        return response

    def _error(self, response: requests.Response, *, auth: bool) -> DeskError:
        status = response.status_code
        body: Mapping[str, Any] = {}
        try:
            decoded = response.json()
            if isinstance(decoded, Mapping):
                body = decoded
        except ValueError:
            pass
        code = body.get("error") if isinstance(body.get("error"), str) else None
        message = body.get("message") if isinstance(body.get("message"), str) else ""
        text = f"HTTP {status} {code or ''}: {message}".strip()
        log.info("desk service answered %d %s", status, code or "")
        if status == 401:
            if code == "invalid_totp":
                return InvalidTotp(text, status=status)
            if code == "invalid_credentials" or not auth:
                return InvalidCredentials(text, status=status, code=code)
            return NotAuthenticated(text, status=status, code=code)
        if status == 423:
            return AccountLocked(text, locked_until=_locked_until(body), status=status)
        if status in (400, 422):
            fields = body.get("fields")
            clean = ({str(k): str(v) for k, v in fields.items()}
                     if isinstance(fields, Mapping) else {})
            return ValidationError(text, fields=clean, code=code, status=status)
        if status == 403:
            return Forbidden(text, code=code, status=status)
        if status == 404:
            return NotFound(text, code=code, status=status)
        if status == 409:
            missing = body.get("missing")
            if code == "approval_refused" and isinstance(missing, list):
                # the service's list of what it has not recorded (no personal data in it)
                names = [str(m)[:40] for m in missing[:20]]
                log.warning("approval refused by the desk service; missing: %s",
                            ", ".join(names))
                return ApprovalRefused(text, missing=names, status=status)
            return Conflict(text, code=code, status=status)
        if status == 429:
            return RateLimited(text, retry_after=_retry_after(response, body), code=code,
                               status=status)
        if status == 507:
            return InsufficientStorage(text, retry_after=_retry_after(response, body),
                                       code=_storage_code(code), status=status)
        return ServerError(text, code=code, status=status)


def _storage_code(code: str | None) -> str:
    """The 507's code: ``read_only_storage`` or (anything else) ``insufficient_storage``."""
    if code in ("insufficient_storage", "read_only_storage"):
        return code
    return "insufficient_storage"


def _seg(value: str) -> str:
    value = str(value)
    if not value:
        raise ValidationError("empty identifier", fields={"id": "required"})
    return quote(value, safe="")


def _decode(response: requests.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise ProtocolError(f"HTTP {response.status_code}: body is not JSON") from None


def _first_request(data: Any) -> Mapping[str, Any] | None:
    """``GET /requests?booking_code=`` may answer a list, ``{"requests": [...]}`` or one object."""
    if isinstance(data, list):
        items: list[Any] = data
    elif isinstance(data, Mapping) and isinstance(data.get("requests"), list):
        items = data["requests"]
    elif isinstance(data, Mapping) and isinstance(data.get("items"), list):
        items = data["items"]
    elif isinstance(data, Mapping) and "id" in data:
        return data
    else:
        raise ProtocolError("booking code lookup: unexpected answer")
    if not items:
        return None
    first = items[0]
    if not isinstance(first, Mapping):
        raise ProtocolError("booking code lookup: entry is not an object")
    return first


def _locked_until(body: Mapping[str, Any]) -> datetime | None:
    for source in (body, body.get("fields") if isinstance(body.get("fields"), Mapping) else {}):
        value = source.get("locked_until") if isinstance(source, Mapping) else None
        if value is not None:
            try:
                return parse_datetime(value, "locked_until")
            except ProtocolError:
                return None
    return None


def _retry_after(response: requests.Response, body: Mapping[str, Any]) -> float | None:
    header = response.headers.get("Retry-After")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            try:
                when = parsedate_to_datetime(header)
                return max(0.0, (when - datetime.now(UTC)).total_seconds())
            except (TypeError, ValueError):
                pass
    for key in ("retry_after", "resend_after"):
        value = body.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return max(0.0, float(value))
        if isinstance(value, str):
            try:
                when = parse_datetime(value)
                return max(0.0, (when - datetime.now(UTC)).total_seconds())
            except ProtocolError:
                continue
    return None


def _short(exc: BaseException) -> str:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "certificate verify failed"
    if "WRONG_VERSION_NUMBER" in text:
        return "wrong TLS version (is the service plain HTTP?)"
    return type(exc).__name__
