"""Fuzzing every parser of untrusted bytes (issue 13, "Hostile input and faults").

Random, truncated and mutated input gives a result or the module's typed error, never another
exception; a service or an engine that parses it stays up:

* WebSocket messages of ``/ws/operator`` and ``/ws/applicant/{token}`` (server/signalling.py,
  server/ws_schemas.py), over real sockets of a desk service process: an invalid frame closes
  the socket 4400/1009 with a reason, a valid one leaves it open and answering;
* an SDP answer handed to aiortc by the media engine (media/engine.py ``_apply_answer``):
  garbage is refused with ``EngineErrorCode.BAD_ANSWER`` and the offer stays usable;
* data-channel messages and still transfer frames (media/stills.py, media/net.py,
  media/quality.py), card responses (cardreader/), MRZ text (console/checks/mrz*.py) and
  evidence archives (console/evidence verify / open_sealed).

tests/test_card_parsers.py, tests/test_card_apdu.py and tests/test_checks_mrz.py already fuzz
the personal-data, certificate, ATR and APDU parsers and MRZ noise; this file covers the rest.
Budgets are small (tens of examples per property, ``deadline=None``, no example database):
the whole file runs in well under a minute on 2 cores.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import io
import json
import shutil
import struct
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import aiohttp
import cv2
import numpy as np
import pytest
from aiortc import RTCPeerConnection
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from cardreader.cns import (
    codice_fiscale_valid,
    der_total_length,
    parse_card_number,
    parse_certificate,
)
from cardreader.crosscheck import cross_check
from cardreader.errors import CardError, CertificateError
from console.checks.mrz import (
    FORMAT_SHAPE,
    check_digit,
    compare_with_request,
    parse_mrz,
    yymmdd_to_date,
)
from console.checks.mrz_ocr import _fit_length
from console.evidence import (
    EvidencePackageBuilder,
    PackageError,
    SealError,
    TrustStore,
    VerifyResult,
    WorkstationKey,
    build_archive,
    generate_archive_key,
    open_sealed,
    seal,
    sealed_header,
    verify,
)
from console.evidence.audit import check_chain
from console.evidence.keys import ArchivePublicKey, _raw_public
from console.evidence.seal import ALG, MAGIC, SealWriter, _kek
from media.api import EngineErrorCode, NullListener
from media.engine import MediaEngine, _Peer
from media.net import parse_json_message, rtc_configuration
from media.quality import QualityMeter
from media.stills import (
    HEADER_SIZE,
    StillAssembler,
    StillError,
    chunk_id,
    split_still,
)
from server import ws_schemas
from server.signalling import MESSAGE_MAX
from server.web_util import loads_limited
from tests.fixtures.desk import DeskServer, start_desk_server

pytestmark = pytest.mark.timeout(300)

#: the budget of one property (each names its own max_examples where it differs)
FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

# --- shared strategies --------------------------------------------------------------------

_scalars = (st.none() | st.booleans() | st.integers() | st.text(max_size=20)
            | st.floats()  # NaN and ±Infinity too: Python's json writes and reads them
            | st.integers(min_value=10**300, max_value=10**310) | st.just(-(2**63)))
json_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10),
                                                                      children, max_size=4),
    max_leaves=10)


def _deep(depth: int, opener: str = "[") -> str:
    if opener == "{":
        return '{"a":' * depth + "1" + "}" * depth
    return "[" * depth + "]" * depth


@st.composite
def mutated(draw: st.DrawFn, original: bytes, max_ops: int = 3) -> bytes:
    """``original`` with a few bytes flipped, set, inserted or deleted, or cut short."""
    out = bytearray(original)
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "append"]))
        pos = draw(st.integers(0, max(0, len(out) - 1)))
        if op == "flip" and out:
            out[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and out:
            out[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            out[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and out:
            del out[pos:pos + draw(st.integers(1, 64))]
        elif op == "truncate":
            del out[pos:]
        elif op == "append":
            out += draw(st.binary(min_size=1, max_size=64))
    return bytes(out)


# === WebSocket messages of the desk service ==================================================

#: the service refuses (1009) a message larger than this (server/signalling.py)
WS_MAX = MESSAGE_MAX

_FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "recording": st.booleans(), "terms": st.booleans(), "ok": st.booleans(),
    "sdp": st.text(max_size=120).map(lambda s: "v=0\r\n" + s),
    "reason": st.text(max_size=70),
    "details": st.dictionaries(st.text(max_size=8), json_values, max_size=34),
    "session_id": st.uuids().map(str) | st.text("0123456789abcdefABCDEF-\n", min_size=35,
                                                max_size=37),
}


@st.composite
def ws_message(draw: st.DrawFn, messages: dict[str, dict[str, Any]]) -> str:
    """A message close to one of ``messages`` (right type, its fields with right or random
    values, one dropped or added now and then), as JSON text."""
    kind = draw(st.sampled_from(sorted(messages)) | st.text(max_size=40))
    props = messages.get(kind, {}).get("properties", {})
    msg: dict[str, Any] = {"type": kind} if draw(st.integers(0, 9)) else {}
    for name in props:
        if name == "type" or not draw(st.integers(0, 5)):
            continue  # now and then a required field is missing
        msg[name] = draw(_FIELD_VALUES.get(name, json_values) if draw(st.integers(0, 3))
                         else json_values)
    if not draw(st.integers(0, 4)):
        msg[draw(st.text(max_size=10))] = draw(json_values)
    if not draw(st.integers(0, 9)):
        msg["type"] = draw(json_values)
    return json.dumps(msg)


def ws_frames(messages: dict[str, dict[str, Any]]) -> st.SearchStrategy[str | bytes]:
    return st.one_of(
        ws_message(messages), ws_message(messages),
        st.text(max_size=80), st.binary(max_size=80),
        json_values.map(json.dumps),
        st.integers(4000, 5000).map(lambda n: '{"type": "hangup", "reason": ' + "9" * n + "}"),
        st.integers(20, 3000).map(lambda d: '{"type": "consent", "recording": ' + _deep(d)
                                  + ', "terms": true}'),
        st.integers(20, 3000).map(lambda d: _deep(d, "{")),
        st.sampled_from(["", "null", "[]", "{}", '{"type": null}', "NaN", "-Infinity", "1e999",
                         '{"type": "consent", "recording": true, "terms": true, "type": 1}',
                         '{"type": "answer", "sdp": "v=0\\r\\n' + "a" * (WS_MAX + 10) + '"}']),
    )


def expected_ws_outcome(role: str, frame: str | bytes) -> str:
    """'open' when the service must keep the socket (and answer the probe that follows);
    otherwise the close code it must send."""
    if isinstance(frame, bytes):
        return "4400"
    if len(frame.encode()) > WS_MAX:
        return "1009"
    try:
        data = loads_limited(frame)
    except ValueError:  # JsonTooDeep, bad JSON, a number of more than 4300 digits
        return "4400"
    return "open" if ws_schemas.check(role, data) is None else "4400"


class WsFuzzer:
    """One event loop and one HTTP session for all the examples of a socket fuzz."""

    def __init__(self, desk: DeskServer) -> None:
        self.desk = desk
        self.loop = asyncio.new_event_loop()
        self.http = self.loop.run_until_complete(self._session())
        self.join_token: str | None = None

    @staticmethod
    async def _session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    def close(self) -> None:
        self.loop.run_until_complete(self.http.close())
        self.loop.close()

    def exchange(self, url: str, frame: str | bytes, probe: dict[str, Any],
                 is_reply: Callable[[dict[str, Any]], bool], **connect: Any) -> tuple[str, str]:
        """Send ``frame`` then ``probe``: ('open', '') when the probe was answered, else
        (close code, reason)."""
        return self.loop.run_until_complete(asyncio.wait_for(
            self._exchange(url, frame, probe, is_reply, **connect), 30))

    async def _exchange(self, url: str, frame: str | bytes, probe: dict[str, Any],
                        is_reply: Callable[[dict[str, Any]], bool],
                        **connect: Any) -> tuple[str, str]:
        ws = await self.http.ws_connect(url, **connect)
        try:
            if isinstance(frame, bytes):
                await ws.send_bytes(frame)
            else:
                await ws.send_str(frame)
            # (the service may have closed the socket already)
            with contextlib.suppress(ConnectionError, aiohttp.ClientError):
                await ws.send_str(json.dumps(probe))
            while True:
                msg = await ws.receive(timeout=10)
                if msg.type == aiohttp.WSMsgType.TEXT:
                    data = json.loads(msg.data)
                    if isinstance(data, dict) and is_reply(data):
                        return "open", ""
                elif msg.type == aiohttp.WSMsgType.CLOSE:
                    return str(msg.data), str(msg.extra or "")
                elif msg.type in (aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED,
                                  aiohttp.WSMsgType.ERROR):
                    return f"lost ({msg.type.name})", ""
        finally:
            await ws.close()


@pytest.fixture(scope="module")
def parser_desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeskServer]:
    desk = start_desk_server(tmp_path_factory.mktemp("desk-parsers"))
    try:
        yield desk
    finally:
        assert desk.api("GET", "/health").json()["status"] == "ok"  # alive after the fuzzing
        code = desk.stop()
        log = desk.log_path.read_text()
        assert code == 0, log[-2000:]
        assert "Traceback" not in log and "internal error" not in log, log[-3000:]


@pytest.fixture(scope="module")
def ws_fuzzer(parser_desk: DeskServer) -> Iterator[WsFuzzer]:
    fuzzer = WsFuzzer(parser_desk)
    try:
        yield fuzzer
    finally:
        fuzzer.close()


def _check_outcome(role: str, frame: str | bytes, got: tuple[str, str]) -> None:
    want = expected_ws_outcome(role, frame)
    code, reason = got
    event(f"socket {code}")
    assert code == want, (want, got, frame[:300])
    if code != "open":
        assert reason.strip(), f"close {code} without a reason"


@settings(FUZZ, max_examples=100)
@given(frame=ws_frames(ws_schemas.OPERATOR_MESSAGES))
def test_operator_socket_fuzz(ws_fuzzer: WsFuzzer, frame: str | bytes) -> None:
    desk = ws_fuzzer.desk
    sid = str(uuid.uuid4())  # no such session: the desk answers an error naming it
    got = ws_fuzzer.exchange(
        f"{desk.ws_url}/ws/operator", frame, {"type": "hangup", "session_id": sid},
        lambda m: m.get("type") == "error" and m.get("session_id") == sid,
        headers=desk.headers("operatore1"))
    _check_outcome("operator", frame, got)


@settings(FUZZ, max_examples=100)
@given(frame=ws_frames(ws_schemas.APPLICANT_MESSAGES))
def test_applicant_socket_fuzz(ws_fuzzer: WsFuzzer, frame: str | bytes) -> None:
    desk = ws_fuzzer.desk
    if ws_fuzzer.join_token is None:
        ws_fuzzer.join_token = desk.create_request()["join_token"]
    got = ws_fuzzer.exchange(
        f"{desk.ws_url}/ws/applicant/{ws_fuzzer.join_token}",
        frame, {"type": "hangup"}, lambda m: m.get("code") == "no_session",
        origin=desk.base_url)
    _check_outcome("applicant", frame, got)


async def _send_raw_text(ws: aiohttp.ClientWebSocketResponse, payload: bytes) -> None:
    """A text frame with any bytes (aiohttp's send_str only sends valid UTF-8)."""
    await ws._writer.send_frame(payload, aiohttp.WSMsgType.TEXT)


@settings(FUZZ, max_examples=20)
@given(payload=st.binary(min_size=1, max_size=40).filter(
    lambda b: not _is_utf8(b)))
def test_text_frames_that_are_not_utf8_close_1007_with_a_reason(ws_fuzzer: WsFuzzer,
                                                                 payload: bytes) -> None:
    desk = ws_fuzzer.desk

    async def run() -> tuple[int, str]:
        ws = await ws_fuzzer.http.ws_connect(f"{desk.ws_url}/ws/operator",
                                             headers=desk.headers("operatore1"))
        try:
            await _send_raw_text(ws, payload)
            while True:
                msg = await ws.receive(timeout=10)
                if msg.type == aiohttp.WSMsgType.CLOSE:
                    return int(msg.data), str(msg.extra or "")
                assert msg.type == aiohttp.WSMsgType.TEXT, msg
        finally:
            await ws.close()

    code, reason = ws_fuzzer.loop.run_until_complete(asyncio.wait_for(run(), 30))
    assert code == 1007 and "UTF-8" in reason


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@settings(FUZZ, max_examples=400)
@given(role=st.sampled_from(["operator", "applicant"]),
       message=json_values | st.builds(json.loads, ws_message(ws_schemas.APPLICANT_MESSAGES))
       | st.builds(json.loads, ws_message(ws_schemas.OPERATOR_MESSAGES)))
def test_ws_schema_check_never_raises(role: str, message: Any) -> None:
    reason = ws_schemas.check(role, message)
    assert reason is None or (isinstance(reason, str) and 0 < len(reason) <= 120)


@settings(FUZZ, max_examples=300)
@given(text=st.text(max_size=200) | ws_frames(ws_schemas.OPERATOR_MESSAGES).filter(
    lambda f: isinstance(f, str)))
def test_loads_limited_gives_a_value_or_a_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        loads_limited(cast(str, text))


# === SDP answers handed to aiortc by the media engine ===========================================

class _Events(NullListener):
    def __init__(self) -> None:
        self.errors: list[EngineErrorCode] = []

    def on_error(self, code: EngineErrorCode) -> None:
        self.errors.append(code)


async def _close_quietly(pc: RTCPeerConnection) -> None:
    """Close as the engine does (``MediaEngine._close_peer``): an answer that aiortc accepted
    but that left the connection odd can make ``close()`` raise part-way (seen under CI's
    derandomised examples: ``AttributeError`` on a transport of ``None``); the error is taken,
    and a close that would never end is given up after 5 s instead of hanging the run."""
    task = asyncio.ensure_future(pc.close())
    done, _ = await asyncio.wait({task}, timeout=5)
    if done:
        with contextlib.suppress(Exception):
            task.result()
    else:
        task.cancel()


class SdpBench:
    """An offering peer connection like the engine's (data channel, audio and video), the
    answer a real aiortc answerer gives to it, and an engine holding the offer."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop_errors: list[dict[str, Any]] = []
        self.loop.set_exception_handler(lambda _loop, ctx: self.loop_errors.append(ctx))
        self.events = _Events()
        self.engine = MediaEngine(self.events, camera=None, microphone=None)
        self.answer = ""
        self.fresh_offer()
        #: what the mutations start from: fixed for the whole test (hypothesis replays draws),
        #: it fits every fresh offer but for its ICE credentials and fingerprints
        self.template = self.answer

    def fresh_offer(self) -> None:
        self.loop.run_until_complete(self._fresh_offer())

    async def _fresh_offer(self) -> None:
        old = self.engine._peer
        if old is not None:
            await _close_quietly(old.pc)
        pc = RTCPeerConnection(rtc_configuration([]))
        channel = pc.createDataChannel("control", ordered=True)
        pc.addTransceiver("audio", direction="sendrecv")
        pc.addTransceiver("video", direction="sendrecv")
        await pc.setLocalDescription(await pc.createOffer())
        answerer = RTCPeerConnection(rtc_configuration([]))
        await answerer.setRemoteDescription(pc.localDescription)
        await answerer.setLocalDescription(await answerer.createAnswer())
        self.answer = answerer.localDescription.sdp
        await answerer.close()
        self.engine._peer = _Peer(pc, channel, 1)

    def apply(self, sdp: Any) -> None:
        self.events.errors.clear()
        self.loop.run_until_complete(self.engine._apply_answer(sdp))

    def close(self) -> None:
        peer = self.engine._peer
        if peer is not None:
            self.loop.run_until_complete(_close_quietly(peer.pc))
        self.loop.close()


@pytest.fixture(scope="module")
def sdp_bench() -> Iterator[SdpBench]:
    bench = SdpBench()
    try:
        yield bench
    finally:
        bench.close()
        assert bench.loop_errors == [], bench.loop_errors[:3]


_SDP_JUNK = st.sampled_from([
    "", "x", ":", "=", " -1", " 99999999999999999999", " 0", "\x00", "é", " UDP/TLS/RTP/SAVPF",
    " typ host", " sha-256 ZZ", " 1 udp 1 999.999.999.999 70000 typ host", " 65536"])


@st.composite
def sdp_texts(draw: st.DrawFn, answer: str) -> Any:
    """Mutations of a real answer (lines dropped, repeated, cut, extended, swapped, values
    replaced), random text, or not a string at all."""
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(st.text(max_size=300))
    if choice == 1:
        return "v=0\r\n" + draw(st.text(max_size=300))
    if choice == 2:
        return draw(json_values)
    lines = answer.split("\r\n")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.integers(0, 5))
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[draw(st.integers(0, len(lines) - 1))])
        elif op == 2:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif op == 3:
            lines[i] += draw(_SDP_JUNK)
        elif op == 4:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            words = lines[i].split(" ")
            k = draw(st.integers(0, len(words) - 1))
            words[k] = draw(_SDP_JUNK | st.integers().map(str) | st.text(max_size=8))
            lines[i] = " ".join(words)
        if not lines:
            break
    return draw(st.sampled_from(["\r\n", "\n"])).join(lines)


@settings(FUZZ, max_examples=120)
@given(data=st.data())
def test_garbage_sdp_answer_is_a_clear_engine_error(sdp_bench: SdpBench,
                                                    data: st.DataObject) -> None:
    sdp = data.draw(sdp_texts(sdp_bench.template))
    sdp_bench.apply(sdp)  # never raises
    peer = sdp_bench.engine._peer
    assert peer is not None
    event("answer accepted" if peer.answered else "answer refused")
    if peer.answered:
        assert sdp_bench.events.errors == []
        sdp_bench.fresh_offer()  # accepted: the next example needs a new offer
    else:
        assert sdp_bench.events.errors == [EngineErrorCode.BAD_ANSWER], sdp_bench.events.errors
        assert peer.pc.signalingState == "have-local-offer"


def test_the_real_answer_still_applies_after_garbage(sdp_bench: SdpBench) -> None:
    sdp_bench.fresh_offer()
    for bad in ("v=0\r\n", "garbage", sdp_bench.answer.replace("m=audio", "m=audio x", 1)):
        sdp_bench.apply(bad)
        assert sdp_bench.events.errors == [EngineErrorCode.BAD_ANSWER]
    sdp_bench.apply(sdp_bench.answer)
    assert sdp_bench.events.errors == [] and sdp_bench.engine._peer is not None
    assert sdp_bench.engine._peer.answered


# === data channel: control messages, still transfer, page stats ==============================

@settings(FUZZ, max_examples=300)
@given(raw=st.text(max_size=100) | st.binary(max_size=100) | json_values.map(json.dumps)
       | st.integers(1, 5000).map(lambda d: "[" * d) | st.integers(4300, 5000).map(
           lambda n: '{"type": "stats", "fps": ' + "9" * n + "}"))
def test_parse_json_message_gives_an_object_or_none(raw: str | bytes) -> None:
    msg = parse_json_message(raw)
    assert msg is None or (isinstance(msg, dict) and isinstance(msg["type"], str))


@settings(FUZZ, max_examples=150)
@given(page=st.dictionaries(st.sampled_from(["fps", "width", "height", "rtt_ms",
                                             "quality_limitation", "type"]) | st.text(max_size=6),
                            json_values, max_size=6))
def test_page_stats_never_break_the_quality_report(page: dict[str, Any]) -> None:
    meter = QualityMeter()
    meter.page_stats({"type": "stats", **page})
    report = meter.report()
    for value in (report.remote_fps, report.remote_rtt_ms):
        assert value is None or np.isfinite(value)
    for size in (report.remote_width, report.remote_height):
        assert size is None or isinstance(size, int)


def _png(width: int = 3, height: int = 2) -> bytes:
    ok, buf = cv2.imencode(".png", np.full((height, width, 3), 90, np.uint8))
    assert ok
    return bytes(buf)


_STILL_VALUES = st.integers(-2, 70_000) | json_values | st.sampled_from(
    [0, 1 << 31, 1 << 62, 2**64, 40 * 1024 * 1024 + 1, True, 1.0, "1"])


@st.composite
def still_transfer(draw: st.DrawFn) -> tuple[dict[str, Any], list[bytes], bytes]:
    """(still_begin, chunks, image) close to a correct transfer of a small PNG: begin fields
    replaced by odd values, chunks split at random places, reordered, repeated, dropped, cut,
    with wrong ids or indexes, or random bytes."""
    still_id = str(uuid.uuid4())
    image = _png()
    begin, _chunks, _end = split_still(still_id, image, "image/png", 3, 2)
    count = draw(st.integers(1, min(8, len(image))))
    cuts = sorted(draw(st.sets(st.integers(1, len(image) - 1), min_size=count - 1,
                               max_size=count - 1)))
    pieces = [image[a:b] for a, b in zip([0, *cuts], [*cuts, len(image)], strict=True)]
    raw_id = uuid.UUID(still_id).bytes
    chunks = [raw_id + struct.pack(">I", i) + p for i, p in enumerate(pieces)]
    begin["chunks"] = count
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(["mime", "width", "height", "size", "sha256", "chunks",
                                    "id", "type"]))
        begin[key] = draw(_STILL_VALUES | st.sampled_from(
            ["image/jpeg", "image/gif", "0x" + "a" * 62, "g" * 64, " " + "a" * 63]))
    for _ in range(draw(st.integers(0, 3))):
        if not chunks:
            break
        i = draw(st.integers(0, len(chunks) - 1))
        op = draw(st.integers(0, 6))
        if op == 0:
            del chunks[i]
        elif op == 1:
            chunks.append(chunks[i])
        elif op == 2:
            chunks[i] = chunks[i][: draw(st.integers(0, len(chunks[i])))]
        elif op == 3:
            chunks[i] = chunks[i][:16] + struct.pack(">I", draw(st.integers(0, 2**32 - 1))) \
                + chunks[i][20:]
        elif op == 4:
            chunks[i] = uuid.uuid4().bytes + chunks[i][16:]
        elif op == 5:
            chunks.insert(i, draw(st.binary(max_size=40)))
        else:
            j = draw(st.integers(0, len(chunks) - 1))
            chunks[i], chunks[j] = chunks[j], chunks[i]
    return begin, chunks, image


@settings(FUZZ, max_examples=300)
@given(transfer=still_transfer())
def test_still_frames_give_the_still_or_a_still_error(
        transfer: tuple[dict[str, Any], list[bytes], bytes]) -> None:
    begin, chunks, image = transfer
    still_id = str(begin.get("id")) if isinstance(begin.get("id"), str) else str(uuid.uuid4())
    assembler = StillAssembler(still_id, "document_front")
    try:
        assembler.begin(begin)
        for chunk in chunks:
            cid = chunk_id(chunk)
            assert cid is None or (len(chunk) >= HEADER_SIZE and uuid.UUID(cid))
            assembler.add_chunk(chunk)
        still = assembler.finish()
    except StillError as exc:
        assert exc.code.value
        return
    # accepted: exactly the image the sender declared
    assert still.data == image and (still.width, still.height) == (3, 2)
    assert isinstance(begin["sha256"], str)
    assert begin["sha256"].lower() == still.sha256 and begin["size"] == len(image)


def test_a_still_begin_sha256_must_be_64_hex_digits() -> None:
    image = _png()
    begin, _chunks, _end = split_still(str(uuid.uuid4()), image, "image/png", 3, 2)
    for bad in ("0x" + begin["sha256"][2:], " " + begin["sha256"][1:], "+" + begin["sha256"][1:],
                begin["sha256"][:31] + "_" + begin["sha256"][32:]):
        with pytest.raises(StillError) as err:
            StillAssembler(begin["id"], "s").begin({**begin, "sha256": bad})
        assert err.value.code.value == "malformed"


@settings(FUZZ, max_examples=150)
@given(messages=st.lists(
    st.binary(max_size=64) | st.text(max_size=60) | json_values.map(json.dumps)
    | st.builds(lambda k, v: json.dumps({"type": k, **v}),
                st.sampled_from(["pong", "still_begin", "still_end", "still_error", "stats",
                                 "camera", "device", "x"]),
                st.dictionaries(st.sampled_from(["id", "reason", "mime", "size", "chunks",
                                                 "fps", "width", "label", "settings",
                                                 "capabilities"]), json_values, max_size=4)),
    min_size=1, max_size=6))
def test_engine_data_channel_messages_never_raise(messages: list[str | bytes]) -> None:
    """What the applicant's page sends on the control channel reaches ``_on_dc_message``:
    nothing it sends may raise there (it runs inside aiortc's SCTP handling)."""
    events = _Events()
    engine = MediaEngine(events, camera=None, microphone=None)
    peer = _Peer(cast(Any, None), cast(Any, None), 1)
    loop = asyncio.new_event_loop()
    try:
        async def run() -> None:
            fut: asyncio.Future[Any] = loop.create_future()
            engine._stills["00000000-0000-0000-0000-000000000000"] = (
                StillAssembler("00000000-0000-0000-0000-000000000000", "s"), fut)
            for m in messages:
                if isinstance(m, str) and '"id"' in m:  # aim at the pending still now and then
                    m = m.replace('"id": ', '"id": "00000000-0000-0000-0000-000000000000", "x": ')
                engine._on_dc_message(peer, m)
            engine._on_dc_message(peer, bytes(16) + b"\x00\x00\x00\x00x")
            await loop.shutdown_default_executor()  # a still_end decodes off the loop
            await asyncio.sleep(0)
            engine._meter.report()
        loop.run_until_complete(run())
    finally:
        loop.close()
    assert set(events.errors) <= {EngineErrorCode.MALFORMED_MESSAGE}


# === card responses ===========================================================================

@settings(FUZZ, max_examples=300)
@given(data=st.binary(max_size=40) | st.text("0123456789", max_size=20).map(str.encode))
def test_card_number_parser(data: bytes) -> None:
    try:
        number = parse_card_number(data)
    except CardError as exc:
        assert exc.code.value == "malformed_card_number"
    else:
        assert len(number) == 16 and number.isascii() and number.isdigit()


@settings(FUZZ, max_examples=300)
@given(cf=st.text(max_size=20) | st.text("ABCDEFGHLMNPRSTUVZ0123456789\n", min_size=15,
                                         max_size=17))
def test_codice_fiscale_check_never_raises(cf: str) -> None:
    assert codice_fiscale_valid(cf) in (True, False)


@settings(FUZZ, max_examples=300)
@given(head=st.binary(max_size=10))
def test_der_length_hint(head: bytes) -> None:
    n = der_total_length(head)
    assert n is None or n >= 2


def _certificate(cn: str | None, serial: str | None) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.x509.oid import NameOID

    key = Ed25519PrivateKey.generate()
    attrs = []
    if cn is not None:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    if serial is not None:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    name = x509.Name(attrs)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, None))
    return cert.public_bytes(serialization.Encoding.DER)


@settings(FUZZ, max_examples=40)
@given(cn=st.none() | st.text(min_size=1, max_size=64) | st.builds(
           lambda cf, n, h: f"{cf}/{n}.{h}", st.text("ABCDEFGHLMNPRSTUVZ0123456789", min_size=16,
                                                     max_size=16),
           st.text("0123456789", min_size=1, max_size=20), st.text(min_size=1, max_size=10)),
       serial=st.none() | st.text(min_size=1, max_size=60)
       | st.text("ABCDEFGHLMNPRSTUVZ0123456789", max_size=17).map(lambda s: "TINIT-" + s),
       pad=st.binary(max_size=4))
def test_certificate_subjects(cn: str | None, serial: str | None, pad: bytes) -> None:
    """Well-formed certificates with arbitrary subjects: the parser returns the info or a
    CertificateError (a malformed codice fiscale, bytes after the DER), nothing else."""
    try:
        der = _certificate(cn, serial)
    except ValueError:  # cryptography refuses the attribute itself
        assume(False)
        return
    try:
        info, exact = parse_certificate(der + pad)
    except CertificateError as exc:
        assert exc.detail
        return
    assert exact == der and info.der_length == len(der)
    assert info.codice_fiscale is None or len(info.codice_fiscale) == 16


@settings(FUZZ, max_examples=100)
@given(request=st.dictionaries(st.sampled_from(["codice_fiscale", "surname", "given_names",
                                                "birth_date"]), json_values, max_size=4))
def test_card_cross_check_with_any_request(request: dict[str, Any]) -> None:
    from cardreader.cns import PersonalData

    def d(s: str) -> dt.date:
        return dt.date.fromisoformat(s)

    personal = PersonalData("X", d("2020-01-01"), d("2030-01-01"), "ROSSI", "MARIA",
                            d("1985-04-12"), "F", "", "RSSMRA85D52H501P", "ITA", "ROMA", "",
                            "", "", "", "")
    from cardreader.cns import CardData

    card = CardData("r", b"", True, "1" * 16, personal, None, 3)
    result = cross_check(card, request, today=d("2026-11-23"))
    assert isinstance(result.ok, bool)


# === MRZ text ===================================================================================

_MRZ_NOISE = st.text(st.sampled_from(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<<<<<")),
                     min_size=1) | st.text()


@st.composite
def mrz_lines(draw: st.DrawFn) -> list[str]:
    """Lines of an MRZ shape (mostly MRZ characters, sometimes anything: "²", "ß", "ﬁ"...)."""
    fmt = draw(st.sampled_from(sorted(FORMAT_SHAPE)))
    rows, width = FORMAT_SHAPE[fmt]
    alphabet = st.sampled_from(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<<<<<<OIlo "))
    odd = st.characters()
    lines = []
    for _ in range(draw(st.sampled_from([rows, rows, rows, 1, 4]))):
        chars = draw(st.lists(alphabet | odd if draw(st.booleans()) else alphabet,
                              min_size=width - 1, max_size=width + 1))
        lines.append("".join(chars))
    return lines


@settings(FUZZ, max_examples=200)
@given(lines=mrz_lines() | st.lists(_MRZ_NOISE, max_size=4), repair=st.booleans(),
       request=st.fixed_dictionaries({}, optional={
           "applicant": st.dictionaries(st.sampled_from(["surname", "given_names", "birth_date",
                                                         "sex"]), json_values, max_size=4),
           "document": st.dictionaries(st.sampled_from(["number", "expiry_date"]), json_values,
                                       max_size=2)}))
def test_mrz_text_gives_a_result_or_none(lines: list[str], repair: bool,
                                         request: dict[str, Any]) -> None:
    result = parse_mrz(lines, repair=repair)
    if result is None:
        return
    assert isinstance(result.valid, bool)
    json.dumps(result.to_json())
    comparison = compare_with_request(result, request, today=dt.date(2026, 11, 23))
    assert set(cast(dict[str, str], comparison["fields"]).values()) <= {
        "match", "differ", "unreadable", "absent"}


@st.composite
def mrz_with_alternatives(draw: st.DrawFn) -> tuple[list[str], list[list[tuple[str, float]]]]:
    from console import specimens as s

    lines = s.person_mrz_td1(s.DEMO_PERSON)
    flat = "".join(lines)
    alts = []
    for ch in flat:
        runner = draw(st.sampled_from(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"))
                      | st.characters())
        best = draw(st.floats(0, 1))
        alts.append([(ch, best), (runner, draw(st.floats(0, 1)))])
    noisy = list(flat)
    for _ in range(draw(st.integers(0, 3))):
        noisy[draw(st.integers(0, len(noisy) - 1))] = draw(st.sampled_from(list("O0I1B8S5<X")))
    text = "".join(noisy)
    return [text[i:i + 30] for i in range(0, 90, 30)], alts


@settings(FUZZ, max_examples=40)
@given(case=mrz_with_alternatives())
def test_mrz_with_ocr_alternatives(case: tuple[list[str], list[list[tuple[str, float]]]]
                                   ) -> None:
    lines, alts = case
    result = parse_mrz(lines, alternatives=alts)
    assert result is not None and isinstance(result.valid, bool)


@settings(FUZZ, max_examples=300)
@given(value=st.text(max_size=8) | st.text("0123456789²³¹٣", min_size=6, max_size=6),
       kind=st.sampled_from(["birth", "expiry"]))
def test_mrz_dates_give_a_date_or_none(value: str, kind: Any) -> None:
    got = yymmdd_to_date(value, kind, dt.date(2026, 11, 23))
    assert got is None or isinstance(got, dt.date)


@settings(FUZZ, max_examples=300)
@given(data=st.text(max_size=12))
def test_check_digit_is_a_digit_or_a_value_error(data: str) -> None:
    try:
        digit = check_digit(data)
    except ValueError:
        return
    assert digit in "0123456789" and len(digit) == 1
    assert all(c == "<" or "0" <= c <= "9" or "A" <= c <= "Z" for c in data)


@settings(FUZZ, max_examples=300)
@given(text=st.text(st.sampled_from(list("ABC123<<<<")), max_size=60), n=st.integers(1, 44),
       right_anchor=st.booleans())
def test_ocr_line_is_fitted_to_its_length(text: str, n: int, right_anchor: bool) -> None:
    assert len(_fit_length(text, n, right_anchor)) == n


# === evidence archives ==========================================================================

class EvidenceBench:
    def __init__(self, root: Path) -> None:
        self.root = root
        key = WorkstationKey.load_or_create(root / "data")
        b = EvidencePackageBuilder.create(
            root / "work", key, request_id="req-fuzz", product="spid_personal",
            operator={"id": "op-1", "username": "operatore1", "display_name": "Operatore"},
            applicant={"surname": "TESTA", "given_names": "PROVA"}, script_id="spid_remote")
        b.record_step("consent", agid="a", passed=True)
        b.add_capture("document_front", _png(8, 6))
        b.record_decision("approved", "ok", decision_id="d-1")
        self.folder = b.finalize()
        self.trust = TrustStore.of_keys([key], workstation="fuzz")
        self.tar = build_archive(self.folder, root / "package.tar").read_bytes()
        self.key_file = root / "archive.pem"
        self.public = generate_archive_key(self.key_file, key_id="fuzz")
        self.sealed = seal(self.folder, self.public, root / "package.sealed",
                           chunk_size=4096).path.read_bytes()
        self.n = 0

    def file(self, data: bytes, suffix: str) -> Path:
        self.n += 1
        path = self.root / "cases" / f"{self.n}{suffix}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        return path

    def out_dir(self) -> Path:
        self.n += 1
        return self.root / "out" / str(self.n)


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> EvidenceBench:
    bench = EvidenceBench(tmp_path_factory.mktemp("evidence-fuzz"))
    assert verify(bench.folder, trust=bench.trust).ok
    return bench


def _members(archive: bytes) -> dict[str, tuple[int, bytes]] | None:
    """What an archive holds (name: type, content); None when tarfile cannot read it. Two bytes
    of each header are not covered by its checksum (the checksum field after its NUL): they
    may differ between archives that hold the same."""
    out: dict[str, tuple[int, bytes]] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
            for m in tar:
                fh = tar.extractfile(m) if m.isfile() else None
                out[m.name] = (ord(m.type), fh.read() if fh is not None else b"")
    except (tarfile.TarError, OSError):
        return None
    return out


def _verify_typed(path: Path, **kw: Any) -> VerifyResult | None:
    """verify(): a VerifyResult, or the typed SealError/PackageError (None then)."""
    try:
        result = verify(path, **kw)
    except (SealError, PackageError):
        return None
    assert isinstance(result, VerifyResult)
    if not result.ok:
        assert result.problems and all(str(p) for p in result.problems)
    return result


@settings(FUZZ, max_examples=80)
@given(data=st.data())
def test_mutated_archive_never_verifies(evidence: EvidenceBench, data: st.DataObject) -> None:
    bad = data.draw(mutated(evidence.tar))
    result = _verify_typed(evidence.file(bad, ".tar"), trust=evidence.trust)
    assert result is not None
    if result.ok:  # trailing zero blocks may come and go, the files may not change
        assert _members(bad) == _members(evidence.tar)


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_mutated_sealed_file_never_opens(evidence: EvidenceBench, data: st.DataObject) -> None:
    bad = data.draw(mutated(evidence.sealed))
    path = evidence.file(bad, ".sealed")
    result = _verify_typed(path, key_file=evidence.key_file, trust=evidence.trust)
    assert result is None or not result.ok or bad == evidence.sealed
    out = evidence.out_dir()
    try:
        opened = open_sealed(path, evidence.key_file, out)
    except (SealError, PackageError):
        assert not any(out.rglob("*.json")), "a damaged package left files behind"
    else:
        assert bad == evidence.sealed and opened.is_dir()
    shutil.rmtree(out, ignore_errors=True)
    try:
        header = sealed_header(path)
    except SealError:
        return
    assert isinstance(header, dict)


@settings(FUZZ, max_examples=100)
@given(data=st.binary(max_size=200) | st.binary(max_size=200).map(lambda b: MAGIC + b)
       | st.binary(max_size=200).map(lambda b: MAGIC + struct.pack(">I", len(b)) + b))
def test_random_bytes_are_no_package(evidence: EvidenceBench, data: bytes) -> None:
    path = evidence.file(data, ".bin")
    result = _verify_typed(path, key_file=evidence.key_file, trust=evidence.trust)
    assert result is None or not result.ok
    with pytest.raises(SealError):
        if data.startswith(MAGIC):
            open_sealed(path, evidence.key_file, evidence.out_dir())
        else:
            sealed_header(path)


_HEADER_KEYS = ["alg", "key_id", "ephemeral_public_key", "wrap_nonce", "wrapped_key",
                "nonce_prefix", "package_id", "request_id", "chunk_size", "content"]


@settings(FUZZ, max_examples=100)
@given(header=st.dictionaries(st.sampled_from(_HEADER_KEYS), json_values | st.binary(
           max_size=40).map(lambda b: base64.b64encode(b).decode()), max_size=10).map(json.dumps)
       | json_values.map(json.dumps) | st.integers(900, 5000).map(_deep)
       | st.integers(4300, 5000).map(lambda n: '{"alg": ' + "1" * n + "}"),
       tail=st.binary(max_size=40))
def test_crafted_sealed_headers(evidence: EvidenceBench, header: str, tail: bytes) -> None:
    raw = header.encode()
    path = evidence.file(MAGIC + struct.pack(">I", len(raw)) + raw + tail, ".sealed")
    with pytest.raises(SealError):
        open_sealed(path, evidence.key_file, evidence.out_dir())
    with contextlib.suppress(SealError):
        sealed_header(path)
    assert _verify_typed(path, key_file=evidence.key_file) is None


def _sealed_with_content_key(public: ArchivePublicKey, content_key: bytes) -> bytes:
    """A sealed file whose wrapped key authenticates (the archive key is public, anyone can
    wrap one) but has ``len(content_key)`` bytes."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import (
        X25519PrivateKey,
        X25519PublicKey,
    )
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    eph = X25519PrivateKey.generate()
    eph_pub = _raw_public(eph.public_key())
    shared = eph.exchange(X25519PublicKey.from_public_bytes(public.public_key))
    nonce = bytes(12)
    wrapped = AESGCM(_kek(shared, eph_pub, public.public_key)).encrypt(
        nonce, content_key, public.key_id.encode())
    b64 = base64.b64encode
    header = json.dumps({"alg": ALG, "key_id": public.key_id, "package_id": "p",
                         "ephemeral_public_key": b64(eph_pub).decode(),
                         "wrap_nonce": b64(nonce).decode(), "wrapped_key": b64(wrapped).decode(),
                         "nonce_prefix": b64(bytes(7)).decode()}).encode()
    return MAGIC + struct.pack(">I", len(header)) + header + struct.pack(">I", 20) + bytes(20)


@pytest.mark.parametrize("key_len", [0, 5, 15, 31, 33, 64])
def test_a_wrapped_key_of_the_wrong_length_is_a_seal_error(evidence: EvidenceBench,
                                                           key_len: int) -> None:
    path = evidence.file(_sealed_with_content_key(evidence.public, bytes(key_len)), ".sealed")
    with pytest.raises(SealError):
        open_sealed(path, evidence.key_file, evidence.out_dir())
    assert _verify_typed(path, key_file=evidence.key_file, trust=evidence.trust) is None


def _seal_bytes(evidence: EvidenceBench, plaintext: bytes, package_id: str = "pkg") -> Path:
    path = evidence.file(b"", ".sealed")
    with open(path, "wb") as fh:
        writer = SealWriter(fh, evidence.public, chunk_size=1024,
                            meta={"package_id": package_id, "request_id": "r"})
        writer.write(plaintext)
        writer.close()
    return path


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_sealed_garbage_or_damaged_tar_content(evidence: EvidenceBench,
                                               data: st.DataObject) -> None:
    """Properly sealed (so it decrypts) but the content is random, or a damaged tar."""
    plaintext = data.draw(st.binary(max_size=300) | mutated(evidence.tar))
    path = _seal_bytes(evidence, plaintext, package_id=evidence.folder.name)
    result = _verify_typed(path, key_file=evidence.key_file, trust=evidence.trust)
    # read as a stream, the archive ends at its end-of-archive block: what follows is not read
    assert result is None or not result.ok or _members(plaintext) == _members(evidence.tar)
    out = evidence.out_dir()
    with contextlib.suppress(SealError, PackageError):
        open_sealed(path, evidence.key_file, out)
    shutil.rmtree(out, ignore_errors=True)


_NAMES = st.sampled_from(["pkg/manifest.json", "pkg/manifest.sig", "pkg/audit.jsonl",
                          "pkg/workstation_key.pub", "pkg/a.txt", "pkg/", "pkg", "other/a.txt",
                          "/abs", "pkg/../x", "./pkg/b", "pkg//c", "pkg/./d", ""])


def _tar_of(members: list[tuple[str, bytes, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, kind, body in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.size = len(body) if kind == tarfile.REGTYPE else 0
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = "../../etc/passwd"
            tar.addfile(info, io.BytesIO(body) if kind == tarfile.REGTYPE else None)
    return buf.getvalue()


@st.composite
def crafted_packages(draw: st.DrawFn) -> bytes:
    """Tar archives of a package folder with random manifests, signatures, audit logs and odd
    members (names outside the folder, links, devices, duplicates)."""
    manifest = draw(st.fixed_dictionaries({}, optional={
        "format": st.just("recognition-console/evidence-package") | json_values,
        "package_id": json_values, "request_id": json_values, "partial": json_values,
        "created_at": json_values | st.just("2026-11-23T10:00:00Z"),
        "workstation": json_values | st.fixed_dictionaries({"public_key": json_values}),
        "files": json_values | st.dictionaries(st.sampled_from(["a.txt", "audit.jsonl", "x"]),
                                               json_values | st.fixed_dictionaries(
                                                   {"sha256": json_values}), max_size=3),
        "audit": json_values | st.fixed_dictionaries({"head": json_values,
                                                      "entries": json_values})}))
    body = draw(st.sampled_from([json.dumps(manifest).encode(), b"", b"\xff{",
                                 _deep(2000).encode(), b"[" + b"1" * 4400 + b"]"]))
    audit_lines = draw(st.lists(json_values.map(json.dumps).map(str.encode) | st.binary(
        max_size=30) | st.just(b"1" * 4400) | st.just(b"[" * 3000), max_size=4))
    members = [("pkg/manifest.json", tarfile.REGTYPE, body),
               ("pkg/audit.jsonl", tarfile.REGTYPE, b"\n".join(audit_lines))]
    if draw(st.booleans()):
        members.append(("pkg/manifest.sig", tarfile.REGTYPE,
                        draw(st.binary(max_size=90) | st.binary(min_size=64, max_size=64).map(
                            lambda b: base64.b64encode(b) + b"\n"))))
    for _ in range(draw(st.integers(0, 3))):
        members.append((draw(_NAMES), draw(st.sampled_from(
            [tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE,
             tarfile.FIFOTYPE, tarfile.CHRTYPE])), draw(st.binary(max_size=20))))
    draw(st.randoms()).shuffle(members)
    return _tar_of(members)


@settings(FUZZ, max_examples=80)
@given(archive=crafted_packages())
def test_crafted_package_archives(evidence: EvidenceBench, archive: bytes) -> None:
    result = _verify_typed(evidence.file(archive, ".tar"), trust=evidence.trust)
    assert result is not None and not result.ok
    path = _seal_bytes(evidence, archive)
    result = _verify_typed(path, key_file=evidence.key_file, trust=evidence.trust)
    assert result is None or not result.ok
    out = evidence.out_dir()
    try:
        opened = open_sealed(path, evidence.key_file, out)
    except (SealError, PackageError):
        pass
    else:
        assert opened.resolve().is_relative_to(out.resolve())
    # nothing was ever written outside the output folder
    assert not (evidence.root / "etc").exists() and not (evidence.root / "x").exists()
    shutil.rmtree(out, ignore_errors=True)


def test_a_manifest_whose_audit_is_not_an_object(evidence: EvidenceBench) -> None:
    """``"audit": "x"`` made ``(manifest.get("audit") or {}).get`` an AttributeError."""
    for audit in ("x", [1], 3, True):
        manifest = json.dumps({"files": {}, "audit": audit}).encode()
        archive = _tar_of([("pkg/manifest.json", tarfile.REGTYPE, manifest),
                           ("pkg/audit.jsonl", tarfile.REGTYPE, b"")])
        result = _verify_typed(evidence.file(archive, ".tar"), trust=evidence.trust)
        assert result is not None and not result.ok
        assert any(p.path == "audit.jsonl" for p in result.problems)


@settings(FUZZ, max_examples=200)
@given(lines=st.lists(json_values.map(json.dumps).map(str.encode) | st.binary(max_size=40)
                      | st.just(b"9" * 4400) | st.just(b"[" * 5000), max_size=5))
def test_audit_chain_lines(lines: list[bytes]) -> None:
    entries, problems, head = check_chain(lines)
    assert isinstance(head, str) and all(p.line >= 1 for p in problems)
    assert len(entries) <= len(lines)
