"""Translated, user-facing messages for the codes the core returns.

The core raises typed errors with a ``code`` (console/errors.py) and returns enums; only this
module turns them into sentences, always through ``QCoreApplication.translate`` so that
pyside6-lupdate finds every string.
"""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QCoreApplication


def error_message(code: str, *, locked_until: datetime | None = None) -> str:
    """The sentence shown to the operator for an error ``code``."""
    if code == "invalid_credentials":
        return QCoreApplication.translate("Messages", "Wrong user name or password.")
    if code == "invalid_totp":
        return QCoreApplication.translate(
            "Messages", "The one-time code from the authenticator app is wrong or expired."
        )
    if code == "account_locked":
        if locked_until is not None:
            local = (
                locked_until.astimezone()
                if locked_until.tzinfo
                else locked_until.replace(tzinfo=UTC).astimezone()
            )
            when = local.strftime("%H:%M")
            return QCoreApplication.translate(
                "Messages", "Account locked after too many failed attempts, until %1."
            ).replace("%1", when)
        return QCoreApplication.translate(
            "Messages", "Account locked after too many failed attempts. Try again later."
        )
    if code == "server_unreachable":
        return QCoreApplication.translate(
            "Messages", "The desk service cannot be reached. Check the address and the network."
        )
    if code == "tls_error":
        return QCoreApplication.translate(
            "Messages",
            "The server's TLS certificate is not trusted: check the address or the CA bundle.",
        )
    if code == "not_authenticated":
        return QCoreApplication.translate(
            "Messages", "Your session has expired. Please sign in again."
        )
    if code == "forbidden":
        return QCoreApplication.translate("Messages", "Your account is not allowed to do this.")
    if code == "not_found":
        return QCoreApplication.translate("Messages", "Not found on the desk service.")
    if code == "validation_error":
        return QCoreApplication.translate("Messages", "Some fields are not valid.")
    if code == "resend_too_soon" or code == "rate_limited":
        return QCoreApplication.translate(
            "Messages", "Too soon: wait a moment before trying again."
        )
    if code == "approval_refused":
        return QCoreApplication.translate(
            "Messages",
            "The desk service refuses the approval: it has not recorded everything an approval "
            "needs.",
        )
    if code in ("not_your_session", "not_your_point", "not_your_upload"):
        return QCoreApplication.translate(
            "Messages", "This request is not assigned to you on the desk service."
        )
    if code == "otp_codes_exhausted":
        return QCoreApplication.translate(
            "Messages", "No more SMS codes can be sent for this request."
        )
    if code == "already_decided":
        return QCoreApplication.translate("Messages", "This request has already been decided.")
    if code == "server_error":
        return QCoreApplication.translate(
            "Messages", "The desk service had an internal problem. Try again shortly."
        )
    if code in ("insufficient_storage", "read_only_storage"):
        return QCoreApplication.translate(
            "Messages",
            "The desk service cannot store data right now: its disk is full or read-only. "
            "Evidence and decisions waiting on this computer are kept and sent again "
            "automatically; try other actions again later and tell the desk service's "
            "administrator.",
        )
    if code == "protocol_error":
        return QCoreApplication.translate(
            "Messages", "The desk service answered something unexpected."
        )
    if code == "approval_blocked":
        return QCoreApplication.translate("Messages", "Required steps are not passed yet.")
    if code == "keyring_unavailable":
        return QCoreApplication.translate(
            "Messages", "No system keyring is available: the password cannot be remembered."
        )
    if code == "invalid_url":
        return QCoreApplication.translate(
            "Messages", "The server address is not a valid http(s) URL."
        )
    if code == "insecure_url":
        return QCoreApplication.translate(
            "Messages",
            "Plain http:// is allowed only to this computer: use the https:// address of the "
            "desk service.",
        )
    if code == "missing_fields":
        return QCoreApplication.translate(
            "Messages", "Fill in user name, password and the 6-digit code."
        )
    if code == "queue_empty":
        return QCoreApplication.translate("Messages", "Nobody is waiting right now.")
    if code == "no_camera":
        return QCoreApplication.translate("Messages", "The applicant's camera is not available.")
    if code == "timeout":
        return QCoreApplication.translate("Messages", "No answer in time.")
    if code == "not_connected":
        return QCoreApplication.translate("Messages", "The call is not connected.")
    if code == "media_unavailable":
        return QCoreApplication.translate(
            "Messages", "The media engine is not available on this installation."
        )
    return QCoreApplication.translate("Messages", "Unexpected error (%1).").replace("%1", code)


def quality_label(level: str) -> str:
    return {
        "excellent": QCoreApplication.translate("Messages", "Excellent"),
        "good": QCoreApplication.translate("Messages", "Good"),
        "poor": QCoreApplication.translate("Messages", "Poor"),
        "lost": QCoreApplication.translate("Messages", "Lost"),
    }.get(level, QCoreApplication.translate("Messages", "Measuring…"))


def step_status_label(status: str) -> str:
    return {
        "pending": QCoreApplication.translate("Messages", "To do"),
        "passed": QCoreApplication.translate("Messages", "Passed"),
        "failed": QCoreApplication.translate("Messages", "Failed"),
        "skipped": QCoreApplication.translate("Messages", "Skipped"),
    }.get(status, status)


def decision_label(decision: str) -> str:
    return {
        "approved": QCoreApplication.translate("Messages", "Approve"),
        "rejected": QCoreApplication.translate("Messages", "Reject"),
        "suspended": QCoreApplication.translate("Messages", "Suspend"),
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
    return {
        "ok": QCoreApplication.translate("Messages", "All checks passed"),
        "document_expired": QCoreApplication.translate("Messages", "Document expired"),
        "document_damaged": QCoreApplication.translate(
            "Messages", "Document damaged or unreadable"
        ),
        "data_mismatch": QCoreApplication.translate("Messages", "Data do not match"),
        "poor_video": QCoreApplication.translate("Messages", "Poor video quality"),
        "poor_audio": QCoreApplication.translate("Messages", "Poor audio quality"),
        "applicant_refused": QCoreApplication.translate(
            "Messages", "Applicant refused to continue"
        ),
        "suspected_fraud": QCoreApplication.translate("Messages", "Suspected fraud"),
        "third_person_present": QCoreApplication.translate("Messages", "A third person is present"),
        "otp_failed": QCoreApplication.translate("Messages", "SMS code not verified"),
        "face_mismatch": QCoreApplication.translate("Messages", "Face does not match the document"),
        "connection_lost": QCoreApplication.translate("Messages", "Connection lost"),
        "other": QCoreApplication.translate("Messages", "Other (explain in the note)"),
    }.get(code, code)


def product_label(code: str) -> str:
    return {
        "spid_personal": QCoreApplication.translate("Messages", "SPID (personal)"),
        "spid_professional": QCoreApplication.translate("Messages", "SPID (professional)"),
        "digital_signature": QCoreApplication.translate("Messages", "Digital signature"),
        "cns": QCoreApplication.translate("Messages", "CNS"),
    }.get(code, code)


def format_wait(seconds: float) -> str:
    seconds = max(0, int(seconds))
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def now_utc() -> datetime:
    return datetime.now(UTC)


def missing_text(missing: list[str]) -> str:
    """The service's list of what an approval still needs, one translated line each."""
    names = {
        "consent": QCoreApplication.translate("Messages", "the applicant's consent"),
        "otp_verified": QCoreApplication.translate(
            "Messages", "a verified SMS code in this session"
        ),
        "email_confirmed": QCoreApplication.translate("Messages", "the confirmed e-mail address"),
        "recording_uploaded": QCoreApplication.translate(
            "Messages", "the session's recording, uploaded"
        ),
        "card_read_or_document_check": QCoreApplication.translate(
            "Messages", "the card read or the document checks"
        ),
        "signed_form": QCoreApplication.translate("Messages", "the signed form"),
    }
    lines = []
    for item in missing:
        if item.startswith("capture:"):
            lines.append(
                QCoreApplication.translate("Messages", "the capture: %1").replace(
                    "%1", item.removeprefix("capture:")
                )
            )
        else:
            lines.append(names.get(item, item))
    head = QCoreApplication.translate("Messages", "Still missing:")
    return head + "\n" + "\n".join(f"• {line}" for line in lines)
