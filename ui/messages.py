"""Translated, user-facing messages for the codes the core returns.

The core raises typed errors with a ``code`` (console/errors.py) and returns enums; only this
module turns them into sentences, always through ``QCoreApplication.translate`` so that
pyside6-lupdate finds every string.
"""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QCoreApplication

_C = "Messages"


def _t(text: str) -> str:
    return QCoreApplication.translate(_C, text)


def error_message(code: str, *, locked_until: datetime | None = None) -> str:
    """The sentence shown to the operator for an error ``code``."""
    t = QCoreApplication.translate
    if code == "invalid_credentials":
        return t("Messages", "Wrong user name or password.")
    if code == "invalid_totp":
        return t("Messages", "The one-time code from the authenticator app is wrong or expired.")
    if code == "account_locked":
        if locked_until is not None:
            local = (
                locked_until.astimezone()
                if locked_until.tzinfo
                else locked_until.replace(tzinfo=UTC).astimezone()
            )
            when = local.strftime("%H:%M")
            return t(
                "Messages", "Account locked after too many failed attempts, until %1."
            ).replace("%1", when)
        return t("Messages", "Account locked after too many failed attempts. Try again later.")
    if code == "server_unreachable":
        return t(
            "Messages", "The desk service cannot be reached. Check the address and the network."
        )
    if code == "tls_error":
        return t(
            "Messages",
            "The server's TLS certificate is not trusted. "
            "Check the address or the CA bundle in the settings.",
        )
    if code == "not_authenticated":
        return t("Messages", "Your session has expired. Please sign in again.")
    if code == "forbidden":
        return t("Messages", "Your account is not allowed to do this.")
    if code == "not_found":
        return t("Messages", "Not found on the desk service.")
    if code == "validation_error":
        return t("Messages", "Some fields are not valid.")
    if code == "resend_too_soon" or code == "rate_limited":
        return t("Messages", "Too soon: wait a moment before trying again.")
    if code == "already_decided":
        return t("Messages", "This request has already been decided.")
    if code == "server_error":
        return t("Messages", "The desk service had an internal problem. Try again shortly.")
    if code == "protocol_error":
        return t("Messages", "The desk service answered something unexpected.")
    if code == "approval_blocked":
        return t("Messages", "Required steps are not passed yet.")
    if code == "keyring_unavailable":
        return t("Messages", "No system keyring is available: the password cannot be remembered.")
    if code == "invalid_url":
        return t("Messages", "The server address is not a valid http(s) URL.")
    if code == "missing_fields":
        return t("Messages", "Fill in user name, password and the 6-digit code.")
    if code == "queue_empty":
        return t("Messages", "Nobody is waiting right now.")
    if code == "no_camera":
        return t("Messages", "The applicant's camera is not available.")
    if code == "timeout":
        return t("Messages", "No answer in time.")
    if code == "not_connected":
        return t("Messages", "The call is not connected.")
    if code == "media_unavailable":
        return t("Messages", "The media engine is not available on this installation.")
    return t("Messages", "Unexpected error (%1).").replace("%1", code)


def quality_label(level: str) -> str:
    t = QCoreApplication.translate
    return {
        "excellent": t("Messages", "Excellent"),
        "good": t("Messages", "Good"),
        "poor": t("Messages", "Poor"),
        "lost": t("Messages", "Lost"),
    }.get(level, t("Messages", "Measuring…"))


def step_status_label(status: str) -> str:
    t = QCoreApplication.translate
    return {
        "pending": t("Messages", "To do"),
        "passed": t("Messages", "Passed"),
        "failed": t("Messages", "Failed"),
        "skipped": t("Messages", "Skipped"),
    }.get(status, status)


def decision_label(decision: str) -> str:
    t = QCoreApplication.translate
    return {
        "approved": t("Messages", "Approve"),
        "rejected": t("Messages", "Reject"),
        "suspended": t("Messages", "Suspend"),
    }.get(decision, decision)


REASON_CODES: tuple[str, ...] = (
    "ok",
    "document_expired",
    "document_damaged",
    "data_mismatch",
    "poor_video",
    "poor_audio",
    "applicant_refused",
    "suspected_fraud",
    "third_person_present",
    "otp_failed",
    "face_mismatch",
    "connection_lost",
    "other",
)


def reason_label(code: str) -> str:
    t = QCoreApplication.translate
    return {
        "ok": t("Messages", "All checks passed"),
        "document_expired": t("Messages", "Document expired"),
        "document_damaged": t("Messages", "Document damaged or unreadable"),
        "data_mismatch": t("Messages", "Data do not match"),
        "poor_video": t("Messages", "Poor video quality"),
        "poor_audio": t("Messages", "Poor audio quality"),
        "applicant_refused": t("Messages", "Applicant refused to continue"),
        "suspected_fraud": t("Messages", "Suspected fraud"),
        "third_person_present": t("Messages", "A third person is present"),
        "otp_failed": t("Messages", "SMS code not verified"),
        "face_mismatch": t("Messages", "Face does not match the document"),
        "connection_lost": t("Messages", "Connection lost"),
        "other": t("Messages", "Other (explain in the note)"),
    }.get(code, code)


def product_label(code: str) -> str:
    t = QCoreApplication.translate
    return {
        "spid_personal": t("Messages", "SPID (personal)"),
        "spid_professional": t("Messages", "SPID (professional)"),
        "digital_signature": t("Messages", "Digital signature"),
        "cns": t("Messages", "CNS"),
    }.get(code, code)


def format_wait(seconds: float) -> str:
    seconds = max(0, int(seconds))
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def now_utc() -> datetime:
    return datetime.now(UTC)
