"""Error codes of the card reader. The core raises codes; the UI translates them."""

from __future__ import annotations

import enum


class CardErrorCode(enum.StrEnum):
    """Why a card operation failed. Values are stable identifiers (CLI output, UI lookup)."""

    NO_SERVICE = "no_service"  # pcscd not running
    NO_READER = "no_reader"
    READER_NOT_FOUND = "reader_not_found"  # a named reader is not connected
    READER_REMOVED = "reader_removed"  # unplugged while in use
    NO_CARD = "no_card"
    CARD_REMOVED = "card_removed"  # pulled out mid-read
    CARD_UNRESPONSIVE = "card_unresponsive"
    NOT_CNS = "not_cns"  # neither the ATR nor the file system is a CNS
    FILE_NOT_FOUND = "file_not_found"
    ACCESS_DENIED = "access_denied"  # 6982 / 6986: needs a PIN or not allowed
    CARD_ERROR = "card_error"  # an unexpected status word
    MALFORMED_RESPONSE = "malformed_response"
    MALFORMED_CARD_NUMBER = "malformed_card_number"
    MALFORMED_PERSONAL_DATA = "malformed_personal_data"
    MALFORMED_CERTIFICATE = "malformed_certificate"
    PCSC_ERROR = "pcsc_error"


# One-line English reasons for logs and the CLI. They never carry personal data.
REASONS: dict[CardErrorCode, str] = {
    CardErrorCode.NO_SERVICE: (
        "the PC/SC service (pcscd) is not running: start it with "
        "`sudo systemctl start pcscd` (or run `sudo pcscd`)"
    ),
    CardErrorCode.NO_READER: "no smart-card reader is connected",
    CardErrorCode.READER_NOT_FOUND: "the requested reader is not connected",
    CardErrorCode.READER_REMOVED: "the reader was unplugged",
    CardErrorCode.NO_CARD: "no card in the reader",
    CardErrorCode.CARD_REMOVED: "the card was removed during the read; insert it again",
    CardErrorCode.CARD_UNRESPONSIVE: "the card does not answer (inserted the wrong way?)",
    CardErrorCode.NOT_CNS: "the card is not a CNS / TS-CNS",
    CardErrorCode.FILE_NOT_FOUND: "a file of the CNS is missing on the card",
    CardErrorCode.ACCESS_DENIED: "the card refuses to read the file without a PIN",
    CardErrorCode.CARD_ERROR: "the card answered with an error",
    CardErrorCode.MALFORMED_RESPONSE: "the card sent a malformed response",
    CardErrorCode.MALFORMED_CARD_NUMBER: "the card number file is malformed",
    CardErrorCode.MALFORMED_PERSONAL_DATA: "the personal-data file is malformed",
    CardErrorCode.MALFORMED_CERTIFICATE: "the authentication certificate is malformed",
    CardErrorCode.PCSC_ERROR: "the PC/SC layer reported an error",
}


class CardError(Exception):
    """A card operation failed: ``code`` for the UI, ``detail`` technical (no personal data)."""

    def __init__(self, code: CardErrorCode, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code.value}: {detail}" if detail else code.value)

    @property
    def reason(self) -> str:
        """One English line for the CLI and logs."""
        base = REASONS.get(self.code, self.code.value)
        return f"{base} ({self.detail})" if self.detail else base


class PersonalDataError(CardError):
    """EF_DatiPersonali could not be parsed."""

    def __init__(self, detail: str) -> None:
        super().__init__(CardErrorCode.MALFORMED_PERSONAL_DATA, detail)


class CertificateError(CardError):
    """The authentication certificate could not be parsed."""

    def __init__(self, detail: str) -> None:
        super().__init__(CardErrorCode.MALFORMED_CERTIFICATE, detail)
