"""Recorder: four streams, lip-sync, crash safety, gaps, markers, back-pressure."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from media.recorder import AUDIO_RATE, KINDS, Recorder, Timeline

FPS = 25
AUDIO_CHUNK = 960  # 20 ms


def _video(i: int, w: int, h: int, flash: bool) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    if flash:
        img[:] = 255
    else:  # some moving texture so the encoder has real work
        x = (i * 7) % w
        img[:, x : x + 20] = (40, 120, 200)
    return img


def _audio(j: int, beep: bool) -> np.ndarray:
    t = (np.arange(AUDIO_CHUNK) + j * AUDIO_CHUNK) / AUDIO_RATE
    amp = 12000 if beep else 0
    return (np.sin(2 * np.pi * 1000 * t) * amp).astype(np.int16)


def _feed(rec: Recorder, seconds: float, flashes: list[float], *,
          w: int = 320, h: int = 180, skip: tuple[float, float] | None = None,
          jitter: float = 0.0, realtime: bool = False, t0: float = 0.0) -> None:
    """Feed both video and audio streams in timestamp order, like the engine would."""
    rng = np.random.default_rng(1)
    events: list[tuple[float, str, int]] = []
    for i in range(int(seconds * FPS)):
        events.append((i / FPS, "v", i))
    for j in range(int(seconds * AUDIO_RATE / AUDIO_CHUNK)):
        events.append((j * AUDIO_CHUNK / AUDIO_RATE, "a", j))
    events.sort()
    start = time.monotonic()
    for t, what, n in events:
        if skip and skip[0] <= t < skip[1]:
            continue
        if realtime:
            delay = start + t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        else:  # don't outrun the recorder in a test: it would drop (and count) frames
            while rec._queue.qsize() > 100:
                time.sleep(0.002)
        stamp = t0 + t + (float(rng.uniform(0, jitter)) if jitter else 0.0)
        if what == "v":
            on = any(f <= t < f + 1 / FPS for f in flashes)
            rec.submit("applicant_video", _video(n, w, h, on), stamp)
            rec.submit("operator_video", _video(n + 3, w, h, False), stamp)
        else:
            t_end = t + AUDIO_CHUNK / AUDIO_RATE
            beep = any(f <= t < f + 0.1 or (t < f < t_end) for f in flashes)
            chunk = _audio(n, beep)
            if beep:  # start the beep exactly at the flash time inside the chunk
                for f in flashes:
                    if t < f < t_end:
                        chunk[: int((f - t) * AUDIO_RATE)] = 0
            rec.submit("applicant_audio", chunk, stamp)
            rec.submit("operator_audio", _audio(n, False), stamp)


def _flash_times(path: Path) -> tuple[list[float], list[float]]:
    vid: list[float] = []
    aud: list[float] = []
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        prev = False
        for frame in c.decode(vs):
            y = frame.to_ndarray(format="gray")
            on = float(y.mean()) > 128
            if on and not prev:
                vid.append(float(frame.pts * frame.time_base))
            prev = on
    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        samples: list[np.ndarray] = []
        first: float | None = None
        for frame in c.decode(a):
            if first is None:
                first = float(frame.pts * frame.time_base)
            samples.append(frame.to_ndarray().reshape(-1).astype(np.float32))
        data = np.concatenate(samples)
        # 5 ms energy windows; beep onset = first window above half of the beep level
        win = AUDIO_RATE // 200
        energy = np.sqrt(np.convolve(data**2, np.ones(win) / win, mode="same"))
        loud = energy > 0.3 * float(energy.max())
        prev_on = False
        last_onset = -10.0
        for i in range(0, len(loud), win // 2):
            on = bool(loud[i])
            t = (first or 0.0) + i / AUDIO_RATE
            if on and not prev_on and t - last_onset > 0.5:
                aud.append(t)
                last_onset = t
            prev_on = on
    return vid, aud


def test_four_streams_and_lip_sync(tmp_path: Path) -> None:
    path = tmp_path / "rec.mkv"
    flashes = [1.0, 2.52, 4.04]
    rec = Recorder(path, video_sizes={"applicant_video": (320, 180),
                                      "operator_video": (320, 180)},
                   start_ts=100.0, queue_size=512).start()
    _feed(rec, 5.0, flashes, jitter=0.004, t0=100.0)
    rec.mark("step", "a_consent", {"passed": True}, ts=100.5)
    rec.mark("decision", "approved", ts=104.5)
    stats = rec.stop()
    assert rec.error is None
    assert sum(stats["dropped"].values()) == 0
    with av.open(str(path)) as c:
        kinds = [(s.type, s.codec_context.name, s.metadata.get("title")) for s in c.streams]
        chapters = c.chapters()
        assert c.format.name.startswith("matroska")
    assert kinds == [("video", "h264", "applicant_video"), ("video", "h264", "operator_video"),
                     ("audio", "opus", "applicant_audio"), ("audio", "opus", "operator_audio")]
    assert [ch["metadata"]["title"] for ch in chapters] == ["step:a_consent", "decision:approved"]
    vid, aud = _flash_times(path)
    assert len(vid) == len(flashes), vid
    assert len(aud) == len(flashes), aud
    offsets = [abs(v - a) for v, a in zip(vid, aud, strict=True)]
    print("flash video", vid, "beep audio", aud, "offsets ms", [round(o * 1000) for o in offsets])
    assert max(offsets) < 0.100
    # markers are in the crash-safe sidecar too, with their offsets
    lines = Timeline.read(rec.timeline_path)
    markers = [m for m in lines if m["type"] == "marker"]
    assert [(m["kind"], m["label"], m["offset_s"]) for m in markers] == [
        ("step", "a_consent", 0.5), ("decision", "approved", 4.5)]
    assert lines[-1]["type"] == "end"


def test_keyframes_at_most_every_two_seconds(tmp_path: Path) -> None:
    path = tmp_path / "gop.mkv"
    rec = Recorder(path, video_sizes={"applicant_video": (320, 180),
                                      "operator_video": (320, 180)},
                   start_ts=0.0, queue_size=512).start()
    _feed(rec, 7.0, [], skip=(3.0, 4.6))  # a lost connection: 1.6 s without frames
    rec.stop()
    with av.open(str(path)) as c:
        for s in c.streams.video:
            packets = [(float(p.pts * p.time_base), p.is_keyframe) for p in c.demux(s)
                       if p.pts is not None]
            c.seek(0)
            assert packets[0] == (0.0, True)
            # a seek decodes at most 2 s of frames: every frame is within 2 s of the keyframe
            # before it (across the gap there are no frames to decode)
            last_key = 0.0
            for t, key in packets:
                last_key = t if key else last_key
                assert t - last_key <= 2.0 + 1e-6, (s.metadata.get("title"), t, last_key)
    # the gap is marked in the timeline (video not filled, audio filled with silence)
    gaps_marked = [m for m in Timeline.read(rec.timeline_path) if m.get("kind") == "gap"]
    assert {m["label"] for m in gaps_marked} >= {"applicant_video", "applicant_audio"}
    g = next(m for m in gaps_marked if m["label"] == "applicant_video")
    assert 2.9 < g["data"]["from_s"] < 3.0 and 4.6 <= g["data"]["to_s"] < 4.7
    st = rec.stats()
    assert st["silence_samples"]["applicant_audio"] >= int(1.5 * AUDIO_RATE)
    # the recording went on after the gap: audio runs to the end
    with av.open(str(path)) as c:
        last = max(float(f.pts * f.time_base) for f in c.decode(audio=0))
    assert last > 6.8


def test_overflow_drops_and_counts_never_blocks(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "o.mkv", queue_size=4, start_ts=0.0,
                   video_sizes={"applicant_video": (1280, 720)}).start()
    big = np.zeros((720, 1280, 3), np.uint8)
    t = time.monotonic()
    accepted = sum(rec.submit("applicant_video", big, i / 25) for i in range(200))
    elapsed = time.monotonic() - t
    stats = rec.stop()
    assert elapsed < 2.0  # 200 non-blocking puts (generous bound for a loaded CI box)
    assert stats["dropped"]["applicant_video"] == 200 - accepted > 0
    assert stats["written"]["applicant_video"] == accepted
    assert not rec.submit("applicant_video", big, 9.0)  # after stop: refused, no exception


def test_bad_frames_are_skipped_not_fatal(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "b.mkv", start_ts=0.0,
                   video_sizes={"applicant_video": (64, 64), "operator_video": (64, 64)}).start()
    assert not rec.submit("screen_video", np.zeros((4, 4, 3), np.uint8), 0.0)
    rec.submit("applicant_video", np.zeros((4, 4), np.float32), 0.0)  # wrong shape/dtype
    rec.submit("applicant_audio", "not audio", 0.0)
    rec.submit("applicant_video", np.zeros((64, 64, 3), np.uint8), 0.04)
    stats = rec.stop()
    assert rec.error is None
    assert stats["written"]["applicant_video"] == 1
    assert stats["bad"]["applicant_video"] == 1 and stats["bad"]["applicant_audio"] == 1
    with av.open(str(tmp_path / "b.mkv")) as c:
        assert len(c.streams) == len(KINDS)


CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from media.recorder import Recorder
    path = sys.argv[1]
    rec = Recorder(path, video_sizes={"applicant_video": (640, 360),
                                      "operator_video": (320, 180)}).start()
    t0 = rec.start_ts
    i = 0
    while True:
        t = t0 + i / 25
        while time.monotonic() < t:
            time.sleep(0.002)
        img = np.zeros((360, 640, 3), np.uint8)
        img[:, (i * 9) % 600:(i * 9) % 600 + 40] = 200
        rec.submit("applicant_video", img, t)
        rec.submit("operator_video", img[::2, ::2].copy(), t)
        a = (np.sin(np.arange(1920) / 48000 * 6283 + i) * 5000).astype(np.int16)
        rec.submit("applicant_audio", a[:960], t)
        rec.submit("applicant_audio", a[960:], t + 0.02)
        rec.submit("operator_audio", a[:960], t)
        rec.submit("operator_audio", a[960:], t + 0.02)
        if i % 5 == 0:
            rec.mark("step", f"s{i}", ts=t)
            print(f"{t - t0:.3f}", flush=True)
        i += 1
    """
)


def test_kill_9_leaves_a_playable_file(tmp_path: Path) -> None:
    path = tmp_path / "crash.mkv"
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root))
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE,
                            text=True, env=env, cwd=root)
    fed = 0.0
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            fed = float(line)
            if fed >= 4.0:
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert fed >= 4.0
    last: dict[str, float] = {}
    count = 0
    with av.open(str(path)) as c:
        assert len(c.streams) == 4
        for frame in c.decode(*c.streams):
            if frame.pts is None:
                continue
            kind = "video" if isinstance(frame, av.VideoFrame) else "audio"
            last[kind] = max(last.get(kind, 0.0), float(frame.pts * frame.time_base))
            count += 1
    print("fed", fed, "decoded up to", last, "frames", count)
    # all but the last second plays (a little slack for the child's scheduling on 2 cores)
    assert last["video"] >= fed - 1.3
    assert last["audio"] >= fed - 1.3
    # the sidecar timeline survived too, with the markers up to the kill
    markers = [m for m in Timeline.read(path.with_name("crash.timeline.jsonl"))
               if m["type"] == "marker"]
    assert markers and markers[-1]["offset_s"] >= fed - 0.3
    json.dumps(markers)  # plain JSON


@pytest.mark.parametrize("size", [(1280, 720)])
def test_frames_of_another_size_are_scaled(tmp_path: Path, size: tuple[int, int]) -> None:
    rec = Recorder(tmp_path / "s.mkv", start_ts=0.0, video_sizes={"applicant_video": size}).start()
    for i in range(10):  # the browser sends 640x360 first, then 960x540 (STACK.md)
        w, h = (640, 360) if i < 5 else (960, 540)
        rec.submit("applicant_video", np.full((h, w, 3), 90, np.uint8), i / 25)
    rec.stop()
    with av.open(str(tmp_path / "s.mkv")) as c:
        frames = list(c.decode(video=0))
    assert len(frames) == 10
    assert {(f.width, f.height) for f in frames} == {size}


def test_engine_frames_are_not_modified(tmp_path: Path) -> None:
    """The engine keeps using (and aiortc may still send) the frames given to the sink."""
    rec = Recorder(tmp_path / "n.mkv", start_ts=0.0,
                   video_sizes={"applicant_video": (64, 64), "operator_video": (64, 64)}).start()
    vf = av.VideoFrame(64, 64, "yuv420p")
    vf.pts = 12345
    af = av.AudioFrame.from_ndarray(np.zeros((1, 960), np.int16), format="s16", layout="mono")
    af.sample_rate = AUDIO_RATE
    af.pts = 777
    for i in range(10):
        rec("operator_video", vf, i / 25)
        rec("operator_audio", af, i * 0.02)
    stats = rec.stop()
    assert stats["written"]["operator_video"] == 10
    assert (vf.pts, af.pts) == (12345, 777)
    assert vf.pict_type == av.video.frame.PictureType.NONE


def test_jittered_arrivals_keep_sender_timing(tmp_path: Path) -> None:
    """Frames delayed by a jitter buffer or a busy loop (0-150 ms) are placed at their sender
    time plus the least delay, not at their late arrival."""
    rng = np.random.default_rng(7)
    rec = Recorder(tmp_path / "j.mkv", start_ts=0.0,
                   video_sizes={"applicant_video": (64, 64), "operator_video": (64, 64)}).start()
    base_delay = 0.030
    for i in range(100):
        vf = av.VideoFrame(64, 64, "yuv420p")
        vf.pts = 900_000 + i * 3600  # 90 kHz RTP clock, 25 fps, arbitrary origin
        vf.time_base = Fraction(1, 90_000)
        delay = base_delay + (float(rng.uniform(0, 0.15)) if i % 3 else 0.0)
        rec.submit("applicant_video", vf, i / 25 + delay)
    rec.stop()
    with av.open(str(tmp_path / "j.mkv")) as c:
        times = [float(f.pts * f.time_base) for f in c.decode(video=0)]
    assert len(times) == 100
    errors = [abs(t - (i / 25 + base_delay)) for i, t in enumerate(times)]
    assert max(errors[3:]) <= 0.002, max(errors)


def test_markers_in_the_same_millisecond_all_become_chapters(tmp_path: Path) -> None:
    """FFmpeg's Matroska reader drops a chapter that starts where the previous one did."""
    clock = [1000.0]
    rec = Recorder(tmp_path / "same-ms.mkv", video_sizes={"applicant_video": (160, 90),
                                                          "operator_video": (160, 90)},
                   clock=lambda: clock[0])
    rec.start()
    for i in range(10):
        rec.submit("applicant_video", np.zeros((90, 160, 3), np.uint8), 1000.0 + i / 25)
    for label in ("a", "b", "c"):
        rec.mark("step", label, ts=1000.2)  # three markers in the same millisecond
    rec.mark("decision", "rejected", ts=1000.2)
    rec.stop()
    with av.open(str(tmp_path / "same-ms.mkv")) as c:
        titles = [ch["metadata"]["title"] for ch in c.chapters()]
    assert titles == ["step:a", "step:b", "step:c", "decision:rejected"]
