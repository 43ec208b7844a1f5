"""The in-person workflow core against a real desk service process and a virtual CNS read
through pcscd + vpcd."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cardreader.crosscheck import CheckCode
from cardreader.errors import CardError, CardErrorCode
from console.client import DeskClient
from console.evidence.keys import WorkstationKey
from console.flows.inperson import (
    CF_STEP,
    FACE,
    Blocker,
    InPersonError,
    InPersonWorkflow,
    SyntheticCamera,
    write_request_form,
)
from console.models import ReasonCode
from console.specimens import DEMO_PERSON
from demo.virtual_card import DEMO_IDENTITY

OTHER = {
    "surname": "BIANCHI",
    "given_names": "LUCA",
    "codice_fiscale": "BNCLCU79P30F205G",
    "birth_date": "1979-09-30",
    "sex": "M",
}
CAPTURES = ("signed_form", "document_front", "document_back", "health_card", FACE)


@pytest.fixture(scope="module")
def partner(desk_server_shared: Any) -> DeskClient:
    """partner1 signed in once (the service accepts each TOTP step once)."""
    desk = desk_server_shared
    client = DeskClient(desk.base_url)
    client.login("partner1", desk.operator("partner1")["password"], desk._fresh_code("partner1"))
    return client


@pytest.fixture
def demo_request(desk_server_shared: Any) -> dict[str, Any]:
    """A fresh request for the demo person (MARIA ROSSI), booked for the partner point."""
    body = DEMO_PERSON.request()
    return desk_server_shared.create_request(applicant=body["applicant"], document=body["document"])


def workflow(partner: DeskClient, tmp_path: Path, uploader: Any = None) -> InPersonWorkflow:
    key = WorkstationKey.load_or_create(tmp_path / "data")
    return InPersonWorkflow(
        partner,
        uploader=uploader,
        operator={"id": "p1", "username": "partner1", "role": "partner"},
        evidence_root=tmp_path / "evidence",
        workstation_key=key,
        work_dir=tmp_path,
    )


def state_of(desk: Any, request_id: str) -> str:
    resp = desk.api("GET", f"/requests/{request_id}", username="supervisore1")
    assert resp.status_code == 200, resp.text
    return str(resp.json()["state"])


def capture_all(wf: InPersonWorkflow) -> None:
    cam = SyntheticCamera()
    for target in CAPTURES:
        check = wf.capture(target, cam.grab(target))
        if target == "document_back":
            assert check.document_found and check.mrz_valid
            assert check.mrz_fields.get("surname") == "match"
            assert check.mrz_fields.get("document_number") == "match"


def test_in_person_approval_end_to_end(
    partner: DeskClient,
    demo_request: dict[str, Any],
    virtual_card: Any,
    desk_server_shared: Any,
    tmp_path: Path,
) -> None:
    from console.evidence.upload import Uploader

    uploader = Uploader(partner, tmp_path / "data")
    wf = workflow(partner, tmp_path, uploader)
    req = wf.look_up(demo_request["booking_code"].lower())  # codes are case-insensitive
    assert req.id == demo_request["id"]
    assert state_of(desk_server_shared, req.id) == "in_call"
    assert Blocker.CARD_NOT_READ in wf.blockers()
    with pytest.raises(InPersonError) as err:
        wf.confirm(CF_STEP)
    assert err.value.code == "card_not_read"

    em = virtual_card()
    outcome = wf.read_card(em.reader_name)
    assert outcome.ok and outcome.card.has_certificate
    assert outcome.check.problems == ()
    capture_all(wf)
    pdf = wf.print_form(language="it")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 2000
    assert wf.blockers() == (Blocker.STEPS_MISSING,)
    for step in wf.session.missing_required():  # type: ignore[union-attr]
        wf.confirm(step)
    assert wf.can_approve
    result = wf.approve()
    assert result.state.value == "approved"
    assert state_of(desk_server_shared, req.id) == "approved"
    # resending the same decision is idempotent
    assert wf.resend_decision().state.value == "approved"
    # the evidence package is complete and signed
    folder = wf.package.folder  # type: ignore[union-attr]
    assert (folder / "manifest.json").exists() and (folder / "manifest.sig").exists()
    captures = json.loads((folder / "captures.json").read_text())["captures"]
    assert {c["step"] for c in captures} == set(CAPTURES)
    audit = (folder / "audit.jsonl").read_text()
    assert "card_read" in audit and "request_form_printed" in audit
    session = json.loads((folder / "session.json").read_text())
    assert session["mode"] == "in_person"
    # sealed and queued durably for upload (delivery is the evidence uploader's job)
    from console.evidence.upload import upload_key

    item = uploader.outbox.get(upload_key(wf.package.package_id))  # type: ignore[union-attr]
    assert item is not None and item.kind == "evidence_upload"


def test_card_of_another_person_blocks_approval(
    partner: DeskClient,
    demo_request: dict[str, Any],
    virtual_card: Any,
    desk_server_shared: Any,
    tmp_path: Path,
) -> None:
    wf = workflow(partner, tmp_path)
    wf.look_up(demo_request["booking_code"])
    em = virtual_card(OTHER)
    outcome = wf.read_card(em.reader_name)
    assert not outcome.ok
    assert {
        CheckCode.CF_CARD_VS_REQUEST,
        CheckCode.SURNAME,
        CheckCode.GIVEN_NAMES,
        CheckCode.BIRTH_DATE,
    } <= set(outcome.check.blocking)
    capture_all(wf)
    with pytest.raises(InPersonError) as err:
        wf.confirm(CF_STEP)
    assert err.value.code == "card_mismatch"
    assert Blocker.CARD_MISMATCH in wf.blockers()
    with pytest.raises(InPersonError) as err:
        wf.approve()
    assert err.value.code == "approval_blocked"
    result = wf.reject(ReasonCode.DATA_MISMATCH)
    assert result.state.value == "rejected"
    assert state_of(desk_server_shared, demo_request["id"]) == "rejected"


def test_ts_without_certificate_is_reported_not_blocking(
    partner: DeskClient, demo_request: dict[str, Any], virtual_card: Any, tmp_path: Path
) -> None:
    wf = workflow(partner, tmp_path)
    wf.look_up(demo_request["booking_code"])
    em = virtual_card(certificate="none")
    outcome = wf.read_card(em.reader_name)
    assert not outcome.card.has_certificate
    assert outcome.check.problems == (CheckCode.NO_CERTIFICATE,) and outcome.ok
    wf.confirm(CF_STEP)
    wf.suspend(ReasonCode.APPLICANT_REFUSED)


def test_card_pulled_out_keeps_nothing(
    partner: DeskClient, demo_request: dict[str, Any], virtual_card: Any, tmp_path: Path
) -> None:
    wf = workflow(partner, tmp_path)
    wf.look_up(demo_request["booking_code"])
    seen: list[str] = []
    wf.listeners.append(seen.append)
    em = virtual_card(remove_after_apdus=6)
    with pytest.raises(CardError):
        wf.read_card(em.reader_name)
    assert wf.card is None and wf.card_error is not None
    assert wf.card_error.code == CardErrorCode.CARD_REMOVED
    assert Blocker.CARD_NOT_READ in wf.blockers() and "card" in seen
    wf.suspend(ReasonCode.OTHER, note="card reader problem")


def test_lookup_errors_and_bad_images(
    partner: DeskClient, demo_request: dict[str, Any], tmp_path: Path
) -> None:
    wf = workflow(partner, tmp_path)
    with pytest.raises(InPersonError) as err:
        wf.capture("face", b"\x89PNG broken")
    assert err.value.code == "no_request"
    with pytest.raises(InPersonError) as err:
        wf.look_up("ZZZZ-0000")
    assert err.value.code == "booking_not_found"
    wf.look_up(demo_request["booking_code"])
    for bad in (b"", b"not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50):
        with pytest.raises(InPersonError) as err:
            wf.capture("document_front", bad)
        assert err.value.code == "invalid_image"
    with pytest.raises(InPersonError) as err:
        wf.capture("selfie_with_cat", SyntheticCamera().grab(FACE))
    assert err.value.code == "unknown_target"
    assert wf.stills == {}
    wf.suspend(ReasonCode.OTHER, note="test done")
    # a suspended request can be taken up again; a decided one cannot
    again = workflow(partner, tmp_path / "again")
    assert again.look_up(demo_request["booking_code"]).id == demo_request["id"]
    again.reject(ReasonCode.APPLICANT_REFUSED)
    with pytest.raises(InPersonError) as err:
        workflow(partner, tmp_path / "third").look_up(demo_request["booking_code"])
    assert err.value.code == "request_closed"


def test_request_form_without_card_and_in_english(
    partner: DeskClient, demo_request: dict[str, Any], tmp_path: Path
) -> None:
    from console.models import RecognitionRequest

    req = partner.find_by_booking_code(demo_request["booking_code"])
    assert isinstance(req, RecognitionRequest)
    for lang in ("it", "en"):
        out = write_request_form(tmp_path / f"form-{lang}.pdf", req, None, language=lang)
        data = out.read_bytes()
        assert data.startswith(b"%PDF-") and b"/Type /Page" in data


def test_demo_identity_matches_protocol() -> None:
    assert DEMO_IDENTITY["codice_fiscale"] == DEMO_PERSON.codice_fiscale
    assert DEMO_IDENTITY["birth_date"] == DEMO_PERSON.birth_date.isoformat()
