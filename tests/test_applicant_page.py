"""The applicant's web page in headless Debian Chromium, against a real desk service process and a
real aiortc operator peer (tests.operator_peer). Fake camera: the 1280x720 test scene of
tests/fixtures/chromium.py. Screenshots of each page state go to the test's tmp dir (and to
$APPLICANT_SCREENSHOTS when set)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import requests

from media.stills import check_image
from tests.fixtures.chromium import (
    CAMERA_HEIGHT,
    CAMERA_WIDTH,
    launch_applicant,
    read_y4m_luma,
    write_test_scene_y4m,
)
from tests.fixtures.desk import DeskServer, start_desk_server
from tests.operator_peer import OperatorTestPeer

pytestmark = [pytest.mark.chromium, pytest.mark.timeout(120)]


# ------------------------------------------------------------------------------ the service

@dataclass
class Desk:
    """The module's own desk service (tests/fixtures/desk.py) and the calls these tests make.
    Its own, not the shared one: an operator here draws from the queue, and must draw only
    this module's applicants."""

    server: DeskServer

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def account(self, username: str) -> dict[str, Any]:
        return self.server.operator(username)

    def operator_token(self) -> str:
        """operatore1's access token, logged in once (a TOTP step is accepted once)."""
        return self.server.token("operatore1")

    def fresh_request(self, product: str = "spid_personal") -> dict[str, Any]:
        """A new request over REST (a synthetic applicant), state registered."""
        req = self.server.create_request(product=product)
        assert req["state"] == "registered"
        return req

    def join_url(self, req: dict[str, Any]) -> str:
        return f"{self.base_url}/join/{req['join_token']}"

    def get(self, path: str) -> dict[str, Any]:
        resp = self.server.api("GET", path, username="supervisore1")
        resp.raise_for_status()
        body: dict[str, Any] = resp.json()
        return body

    def decide(self, req_id: str, decision: str, reason: str) -> requests.Response:
        return self.server.api("POST", f"/requests/{req_id}/decision", username="operatore1",
                               json={"decision_id": str(uuid.uuid4()), "decision": decision,
                                     "reason_code": reason, "note": ""})

    def request_state(self, req_id: str) -> str:
        return str(self.get(f"/requests/{req_id}")["state"])


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    server = start_desk_server(tmp_path_factory.mktemp("desk-applicant-page"))
    try:
        yield Desk(server)
    finally:
        assert server.stop() == 0, server.log_text()[-2000:]


# ------------------------------------------------------------------------------ helpers

async def wait_for(predicate: Callable[[], Any], timeout: float, what: str,
                   interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(interval)


class Shots:
    """Screenshots of the page states, kept in tmp (and $APPLICANT_SCREENSHOTS when set)."""

    def __init__(self, tmp_path: Path) -> None:
        self.dirs = [tmp_path]
        extra = os.environ.get("APPLICANT_SCREENSHOTS")
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            self.dirs.append(Path(extra))

    async def take(self, page: Any, name: str) -> None:
        data = await page.screenshot(full_page=True)
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        for d in self.dirs:
            (d / f"{name}.png").write_bytes(data)


@pytest.fixture
def shots(tmp_path: Path) -> Shots:
    return Shots(tmp_path)


async def open_page(browser: Any, url: str) -> tuple[Any, list[str], list[str]]:
    page = browser.pages[0] if browser.pages else await browser.new_page()
    errors: list[str] = []
    requested: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # the page's own log lines, shown by pytest when a test fails
    page.on("console", lambda m: print(f"page console {m.type}: {m.text}"))
    page.on("request", lambda r: requested.append(r.url))
    await page.goto(url)
    await page.wait_for_function("() => window.recognitionPage !== undefined")
    return page, errors, requested


async def text(page: Any, selector: str) -> str:
    return str(await page.locator(selector).inner_text()).strip()


def compare_with_scene(image: bytes, y4m: Path) -> tuple[float, float]:
    """(best luma correlation with a frame of the test scene, mean step across the 1-px
    stripes of its detail zone). Raises when the image is not 1280x720 colour."""
    img = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None and img.shape == (CAMERA_HEIGHT, CAMERA_WIDTH, 3)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
    best = max(float(np.corrcoef(gray.ravel(), f.astype(np.float32).ravel())[0, 1])
               for f in read_y4m_luma(y4m))
    stripes = gray[CAMERA_HEIGHT - 100:CAMERA_HEIGHT - 20, 40:400]
    return best, float(np.abs(np.diff(stripes, axis=1)).mean())


async def run_device_check(page: Any) -> None:
    await page.click("#btn-start")
    await page.click("#btn-check-run")
    await page.wait_for_selector("#btn-check-continue:not([disabled])", timeout=30000)


async def give_consent(page: Any) -> None:
    await page.click("#btn-check-continue")
    await page.check("#consent-recording")
    await page.check("#consent-terms")
    await page.click("#btn-consent")
    await page.wait_for_selector("#view-waiting:not([hidden])")


@pytest.fixture
async def operator(desk: Desk) -> AsyncIterator[OperatorTestPeer]:
    """The operator side (tests.operator_peer) with its WebSocket open. Afterwards its session is
    closed with a decision, so that the next test's operator may draw again."""
    peer = OperatorTestPeer(desk.base_url, await asyncio.to_thread(desk.operator_token))
    await peer.open()
    try:
        yield peer
    finally:
        await peer.close()
        if peer.request_id is not None:  # 409 when the test decided already
            await asyncio.to_thread(desk.decide, peer.request_id, "suspended", "connection_lost")


# ------------------------------------------------------------------------------ tests

async def test_landing_and_english_switch(desk: Desk, applicant_browser: Any,
                                          shots: Shots) -> None:
    req = desk.fresh_request()
    page, errors, requested = await open_page(applicant_browser, desk.join_url(req))
    assert await text(page, "#landing-title") == "Riconoscimento dell'identità via webcam"
    assert await page.get_attribute("html", "lang") == "it"
    # the welcome message names the product
    await page.wait_for_selector("#landing-product:not([hidden])")
    assert await text(page, "#landing-product-name") == "SPID per uso personale"
    await shots.take(page, "1-landing-it")

    await page.click(".lang-btn[data-lang=en]")
    assert await text(page, "#landing-title") == "Identity recognition by webcam"
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.get_attribute(".lang-btn[data-lang=en]", "aria-pressed") == "true"
    assert await text(page, "#landing-product-name") == "SPID for personal use"
    assert await text(page, "#btn-start") == "Start"
    await shots.take(page, "2-landing-en")
    await page.click("#btn-start")
    assert await text(page, "#btn-check-run") == "Start test"
    assert await text(page, "#check-title") == "Device check"

    # the choice survives a reload, and Italian comes back with the switch
    await page.reload()
    await page.wait_for_function("() => window.recognitionPage !== undefined")
    assert await text(page, "#landing-title") == "Identity recognition by webcam"
    await page.click(".lang-btn[data-lang=it]")
    assert await text(page, "#btn-start") == "Inizia"

    origin = desk.base_url
    assert requested and all(u.startswith(origin) for u in requested), requested
    assert not errors, errors


async def test_device_check_consent_and_waiting_room(desk: Desk, applicant_browser: Any,
                                                     shots: Shots) -> None:
    req = desk.fresh_request()
    page, errors, _ = await open_page(applicant_browser, desk.join_url(req))
    await run_device_check(page)
    for item in ("camera", "microphone", "connection"):
        assert await page.get_attribute(f"#check-{item}", "data-result") == "ok", item
    assert f"{CAMERA_WIDTH}×{CAMERA_HEIGHT}" in await text(page, "#check-camera .check-msg")
    assert "ms" in await text(page, "#check-connection .check-msg")
    assert await text(page, "#check-summary") == "Tutto pronto. Puoi continuare."
    # the preview shows the camera at its native size
    size = await page.evaluate("() => { const v = document.getElementById('check-video');"
                               " return [v.videoWidth, v.videoHeight]; }")
    assert size == [CAMERA_WIDTH, CAMERA_HEIGHT]
    await shots.take(page, "3-device-check")

    # consent: both boxes are needed
    await page.click("#btn-check-continue")
    await page.check("#consent-recording")
    await page.click("#btn-consent", force=True)
    assert await page.is_visible("#consent-error")
    assert await page.is_visible("#view-consent")
    await shots.take(page, "4-consent-missing")
    assert desk.request_state(req["id"]) == "registered"
    await page.check("#consent-terms")
    assert not await page.is_visible("#consent-error")
    await page.click("#btn-consent")
    await page.wait_for_selector("#view-waiting:not([hidden])")
    await wait_for(lambda: desk.request_state(req["id"]) == "waiting", 10, "state waiting")

    # the waiting room shows the position pushed by the service
    await page.wait_for_function(
        "() => document.getElementById('queue-position').dataset.position === '1'")
    assert await text(page, "#queue-position") == "1"
    assert await text(page, "#queue-wait") != "—"
    queue = desk.get("/queue")
    assert req["id"] in [w["request_id"] for w in queue["waiting"]]
    await shots.take(page, "5-waiting")
    assert not errors, errors


async def test_call_with_operator_peer(desk: Desk, applicant_browser: Any, shots: Shots,
                                       fake_camera_y4m: Path, operator: OperatorTestPeer) -> None:
    req = desk.fresh_request()
    page, errors, _ = await open_page(applicant_browser, desk.join_url(req))
    await run_device_check(page)
    await give_consent(page)
    await wait_for(lambda: desk.request_state(req["id"]) == "waiting", 10, "state waiting")

    account = desk.account("operatore1")
    peer = operator
    drawn = await peer.next_applicant()
    assert drawn["request"]["id"] == req["id"]
    await peer.wait_applicant_joined()
    await page.wait_for_selector("#operator-assigned:not([hidden])")
    assert account["display_name"] in await text(page, "#operator-assigned")
    await shots.take(page, "6-operator-assigned")

    # the call: the page answers the offer; media flows both ways
    await peer.call()
    await peer.wait_connected()
    await page.wait_for_selector("#view-call:not([hidden])")
    await page.wait_for_function(
        "() => document.getElementById('call-status').dataset.state === 'connected'")
    await wait_for(lambda: peer.video_frames >= 15 and peer.audio_frames > 0, 20,
                   "the page's video and audio at the operator")
    remote = "() => { const v = document.getElementById('remote-video');" \
             " return [v.videoWidth, v.videoHeight, v.currentTime]; }"
    w, h, t0 = await page.evaluate(remote)
    assert (w, h) == (640, 360)  # the test peer's pattern
    await asyncio.sleep(0.5)
    assert (await page.evaluate(remote))[2] > t0
    assert await peer.ping() < 2000

    # a full-resolution still over the data channel (sha256 checked by the peer)
    still = await peer.request_still("document_front")
    assert still.meta["mime"] == "image/jpeg"  # q95: still.js says why
    assert (still.meta["width"], still.meta["height"]) == (CAMERA_WIDTH, CAMERA_HEIGHT)
    assert still.chunks_received == still.meta["chunks"] >= 1
    # the console's own gate (media.stills → media.imagegate) takes it
    assert await asyncio.to_thread(check_image, still.data, still.meta["mime"], CAMERA_WIDTH,
                                   CAMERA_HEIGHT) == (CAMERA_WIDTH, CAMERA_HEIGHT)
    # it is the camera's own picture, not an upscaled copy: one of the scene's frames, fine
    # 1-px lines included (checked in a thread: the event loop must keep answering heartbeats)
    best, stripes = await asyncio.to_thread(compare_with_scene, still.data, fake_camera_y4m)
    assert best > 0.97, best
    assert stripes > 60, stripes

    # stats every 2 s
    await wait_for(lambda: len(peer.stats) >= 2, 15, "two stats messages")
    last = peer.stats[-1]
    assert set(last) == {"type", "width", "height", "fps", "rtt_ms", "quality_limitation",
                         "bytes_sent"}
    assert last["width"] > 0 and last["height"] > 0 and last["fps"] > 0
    assert isinstance(last["rtt_ms"], int) and last["rtt_ms"] >= 0
    assert last["quality_limitation"] in {"none", "cpu", "bandwidth", "other"}
    assert peer.stats[-1]["bytes_sent"] > peer.stats[-2]["bytes_sent"] > 0

    # an instruction is shown to the applicant
    peer.send_control({"type": "instruction", "code": "raise_right_hand"})
    await page.wait_for_selector("#instruction:not([hidden])")
    assert await text(page, "#instruction-text") == "Alza la mano destra"
    await shots.take(page, "7-call")

    # malformed control messages are ignored or answered with an error, never break the page
    assert peer.dc is not None
    peer.dc.send("this is not JSON")
    peer.dc.send(b"\x00\x01binary from the console")
    peer.send_control({"type": "no_such_message"})
    peer.send_control({"type": "still_request", "id": "not-a-uuid", "step": "face"})
    await wait_for(lambda: any(m.get("type") == "still_error" and m.get("id") == "not-a-uuid"
                               for m in peer.control_messages), 10, "still_error for a bad id")
    bad = next(m for m in peer.control_messages if m.get("type") == "still_error")
    assert bad["reason"] == "bad_request"
    assert await peer.ping() < 2000

    # mute and camera off act on the tracks
    await page.click("#btn-mute")
    assert await page.get_attribute("#btn-mute", "aria-pressed") == "true"
    assert await page.get_attribute("#btn-mute", "aria-label") == "Attiva microfono"
    await page.click("#btn-mute")
    await page.click("#btn-camera")
    assert await page.get_attribute("#btn-camera", "aria-pressed") == "true"
    off_still = asyncio.ensure_future(peer.request_still("face", timeout=5))
    with pytest.raises(Exception, match="camera_off"):
        await off_still
    await page.click("#btn-camera")

    # a drop: the operator leaves, comes back with a new offer, the page makes a new
    # RTCPeerConnection
    await peer.send_ws({"type": "hangup", "session_id": peer.session_id})
    await peer.close_peer()
    await page.wait_for_function(
        "() => document.getElementById('call-status').dataset.state === 'reconnecting'")
    await shots.take(page, "8-operator-left")
    await peer.call()
    await peer.wait_connected()
    assert await page.evaluate("() => window.recognitionPage.peerGeneration") == 2
    again = await peer.request_still("document_back")
    assert (again.meta["width"], again.meta["height"]) == (CAMERA_WIDTH, CAMERA_HEIGHT)

    # a reload of the page: the service announces the applicant again, the operator offers
    # anew, and the page (on its landing view, consent already given) joins the call
    def joins() -> int:
        return sum(1 for m in peer.messages if m.get("type") == "applicant_joined")

    before = joins()
    await page.reload()
    await wait_for(lambda: joins() > before, 15, "applicant_joined after the reload")
    await peer.call()
    await peer.wait_connected()
    await page.wait_for_selector("#view-call:not([hidden])")
    third = await peer.request_still("face")
    assert (third.meta["width"], third.meta["height"]) == (CAMERA_WIDTH, CAMERA_HEIGHT)

    # the decision ends the page's session
    await asyncio.to_thread(desk.server.make_approvable, req["id"])
    decided = await asyncio.to_thread(desk.decide, req["id"], "approved", "ok")
    assert decided.status_code == 200, decided.text
    await page.wait_for_selector("#view-ended:not([hidden])")
    assert await page.get_attribute("#ended-icon", "data-kind") == "success"
    assert "completato" in await text(page, "#ended-text")
    await shots.take(page, "9-ended")
    # the camera is released
    assert await page.evaluate("() => window.recognitionPage.view") == "ended"
    assert await page.evaluate("() => document.getElementById('self-video').srcObject") \
        is None
    assert not errors, errors


async def test_full_hd_camera_still_and_720p_call(desk: Desk, chromium_executable: str,
                                                  tmp_path: Path,
                                                  operator: OperatorTestPeer) -> None:
    """A 1920x1080 camera: the call's track is 1280x720 (devicecheck.js asks for it) and the
    call video reaches the operator at 960x540 or more (the page's bitrate floor, call.js;
    1280x720 when the browser has the CPU); a still is the camera's full 1920x1080, as JPEG,
    through the page's full-resolution clone of the track, sha256 checked by the peer and taken
    by the console's image gate."""
    from playwright.async_api import async_playwright

    y4m = write_test_scene_y4m(tmp_path / "scene-1080p.y4m", 1920, 1080, frames=10, noise=4)
    req = desk.fresh_request()
    async with async_playwright() as pw:
        browser = await launch_applicant(pw, chromium_executable, tmp_path / "profile", y4m)
        try:
            page, errors, _ = await open_page(browser, desk.join_url(req))
            await run_device_check(page)
            await give_consent(page)
            await wait_for(lambda: desk.request_state(req["id"]) == "waiting", 10,
                           "state waiting")
            peer = operator
            await peer.next_applicant()
            await peer.wait_applicant_joined()
            await peer.call()
            await peer.wait_connected()

            t = time.perf_counter()
            still = await peer.request_still("document_front")
            print(f"1920x1080 still: {len(still.data)} bytes in"
                  f" {(time.perf_counter() - t) * 1000:.0f} ms")
            assert still.meta["mime"] == "image/jpeg"
            assert (still.meta["width"], still.meta["height"]) == (1920, 1080)
            assert await asyncio.to_thread(check_image, still.data, "image/jpeg", 1920,
                                           1080) == (1920, 1080)
            assert await page.evaluate("() => window.recognitionPage.lastStillMethod") \
                == "full_frame"

            # the call video at 960x540 or more: 1280x720 where the browser has the CPU (the
            # bitrate floor removes the old 320x180-640x360 start), but the page keeps
            # "balanced" degradation for the liveness check's frame rate, so on this loaded
            # 2-core machine Chromium sometimes settles at 960x540 ("limited by bandwidth"
            # in 1 round of 3 of bench_applicant_page at load 8-10)
            await wait_for(lambda: (peer.last_video_size or (0, 0)) >= (960, 540), 20,
                           "960x540 or more call video at the operator")
            width, height = peer.last_video_size or (0, 0)
            assert height >= 540 and width * 9 == height * 16, (width, height)
            assert not errors, errors
        finally:
            await browser.close()


SMALL_STREAM = """
(() => {
  const md = navigator.mediaDevices;
  const original = md.getUserMedia.bind(md);
  md.getUserMedia = (c) => original(c && c.video
    ? { ...c, video: { width: { exact: 640 }, height: { exact: 360 } } } : c);
})();
"""
# a browser that cannot give the page a full-resolution clone of its track (still.js then takes
# the camera's photo)
NO_TRACK_CONSTRAINTS = """
MediaStreamTrack.prototype.applyConstraints = () =>
  Promise.reject(new DOMException("refused by the test", "OverconstrainedError"));
"""


async def test_applicant_hangs_up(desk: Desk, applicant_browser: Any, shots: Shots,
                                  operator: OperatorTestPeer) -> None:
    req = desk.fresh_request()
    # this applicant's browser opens the camera at 640x360 (the camera itself is 1280x720)
    await applicant_browser.add_init_script(SMALL_STREAM)
    await applicant_browser.add_init_script(NO_TRACK_CONSTRAINTS)
    page, errors, _ = await open_page(applicant_browser, desk.join_url(req))
    await run_device_check(page)
    assert "640×360" in await text(page, "#check-camera .check-msg")
    assert await page.get_attribute("#check-camera", "data-result") == "warn"  # low, usable
    await give_consent(page)
    await wait_for(lambda: desk.request_state(req["id"]) == "waiting", 10, "state waiting")
    peer = operator
    assert (await peer.next_applicant())["request"]["id"] == req["id"]
    await peer.wait_applicant_joined()
    await peer.call()
    await peer.wait_connected()
    await page.wait_for_function(
        "() => document.getElementById('call-status').dataset.state === 'connected'")
    # a still still comes at the camera's full resolution (takePhoto, as the track cannot be
    # cloned at full size here), not the stream's
    still = await peer.request_still("face")
    assert (still.meta["width"], still.meta["height"]) == (CAMERA_WIDTH, CAMERA_HEIGHT)
    assert await page.evaluate("() => window.recognitionPage.lastStillMethod") == "take_photo"

    # the hang-up asks first; "back" keeps the call
    await page.click("#btn-hangup")
    await page.wait_for_selector("#hangup-dialog[open]")
    await shots.take(page, "10-hangup-confirm")
    await page.click("#hangup-dialog button[value=cancel]")
    assert await page.evaluate("() => window.recognitionPage.view") == "call"
    await page.click("#btn-hangup")
    await page.click("#btn-hangup-confirm")
    await page.wait_for_selector("#view-ended:not([hidden])")
    assert "Hai chiuso la chiamata" in await text(page, "#ended-text")
    assert await page.is_visible("#btn-rejoin")
    await shots.take(page, "11-hung-up")
    # the operator is told
    await wait_for(lambda: any(m.get("type") == "peer_left" and m.get("role") == "applicant"
                               for m in peer.messages), 10, "peer_left at the operator")
    # the operator suspends; the page may come back later with the same link
    decided = await asyncio.to_thread(desk.decide, req["id"], "suspended", "applicant_refused")
    assert decided.status_code == 200, decided.text
    await page.click("#btn-rejoin")
    await page.wait_for_function("() => window.recognitionPage !== undefined")
    await page.wait_for_function("() => window.recognitionPage.serverState === 'suspended'")
    assert await page.evaluate("() => window.recognitionPage.view") == "landing"
    assert not errors, errors


async def test_device_check_explains_a_denied_permission(desk: Desk, chromium_executable: str,
                                                         fake_camera_y4m: Path, tmp_path: Path,
                                                         shots: Shots) -> None:
    from playwright.async_api import async_playwright

    req = desk.fresh_request()
    async with async_playwright() as pw:
        browser = await launch_applicant(pw, chromium_executable, tmp_path / "profile",
                                         fake_camera_y4m, grant_media=False)
        try:
            page, errors, _ = await open_page(browser, desk.join_url(req))
            await page.click("#btn-start")
            await page.click("#btn-check-run")
            await page.wait_for_selector("#btn-check-run:not([disabled])", timeout=30000)
            for item in ("camera", "microphone"):
                assert await page.get_attribute(f"#check-{item}", "data-result") == "fail"
                assert "permesso" in await text(page, f"#check-{item} .check-msg")
            assert await page.get_attribute("#check-connection", "data-result") == "ok"
            assert await page.is_disabled("#btn-check-continue")
            assert await text(page, "#btn-check-run") == "Ripeti il test"
            await shots.take(page, "12-device-check-denied")
            await page.click(".lang-btn[data-lang=en]")
            assert "Permission to use the camera was denied" in await text(
                page, "#check-camera .check-msg")
            assert not errors, errors
        finally:
            await browser.close()
    assert desk.request_state(req["id"]) == "registered"


async def test_liveness_challenge_shown_with_countdown(desk: Desk, applicant_browser: Any,
                                                       shots: Shots,
                                                       operator: OperatorTestPeer) -> None:
    """A `challenge` on the control channel: text, "I of N" and a countdown, hidden when the
    time is up; acknowledged. A malformed one is refused with its reason and shows nothing."""
    req = desk.fresh_request()
    page, errors, _ = await open_page(applicant_browser, desk.join_url(req))
    await run_device_check(page)
    await give_consent(page)
    await wait_for(lambda: desk.request_state(req["id"]) == "waiting", 10, "state waiting")
    peer = operator
    assert (await peer.next_applicant())["request"]["id"] == req["id"]
    await peer.wait_applicant_joined()
    await peer.call()
    await peer.wait_connected()
    await page.wait_for_function(
        "() => document.getElementById('call-status').dataset.state === 'connected'")

    cid = str(uuid.uuid4())
    peer.send_control({"type": "challenge", "id": cid, "code": "turn_left", "seconds": 2,
                       "index": 1, "count": 3})
    await page.wait_for_selector("#challenge:not([hidden])")
    assert await text(page, "#challenge-text") == \
        "Gira la testa verso la tua sinistra, poi torna a guardare la videocamera"
    assert (await text(page, "#challenge-step")).lower() == "1 di 3"  # the label is in capitals
    assert await text(page, "#challenge-countdown") in ("2 s", "1 s")
    await shots.take(page, "12-challenge")
    await wait_for(lambda: any(m.get("type") == "challenge_ack" and m.get("id") == cid
                               for m in peer.control_messages), 10, "challenge_ack")
    await page.wait_for_selector("#challenge", state="hidden", timeout=5000)

    # malformed: refused with a reason, nothing shown
    for bad, reason in (({"code": "dance"}, "invalid_code"), ({"seconds": 600}, "invalid_seconds"),
                        ({"id": "x"}, "invalid_id"), ({"index": 4}, "invalid_index")):
        msg = {"type": "challenge", "id": str(uuid.uuid4()), "code": "blink", "seconds": 3,
               "index": 1, "count": 3, **bad}
        peer.send_control(msg)
        want_id = msg["id"] if reason != "invalid_id" else None
        await wait_for(lambda r=reason, i=want_id: any(  # type: ignore[misc]
            m.get("type") == "challenge_error" and m.get("reason") == r and m.get("id") == i
            for m in peer.control_messages), 10, f"challenge_error {reason}")
    assert await page.is_hidden("#challenge")
    assert not errors, errors
