"""A virtual CNS / TS-CNS for tests and the demo: a card emulator on vsmartcard's vpcd protocol.

The Debian ``vsmartcard-vpcd`` driver (loaded by pcscd) exposes readers "Virtual PCD 00 00" and
"Virtual PCD 00 01" and listens on TCP 127.0.0.1:35963 / 35964. A card is "inserted" by connecting
to that port and "removed" by closing the connection. Frames are a 2-byte big-endian length and a
payload; a 1-byte payload is a control code (0 off, 1 on, 2 reset, 4 get ATR, only 4 is answered),
anything else is a command APDU answered with its response data and SW1 SW2.

This is a test/demo peer, clearly named as such: it holds generated personal data and a
self-signed certificate, never a real card's.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import hashlib
import json
import logging
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from cardreader.atr import build_atr
from cardreader.cns import PERSONAL_FIELDS, encode_personal_data

log = logging.getLogger(__name__)

VPCD_HOST = "127.0.0.1"
VPCD_BASE_PORT = 35963
READER_NAMES = ("Virtual PCD 00 00", "Virtual PCD 00 01")

# Historical bytes after the CNS functional specification: 00 6B, IC and mask manufacturer,
# OS version, 01, two card bytes, "CNS", version 1.0, 31 80.
CNS_HISTORICAL = (
    bytes.fromhex("006B0508C8") + b"\x10\x01\x00\x00" + b"CNS" + bytes.fromhex("103180")
)
PLAIN_HISTORICAL = bytes.fromhex("006B0508C81001") + b"\x00\x00" + b"XYZ" + bytes.fromhex("103180")

DEFAULT_CARD_NUMBER = "8038000012345678"
# The demo identity of docs/PROTOCOL.md (a test peer, not a person).
DEMO_IDENTITY: dict[str, str] = {
    "surname": "ROSSI",
    "given_names": "MARIA",
    "codice_fiscale": "RSSMRA85D52H501P",
    "birth_date": "1985-04-12",
    "sex": "F",
    "birth_comune": "H501",
    "citizenship": "ITA",
    "issue_date": "2024-01-15",
    "expiry_date": "2030-01-15",
}
CERT_STYLES = ("ts-cns", "tinit", "none", "blank")


def vpcd_port(slot: int) -> int:
    return VPCD_BASE_PORT + slot


def _ddmmyyyy(iso: str) -> str:
    d = dt.date.fromisoformat(iso)
    return f"{d.day:02d}{d.month:02d}{d.year:04d}"


@dataclass
class CardProfile:
    """What the virtual card holds. ``personal`` uses ISO dates; see :func:`load_profile`."""

    personal: dict[str, str]
    card_number: str = DEFAULT_CARD_NUMBER
    certificate: str = "ts-cns"  # ts-cns | tinit | none (file absent) | blank (all zeros)
    certificate_cf: str | None = None  # to make the certificate disagree with the data file
    atr_cns: bool = True
    select_by_path: bool = True  # False: answer 6A86 to SELECT by path (FID-by-FID fallback)
    t0_style: bool = False  # SELECT with FCI answers 61xx, short reads answer 6Cxx
    remove_after_apdus: int | None = None  # simulate the card pulled out after N APDUs
    raw_files: dict[str, bytes] = field(default_factory=dict)  # "1100/1102" -> content override
    protected: tuple[str, ...] = ()  # files answering 6982 to READ BINARY


def load_profile(path: str | Path) -> CardProfile:
    """Load a JSON profile: personal fields (ISO dates) at top level or under "personal",
    plus optional "card_number", "certificate", "atr_cns", "select_by_path", "t0_style",
    "remove_after_apdus", "certificate_cf"."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("the card data file must hold a JSON object")
    personal = data.get("personal", data)
    options = {
        k: data[k]
        for k in (
            "card_number",
            "certificate",
            "atr_cns",
            "select_by_path",
            "t0_style",
            "remove_after_apdus",
            "certificate_cf",
        )
        if k in data
    }
    return make_profile(personal, **options)


def make_profile(personal: dict[str, Any], **options: Any) -> CardProfile:
    missing = [
        k for k in ("surname", "given_names", "codice_fiscale", "birth_date") if not personal.get(k)
    ]
    if missing:
        raise ValueError(f"card data lacks {', '.join(missing)}")
    values = {k: str(personal[k]) for k in personal if k in PERSONAL_FIELDS or k == "birth_place"}
    values.setdefault("issue_date", "2024-01-15")
    values.setdefault("expiry_date", "2030-01-15")
    for k in ("issue_date", "expiry_date", "birth_date"):
        dt.date.fromisoformat(values[k])  # ValueError on a bad date
    profile = CardProfile(personal=values, **options)
    if profile.certificate not in CERT_STYLES:
        raise ValueError(f"certificate must be one of {', '.join(CERT_STYLES)}")
    if len(profile.card_number) != 16 or not profile.card_number.isdigit():
        raise ValueError("card_number must be 16 digits")
    return profile


@functools.lru_cache(maxsize=1)
def _demo_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_certificate(profile: CardProfile) -> bytes:
    """A self-signed authentication certificate shaped like a TS-CNS one (DER)."""
    p = profile.personal
    cf = (profile.certificate_cf or p["codice_fiscale"]).upper()
    key = _demo_key()
    if profile.certificate == "tinit":
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "IT"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Demo CNS issuer"),
                x509.NameAttribute(NameOID.SURNAME, p["surname"]),
                x509.NameAttribute(NameOID.GIVEN_NAME, p["given_names"]),
                x509.NameAttribute(NameOID.SERIAL_NUMBER, f"TINIT-{cf}"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{p['surname']} {p['given_names']}"),
            ]
        )
    else:
        digest = hashlib.sha1(f"{cf}{profile.card_number}".encode(), usedforsecurity=False).digest()
        cn = f"{cf}/{profile.card_number}.{base64.b64encode(digest).decode()}"
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "IT"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Demo TS-CNS (virtual card)"),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Demo"),
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
                x509.NameAttribute(NameOID.DN_QUALIFIER, profile.card_number),
            ]
        )
    start = dt.datetime.combine(dt.date.fromisoformat(p["issue_date"]), dt.time(), dt.UTC)
    end = dt.datetime.combine(dt.date.fromisoformat(p["expiry_date"]), dt.time(23, 59, 59), dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(int(profile.card_number))
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), True
        )
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def build_files(profile: CardProfile) -> dict[str, bytes]:
    """The CNS file system: "DF/EF" -> file content (with the padding real cards have)."""
    p = profile.personal
    values = {k: p.get(k, "") for k in PERSONAL_FIELDS}
    values["issuer_code"] = values["issuer_code"] or "80380"
    for k in ("issue_date", "expiry_date", "birth_date"):
        values[k] = _ddmmyyyy(p[k])
    personal = encode_personal_data(values)
    files = {
        "1000/1003": profile.card_number.encode("ascii"),
        "1100/1102": personal + b"\x00" * max(0, 400 - len(personal)),
    }
    if profile.certificate in ("ts-cns", "tinit"):
        der = make_certificate(profile)
        files["1100/1101"] = der + b"\x00" * (2048 - len(der) if len(der) < 2048 else 0)
    elif profile.certificate == "blank":
        files["1100/1101"] = b"\x00" * 2048
    files.update(profile.raw_files)
    return files


class VirtualCns:
    """The card's APDU processor (ISO 7816-4 subset a CNS reader uses)."""

    DFS = (0x1000, 0x1100)

    def __init__(self, profile: CardProfile) -> None:
        self.profile = profile
        self.files = build_files(profile)
        self.atr = build_atr(CNS_HISTORICAL if profile.atr_cns else PLAIN_HISTORICAL)
        self.reset()

    def reset(self) -> None:
        self.current_df: int = 0x3F00
        self.current_ef: str | None = None
        self.pending = b""
        self.apdus = 0

    # -- helpers ---------------------------------------------------------------------------
    def _children(self, df: int) -> list[int]:
        if df == 0x3F00:
            return list(self.DFS)
        prefix = f"{df:04X}/"
        return [int(k[5:], 16) for k in self.files if k.startswith(prefix)]

    def _fci(self, fid: int, size: int | None) -> bytes:
        body = b"\x83\x02" + fid.to_bytes(2, "big")
        if size is not None:
            body = b"\x80\x02" + size.to_bytes(2, "big") + b"\x82\x01\x01" + body
        else:
            body = b"\x82\x01\x38" + body
        return b"\x62" + bytes([len(body)]) + body

    def _answer_data(self, data: bytes, le: int | None) -> bytes:
        if le is None:
            return b"\x90\x00"
        if self.profile.t0_style:
            self.pending = data
            return bytes([0x61, min(len(data), 0xFF)])
        return data + b"\x90\x00"

    # -- commands --------------------------------------------------------------------------
    def process(self, apdu: bytes) -> bytes:
        self.apdus += 1
        if len(apdu) < 4:
            return b"\x67\x00"
        cla, ins, p1, p2 = apdu[:4]
        if cla & 0xFC != 0x00:
            return b"\x6e\x00"
        body = apdu[4:]
        lc_data = b""
        le: int | None = None
        if len(body) == 1:
            le = body[0] or 256
        elif len(body) > 1:
            lc = body[0]
            lc_data = body[1 : 1 + lc]
            if len(lc_data) != lc:
                return b"\x67\x00"
            rest = body[1 + lc :]
            if len(rest) > 1:
                return b"\x67\x00"
            if rest:
                le = rest[0] or 256
        if ins == 0xA4:
            return self._select(p1, p2, lc_data, le)
        if ins == 0xB0:
            return self._read(p1, p2, le if le is not None else 256)
        if ins == 0xC0:
            if not self.pending:
                return b"\x69\x85"
            n = le or 256
            out, self.pending = self.pending[:n], self.pending[n:]
            if self.pending:
                return out + bytes([0x61, min(len(self.pending), 0xFF)])
            return out + b"\x90\x00"
        return b"\x6d\x00"

    def _select(self, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        self.pending = b""
        if p2 not in (0x00, 0x04, 0x0C):
            return b"\x6a\x86"
        want_fci = p2 != 0x0C
        if len(data) % 2 or not data:
            return b"\x6a\x87"
        fids = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
        if p1 == 0x08:
            if not self.profile.select_by_path:
                return b"\x6a\x86"
            df, ef = 0x3F00, None
            for i, fid in enumerate(fids):
                if df == 0x3F00 and fid in self.DFS and i == 0:
                    df = fid
                elif df != 0x3F00 and fid in self._children(df) and i == len(fids) - 1:
                    ef = f"{df:04X}/{fid:04X}"
                else:
                    return b"\x6a\x82"
        elif p1 in (0x00, 0x01, 0x02):
            if len(fids) != 1:
                return b"\x6a\x87"
            fid = fids[0]
            df, ef = self.current_df, None
            if fid == 0x3F00:
                df = 0x3F00
            elif fid in self.DFS and self.current_df == 0x3F00:
                df = fid
            elif self.current_df != 0x3F00 and fid in self._children(self.current_df):
                ef = f"{self.current_df:04X}/{fid:04X}"
            else:
                return b"\x6a\x82"
        else:
            return b"\x6a\x86"
        self.current_df, self.current_ef = df, ef
        if not want_fci:
            return b"\x90\x00"
        fid = int(ef[5:], 16) if ef else df
        size = len(self.files[ef]) if ef else None
        return self._answer_data(self._fci(fid, size), le if le is not None else 256)

    def _read(self, p1: int, p2: int, le: int) -> bytes:
        if p1 & 0x80:
            return b"\x6a\x86"  # short EF identifiers are not supported here
        if self.current_ef is None:
            return b"\x69\x86"
        if self.current_ef in self.profile.protected:
            return b"\x69\x82"
        content = self.files[self.current_ef]
        offset = (p1 << 8) | p2
        if offset > len(content):
            return b"\x6b\x00"
        remaining = len(content) - offset
        if remaining >= le:
            return content[offset : offset + le] + b"\x90\x00"
        if self.profile.t0_style and remaining > 0:
            return bytes([0x6C, remaining])
        return content[offset:] + b"\x62\x82"


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    _quickack(sock)
    return buf


def _quickack(sock: socket.socket) -> None:
    """Acknowledge at once: with delayed ACKs each APDU round trip costs ~40 ms on loopback."""
    quickack = getattr(socket, "TCP_QUICKACK", None)
    if quickack is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)


class VpcdEmulator:
    """Connects a :class:`VirtualCns` to the vpcd driver: ``insert()`` / ``remove()``."""

    def __init__(
        self, card: VirtualCns, slot: int = 0, host: str = VPCD_HOST, port: int | None = None
    ) -> None:
        self.card = card
        self.slot = slot
        self.host = host
        self.port = port if port is not None else vpcd_port(slot)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.removed = threading.Event()
        self.removed.set()
        self.pulled_mid_read = threading.Event()

    @property
    def reader_name(self) -> str:
        return (
            READER_NAMES[self.slot]
            if 0 <= self.slot < len(READER_NAMES)
            else f"Virtual PCD 00 {self.slot:02d}"
        )

    def insert(self, timeout: float = 5.0) -> None:
        """Connect to vpcd (the card appears in the reader). Raises OSError if vpcd is absent."""
        if self._thread is not None and self._thread.is_alive():
            return
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=2.0)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.card.reset()
        self._sock = sock
        self.removed.clear()
        self.pulled_mid_read.clear()
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name=f"vpcd-slot{self.slot}", daemon=True
        )
        self._thread.start()

    def remove(self, timeout: float = 5.0) -> None:
        """Disconnect (the card leaves the reader)."""
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.removed.set()

    close = remove

    def __enter__(self) -> VpcdEmulator:
        self.insert()
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def _serve(self, sock: socket.socket) -> None:
        limit = self.card.profile.remove_after_apdus
        try:
            while True:
                head = _recv_exact(sock, 2)
                if head is None:
                    break
                (length,) = struct.unpack(">H", head)
                payload = _recv_exact(sock, length) if length else b""
                if payload is None:
                    break
                if len(payload) == 1:
                    code = payload[0]
                    if code == 4:
                        reply = self.card.atr
                    else:
                        if code in (0, 2):
                            self.card.reset()
                        continue
                else:
                    if limit is not None and self.card.apdus >= limit:
                        log.info("virtual card pulled out after %d APDUs", self.card.apdus)
                        self.pulled_mid_read.set()
                        break
                    reply = self.card.process(payload)
                sock.sendall(struct.pack(">H", len(reply)) + reply)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sock.close()
            self.removed.set()
