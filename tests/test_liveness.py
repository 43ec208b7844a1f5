"""Active liveness (console/liveness.py) on real frames: the synthetic applicant answering its
challenges (demo/applicant/offline.py renders the same poses the live peer streams), and the
attacks it must refuse: a still photo, a shaken photo, a genuine clip that answers another
sequence, a face swapped onto the moving head; no face at all is inconclusive. Plus the
challenge message's validation on the console side (media/challenge.py) and on the page
(server/static/js/challenge.js, run by node)."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import uuid
from pathlib import Path

import cv2
import numpy as np
import pytest

from console.liveness import (
    CHALLENGE_CODES,
    MAX_CHALLENGES,
    MIN_CHALLENGES,
    Challenge,
    ChallengePlan,
    FaceTracker,
    LivenessCheck,
    PlanError,
    load_models,
)
from demo.applicant.offline import (
    FaceSwapAttack,
    GenuineRenderer,
    Lighting,
    PhotoAttack,
    ReplayAttack,
    answer_timeline,
    plan_windows,
    run_check,
)
from media.challenge import (
    CHALLENGE_CODES as WIRE_CODES,
)
from media.challenge import (
    ChallengeMessageError,
    challenge_message,
    parse_challenge_message,
)

REPO = Path(__file__).resolve().parents[1]
FPS = 8.0


@pytest.fixture(scope="module", autouse=True)
def models() -> None:
    load_models()


def plan_of(*codes: str, window: float = 3.0, pause: float = 1.2) -> ChallengePlan:
    t = 2.5
    items = []
    for code in codes:
        items.append(Challenge(str(uuid.uuid4()), code, t, window))
        t += window + pause
    return ChallengePlan(tuple(items), 2.5)


# --- the plan ----------------------------------------------------------------------------------

def test_plans_are_random_valid_and_round_trip() -> None:
    plans = [ChallengePlan.random() for _ in range(200)]
    sequences = {tuple(c.code for c in p.challenges) for p in plans}
    assert len(sequences) > 30  # 5P2 + 5P3 = 80 possible sequences
    assert {len(p.challenges) for p in plans} == {MIN_CHALLENGES, MAX_CHALLENGES}
    assert {c.code for p in plans for c in p.challenges} == set(CHALLENGE_CODES)
    starts = {p.challenges[1].start_s for p in plans}
    assert len(starts) > 150  # the pauses are random too: timing cannot be guessed
    for p in plans[:20]:
        codes = [c.code for c in p.challenges]
        assert len(set(codes)) == len(codes)
        again = ChallengePlan.from_json(json.loads(p.dumps()))
        assert again == p
    assert set(CHALLENGE_CODES) == set(WIRE_CODES)
    # a seeded generator gives the same plan (benchmarks), the default one never repeats ids
    assert ChallengePlan.random(rng=random.Random(3)) == ChallengePlan.random(rng=random.Random(3))


@pytest.mark.parametrize("data, what", [
    ({"challenges": []}, "2-3 challenges"),
    ({"challenges": [{"id": str(uuid.uuid4()), "code": "smile", "start_s": 3, "seconds": 4},
                     {"id": str(uuid.uuid4()), "code": "blink", "start_s": 8, "seconds": 4}]},
     "unknown challenge code"),
    ({"challenges": [{"id": str(uuid.uuid4()), "code": "blink", "start_s": 3, "seconds": 4},
                     {"id": str(uuid.uuid4()), "code": "look_up", "start_s": 5, "seconds": 4}]},
     "overlap"),
    ({"challenges": [{"id": "x", "code": "blink", "start_s": 3, "seconds": 4},
                     {"id": str(uuid.uuid4()), "code": "look_up", "start_s": 8, "seconds": 4}]},
     "UUID"),
    ({"challenges": [{"id": str(uuid.uuid4()), "code": "blink", "start_s": 3, "seconds": 99},
                     {"id": str(uuid.uuid4()), "code": "look_up", "start_s": 108, "seconds": 4}]},
     "window"),
    ({"challenges": [{"code": "blink"}]}, "needs id"),
    ("not json", "not JSON"),
])
def test_invalid_plans_are_refused(data: object, what: str) -> None:
    with pytest.raises(PlanError, match=what):
        ChallengePlan.from_json(data)


def test_windows_open_in_order_and_anchor_at_announcement() -> None:
    plan = plan_of("blink", "turn_left")
    check = LivenessCheck(plan)
    assert check.to_announce(0.0) == []  # not started
    check.start(100.0)
    assert check.to_announce(101.0) == []
    first = check.to_announce(102.7)  # 0.2 s late
    assert [c.code for c in first] == ["blink"]
    assert check.position(first[0].id) == (1, 2)
    assert check.challenge_at(103.0) == plan.challenges[0]
    assert check.to_announce(103.0) == []
    assert check.challenge_at(106.0) is None  # the pause
    # the second keeps its spacing from the first's real announcement
    assert check.to_announce(106.8) == []
    assert [c.code for c in check.to_announce(106.95)] == ["turn_left"]
    assert not check.done(109.0)
    assert check.done(106.95 + 3.0 + 0.7)


# --- verdicts on frames --------------------------------------------------------------------------

def test_the_synthetic_applicant_answering_passes() -> None:
    rng = random.Random(11)
    plan = plan_of("turn_left", "look_up", "blink")
    timeline = answer_timeline(plan_windows(plan), rng)
    check = run_check(plan, GenuineRenderer(timeline, seed=11, lighting=Lighting.random(rng)),
                      fps=FPS)
    res = check.result()
    assert res.verdict == "pass", res.to_json()
    assert [c.verdict for c in res.challenges] == ["pass"] * 3
    assert 0.5 <= res.score <= 1.0
    for c in res.challenges:
        # answered 0.45-0.9 s after being asked (+ at most one analysis interval)
        assert c.latency_ms is not None and 300 <= c.latency_ms <= 900 + 1000 / FPS, c
    body = res.to_json()
    assert body["verdict"] == "pass" and len(body["challenges"]) == 3
    assert set(body["challenges"][0]) >= {"code", "window", "verdict", "score", "latency_ms"}
    assert body["signals"] == []
    json.dumps(body)


def test_turn_right_and_move_closer_pass() -> None:
    rng = random.Random(5)
    plan = plan_of("turn_right", "move_closer")
    timeline = answer_timeline(plan_windows(plan), rng)
    res = run_check(plan, GenuineRenderer(timeline, seed=5, offset=(-60, 20), distance=0.9),
                    fps=FPS).result()
    assert res.verdict == "pass", res.to_json()


def test_a_still_photo_fails() -> None:
    plan = plan_of("turn_left", "blink")
    res = run_check(plan, PhotoAttack(seed=2, shake=0.0), fps=FPS).result()
    assert res.verdict == "fail", res.to_json()
    assert {c.reason for c in res.challenges} == {"not_performed"}
    assert res.frames_with_face == res.frames_analysed  # the face was there all along


def test_a_shaken_photo_fails() -> None:
    # moved, tilted about both axes, brought nearer and farther: no turn, no blink
    plan = plan_of("turn_right", "look_up", "blink")
    res = run_check(plan, PhotoAttack(seed=4, shake=1.0), fps=FPS).result()
    assert res.verdict == "fail", res.to_json()
    assert all(c.verdict == "fail" for c in res.challenges), res.to_json()


def test_a_clip_answering_another_sequence_fails() -> None:
    rng = random.Random(8)
    asked = plan_of("turn_left", "blink")
    recorded = plan_of("look_up", "turn_right", window=3.5)
    clip = GenuineRenderer(answer_timeline(plan_windows(recorded), rng), seed=8)
    res = run_check(asked, ReplayAttack(clip, start=0.0, screen=False), fps=FPS).result()
    assert res.verdict == "fail", res.to_json()


def test_a_movement_made_before_it_was_asked_fails() -> None:
    # a clip that turns left 1.5 s before the window opens (and holds until it is in it)
    rng = random.Random(9)
    plan = plan_of("blink", "turn_left")
    code, start, seconds = plan_windows(plan)[1]
    early = answer_timeline([(code, start - 1.5, seconds)], rng, reaction=(0.0, 0.0))
    blink = answer_timeline(plan_windows(plan)[:1], rng)
    res = run_check(plan, GenuineRenderer(blink + early, seed=9), fps=FPS).result()
    assert res.verdict == "fail", res.to_json()
    assert res.challenges[0].verdict == "pass"
    assert res.challenges[1].reason == "before_asked"


def test_a_face_swapped_onto_the_moving_head_fails() -> None:
    rng = random.Random(6)
    plan = plan_of("turn_left", "look_up")
    live = GenuineRenderer(answer_timeline(plan_windows(plan), rng), seed=6)
    tracker = FaceTracker()

    def locate(img: np.ndarray) -> tuple[int, int, int, int] | None:
        gray = np.asarray(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
        return tracker.sample(gray, 0.0).box

    res = run_check(plan, FaceSwapAttack(live, locate), fps=FPS).result()
    assert res.verdict == "fail", res.to_json()


def test_no_face_is_inconclusive() -> None:
    plan = plan_of("turn_left", "blink")
    check = LivenessCheck(plan, analysis_fps=FPS)
    wall = np.full((720, 1280, 3), 180, np.uint8)
    cv2.rectangle(wall, (200, 200), (500, 400), (60, 90, 120), -1)
    t = 0.0
    while not check.done(t):
        check.to_announce(t)
        check.feed(wall, t)
        t += 1 / FPS
    res = check.result()
    assert res.verdict == "inconclusive"
    assert res.reason == "no_face_baseline"
    assert res.frames_with_face == 0 and res.frames_analysed > 50
    # and before any frame
    assert LivenessCheck(plan).result().verdict == "inconclusive"


def test_a_challenge_the_page_did_not_show_is_not_shown_never_a_pass() -> None:
    """The page answered challenge_error for the second challenge: the applicant answered the
    first, and the second is 'not_shown' (inconclusive: repeat) even though the video does
    what it asked; a foreign id changes nothing."""
    rng = random.Random(11)
    plan = plan_of("turn_left", "look_up", "blink")
    timeline = answer_timeline(plan_windows(plan), rng)
    check = LivenessCheck(plan, analysis_fps=FPS)
    assert check.mark_not_shown(str(uuid.uuid4())) is None
    assert check.mark_not_shown(plan.challenges[1].id) is plan.challenges[1]
    source = GenuineRenderer(timeline, seed=11, lighting=Lighting.random(rng))
    t = 0.0
    while not check.done(t):
        check.to_announce(t)
        check.feed(source.frame(t), t)
        t += 1 / FPS
    res = check.result()
    assert res.verdict == "inconclusive" and res.reason == "not_shown", res.to_json()
    assert [(c.verdict, c.reason) for c in res.challenges] == [
        ("pass", "ok"), ("inconclusive", "not_shown"), ("pass", "ok")]


def test_the_flow_hears_the_page_refuse_a_challenge() -> None:
    """RemoteFlow routes the page's challenge_error to the running check: recorded (with the
    page's reason only when the protocol names it) and judged not_shown."""
    from console.flows.liveness_run import LivenessRun

    class Flow:
        def __init__(self) -> None:
            self.records: list[tuple[str, dict[str, object]]] = []
            self.events: list[str] = []

        def _record(self, name: str, **data: object) -> None:
            self.records.append((name, data))

        def _emit(self, name: str, *args: object) -> None:
            self.events.append(name)

    flow = Flow()
    run = LivenessRun(flow, runner=None)  # type: ignore[arg-type]
    plan = plan_of("blink", "turn_right")
    run._check = LivenessCheck(plan)
    run._check.start(0.0)
    run.runs = 1
    run.challenge_refused(plan.challenges[0].id, "invalid_seconds")
    run.challenge_refused(plan.challenges[1].id, "<script>" * 40)
    run.challenge_refused(plan.challenges[1].id, ["unhashable"])  # hostile: no TypeError
    run.challenge_refused(str(uuid.uuid4()), "invalid_id")  # not this plan's: ignored
    run.challenge_refused(None, "invalid_id")
    assert flow.records == [
        ("liveness_challenge_not_shown", {"run": 1, "code": "blink", "reason": "invalid_seconds"}),
        ("liveness_challenge_not_shown", {"run": 1, "code": "turn_right", "reason": "other"}),
        ("liveness_challenge_not_shown", {"run": 1, "code": "turn_right", "reason": "other"})]
    assert flow.events.count("liveness_changed") == 3
    res = run._check.result(now=100.0)
    assert {c.reason for c in res.challenges} == {"not_shown"}


def test_pending_until_the_windows_are_over() -> None:
    rng = random.Random(2)
    plan = plan_of("blink", "move_closer")
    source = GenuineRenderer(answer_timeline(plan_windows(plan), rng), seed=2)
    check = LivenessCheck(plan, analysis_fps=FPS)
    t = 0.0
    while t < plan.challenges[0].end_s + 1.0:
        check.to_announce(t)
        check.feed(source.frame(t), t)
        t += 1 / FPS
    res = check.result()
    assert res.verdict == "inconclusive" and not res.complete
    assert [c.verdict for c in res.challenges] == ["pass", "pending"]


def test_feeds_av_frames_and_rate_limits() -> None:
    av = pytest.importorskip("av")
    rng = random.Random(4)
    plan = plan_of("turn_left", "blink")
    source = GenuineRenderer(answer_timeline(plan_windows(plan), rng), seed=4)
    check = LivenessCheck(plan, analysis_fps=FPS)
    fed = 0
    t = 0.0
    while not check.done(t):
        check.to_announce(t)
        frame = av.VideoFrame.from_ndarray(source.frame(t), format="bgr24").reformat(
            format="yuv420p")
        if check.feed(frame, t) is not None:
            fed += 1
        t += 1 / 24  # a 24 fps stream: only about 8 a second are analysed
    assert fed == check.frames_analysed
    assert fed < t * FPS * 1.1
    assert check.result().verdict == "pass", check.result().to_json()
    assert check.analysis_s / fed < 0.05  # cheap: a few ms per analysed 720p frame


# --- the challenge message -------------------------------------------------------------------

def test_challenge_messages_are_validated_before_sending() -> None:
    msg = challenge_message("turn_left", 4, index=1, count=2)
    assert msg["type"] == "challenge" and uuid.UUID(msg["id"]).version == 4
    assert parse_challenge_message(json.loads(json.dumps(msg))) == msg
    bad: list[tuple[dict[str, object], str]] = [
        ({"code": "smile"}, "invalid_code"),
        ({"seconds": 0.2}, "invalid_seconds"),
        ({"seconds": float("nan")}, "invalid_seconds"),
        ({"seconds": True}, "invalid_seconds"),
        ({"id": "not-a-uuid"}, "invalid_id"),
        ({"index": 3, "count": 2}, "invalid_index"),
    ]
    for change, reason in bad:
        with pytest.raises(ChallengeMessageError) as err:
            parse_challenge_message({**msg, **change})
        assert err.value.reason == reason
        assert reason in str(err.value)
    with pytest.raises(ValueError, match="invalid_code"):
        challenge_message("dance", 4)


def test_the_page_refuses_malformed_challenges() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    module = (REPO / "server" / "static" / "js" / "challenge.js").as_uri()
    good = challenge_message("blink", 4, index=2, count=3)
    cases = [good, {**good, "code": "smile"}, {**good, "seconds": "4"}, {**good, "seconds": 99},
             {**good, "id": 5}, {**good, "index": 0}, {**good, "count": 2.5}, None]
    script = (f"import {{ parseChallenge }} from {json.dumps(module)};\n"
              f"for (const m of {json.dumps(cases)})\n"
              "  console.log(JSON.stringify(parseChallenge(m)));")
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True,
                         text=True, timeout=30, check=True).stdout.splitlines()
    got = [json.loads(line) for line in out]
    assert got[0] == {"ok": True, "challenge": {k: good[k] for k in
                                                ("id", "code", "seconds", "index", "count")}}
    assert [g.get("reason") for g in got[1:]] == [
        "invalid_code", "invalid_seconds", "invalid_seconds", "invalid_id", "invalid_index",
        "invalid_index", "invalid_id"]
    # the Python side agrees on every case
    for case, page in zip(cases[1:-1], got[1:-1], strict=True):
        assert case is not None
        with pytest.raises(ChallengeMessageError) as err:
            parse_challenge_message(case)
        assert err.value.reason == page["reason"]


def test_the_engine_refuses_an_invalid_challenge_and_needs_a_call() -> None:
    from media.engine import MediaEngine
    from media.stills import StillError, StillErrorCode

    engine = MediaEngine(None, camera=None, microphone=None)
    with pytest.raises(ChallengeMessageError, match="invalid_code"):
        engine.send_challenge("dance", 4)
    with pytest.raises(ChallengeMessageError, match="invalid_seconds"):
        engine.send_challenge("blink", 45)
    with pytest.raises(RuntimeError, match="not running"):
        engine.send_challenge("blink", 4).result(1)
    engine.start()
    try:
        with pytest.raises(StillError) as err:  # started, but no call: nothing to send it on
            engine.send_challenge("blink", 4).result(5)
        assert err.value.code is StillErrorCode.NOT_CONNECTED
    finally:
        engine.stop()
