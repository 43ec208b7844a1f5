"""Typed errors of the evidence package; the UI maps ``code`` to a translated message."""

from __future__ import annotations

from console.errors import ConsoleError


class EvidenceError(ConsoleError):
    """Something about an evidence package went wrong."""

    code = "evidence_error"


class EvidenceKeyError(EvidenceError):
    """A key file is missing, unreadable or of the wrong kind."""

    code = "evidence_key_invalid"


class SealError(EvidenceError):
    """A sealed package cannot be decrypted: wrong key, altered or truncated."""

    code = "evidence_seal_invalid"


class PackageError(EvidenceError):
    """A package folder or archive is malformed or cannot be finalised."""

    code = "evidence_package_invalid"


class RecordingError(EvidenceError):
    """The session recorder could not start: the session must not go on unrecorded."""

    code = "evidence_recording_failed"


class UploadError(EvidenceError):
    """An upload did not complete; the package stays in the outbox."""

    code = "evidence_upload_failed"
