"""DEMO ONLY: a live camera for the Chromium applicant that answers liveness challenges.

Chromium's fake camera plays a fixed file, which cannot answer challenges drawn at random during
the call (that is what they are for). For ``recognition-console demo --applicant chromium``
without ``--camera-clip``, demo/browser.py installs :data:`INIT_SCRIPT` with Playwright's
``page.add_init_script`` (the product page is not changed): ``getUserMedia``'s video becomes a
``canvas.captureStream(30)`` that draws the synthetic applicant's scene live (the audio stays the
fake device's), labelled :data:`CAMERA_LABEL` (console.injection flags it as a virtual camera).
The init script listens on the page's data channels to the same control messages the synthetic
applicant follows: an ``instruction`` selects the scene step or a gesture, a ``still_request``'s
step the scene, a ``challenge`` the head pose it asks for, after a human reaction time, eased in
and out over about 300 ms (a blink: the eyes shut twice for a moment).

The pictures are the synthetic applicant's own (demo/applicant/scene.py and poses.py),
pre-rendered here at the camera's size as JPEG files with a ``manifest.json``: every scene step,
the face step in each head pose at a few amounts (for smooth movement), eyes shut, and the
instruction gestures. The canvas adds a slight sway, a moving bar and grain, so no two frames are
identical (console.injection's ``frames_identical``).
"""

from __future__ import annotations

import base64
import json
import logging
import time
from pathlib import Path
from typing import Any

import cv2

from demo.applicant.scene import (
    _STEP_ALIASES,
    CHALLENGE_GESTURES,
    NOD,
    Gesture,
    SceneRenderer,
    Step,
    gesture_for,
)

log = logging.getLogger(__name__)

CAMERA_LABEL = "Recognition demo synthetic camera (canvas)"
FPS = 30
#: the head movement amounts rendered for each challenge pose (1.0: the live peer's full turn)
AMOUNTS = (0.25, 0.5, 0.75, 1.0)
#: the head poses a challenge (or an instruction) can ask for, rendered at every AMOUNTS
POSE_GESTURES = (Gesture.TURN_HEAD_LEFT, Gesture.TURN_HEAD_RIGHT, Gesture.LOOK_UP,
                 Gesture.LOOK_DOWN, Gesture.MOVE_CLOSER)
#: instruction gestures drawn as one held picture of the face step
HAND_GESTURES = (Gesture.RAISE_RIGHT_HAND, Gesture.RAISE_LEFT_HAND, Gesture.SHOW_THREE_FINGERS,
                 Gesture.TOUCH_NOSE, Gesture.TOUCH_RIGHT_EAR, Gesture.COVER_LEFT_EYE)
JPEG_QUALITY = 92
MANIFEST = "manifest.json"
#: the reaction time before a challenge is answered (s), as the synthetic peer's
REACTION_S = (0.45, 0.9)


def parse_size(text: str) -> tuple[int, int]:
    """``WxH`` -> (W, H); the scene needs even sizes of at least 784 x 240."""
    try:
        w_text, h_text = text.lower().split("x", 1)
        width, height = int(w_text), int(h_text)
    except ValueError:
        raise ValueError(f"camera size {text!r} is not WxH (e.g. 1280x720)") from None
    if width < 784 or height < 240 or width % 2 or height % 2 or width > 3840 or height > 2160:
        raise ValueError(f"camera size {text!r}: even, from 784x240 to 3840x2160")
    return width, height


def _write_jpeg(path: Path, bgr: Any) -> str:
    ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError(f"JPEG encoding failed for {path.name}")
    path.write_bytes(encoded.tobytes())
    return path.name


def render_frames(folder: Path, width: int = 1280, height: int = 720) -> Path:
    """Pre-render the canvas camera's pictures into ``folder``; returns its manifest.json.

    Reuses a manifest already there for the same size."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / MANIFEST
    if manifest_path.is_file():
        old = json.loads(manifest_path.read_text(encoding="utf-8"))
        if (old.get("width"), old.get("height")) == (width, height):
            return manifest_path
    t0 = time.monotonic()
    renderer = SceneRenderer(width, height)
    steps = {step.value: _write_jpeg(folder / f"step-{step.value}.jpg", renderer.bgr(step))
             for step in Step}
    poses: dict[str, list[list[Any]]] = {}
    for gesture in POSE_GESTURES:
        poses[gesture.value] = [
            [amount, _write_jpeg(folder / f"pose-{gesture.value}-{int(amount * 100)}.jpg",
                                 renderer.posed_bgr(gesture, amount))]
            for amount in AMOUNTS
        ]
    poses[Gesture.BLINK.value] = [[1.0, _write_jpeg(folder / "pose-blink-100.jpg",
                                                    renderer.posed_bgr(Gesture.BLINK))]]
    gestures = {g.value: _write_jpeg(folder / f"gesture-{g.value}.jpg",
                                     renderer.bgr(Step.FACE, g))
                for g in HAND_GESTURES}
    manifest = {"width": width, "height": height, "steps": steps, "poses": poses,
                "gestures": gestures}
    manifest_path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    log.info("canvas camera: %d pictures of %dx%d in %.1f s", len(steps) + len(gestures)
             + sum(len(v) for v in poses.values()), width, height, time.monotonic() - t0)
    return manifest_path


def _codes() -> dict[str, Any]:
    """What each control code does, from the synthetic applicant's own tables."""
    instruction_gestures: dict[str, str] = {}
    for code in [g.value for g in Gesture] + [NOD]:
        gesture = gesture_for(code)
        if gesture is not None:
            instruction_gestures[code] = gesture.value
    return {
        "steps": {code: step.value for code, step in _STEP_ALIASES.items()},
        "instruction_gestures": instruction_gestures,
        "nod": NOD,
        "challenges": {code: g.value for code, g in CHALLENGE_GESTURES.items()},
        "hand_gestures": [g.value for g in HAND_GESTURES],
    }


def init_script(manifest_path: Path, fps: int = FPS) -> str:
    """The init script for ``page.add_init_script``, the pictures inlined (base64 JPEG)."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    folder = manifest_path.parent
    names: set[str] = set(manifest["steps"].values()) | set(manifest["gestures"].values())
    for levels in manifest["poses"].values():
        names.update(name for _, name in levels)
    images = {name: base64.b64encode((folder / name).read_bytes()).decode("ascii")
              for name in sorted(names)}
    config = {
        "label": CAMERA_LABEL,
        "fps": fps,
        "reaction_s": list(REACTION_S),
        "manifest": manifest,
        "images": images,
        **_codes(),
    }
    return INIT_SCRIPT.replace("__CONFIG__", json.dumps(config, separators=(",", ":")))


INIT_SCRIPT = r"""
(() => {
  "use strict";
  if (window.top !== window || !navigator.mediaDevices
      || !navigator.mediaDevices.getUserMedia) return;
  const C = __CONFIG__;
  const M = C.manifest;
  const W = M.width, H = M.height;
  const RAMP_S = 0.3, BLINK_RAMP_S = 0.08;

  // --- pictures ---------------------------------------------------------------------------
  const bitmaps = {};
  async function decode(name) {
    const raw = atob(C.images[name]);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    bitmaps[name] = await createImageBitmap(new Blob([bytes], { type: "image/jpeg" }));
  }
  const ready = Promise.all(Object.keys(C.images).map(decode));

  // --- what the person does ---------------------------------------------------------------
  const now = () => performance.now() / 1000;
  const S = {
    step: "face",
    hand: null, handUntil: 0,           // an instruction gesture held for a while
    target: { pose: null, amount: 0 },  // the head pose asked for
    shown: { pose: null, amount: 0 },   // the head pose drawn (eased towards the target)
    until: 0,                           // when the held pose ends
    timers: [],
    nodUntil: 0,
    lastT: now(),
  };
  function clearTimers() { S.timers.forEach(clearTimeout); S.timers = []; }
  function later(s, fn) { S.timers.push(setTimeout(fn, s * 1000)); }
  function hold(pose, seconds) {
    S.target = { pose, amount: 1 };
    S.until = now() + seconds;
  }
  function answer(code, seconds) {
    const pose = C.challenges[code];
    if (!pose) return;
    clearTimers();
    S.step = "face";
    S.hand = null;
    const [lo, hi] = C.reaction_s;
    const reaction = lo + Math.random() * (hi - lo);
    if (pose === "blink") {  // two deliberate blinks, as the synthetic peer
      for (let k = 0; k < 2; k++) later(reaction + k * 0.7, () => hold("blink", 0.35));
    } else {
      later(reaction, () => hold(pose, Math.min(2.0, Math.max(0.8, seconds * 0.5))));
    }
  }
  function follow(code) {
    const c = code.trim().toLowerCase();
    if (C.steps[c]) S.step = C.steps[c];
    const g = C.instruction_gestures[c];
    if (!g) return;
    clearTimers();
    if (c === C.nod) { S.nodUntil = now() + 1.6; return; }
    if (C.hand_gestures.includes(g)) { S.hand = g; S.handUntil = now() + 5; return; }
    if (g === "none") { S.hand = null; S.target = { pose: null, amount: 0 }; return; }
    if (M.poses[g]) hold(g, 5);
  }
  function onControl(msg) {
    if (msg.type === "instruction" && typeof msg.code === "string") follow(msg.code);
    else if (msg.type === "challenge" && typeof msg.code === "string"
             && typeof msg.seconds === "number") answer(msg.code, msg.seconds);
  }
  // a still of another step: the person holds that card up first (-> true: hold the message
  // back until the camera shows it)
  function stillStep(msg) {
    if (msg.type !== "still_request" || typeof msg.step !== "string") return false;
    const step = C.steps[msg.step.trim().toLowerCase()];
    if (!step || step === S.step) return false;
    clearTimers();
    S.step = step;
    S.hand = null;
    draw();
    return true;
  }

  // --- the control channel: listened to (never written to) before the page's own listener;
  // a still_request that changes the scene reaches the page once the camera shows the new
  // step (re-dispatched a few frames later, in order with the messages after it)
  const NativePC = window.RTCPeerConnection;
  const STILL_DELAY_MS = 200;
  if (NativePC) {
    const redispatched = new WeakSet();
    class DemoPeerConnection extends NativePC {
      constructor(...args) {
        super(...args);
        this.addEventListener("datachannel", (ev) => {
          const channel = ev.channel;
          const queue = [];  // messages held back behind a still of another step, in order
          const parse = (data) => {
            try {
              const msg = JSON.parse(data);
              return msg && typeof msg.type === "string" ? msg : null;
            } catch (err) {
              return null;
            }
          };
          const pump = () => {
            while (queue.length) {
              const msg = parse(queue[0]);
              if (msg && stillStep(msg)) {  // shown now: the page takes it a few frames later
                setTimeout(pump, STILL_DELAY_MS);
                return;
              }
              const data = queue.shift();
              if (msg) onControl(msg);
              const copy = new MessageEvent("message", { data });
              redispatched.add(copy);
              channel.dispatchEvent(copy);
            }
          };
          channel.addEventListener("message", (m) => {
            if (redispatched.has(m) || typeof m.data !== "string") return;
            const msg = parse(m.data);
            if (!queue.length && !(msg && stillStep(msg))) {
              if (msg) onControl(msg);
              return;
            }
            m.stopImmediatePropagation();
            queue.push(m.data);
            if (queue.length === 1) setTimeout(pump, STILL_DELAY_MS);
          });
        });
      }
    }
    window.RTCPeerConnection = DemoPeerConnection;
  }

  // --- drawing -----------------------------------------------------------------------------
  const canvas = document.createElement("canvas");
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext("2d", { alpha: false });
  const grain = document.createElement("canvas");
  grain.width = grain.height = 128;
  {
    const g = grain.getContext("2d");
    const img = g.createImageData(128, 128);
    for (let i = 0; i < img.data.length; i += 4) {
      const v = Math.floor(Math.random() * 256);
      img.data[i] = img.data[i + 1] = img.data[i + 2] = v;
      img.data[i + 3] = 255;
    }
    g.putImageData(img, 0, 0);
  }
  let grainPattern = null;
  let frameNo = 0;

  function ease(dt) {
    const t = now();
    let target = S.target;
    if (t >= S.until) target = { pose: null, amount: 0 };
    if (t < S.nodUntil) {  // nodding: head down / up every 0.4 s
      target = Math.floor((S.nodUntil - t) / 0.4) % 2 ? { pose: "look_down", amount: 1 }
        : { pose: null, amount: 0 };
    }
    const shown = S.shown;
    const rate = (shown.pose === "blink" || target.pose === "blink" ? 1 / BLINK_RAMP_S
      : 1 / RAMP_S) * dt;
    if (shown.pose !== target.pose && shown.amount > 0) {  // back to the front first
      shown.amount = Math.max(0, shown.amount - rate);
    } else {
      if (shown.amount === 0) shown.pose = target.pose;
      const goal = target.pose ? target.amount : 0;
      shown.amount = shown.amount < goal ? Math.min(goal, shown.amount + rate)
        : Math.max(goal, shown.amount - rate);
    }
    if (shown.amount === 0) shown.pose = null;
  }

  function layers() {
    // -> [[bitmap, alpha], ...] drawn in order
    if (S.step !== "face") return [[bitmaps[M.steps[S.step]], 1]];
    if (S.hand && now() < S.handUntil) return [[bitmaps[M.gestures[S.hand]], 1]];
    S.hand = null;
    const face = bitmaps[M.steps.face];
    const { pose, amount } = S.shown;
    if (!pose || amount <= 0) return [[face, 1]];
    const levels = [[0, null], ...M.poses[pose]];
    if (levels.length === 2) return [[face, 1], [bitmaps[levels[1][1]], amount]];
    for (let i = 0; i + 1 < levels.length; i++) {
      const [a0, n0] = levels[i];
      const [a1, n1] = levels[i + 1];
      if (amount <= a1 + 1e-6) {
        const f = (amount - a0) / (a1 - a0);
        return [[n0 ? bitmaps[n0] : face, 1], [bitmaps[n1], f]];
      }
    }
    return [[bitmaps[levels[levels.length - 1][1]], 1]];
  }

  const stats = { frames: 0, drawMs: 0 };
  function draw() {
    if (!bitmaps[M.steps.face]) return;
    const t = now();
    ease(Math.min(0.1, t - S.lastT));
    S.lastT = t;
    frameNo++;
    // a hand-held camera: a slow sway of a pixel or two (whole pixels: no resampling blur)
    const dx = Math.round(Math.sin(t * 1.3) * 1.5 + Math.sin(t * 3.1) * 0.5);
    const dy = Math.round(Math.cos(t * 1.1) * 1.0);
    ctx.globalAlpha = 1;
    ctx.globalCompositeOperation = "source-over";
    for (const [bitmap, alpha] of layers()) {
      if (!bitmap || alpha <= 0) continue;
      ctx.globalAlpha = Math.min(1, alpha);
      ctx.drawImage(bitmap, dx, dy);
    }
    // sensor grain and a moving bar (as the synthetic peer's)
    if (!grainPattern) grainPattern = ctx.createPattern(grain, "repeat");
    ctx.save();
    ctx.globalAlpha = 0.05;
    ctx.translate(Math.floor(Math.random() * 128), Math.floor(Math.random() * 128));
    ctx.fillStyle = grainPattern;
    ctx.fillRect(-128, -128, W + 128, H + 128);
    ctx.restore();
    ctx.globalAlpha = 1;
    ctx.fillStyle = "#282828";
    const barW = Math.floor(W / 8);
    ctx.fillRect((frameNo * 8) % (W - barW), H - 6, barW, 6);
    stats.frames++;
    stats.drawMs += (now() - t) * 1000;
  }

  let stream = null;
  async function cameraTrack() {
    await ready;
    if (!stream) {
      draw();
      stream = canvas.captureStream(C.fps);
      setInterval(draw, 1000 / C.fps);
    }
    const track = stream.getVideoTracks()[0].clone();
    Object.defineProperty(track, "label", { get: () => C.label, configurable: true });
    return track;
  }

  // --- getUserMedia: the fake device's audio, the canvas's video ---------------------------
  const md = navigator.mediaDevices;
  const nativeGUM = md.getUserMedia.bind(md);
  md.getUserMedia = async function getUserMedia(constraints) {
    const fake = await nativeGUM(constraints);  // the same errors as without the demo camera
    if (!constraints || !constraints.video) return fake;
    const out = new MediaStream();
    for (const t of fake.getVideoTracks()) t.stop();
    for (const t of fake.getAudioTracks()) out.addTrack(t);
    out.addTrack(await cameraTrack());
    return out;
  };
  window.__recognitionDemoCamera = { label: C.label, width: W, height: H, state: S, stats };
})();
"""
