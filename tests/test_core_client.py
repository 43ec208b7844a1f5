"""DeskClient against a real desk service process on loopback (docs/PROTOCOL.md)."""

from __future__ import annotations

import logging
import re
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from console.approval import check_approval
from console.client import DeskClient, _Tokens
from console.errors import (
    AccountLocked,
    ApprovalRefused,
    Conflict,
    Forbidden,
    InvalidCredentials,
    InvalidTotp,
    NotAuthenticated,
    NotFound,
    ProtocolError,
    RateLimited,
    ServerUnreachable,
    TlsError,
    ValidationError,
)
from console.models import (
    ArchiveKey,
    Assignment,
    Decision,
    OtpVerification,
    Product,
    QueueSnapshot,
    ReasonCode,
    RecognitionRequest,
    RequestState,
    Role,
)
from tests.fixtures.desk import DeskServer, start_desk_server
from tests.test_core_helpers import PASSWORD, consent

DEMO_CF = "RSSMRA85D52H501P"


@pytest.fixture
def no_secrets_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """Collects secrets the test handles; after the test none may appear in any log record."""
    secrets_seen: list[str] = [PASSWORD, DEMO_CF]
    caplog.set_level(logging.DEBUG)
    yield secrets_seen
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets_seen:
        assert secret not in text


def _tokens(client: DeskClient) -> list[str]:
    tokens = client._tokens
    return [] if tokens is None else [tokens.access, tokens.refresh]


def signed_in(server: DeskServer, username: str = "operatore1", **kwargs: Any) -> DeskClient:
    client = DeskClient(server.base_url, **kwargs)
    client.login(username, PASSWORD, server._fresh_code(username))
    return client


def test_login_and_typed_results(desk_server_shared: DeskServer,
                                 no_secrets_in_logs: list[str]) -> None:
    server = desk_server_shared
    client = DeskClient(server.api_url + "/")  # the prefix is tolerated
    totp = server._fresh_code("operatore1")
    result = client.login("operatore1", PASSWORD, totp)
    no_secrets_in_logs.extend([totp, *_tokens(client)])
    assert result.operator.username == "operatore1"
    assert result.operator.role is Role.OPERATOR
    assert result.expires_in == 900
    assert client.is_authenticated and client.operator == result.operator
    assert client.origin == server.base_url
    snapshot = client.queue()
    assert isinstance(snapshot, QueueSnapshot)
    assert snapshot.length == len(snapshot.waiting)
    key = client.archive_key()
    assert isinstance(key, ArchiveKey) and len(key.public_key) == 32
    assert key.algorithm == "X25519"
    client.logout()


def test_wrong_password_totp_and_lockout(desk_server: DeskServer) -> None:
    client = DeskClient(desk_server.base_url)
    with pytest.raises(InvalidCredentials) as wrong:
        client.login("formatore1", "not-the-password", "000000")
    assert wrong.value.status == 401
    with pytest.raises(InvalidCredentials):
        client.login("nobody", PASSWORD, "000000")
    with pytest.raises(InvalidTotp):
        client.login("partner1", PASSWORD, "000000")
    assert not client.is_authenticated
    # 5 wrong passwords lock the account for 15 minutes
    locked: AccountLocked | None = None
    for _ in range(5):
        try:
            client.login("formatore1", "still-wrong-password", "000000")
        except AccountLocked as exc:
            locked = exc
            break
        except InvalidCredentials:
            continue
    assert locked is not None
    assert locked.locked_until is not None
    wait = (locked.locked_until - desk_server.server_now()).total_seconds()
    assert 14 * 60 < wait <= 15 * 60 + 5
    with pytest.raises(AccountLocked):  # even the right password, while locked
        client.login("formatore1", PASSWORD, desk_server._fresh_code("formatore1"))


class RecordingSession(requests.Session):
    """A real requests.Session that notes (method, path) of every call, to check the client
    against the service's OpenAPI document."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: set[tuple[str, str]] = set()

    def request(self, method: str | bytes, url: str | bytes, *args: Any,  # type: ignore[override]
                **kwargs: Any) -> requests.Response:
        self.calls.add((str(method).lower(), urlsplit(str(url)).path))
        return super().request(method, url, *args, **kwargs)


def _matches(template: str, path: str) -> bool:
    want, got = template.split("/"), path.split("/")
    if len(want) != len(got):
        return False
    return all(w == g or (w.startswith("{") and w.endswith("}") and bool(g))
               for w, g in zip(want, got, strict=True))


def test_queue_take_next_and_lookups(desk_server: DeskServer,
                                     no_secrets_in_logs: list[str]) -> None:
    server = desk_server
    recorder = RecordingSession()
    client = DeskClient(server.base_url, http=recorder)
    client.login("operatore1", PASSWORD, server._fresh_code("operatore1"))
    no_secrets_in_logs.extend(_tokens(client))
    assert client.me() == client.operator
    seeded = server.seed_request("ROSSI")
    consent(server.ws_url, seeded["join_token"])
    snapshot = client.queue()
    assert seeded["id"] in [w.request_id for w in snapshot.waiting]
    entry = next(w for w in snapshot.waiting if w.request_id == seeded["id"])
    assert entry.product is Product.SPID_PERSONAL
    assignment = client.take_next()
    assert isinstance(assignment, Assignment)
    assert assignment.request.id == seeded["id"]  # the only one waiting
    assert assignment.request.state is RequestState.IN_CALL
    assert assignment.request.applicant.codice_fiscale == DEMO_CF
    assert DEMO_CF not in repr(assignment)  # personal data stays out of reprs
    with pytest.raises(Conflict) as busy:
        client.take_next()
    assert busy.value.code == "session_in_progress"

    fetched = client.get_request(seeded["id"])
    assert isinstance(fetched, RecognitionRequest) and fetched.state is RequestState.IN_CALL
    assert fetched.document is not None and fetched.document.number == "CA00000AA"
    code = seeded["booking_code"]
    no_secrets_in_logs.append(code)  # urllib3's DEBUG lines lose their query string
    spaced = code[:4].lower() + " " + code[4:]
    with pytest.raises(Forbidden):  # booking codes are the partners' (in person), not ours
        client.find_by_booking_code(spaced)
    partner = DeskClient(server.base_url, http=recorder)
    partner.login("partner1", PASSWORD, server._fresh_code("partner1"))
    no_secrets_in_logs.extend(_tokens(partner))
    found = partner.find_by_booking_code(spaced)
    assert found is not None and found.id == seeded["id"]
    assert partner.find_by_booking_code("ZZZZ9999") is None
    with pytest.raises(ValidationError) as bad:
        partner.find_by_booking_code("AB")
    assert bad.value.fields == {"booking_code": "invalid_format"}
    with pytest.raises(ValidationError):
        partner.find_by_booking_code("  -- ")
    with pytest.raises(NotFound):
        client.get_request(str(uuid.uuid4()))

    # --- OTP by SMS, read back -------------------------------------------------------------
    sent = client.send_otp(seeded["id"])
    assert sent.attempts_left == 3 and sent.expires_at > server.server_now()
    with pytest.raises(RateLimited) as early:
        client.send_otp(seeded["id"])
    assert early.value.code == "resend_too_soon"
    assert early.value.retry_after is None or early.value.retry_after >= 0
    sms = server.sms_outbox(seeded["applicant"]["mobile"])
    code_sent = re.search(r"\b(\d{6})\b", sms[-1]["body"]).group(1)  # type: ignore[union-attr]
    no_secrets_in_logs.append(code_sent)
    wrong = f"{(int(code_sent) + 1) % 1_000_000:06d}"
    with pytest.raises(ValidationError) as malformed:
        client.verify_otp(seeded["id"], "12ab")
    assert malformed.value.fields == {"code": "invalid_format"}
    first = client.verify_otp(seeded["id"], wrong)
    assert first == OtpVerification(verified=False, attempts_left=2, exhausted=False)
    ok = client.verify_otp(seeded["id"], f"{code_sent[:3]} {code_sent[3:]}")
    assert ok.verified and not ok.exhausted

    # --- e-mail link ---------------------------------------------------------------------
    status = client.send_email_verification(seeded["id"])
    assert status.sent_at is not None and not status.confirmed
    assert not client.email_status(seeded["id"]).confirmed
    mails = server.email_outbox(seeded["applicant"]["email"])
    found_link = re.search(r"https?://\S+/verify-email/\S+", mails[-1]["body"])
    assert found_link is not None
    link = found_link.group(0)
    requests.get(link, timeout=5).raise_for_status()
    confirmed = client.email_status(seeded["id"])
    assert confirmed.confirmed and confirmed.confirmed_at is not None

    # --- an approval the service cannot stand behind is refused, naming what is missing ------
    with pytest.raises(ApprovalRefused) as refused:
        check_approval(client, seeded["id"])
    assert "otp_verified" not in refused.value.missing  # verified above, in this session
    assert {"capture:face", "recording_uploaded"} <= set(refused.value.missing)
    with pytest.raises(ApprovalRefused) as refused_decision:
        client.decide(seeded["id"], uuid.uuid4(), Decision.APPROVED, ReasonCode.OK, "")
    assert refused_decision.value.missing == refused.value.missing

    # --- decision, idempotent by decision_id ------------------------------------------------
    decision_id = uuid.uuid4()
    result = client.decide(seeded["id"], decision_id, Decision.REJECTED,
                           ReasonCode.POOR_VIDEO, "")
    assert result.state is RequestState.REJECTED
    again = client.decide(seeded["id"], str(decision_id), "rejected", "poor_video", "")
    assert again == result
    with pytest.raises(Conflict) as twice:
        client.decide(seeded["id"], uuid.uuid4(), Decision.SUSPENDED, ReasonCode.OTHER, "x")
    assert twice.value.code == "already_decided"
    with pytest.raises(ValidationError):
        client.decide(seeded["id"], "not-a-uuid", Decision.APPROVED, ReasonCode.OK)
    with pytest.raises(ValidationError) as server_side:
        client.decide(seeded["id"], uuid.uuid4(), Decision.REJECTED, ReasonCode.OK)
    assert server_side.value.fields.get("reason_code") == "invalid_value"
    assert client.get_request(seeded["id"]).state is RequestState.REJECTED
    assert client.take_next() is None  # nobody else consented
    client.queue()
    client.archive_key()
    client.logout()

    # every call the client made is in the service's OpenAPI document
    spec = requests.get(f"{server.base_url}/api/openapi.json", timeout=10).json()
    for method, path in sorted(recorder.calls):
        assert any(method in ops and _matches(template, path)
                   for template, ops in spec["paths"].items()), (method, path)
    assert len(recorder.calls) >= 12


def test_in_person_start_by_booking_code(desk_server: DeskServer) -> None:
    partner = signed_in(desk_server, "partner1")
    seeded = desk_server.seed_request("BIANCHI")
    found = partner.find_by_booking_code(seeded["booking_code"])
    assert found is not None and found.product is Product.DIGITAL_SIGNATURE
    started = partner.start_in_person(found.id)
    assert started.channel == "in_person" and started.request.state is RequestState.IN_CALL
    result = partner.decide(found.id, uuid.uuid4(), Decision.SUSPENDED,
                            ReasonCode.DOCUMENT_EXPIRED, "bring a valid document")
    assert result.state is RequestState.SUSPENDED
    with pytest.raises(Conflict) as again:  # a different decision after one was recorded
        partner.decide(found.id, uuid.uuid4(), Decision.APPROVED, ReasonCode.OK)
    assert again.value.code == "already_decided"


def test_automatic_refresh_once_on_401(desk_server: DeskServer,
                                       no_secrets_in_logs: list[str]) -> None:
    desk = desk_server
    lost: list[bool] = []
    client = signed_in(desk, on_auth_lost=lambda: lost.append(True))
    before = _tokens(client)
    no_secrets_in_logs.extend(before)
    desk.advance_clock(16 * 60)  # the access token (15 min) has expired on the service
    assert client.queue().length >= 0  # 401 → refresh → same call again
    after = _tokens(client)
    no_secrets_in_logs.extend(after)
    assert after[0] != before[0] and after[1] != before[1]
    assert not lost
    # an explicit refresh works too, and the refresh token is single-use
    client.refresh()
    stale = DeskClient(desk.base_url)
    stale._tokens = _Tokens(access="x" * 43, refresh=after[1], expires_at=0.0)
    with pytest.raises(NotAuthenticated):
        stale.queue()
    # past the refresh token's 12 h the operator must sign in again
    desk.advance_clock(13 * 3600)
    with pytest.raises(NotAuthenticated):
        client.queue()
    assert lost == [True]
    assert not client.is_authenticated
    with pytest.raises(NotAuthenticated):
        client.access_token()


def test_logout_revokes_tokens(desk_server_shared: DeskServer) -> None:
    client = signed_in(desk_server_shared, "supervisore1")
    access = client.access_token()
    client.logout()
    assert not client.is_authenticated
    with pytest.raises(NotAuthenticated):
        client.queue()
    r = requests.get(f"{desk_server_shared.api_url}/queue",
                     headers={"Authorization": f"Bearer {access}"}, timeout=5)
    assert r.status_code == 401
    client.logout()  # a second logout is harmless


def test_unreachable_and_timeouts(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = DeskClient(f"http://127.0.0.1:{port}", timeout=(1.0, 1.0))
    with pytest.raises(ServerUnreachable):
        client.login("operatore1", PASSWORD, "123456")
    # a server that accepts the connection and never answers: the read timeout fires
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        client = DeskClient(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=(1.0, 0.5))
        with pytest.raises(ServerUnreachable, match="ReadTimeout"):
            client.login("operatore1", PASSWORD, "123456")
    with pytest.raises(ValueError):
        DeskClient("desk.example:8443")


def test_tls_verification_and_ca_bundle(tmp_path: Path) -> None:
    server = start_desk_server(tmp_path / "tls-desk", "--self-signed")
    try:
        url = server.base_url
        assert url.startswith("https://")
        untrusted = DeskClient(url)
        with pytest.raises(TlsError, match="certificate verify failed"):
            untrusted.login("operatore1", PASSWORD, "123456")
        cert = server.data_dir / "tls" / "self-signed.crt"
        trusted = DeskClient(url, ca_bundle=cert)
        assert trusted.verify == str(cert)
        with pytest.raises(InvalidTotp):  # the TLS channel works; only the code is wrong
            trusted.login("operatore1", PASSWORD, "000000")
        missing = DeskClient(url, ca_bundle=tmp_path / "no-such.pem")
        with pytest.raises(TlsError):
            missing.login("operatore1", PASSWORD, "000000")
        plain = DeskClient(url.replace("https://", "http://"), timeout=(2, 2))
        with pytest.raises((ServerUnreachable, ProtocolError)):
            plain.login("operatore1", PASSWORD, "000000")
    finally:
        server.stop()
