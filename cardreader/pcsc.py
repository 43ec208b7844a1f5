"""PC/SC access through pyscard's low-level API: readers, connections, insertion/removal events.

Every PC/SC failure becomes a :class:`CardError` with a code the UI can translate.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from smartcard import scard

from cardreader.cns import CardData
from cardreader.errors import CardError, CardErrorCode
from cardreader.reader import read_cns

log = logging.getLogger(__name__)

PNP_NOTIFICATION = "\\\\?PnP?\\Notification"
_CARD_PRESENT = 0x0004  # SCardStatus card state bit (pcsc-lite SCARD_PRESENT)


def _u32(hr: int) -> int:
    return hr & 0xFFFFFFFF


_HR_CODES: dict[int, CardErrorCode] = {
    _u32(scard.SCARD_E_NO_SERVICE): CardErrorCode.NO_SERVICE,
    _u32(scard.SCARD_E_SERVICE_STOPPED): CardErrorCode.NO_SERVICE,
    _u32(scard.SCARD_E_NO_READERS_AVAILABLE): CardErrorCode.NO_READER,
    _u32(scard.SCARD_E_UNKNOWN_READER): CardErrorCode.READER_REMOVED,
    _u32(scard.SCARD_E_READER_UNAVAILABLE): CardErrorCode.READER_REMOVED,
    _u32(scard.SCARD_E_NO_SMARTCARD): CardErrorCode.NO_CARD,
    _u32(scard.SCARD_W_REMOVED_CARD): CardErrorCode.CARD_REMOVED,
    _u32(scard.SCARD_W_RESET_CARD): CardErrorCode.CARD_REMOVED,
    _u32(scard.SCARD_E_NOT_TRANSACTED): CardErrorCode.CARD_REMOVED,
    _u32(scard.SCARD_W_UNRESPONSIVE_CARD): CardErrorCode.CARD_UNRESPONSIVE,
    _u32(scard.SCARD_W_UNPOWERED_CARD): CardErrorCode.CARD_UNRESPONSIVE,
    _u32(scard.SCARD_E_PROTO_MISMATCH): CardErrorCode.CARD_UNRESPONSIVE,
    _u32(scard.SCARD_F_COMM_ERROR): CardErrorCode.READER_REMOVED,
}


def pcsc_error(hr: int, during: str, *, card_in_use: bool = False) -> CardError:
    """Map a PC/SC result to a CardError. While a card is in use, "no card" means "removed"."""
    code = _HR_CODES.get(_u32(hr), CardErrorCode.PCSC_ERROR)
    if card_in_use and code == CardErrorCode.NO_CARD:
        code = CardErrorCode.CARD_REMOVED
    return CardError(code, f"{during}: 0x{_u32(hr):08X}")


def _check(hr: int, during: str, *, card_in_use: bool = False) -> None:
    if hr != scard.SCARD_S_SUCCESS:
        raise pcsc_error(hr, during, card_in_use=card_in_use)


class PcscContext:
    """An established PC/SC context. Use as a context manager."""

    def __init__(self) -> None:
        hr, self.handle = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        _check(hr, "establish context")

    def close(self) -> None:
        if self.handle is not None:
            scard.SCardReleaseContext(self.handle)
            self.handle = None

    def __enter__(self) -> PcscContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def readers(self) -> list[str]:
        hr, readers = scard.SCardListReaders(self.handle, [])
        if _u32(hr) == _u32(scard.SCARD_E_NO_READERS_AVAILABLE):
            return []
        _check(hr, "list readers")
        return list(readers)

    def states(self, readers: list[str]) -> dict[str, tuple[int, bytes]]:
        """Current (event state, ATR) of each reader, without waiting."""
        if not readers:
            return {}
        hr, states = scard.SCardGetStatusChange(
            self.handle, 0, [(r, scard.SCARD_STATE_UNAWARE) for r in readers]
        )
        if _u32(hr) == _u32(scard.SCARD_E_TIMEOUT):
            hr = scard.SCARD_S_SUCCESS
        _check(hr, "reader status")
        return {r: (st, bytes(atr)) for r, st, atr in states}

    @contextlib.contextmanager
    def connect(self, reader: str) -> Iterator[PcscTransport]:
        hr, card, protocol = scard.SCardConnect(
            self.handle,
            reader,
            scard.SCARD_SHARE_SHARED,
            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
        )
        _check(hr, "connect")
        transport = PcscTransport(card, protocol)
        try:
            hr = scard.SCardBeginTransaction(card)
            _check(hr, "begin transaction", card_in_use=True)
            try:
                yield transport
            finally:
                scard.SCardEndTransaction(card, scard.SCARD_LEAVE_CARD)
        finally:
            scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)


class PcscTransport:
    """APDU transport over a connected card handle."""

    def __init__(self, card: int, protocol: int) -> None:
        self._card = card
        self._protocol = protocol

    def transmit(self, apdu: bytes) -> tuple[bytes, int, int]:
        hr, response = scard.SCardTransmit(self._card, self._protocol, list(apdu))
        _check(hr, "transmit", card_in_use=True)
        if len(response) < 2:
            # vpcd (and some readers) answer an empty response when the card went away
            if self.card_gone():
                raise CardError(CardErrorCode.CARD_REMOVED, "empty response, card absent")
            raise CardError(CardErrorCode.MALFORMED_RESPONSE, "response shorter than a status word")
        return bytes(response[:-2]), response[-2], response[-1]

    def card_gone(self, wait_s: float = 1.0) -> bool:
        """True when the card left the reader (checked for up to ``wait_s``)."""
        deadline = time.monotonic() + wait_s
        while True:
            hr, _reader, state, _protocol, _atr = scard.SCardStatus(self._card)
            if hr != scard.SCARD_S_SUCCESS or not state & _CARD_PRESENT:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


def list_readers() -> list[str]:
    with PcscContext() as ctx:
        return ctx.readers()


def read_card(reader: str | None = None) -> CardData:
    """Read the card in ``reader``, or in the first reader that holds one."""
    with PcscContext() as ctx:
        readers = ctx.readers()
        if not readers:
            raise CardError(CardErrorCode.NO_READER)
        if reader is not None:
            if reader not in readers:
                raise CardError(CardErrorCode.READER_NOT_FOUND)
            candidates = [reader]
        else:
            candidates = readers
        states = ctx.states(candidates)
        for name in candidates:
            state, atr = states.get(name, (0, b""))
            if state & scard.SCARD_STATE_PRESENT and not state & scard.SCARD_STATE_MUTE:
                return read_from(ctx, name, atr)
        raise CardError(CardErrorCode.NO_CARD)


def read_from(ctx: PcscContext, reader: str, atr: bytes) -> CardData:
    with ctx.connect(reader) as transport:
        return read_cns(transport, atr, reader)


class CardEventKind(enum.StrEnum):
    READERS_CHANGED = "readers_changed"
    INSERTED = "inserted"
    REMOVED = "removed"
    ERROR = "error"


@dataclass(frozen=True)
class CardEvent:
    kind: CardEventKind
    reader: str = ""
    atr: bytes = b""
    readers: tuple[str, ...] = ()
    error: CardError | None = None


class CardWatcher:
    """Watches readers and cards in a thread (SCardGetStatusChange) and calls ``callback``.

    The callback runs on the watcher's thread; a UI re-emits it as a signal. ``stop()`` cancels the
    blocking wait. When pcscd is not running the watcher reports one ERROR and retries every
    ``retry_s`` seconds.
    """

    def __init__(self, callback: Callable[[CardEvent], None], retry_s: float = 2.0) -> None:
        self._callback = callback
        self._retry_s = retry_s
        self._stop = threading.Event()
        self._ctx: PcscContext | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="card-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._lock:
            if self._ctx is not None and self._ctx.handle is not None:
                scard.SCardCancel(self._ctx.handle)
        self._thread.join(timeout)

    def _emit(self, event: CardEvent) -> None:
        try:
            self._callback(event)
        except Exception:
            log.exception("card event callback failed")

    def _run(self) -> None:
        last_error: CardErrorCode | None = None
        while not self._stop.is_set():
            try:
                self._watch()
                last_error = None
            except CardError as exc:
                if exc.code != last_error:
                    self._emit(CardEvent(CardEventKind.ERROR, error=exc))
                last_error = exc.code
                self._stop.wait(self._retry_s)

    def _watch(self) -> None:
        with self._lock:
            self._ctx = PcscContext()
        ctx = self._ctx
        try:
            readers: list[str] = []
            known: dict[str, int] = {}
            present: dict[str, bool] = {}
            first = True
            while not self._stop.is_set():
                now_readers = ctx.readers()
                if now_readers != readers or first:
                    for gone in set(present) - set(now_readers):
                        if present.pop(gone):
                            self._emit(CardEvent(CardEventKind.REMOVED, reader=gone))
                        known.pop(gone, None)
                    readers = now_readers
                    self._emit(CardEvent(CardEventKind.READERS_CHANGED, readers=tuple(readers)))
                    first = False
                watch = [(r, known.get(r, scard.SCARD_STATE_UNAWARE)) for r in readers]
                watch.append(
                    (PNP_NOTIFICATION, known.get(PNP_NOTIFICATION, scard.SCARD_STATE_UNAWARE))
                )
                hr, states = scard.SCardGetStatusChange(ctx.handle, 1000, watch)
                code = _u32(hr)
                if code == _u32(scard.SCARD_E_TIMEOUT):
                    continue
                if code == _u32(scard.SCARD_E_CANCELLED):
                    return
                if code in (
                    _u32(scard.SCARD_E_UNKNOWN_READER),
                    _u32(scard.SCARD_E_READER_UNAVAILABLE),
                ):
                    time.sleep(0.05)
                    continue  # a reader went away: the next round lists readers again
                _check(hr, "status change")
                for name, state, atr in states:
                    known[name] = state & ~scard.SCARD_STATE_CHANGED
                    if name == PNP_NOTIFICATION:
                        continue
                    is_present = bool(state & scard.SCARD_STATE_PRESENT) and not (
                        state & scard.SCARD_STATE_MUTE
                    )
                    was = present.get(name, False)
                    if is_present and not was:
                        self._emit(CardEvent(CardEventKind.INSERTED, reader=name, atr=bytes(atr)))
                    elif was and not is_present:
                        self._emit(CardEvent(CardEventKind.REMOVED, reader=name))
                    present[name] = is_present
        finally:
            with self._lock:
                ctx.close()
                self._ctx = None
