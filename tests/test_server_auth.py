"""Operator accounts against a real desk service process: login, TOTP, lockouts, tokens, roles."""

from __future__ import annotations

import pyotp
import pytest

from tests.fixtures.desk import DeskServer


def _login(desk: DeskServer, username: str, password: str, totp: str):  # type: ignore[no-untyped-def]
    return desk.api("POST", "/auth/login",
                    json={"username": username, "password": password, "totp": totp})


def test_login_with_password_and_totp_gives_tokens(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    data = desk.login("formatore1")
    assert data["operator"]["username"] == "formatore1"
    assert data["operator"]["role"] == "trainer"
    assert data["expires_in"] == 15 * 60
    assert data["access_token"] != data["refresh_token"]
    me = desk.api("GET", "/auth/me", headers={"Authorization": f"Bearer {data['access_token']}"})
    assert me.status_code == 200
    assert me.json()["display_name"] == "Formatore Uno"


def test_wrong_password_and_wrong_totp_are_told_apart(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    op = desk.operator("partner1")
    r = _login(desk, "partner1", "wrong password!", desk.totp("partner1"))
    assert r.status_code == 401 and r.json()["error"] == "invalid_credentials"
    r = _login(desk, "nobody", "whatever", "123456")
    assert r.status_code == 401 and r.json()["error"] == "invalid_credentials"
    wrong = f"{(int(desk.totp('partner1')) + 500_000) % 1_000_000:06d}"
    r = _login(desk, "partner1", op["password"], wrong)
    assert r.status_code == 401 and r.json()["error"] == "invalid_totp"
    # a success resets both counters
    assert desk.login("partner1")["operator"]["role"] == "partner"


def test_a_totp_code_is_accepted_once(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    op = desk.operator("supervisore1")
    code = desk._fresh_code("supervisore1")
    first = _login(desk, "supervisore1", op["password"], code)
    assert first.status_code == 200
    again = _login(desk, "supervisore1", op["password"], code)
    assert again.status_code == 401 and again.json()["error"] == "invalid_totp"
    desk._tokens["supervisore1"] = first.json()["access_token"]


def test_five_wrong_passwords_lock_for_15_minutes(desk_server: DeskServer) -> None:
    desk = desk_server
    statuses = [_login(desk, "operatore1", f"wrong-{i}", "000000").status_code for i in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    locked = _login(desk, "operatore1", desk.operator("operatore1")["password"],
                    desk.totp("operatore1"))
    assert locked.status_code == 423
    body = locked.json()
    assert body["error"] == "account_locked" and body["locked_until"].endswith("Z")
    desk.advance_clock(14 * 60)
    assert _login(desk, "operatore1", "x", "000000").status_code == 423
    desk.advance_clock(61)
    assert desk.login("operatore1")["operator"]["username"] == "operatore1"


def test_three_wrong_totp_codes_lock(desk_server: DeskServer) -> None:
    desk = desk_server
    pw = desk.operator("partner1")["password"]
    good = desk.totp("partner1")
    wrong = [f"{(int(good) + k * 111_111) % 1_000_000:06d}" for k in (1, 2, 3)]
    statuses = [_login(desk, "partner1", pw, code).status_code for code in wrong]
    assert statuses == [401, 401, 423]
    assert _login(desk, "partner1", pw, desk.totp("partner1")).status_code == 423
    desk.advance_clock(15 * 60 + 1)
    assert desk.login("partner1")["operator"]["role"] == "partner"


def test_refresh_rotates_and_logout_revokes(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    first = desk.login("operatore1")
    r = desk.api("POST", "/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    second = r.json()
    assert second["access_token"] != first["access_token"]
    # the old pair is gone after rotation
    old = desk.api("GET", "/auth/me", headers={"Authorization": f"Bearer {first['access_token']}"})
    assert old.status_code == 401
    reuse = desk.api("POST", "/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    # reusing a rotated refresh token revoked the whole family (theft detection)
    me = desk.api("GET", "/auth/me", headers={"Authorization": f"Bearer {second['access_token']}"})
    assert me.status_code == 401
    third = desk.login("operatore1")
    hdr = {"Authorization": f"Bearer {third['access_token']}"}
    assert desk.api("POST", "/auth/logout", headers=hdr).status_code == 200
    assert desk.api("GET", "/auth/me", headers=hdr).status_code == 401
    desk._tokens.pop("operatore1", None)


def test_access_token_expires_after_15_minutes(desk_server: DeskServer) -> None:
    desk = desk_server
    data = desk.login("operatore1")
    hdr = {"Authorization": f"Bearer {data['access_token']}"}
    assert desk.api("GET", "/queue", headers=hdr).status_code == 200
    desk.advance_clock(15 * 60 + 1)
    assert desk.api("GET", "/queue", headers=hdr).status_code == 401
    r = desk.api("POST", "/auth/refresh", json={"refresh_token": data["refresh_token"]})
    assert r.status_code == 200
    assert desk.api("GET", "/queue", headers={
        "Authorization": f"Bearer {r.json()['access_token']}"}).status_code == 200


def test_admin_creates_and_enrols_an_operator(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    r = desk.api("POST", "/operators", "admin1", json={
        "username": "nuovo.operatore", "display_name": "Nuovo Operatore", "role": "operator",
        "password": "Una-Password-Lunga-1"})
    assert r.status_code == 201, r.text
    op = r.json()
    dup = desk.api("POST", "/operators", "admin1", json={
        "username": "nuovo.operatore", "display_name": "X", "role": "operator",
        "password": "Una-Password-Lunga-1"})
    assert dup.status_code == 409 and dup.json()["error"] == "username_taken"
    # a supervisor reviews, an administrator manages accounts
    r = desk.api("POST", "/operators", "supervisore1", json={
        "username": "altro.operatore", "display_name": "Altro", "role": "operator",
        "password": "Una-Password-Lunga-1"})
    assert r.status_code == 403
    # not enrolled yet: no login
    r = _login(desk, "nuovo.operatore", "Una-Password-Lunga-1", "123456")
    assert r.status_code == 403 and r.json()["error"] == "totp_not_enrolled"
    r = desk.api("POST", f"/operators/{op['id']}/totp", "admin1")
    assert r.status_code == 201
    enrol = r.json()
    assert enrol["otpauth_uri"].startswith("otpauth://totp/")
    assert enrol["qr_svg"].lstrip().startswith("<svg")
    secret = pyotp.parse_uri(enrol["otpauth_uri"]).secret
    r = _login(desk, "nuovo.operatore", "Una-Password-Lunga-1", pyotp.TOTP(secret).now())
    assert r.status_code == 200
    token = r.json()["access_token"]
    # an operator may not create accounts nor read the operator list
    hdr = {"Authorization": f"Bearer {token}"}
    assert desk.api("GET", "/operators", headers=hdr).status_code == 403
    # disabling revokes at once
    assert desk.api("POST", f"/operators/{op['id']}/disable", "admin1").status_code == 200
    assert desk.api("GET", "/auth/me", headers=hdr).status_code == 401


@pytest.mark.parametrize("body,field,code", [
    ({"username": "ab", "display_name": "A", "role": "operator", "password": "x" * 12},
     "username", "too_short"),
    ({"username": "abc", "display_name": "A", "role": "boss", "password": "x" * 12},
     "role", "invalid_value"),
    ({"username": "abc", "display_name": "A", "role": "operator", "password": "short"},
     "password", "too_short"),
    ({"username": "abc", "display_name": "A", "role": "operator", "password": "x" * 12,
      "admin": True}, "admin", "unknown_field"),
])
def test_operator_fields_are_validated(desk_server_shared: DeskServer, body: dict, field: str,
                                       code: str) -> None:
    r = desk_server_shared.api("POST", "/operators", "admin1", json=body)
    assert r.status_code == 422
    assert r.json()["fields"][field] == code


def test_roles_are_enforced(desk_server_shared: DeskServer) -> None:
    desk = desk_server_shared
    assert desk.api("GET", "/queue").status_code == 401
    assert desk.api("GET", "/queue", headers={"Authorization": "Bearer nonsense"}).status_code \
        == 401
    assert desk.api("GET", "/queue", "partner1").status_code == 403
    assert desk.api("GET", "/queue", "operatore1").status_code == 200
    assert desk.api("GET", "/evidence", "operatore1").status_code == 403
