"""Secrets: password hashes (scrypt), bearer tokens (stored as SHA-256), TOTP, one-time codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
_DKLEN = 32

#: Booking codes: no 0/O, 1/I/L, 2/Z, 5/S, 6/G, 8/B; read aloud over a phone without doubt.
BOOKING_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
BOOKING_LENGTH = 8


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=_DKLEN
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = encoded.split("$")
        if scheme != "scrypt":
            return False
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(digest_b64)
        got = hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


_dummy: list[str] = []


def dummy_password_hash() -> str:
    """Verifying against this keeps the time of "unknown user" equal to "wrong password"."""
    if not _dummy:
        _dummy.append(hash_password(secrets.token_urlsafe(12)))
    return _dummy[0]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_booking_code() -> str:
    return "".join(secrets.choice(BOOKING_ALPHABET) for _ in range(BOOKING_LENGTH))


def normalise_booking_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


# --- TOTP (RFC 6238, 30 s steps, 6 digits) -------------------------------------------------

TOTP_ISSUER = "InfoCert Recognition Desk"


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def totp_qr_svg(uri: str) -> str:
    qr = segno.make(uri, error="m")
    svg: str = qr.svg_inline(scale=4)
    return svg


def totp_match_step(secret: str, code: str, now: datetime, after_step: int) -> int | None:
    """The time step (±1 step of drift) whose code equals ``code``, if newer than ``after_step``.

    A step already used is refused (RFC 6238 §5.2: a code is accepted once).
    """
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if step <= after_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


# --- TOTP secrets at rest (AES-256-GCM, key from the configuration) -----------------------

#: prefix of a sealed TOTP secret; a stored value without it is a legacy plaintext secret
SEALED_PREFIX = "v1:"
TOTP_KEY_BYTES = 32


def new_totp_key() -> bytes:
    return secrets.token_bytes(TOTP_KEY_BYTES)


def parse_totp_key(text: str) -> bytes:
    """The key from its base64 text (``RECOGNITION_DESK_TOTP_KEY``, ``--totp-key-file``)."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise ValueError("the TOTP key is not valid base64") from exc
    if len(key) != TOTP_KEY_BYTES:
        raise ValueError(f"the TOTP key must be {TOTP_KEY_BYTES} bytes (base64 of 32 random "
                         f"bytes), not {len(key)}")
    return key


def _totp_aad(username: str) -> bytes:
    # binds the ciphertext to its account: a sealed secret copied onto another row won't open
    return f"recognition-desk totp v1 {username}".encode()


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


def seal_totp_secret(key: bytes, secret: str, username: str) -> str:
    nonce = secrets.token_bytes(12)
    ct = AESGCM(key).encrypt(nonce, secret.encode("ascii"), _totp_aad(username))
    return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + ct).decode("ascii")


def open_totp_secret(key: bytes, stored: str, username: str) -> str:
    """The base32 secret of a sealed value; ValueError when the key or account does not match."""
    if not is_sealed(stored):
        raise ValueError("not a sealed TOTP secret")
    try:
        raw = base64.urlsafe_b64decode(stored[len(SEALED_PREFIX):].encode("ascii"))
        plain = AESGCM(key).decrypt(raw[:12], raw[12:], _totp_aad(username))
    except (InvalidTag, ValueError) as exc:
        raise ValueError("the TOTP secret does not open with this key") from exc
    return plain.decode("ascii")


# --- one-time codes sent by SMS ------------------------------------------------------------

def new_otp_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def otp_hash(code: str, salt: bytes, pepper: bytes) -> str:
    """scrypt(code, per-code salt + pepper); the pepper lives in the data dir, not the DB."""
    digest = hashlib.scrypt(
        code.encode("ascii"), salt=salt + pepper, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return digest.hex()


def otp_matches(code: str, salt: bytes, pepper: bytes, expected_hex: str) -> bool:
    if not (len(code) == 6 and code.isdigit()):
        return False
    return hmac.compare_digest(otp_hash(code, salt, pepper), expected_hex)
