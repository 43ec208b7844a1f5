"""Evidence intake and archive against a real desk service process."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tests.fixtures.desk import DeskServer, start_desk_server

CHUNK = 256 * 1024


def _open(desk: DeskServer, req_id: str, data: bytes, key: str, username: str = "partner1",
          **over: Any) -> Any:
    body = {"upload_key": key, "request_id": req_id, "filename": "evidence.rcp",
            "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), **over}
    return desk.api("POST", "/evidence/uploads", username, json=body)


def _put(desk: DeskServer, upload_id: str, offset: int, chunk: bytes,
         username: str = "partner1") -> Any:
    return desk.api("PUT", f"/evidence/uploads/{upload_id}", username,
                    params={"offset": offset}, data=chunk,
                    headers={"Content-Type": "application/octet-stream"})


def _upload(desk: DeskServer, req_id: str, data: bytes, key: str | None = None,
            username: str = "partner1") -> dict[str, Any]:
    r = _open(desk, req_id, data, key or f"up-{uuid.uuid4()}", username)
    assert r.status_code in (200, 201), r.text
    upload_id, offset = r.json()["upload_id"], r.json()["received"]
    while offset < len(data):
        r = _put(desk, upload_id, offset, data[offset:offset + CHUNK], username)
        assert r.status_code == 200, r.text
        offset = r.json()["received"]
    r = desk.api("POST", f"/evidence/uploads/{upload_id}/complete", username)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_archive_key_is_created_once_and_served(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    r = desk.api("GET", "/archive-key")
    assert r.status_code == 200
    key = r.json()
    assert key["algorithm"] == "X25519"
    raw = base64.b64decode(key["public_key"])
    assert len(raw) == 32
    pem = (desk.data_dir / "archive-demo-private.key").read_bytes()
    priv = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(priv, X25519PrivateKey)
    assert priv.public_key().public_bytes(serialization.Encoding.Raw,
                                          serialization.PublicFormat.Raw) == raw
    assert oct((desk.data_dir / "archive-demo-private.key").stat().st_mode)[-3:] == "600"
    assert desk.api("GET", "/archive-key").json() == key


def test_interrupted_upload_resumes_and_is_stored_intact(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    req = desk.start_in_person()
    data = os.urandom(5 * CHUNK + 12345)
    key = f"session-{uuid.uuid4()}"
    r = _open(desk, req["id"], data, key)
    assert r.status_code == 201 and r.json()["received"] == 0
    upload_id = r.json()["upload_id"]
    for i in range(3):
        assert _put(desk, upload_id, i * CHUNK, data[i * CHUNK:(i + 1) * CHUNK]).status_code == 200
    # the console restarts: same upload_key → where to resume
    r = _open(desk, req["id"], data, key)
    assert r.status_code == 200
    assert r.json() == {"upload_id": upload_id, "received": 3 * CHUNK, "complete": False}
    # a chunk at the wrong offset is refused and says where we are
    r = _put(desk, upload_id, 0, data[:CHUNK])
    assert r.status_code == 409 and r.json()["received"] == 3 * CHUNK
    # completing early is refused
    r = desk.api("POST", f"/evidence/uploads/{upload_id}/complete", "partner1")
    assert r.status_code == 409 and r.json()["error"] == "upload_incomplete"
    pkg = _upload(desk, req["id"], data, key)
    assert pkg["sha256"] == hashlib.sha256(data).hexdigest()
    stored = [p for p in (desk.data_dir / "evidence").iterdir()
              if hashlib.sha256(p.read_bytes()).hexdigest() == pkg["sha256"]]
    assert len(stored) == 1 and stored[0].read_bytes() == data
    # retention: 20 years for SPID
    stored_at = datetime.fromisoformat(pkg["stored_at"].replace("Z", "+00:00"))
    until = datetime.fromisoformat(pkg["retention_until"].replace("Z", "+00:00"))
    assert until.year - stored_at.year == 20
    # once complete, the same key answers "already stored"
    r = _open(desk, req["id"], data, key)
    assert r.status_code == 200 and r.json()["complete"] is True
    assert r.json()["package_id"] == pkg["package_id"]


def test_same_package_sent_twice_is_stored_once(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    req = desk.start_in_person()
    data = os.urandom(CHUNK + 7)
    before = len(list((desk.data_dir / "evidence").iterdir()))
    first = _upload(desk, req["id"], data)
    second = _upload(desk, req["id"], data)  # another upload_key, same bytes
    assert first["package_id"] == second["package_id"]
    assert len(list((desk.data_dir / "evidence").iterdir())) == before + 1
    found = desk.api("GET", "/evidence", "supervisore1", params={"request_id": req["id"]})
    assert [p["package_id"] for p in found.json()["packages"]] == [first["package_id"]]


def test_bad_uploads_are_refused_and_lose_nothing(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    req = desk.start_in_person()
    data = os.urandom(1000)
    # declared hash does not match the bytes
    r = _open(desk, req["id"], data, f"bad-{uuid.uuid4()}", sha256="0" * 64)
    upload_id = r.json()["upload_id"]
    assert _put(desk, upload_id, 0, data).status_code == 200
    r = desk.api("POST", f"/evidence/uploads/{upload_id}/complete", "partner1")
    assert r.status_code == 422 and r.json()["error"] == "sha256_mismatch"
    assert r.json()["received"] == 0
    # the same key for other content is a conflict
    key = f"k-{uuid.uuid4()}"
    assert _open(desk, req["id"], data, key).status_code == 201
    r = _open(desk, req["id"], data + b"x", key)
    assert r.status_code == 409 and r.json()["error"] == "upload_key_reused"
    # more than declared, oversize chunks, bad offsets, bad fields
    upload_id = _open(desk, req["id"], data, f"k-{uuid.uuid4()}").json()["upload_id"]
    r = _put(desk, upload_id, 0, data + b"extra")
    assert r.status_code == 422
    r = _put(desk, upload_id, 0, b"x" * (4 * 1024 * 1024 + 1))
    assert r.status_code == 413
    r = desk.api("PUT", f"/evidence/uploads/{upload_id}", "partner1",
                 params={"offset": "-1"}, data=b"x")
    assert r.status_code == 422
    r = _open(desk, str(uuid.uuid4()), data, f"k-{uuid.uuid4()}")
    assert r.status_code == 404
    r = _open(desk, req["id"], data, "short", filename="../../etc/passwd", size=-3)
    assert r.status_code == 422
    assert set(r.json()["fields"]) == {"upload_key", "filename", "size"}
    assert _put(desk, str(uuid.uuid4()), 0, b"x").status_code == 404
    # and the good path still works afterwards
    assert _upload(desk, req["id"], data)["sha256"] == hashlib.sha256(data).hexdigest()


def test_search_download_and_access_log(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    maria = desk.start_in_person(applicant=desk.seed_request("ROSSI")["applicant"])
    data = os.urandom(2000)
    pkg = _upload(desk, maria["id"], data, username="partner1")
    sup = "supervisore1"
    by_cf = desk.api("GET", "/evidence", sup, params={"codice_fiscale": "rssmra85d52h501p"})
    assert pkg["package_id"] in [p["package_id"] for p in by_cf.json()["packages"]]
    entry = next(p for p in by_cf.json()["packages"] if p["package_id"] == pkg["package_id"])
    assert entry["operator"] == "partner1" and entry["codice_fiscale"] == "RSSMRA85D52H501P"
    by_op = desk.api("GET", "/evidence", sup, params={"operator": "partner1"}).json()
    assert pkg["package_id"] in [p["package_id"] for p in by_op["packages"]]
    today = pkg["stored_at"][:10]
    by_date = desk.api("GET", "/evidence", sup, params={"date_from": today, "date_to": today})
    assert pkg["package_id"] in [p["package_id"] for p in by_date.json()["packages"]]
    none = desk.api("GET", "/evidence", sup, params={"date_from": "2001-01-01",
                                                     "date_to": "2001-01-02"})
    assert none.json()["packages"] == []
    bad = desk.api("GET", "/evidence", sup, params={"date_from": "yesterday"})
    assert bad.status_code == 422 and bad.json()["fields"] == {"date_from": "invalid_format"}
    # download needs a reason and is logged
    url = f"/evidence/{pkg['package_id']}/content"
    assert desk.api("GET", url, sup).status_code == 422
    assert desk.api("GET", url, "operatore1", params={"reason": "curious"}).status_code == 403
    r = desk.api("GET", url, sup, params={"reason": "richiesta autorità giudiziaria"})
    assert r.status_code == 200 and r.content == data
    assert r.headers["X-Content-SHA256"] == hashlib.sha256(data).hexdigest()
    # a trainer sees no personal data: no CF search, no CF or operator in the results,
    # and records only replays or anonymised exports
    trainer = "formatore1"
    assert desk.api("GET", "/evidence", trainer,
                    params={"codice_fiscale": "RSSMRA85D52H501P"}).status_code == 403
    seen = desk.api("GET", "/evidence", trainer, params={"request_id": maria["id"]}).json()
    assert [p["package_id"] for p in seen["packages"]] == [pkg["package_id"]]
    assert "codice_fiscale" not in seen["packages"][0] and "operator" not in seen["packages"][0]
    assert desk.api("GET", url, trainer, params={"reason": "formazione"}).status_code == 403
    r = desk.api("POST", f"/evidence/{pkg['package_id']}/access", trainer,
                 json={"action": "download", "reason": "verifica in formazione"})
    assert r.status_code == 403
    r = desk.api("POST", f"/evidence/{pkg['package_id']}/access", trainer,
                 json={"action": "replay", "reason": "verifica in formazione"})
    assert r.status_code == 201
    info = desk.api("GET", f"/evidence/{pkg['package_id']}", sup).json()
    log = [(a["operator"], a["action"], a["reason"]) for a in info["access_log"]]
    assert log == [("supervisore1", "download", "richiesta autorità giudiziaria"),
                   ("formatore1", "replay", "verifica in formazione")]
    assert all(a["at"].endswith("Z") for a in info["access_log"])
    # deletion before the retention deadline is refused
    r = desk.api("DELETE", f"/evidence/{pkg['package_id']}", sup)
    assert r.status_code == 409 and r.json()["error"] == "retention_not_expired"


def test_deletion_after_retention_and_retention_per_product(tmp_path: Path) -> None:
    desk = start_desk_server(tmp_path / "desk", "--retention", "cns=1")
    try:
        cns = desk.start_in_person(product="cns")
        spid = desk.start_in_person(product="spid_personal")
        p_cns = _upload(desk, cns["id"], b"cns evidence")
        p_spid = _upload(desk, spid["id"], b"spid evidence")
        assert int(p_cns["retention_until"][:4]) - int(p_cns["stored_at"][:4]) == 1
        assert int(p_spid["retention_until"][:4]) - int(p_spid["stored_at"][:4]) == 20
        desk.advance_clock(367 * 24 * 3600)
        r = desk.api("DELETE", f"/evidence/{p_cns['package_id']}", "supervisore1",
                     params={"reason": "retention expired"})
        assert r.status_code == 200 and r.json()["deleted"] is True
        r = desk.api("DELETE", f"/evidence/{p_spid['package_id']}", "supervisore1")
        assert r.status_code == 409
        left = desk.api("GET", "/evidence", "supervisore1").json()["packages"]
        assert [p["package_id"] for p in left] == [p_spid["package_id"]]
        files = [p.read_bytes() for p in (desk.data_dir / "evidence").iterdir()]
        assert files == [b"spid evidence"]
    finally:
        assert desk.stop() == 0
    assert "Traceback" not in desk.log_path.read_text()
