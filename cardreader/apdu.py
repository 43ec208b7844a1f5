"""APDU exchange with a CNS: status-word handling, file selection and chunked reads.

The transport is anything with ``transmit(apdu) -> (data, sw1, sw2)``; in production it is a
PC/SC connection (:mod:`cardreader.pcsc`), in unit tests it may be the emulator's card object.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from cardreader.errors import CardError, CardErrorCode

log = logging.getLogger(__name__)

MAX_READ = 0xFF  # CNS cards are read 255 bytes at a time (some reject Le=00)
MAX_FILE = 0x8000  # nothing on a CNS is larger; a card claiming more is misbehaving

SW_OK = 0x9000
SW_EOF = 0x6282  # end of file reached before Le bytes
SW_WRONG_OFFSET = 0x6B00
SW_NOT_FOUND = 0x6A82
SW_SECURITY = 0x6982
SW_NOT_ALLOWED = 0x6986


class Transport(Protocol):
    def transmit(self, apdu: bytes) -> tuple[bytes, int, int]: ...


class CardSession:
    """One read session: counts APDUs, resolves 61xx/6Cxx, remembers how the card selects."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport
        self.apdu_count = 0
        self._select_by_path: bool | None = None  # None until learned

    # -- raw exchange --------------------------------------------------------------------
    def _raw(self, apdu: bytes) -> tuple[bytes, int]:
        self.apdu_count += 1
        data, sw1, sw2 = self._t.transmit(apdu)
        if not (0 <= sw1 <= 0xFF and 0 <= sw2 <= 0xFF):
            raise CardError(CardErrorCode.MALFORMED_RESPONSE, "status word out of range")
        return bytes(data), (sw1 << 8) | sw2

    def exchange(self, apdu: bytes) -> tuple[bytes, int]:
        """Send ``apdu``; follow 61xx with GET RESPONSE and 6Cxx by resending with the right Le."""
        data, sw = self._raw(apdu)
        resent = False
        while (sw >> 8) == 0x6C and not resent:
            resent = True
            le = sw & 0xFF
            # 6Cxx: wrong Le; resend the same command with Le = xx (case 2: replace the last byte)
            fixed = apdu[:4] + bytes([le]) if len(apdu) <= 5 else apdu[:-1] + bytes([le])
            data, sw = self._raw(fixed)
        out = bytearray(data)
        rounds = 0
        while (sw >> 8) == 0x61:
            rounds += 1
            if rounds > 64:
                raise CardError(CardErrorCode.MALFORMED_RESPONSE, "endless GET RESPONSE chain")
            data, sw = self._raw(bytes([apdu[0] & 0x03, 0xC0, 0x00, 0x00, sw & 0xFF]))
            out += data
        return bytes(out), sw

    # -- file selection --------------------------------------------------------------------
    def _select(self, p1: int, fid_bytes: bytes) -> int:
        _, sw = self.exchange(bytes([0x00, 0xA4, p1, 0x0C, len(fid_bytes)]) + fid_bytes)
        return sw

    def select(self, path: tuple[int, ...]) -> None:
        """Select the EF at ``path`` (FIDs under the MF, e.g. (0x1100, 0x1102)).

        SELECT by path (P1=08) costs one APDU; a card that refuses it is then addressed FID by
        FID from the MF (P1=00), and the session remembers which way works.
        """
        if self._select_by_path is not False:
            sw = self._select(0x08, b"".join(f.to_bytes(2, "big") for f in path))
            if sw == SW_OK:
                self._select_by_path = True
                return
            if self._select_by_path:  # path selection works on this card: a real answer
                self._check_select(sw)
            log.debug("select by path answered SW %04X; selecting FID by FID", sw)
        for fid in (0x3F00, *path):
            self._check_select(self._select(0x00, fid.to_bytes(2, "big")))
        self._select_by_path = False

    @staticmethod
    def _check_select(sw: int) -> None:
        if sw == SW_OK:
            return
        if sw == SW_NOT_FOUND or sw == 0x6A80:
            raise CardError(CardErrorCode.FILE_NOT_FOUND, f"SW {sw:04X}")
        if sw in (SW_SECURITY, SW_NOT_ALLOWED):
            raise CardError(CardErrorCode.ACCESS_DENIED, f"SW {sw:04X}")
        raise CardError(CardErrorCode.CARD_ERROR, f"select answered SW {sw:04X}")

    # -- reading -------------------------------------------------------------------------
    def read_binary(self, offset: int, length: int) -> tuple[bytes, bool]:
        """One READ BINARY; returns (data, end_of_file)."""
        if not 0 <= offset <= 0x7FFF:
            raise CardError(CardErrorCode.MALFORMED_RESPONSE, "file larger than a short offset")
        le = 0 if length >= 256 else length
        data, sw = self.exchange(bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, le]))
        if sw == SW_OK:
            if len(data) > (length if length else 256):
                raise CardError(CardErrorCode.MALFORMED_RESPONSE, "more data than asked for")
            return data, len(data) < length
        if sw == SW_EOF:
            return data, True
        if sw == SW_WRONG_OFFSET:
            return b"", True
        if sw in (SW_SECURITY, SW_NOT_ALLOWED):
            raise CardError(CardErrorCode.ACCESS_DENIED, f"SW {sw:04X}")
        if sw == SW_NOT_FOUND:
            raise CardError(CardErrorCode.FILE_NOT_FOUND, f"SW {sw:04X}")
        raise CardError(CardErrorCode.CARD_ERROR, f"read answered SW {sw:04X}")

    def read_file(
        self,
        path: tuple[int, ...],
        size_hint: Callable[[bytes], int | None] | None = None,
        max_size: int = MAX_FILE,
        first_read: int = MAX_READ,
    ) -> bytes:
        """Select and read an EF.

        ``size_hint(first_bytes)`` may tell how many bytes the content needs (a length header);
        then only those are read. Otherwise reading stops at the card's end of file.
        """
        self.select(path)
        out = bytearray()
        wanted: int | None = None
        while True:
            if wanted is None:
                ask = first_read if not out else MAX_READ
            else:
                ask = min(MAX_READ, wanted - len(out))
            if ask <= 0:
                break
            chunk, eof = self.read_binary(len(out), ask)
            out += chunk
            if len(out) > max_size:
                raise CardError(CardErrorCode.MALFORMED_RESPONSE, "file larger than expected")
            if wanted is None and size_hint is not None:
                wanted = size_hint(bytes(out))
                if wanted is not None and wanted > max_size:
                    raise CardError(CardErrorCode.MALFORMED_RESPONSE, "announced length too large")
            if eof or not chunk:
                break
        return bytes(out)
