"""ISO 7816-3 ATR decoding: enough to find the historical bytes and recognise a CNS."""

from __future__ import annotations


def historical_bytes(atr: bytes) -> bytes | None:
    """The historical bytes of ``atr``, or None when the ATR is malformed."""
    atr = bytes(atr)
    if len(atr) < 2 or atr[0] not in (0x3B, 0x3F):
        return None
    t0 = atr[1]
    k = t0 & 0x0F
    i = 2
    y = t0 >> 4
    while True:
        # TAi, TBi, TCi present per bits 5..7 of Y; TDi per bit 8
        i += bin(y & 0x07).count("1")
        if y & 0x08:
            if i >= len(atr):
                return None
            td = atr[i]
            i += 1
            y = td >> 4
        else:
            break
    if i + k > len(atr):
        return None
    return atr[i : i + k]


def is_cns_atr(atr: bytes) -> bool:
    """True when the historical bytes carry "CNS" (the CNS functional specification's marker)."""
    hist = historical_bytes(atr)
    return hist is not None and b"CNS" in hist


def build_atr(historical: bytes) -> bytes:
    """A T=1 ATR carrying ``historical`` (≤ 15 bytes), with its TCK (used by the emulator)."""
    if len(historical) > 15:
        raise ValueError("at most 15 historical bytes")
    # TS, T0 (TD1 present, K), TD1 (TD2 present, T=1), TD2 (TA3 TB3 present, T=1),
    # TA3 (IFSC), TB3 (BWI/CWI)
    body = bytes([0x80 | len(historical), 0x81, 0x31, 0xFE, 0x45]) + historical
    tck = 0
    for b in body:
        tck ^= b
    return bytes([0x3B]) + body + bytes([tck])
