"""Hostile clients, part 1: rate limits per address and per account (on the real defaults),
trusted proxies, and the token-bucket store."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests
from aiohttp.test_utils import make_mocked_request

from server import policy, ratelimit
from server.config import DEFAULT_RATE_LIMITS, ConfigError, RateLimit, parse_rate_limits
from tests.fixtures.desk import DeskServer, request_body, start_desk_server

pytestmark = pytest.mark.timeout(240)


def _login(desk: DeskServer, username: str, password: str = "wrong password!",
           headers: dict[str, str] | None = None) -> requests.Response:
    return desk.api("POST", "/auth/login", headers=headers,
                    json={"username": username, "password": password, "totp": "000000"})


@pytest.fixture(scope="module")
def desk_defaults(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    server = start_desk_server(tmp_path_factory.mktemp("desk-limits"), default_limits=True)
    try:
        yield server
    finally:
        server.stop()


def test_login_limits_per_account_then_per_address(desk_defaults: DeskServer) -> None:
    desk = desk_defaults
    account = DEFAULT_RATE_LIMITS["login.account"].count
    address = DEFAULT_RATE_LIMITS["login.ip"].count
    statuses = [_login(desk, "operatore2").status_code for _ in range(account)]
    assert 429 not in statuses and statuses[-1] == 423  # the lockout came first
    r = _login(desk, "operatore2")
    assert r.status_code == 429
    body = r.json()
    assert body["error"] == "rate_limited" and body["limit"] == "login.account"
    assert body["retry_after"] >= 1 and r.headers["Retry-After"] == str(body["retry_after"])
    # another account from the same address still signs in
    assert desk.login("operatore1")["operator"]["username"] == "operatore1"
    # then the address itself runs dry, whatever the username
    used = account + 2
    for i in range(address - used):
        assert _login(desk, f"sconosciuto{i}").status_code == 401
    r = _login(desk, "formatore1")
    assert r.status_code == 429 and r.json()["limit"] == "login.ip"
    assert int(r.headers["Retry-After"]) >= 1
    # a forged X-Forwarded-For does not buy a new bucket: no proxy is trusted here
    r = _login(desk, "formatore1", headers={"X-Forwarded-For": "203.0.113.7"})
    assert r.status_code == 429
    # other actions have buckets of their own
    assert desk.api("GET", "/health").status_code == 200


def test_registration_burst_is_refused(desk_defaults: DeskServer) -> None:
    desk = desk_defaults
    burst = DEFAULT_RATE_LIMITS["register.ip"].count
    statuses = [desk.api("POST", "/requests", json=request_body(7000 + i)).status_code
                for i in range(burst + 1)]
    assert statuses[:burst] == [201] * burst
    assert statuses[burst] == 429
    r = desk.api("POST", "/requests", json=request_body(7999))
    assert r.status_code == 429 and r.json()["limit"] == "register.ip"
    assert "Retry-After" in r.headers


def test_join_links_are_limited_per_link(desk_defaults: DeskServer) -> None:
    desk = desk_defaults
    token = desk.seed_request("ROMANO")["join_token"]
    per_link = DEFAULT_RATE_LIMITS["join.link"].count
    statuses = [desk.http.get(f"{desk.base_url}/join/{token}", timeout=10).status_code
                for _ in range(per_link + 1)]
    assert statuses[:per_link] == [200] * per_link and statuses[per_link] == 429
    # the applicant's socket shares the link's bucket: refused at the handshake
    r = desk.http.get(f"{desk.base_url}/ws/applicant/{token}", timeout=10)
    assert r.status_code == 429 and "Retry-After" in r.headers
    # another link still opens
    other = desk.seed_request("FERRARI")["join_token"]
    assert desk.http.get(f"{desk.base_url}/join/{other}", timeout=10).status_code == 200


def test_a_trusted_proxy_names_the_client(tmp_path: Path) -> None:
    desk = start_desk_server(tmp_path / "desk", "--trusted-proxy", "127.0.0.1",
                             "--rate-limit", "login.ip=3/300", default_limits=True)
    try:
        client_a = {"X-Forwarded-For": "198.51.100.1, 203.0.113.10"}  # rightmost is the client
        for i in range(3):
            assert _login(desk, f"ignoto{i}", headers=client_a).status_code == 401
        r = _login(desk, "ignoto9", headers=client_a)
        assert r.status_code == 429 and r.json()["limit"] == "login.ip"
        # the leftmost entry is the client's own claim: forging it changes nothing
        forged = {"X-Forwarded-For": f"{uuid.uuid4().int % 250}.0.0.1, 203.0.113.10"}
        assert _login(desk, "ignoto9", headers=forged).status_code == 429
        client_b = {"X-Forwarded-For": "203.0.113.11"}
        assert _login(desk, "ignoto9", headers=client_b).status_code == 401
        assert "203.0.113" not in desk.log_text()  # addresses are not logged
    finally:
        desk.stop()


# --- the pieces -----------------------------------------------------------------------------

class _Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


async def test_token_bucket_bursts_refills_and_says_when() -> None:
    clock = _Clock()
    store = ratelimit.MemoryRateStore(clock=clock)
    limit = RateLimit(3, 30)  # 3 at once, one more every 10 s
    assert [await store.take("k", limit) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert await store.take("k", limit) == pytest.approx(10.0)
    clock.t += 5
    assert await store.take("k", limit) == pytest.approx(5.0)
    clock.t += 5
    assert await store.take("k", limit) == 0.0
    assert await store.take("other", limit) == 0.0
    clock.t += 1000  # never more than the burst
    assert [await store.take("k", limit) for _ in range(4)][-1] > 0


async def test_memory_store_forgets_the_least_recently_used_beyond_its_size() -> None:
    store = ratelimit.MemoryRateStore(max_keys=100, clock=_Clock())
    for i in range(1000):
        await store.take(f"k{i}", RateLimit(1, 60))
    assert len(store._buckets) == 100 and "k999" in store._buckets


def _req(remote: str, xff: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"X-Forwarded-For": xff} if xff is not None else {}
    req = make_mocked_request("GET", "/", headers=headers)
    return req.clone(remote=remote)


def test_client_address_believes_only_trusted_proxies() -> None:
    trusted = ratelimit.parse_networks(["10.0.0.0/8", "::1"])
    assert ratelimit.client_address(_req("192.0.2.5", "203.0.113.1"), trusted) == "192.0.2.5"
    assert ratelimit.client_address(_req("10.1.2.3", "203.0.113.1"), trusted) == "203.0.113.1"
    assert ratelimit.client_address(_req("10.1.2.3", "198.51.100.9, 203.0.113.1, 10.9.9.9"),
                                    trusted) == "203.0.113.1"
    assert ratelimit.client_address(_req("10.1.2.3", "not-an-ip"), trusted) == "10.1.2.3"
    assert ratelimit.client_address(_req("10.1.2.3"), trusted) == "10.1.2.3"
    assert ratelimit.client_address(_req("::1", "[2001:db8::5]:4711"), trusted) == "2001:db8::5"
    assert ratelimit.client_address(_req("::ffff:192.0.2.5"), ()) == "192.0.2.5"
    # a whole IPv6 /64 is one client
    assert ratelimit._bucket_of_address("2001:db8:1:2:aaaa::1") == \
        ratelimit._bucket_of_address("2001:db8:1:2:bbbb::2")
    with pytest.raises(ConfigError):
        ratelimit.parse_networks(["10.0.0.0/33"])


def test_the_table_names_real_actions_and_rules() -> None:
    actions = set(policy.ROUTES.values())
    assert set(ratelimit.RULES) <= actions
    rules = {rule for pairs in ratelimit.RULES.values() for rule, _ in pairs}
    assert rules == set(DEFAULT_RATE_LIMITS)
    assert {"auth.login", "requests.create", "otp.send", "otp.verify", "pages.join",
            "ws.applicant_connect"} <= set(ratelimit.RULES)


def test_rate_limit_specs() -> None:
    limits = dict(DEFAULT_RATE_LIMITS)
    parse_rate_limits("login.ip=5/60, join.link=2/1", limits)
    assert limits["login.ip"] == RateLimit(5, 60) and limits["join.link"] == RateLimit(2, 1)
    parse_rate_limits(["*=100/1"], limits)
    assert set(limits.values()) == {RateLimit(100, 1)}
    for bad in ("login.ip=5", "login.ip=0/60", "login.ip=5/0", "nope=1/1", "login.ip=x/1"):
        with pytest.raises(ConfigError):
            parse_rate_limits(bad, dict(DEFAULT_RATE_LIMITS))
