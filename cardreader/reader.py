"""Reading a CNS / TS-CNS: the three public files, parsed, over any transport."""

from __future__ import annotations

import logging

from cardreader.apdu import CardSession, Transport
from cardreader.atr import is_cns_atr
from cardreader.cns import (
    PATH_CERTIFICATE,
    PATH_DATI_PERSONALI,
    PATH_ID_CARTA,
    CardData,
    certificate_is_blank,
    der_total_length,
    parse_card_number,
    parse_certificate,
    parse_personal_data,
    personal_data_length,
)
from cardreader.errors import CardError, CardErrorCode

log = logging.getLogger(__name__)


def _cert_size(head: bytes) -> int | None:
    if certificate_is_blank(head):
        return len(head)  # nothing there: stop after the first chunk
    return der_total_length(head)


def read_cns(transport: Transport, atr: bytes, reader: str = "") -> CardData:
    """Read and parse a CNS. Raises :class:`CardError`; never returns partial data."""
    session = CardSession(transport)
    atr_cns = is_cns_atr(atr)
    if not atr_cns:
        log.info("ATR without the CNS marker; trying the CNS files")
    try:
        raw_id = session.read_file(PATH_ID_CARTA, lambda _h: 16, first_read=16)
    except CardError as exc:
        if not atr_cns and exc.code in (
            CardErrorCode.FILE_NOT_FOUND,
            CardErrorCode.CARD_ERROR,
            CardErrorCode.ACCESS_DENIED,
        ):
            raise CardError(CardErrorCode.NOT_CNS, "no EF_IDCarta") from None
        raise
    card_number = parse_card_number(raw_id)
    raw_personal = session.read_file(PATH_DATI_PERSONALI, personal_data_length)
    personal = parse_personal_data(raw_personal)
    cert_info = None
    der = None
    try:
        raw_cert = session.read_file(PATH_CERTIFICATE, _cert_size)
    except CardError as exc:
        if exc.code != CardErrorCode.FILE_NOT_FOUND:
            raise
        raw_cert = b""
    if raw_cert and not certificate_is_blank(raw_cert):
        cert_info, der = parse_certificate(raw_cert)
    else:
        log.info("card carries no CNS authentication certificate")
    log.info("card read: %d APDUs, certificate=%s", session.apdu_count, cert_info is not None)
    return CardData(
        reader=reader,
        atr=bytes(atr),
        atr_is_cns=atr_cns,
        card_number=card_number,
        personal=personal,
        certificate=cert_info,
        apdu_count=session.apdu_count,
        certificate_der=der,
    )
