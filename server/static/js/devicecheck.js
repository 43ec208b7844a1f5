// Device check: camera, microphone, connection. Each item ends as ok / warn / fail with a
// message code (a key of i18n.js) that tells the applicant what to do.

export const VIDEO_CONSTRAINTS = {
  width: { ideal: 1280 },
  height: { ideal: 720 },
  frameRate: { ideal: 30 },
};

const MIN_PIXELS = 640 * 480;
const SLOW_RTT_MS = 400;
const SILENCE_DB = -55;

function errorCode(err) {
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
    return "denied";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
    return "missing";
  }
  if (name === "NotReadableError" || name === "AbortError" || name === "TrackStartError") {
    return "busy";
  }
  return "error";
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Opens camera and microphone together (one permission prompt); when that fails, each alone,
// so that the check says which one is the problem.
export async function openDevices() {
  const result = { stream: new MediaStream(), camera: null, microphone: null };
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    const code = window.isSecureContext === false ? "insecure" : "unsupported";
    result.camera = { code };
    result.microphone = { code };
    return result;
  }
  try {
    const s = await navigator.mediaDevices.getUserMedia({ video: VIDEO_CONSTRAINTS, audio: true });
    s.getTracks().forEach((t) => result.stream.addTrack(t));
    return result;
  } catch (err) {
    console.info("devicecheck: camera+microphone together failed:", err && err.name);
  }
  try {
    const v = await navigator.mediaDevices.getUserMedia({ video: VIDEO_CONSTRAINTS });
    v.getTracks().forEach((t) => result.stream.addTrack(t));
  } catch (err) {
    result.camera = { code: errorCode(err) };
  }
  try {
    const a = await navigator.mediaDevices.getUserMedia({ audio: true });
    a.getTracks().forEach((t) => result.stream.addTrack(t));
  } catch (err) {
    result.microphone = { code: errorCode(err) };
  }
  return result;
}

// Waits until the <video> shows real frames; returns the track's settings.
export async function checkCamera(stream, videoEl, opened) {
  if (opened) return { result: "fail", code: opened.code };
  const track = stream.getVideoTracks()[0];
  if (!track || track.readyState !== "live") return { result: "fail", code: "missing" };
  videoEl.srcObject = stream;
  try {
    await videoEl.play();
  } catch (err) {
    // autoplay of a muted element normally works; frames are checked below anyway
  }
  const deadline = performance.now() + 6000;
  while (videoEl.videoWidth === 0 && performance.now() < deadline) await sleep(100);
  if (videoEl.videoWidth === 0) return { result: "fail", code: "error" };
  const s = track.getSettings();
  const width = s.width || videoEl.videoWidth;
  const height = s.height || videoEl.videoHeight;
  const fps = s.frameRate ? Math.round(s.frameRate) : null;
  const low = width * height < MIN_PIXELS;
  return { result: low ? "warn" : "ok", code: low ? "low" : "ok", width, height, frame_rate: fps };
}

// A running level meter on the microphone. onLevel(0..100) is called ~10 times a second.
export class LevelMeter {
  constructor(track, onLevel) {
    this.peakDb = -Infinity;
    this.ctx = null;
    this.timer = null;
    this.onLevel = onLevel;
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    this.ctx = new Ctx();
    const source = this.ctx.createMediaStreamSource(new MediaStream([track]));
    this.analyser = this.ctx.createAnalyser();
    this.analyser.fftSize = 2048;
    source.connect(this.analyser);
    this.buf = new Float32Array(this.analyser.fftSize);
    if (this.ctx.state === "suspended") this.ctx.resume().catch(() => {});
    this.timer = setInterval(() => this.tick(), 100);
  }

  tick() {
    this.analyser.getFloatTimeDomainData(this.buf);
    let sum = 0;
    for (let i = 0; i < this.buf.length; i++) sum += this.buf[i] * this.buf[i];
    const rms = Math.sqrt(sum / this.buf.length);
    const db = rms > 0 ? 20 * Math.log10(rms) : -100;
    if (db > this.peakDb) this.peakDb = db;
    const level = Math.max(0, Math.min(100, Math.round(((db + 60) / 60) * 100)));
    this.onLevel(level);
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.ctx) this.ctx.close().catch(() => {});
    this.ctx = null;
    this.onLevel(0);
  }
}

export async function checkMicrophone(stream, opened, meter, listenMs = 1500) {
  if (opened) return { result: "fail", code: opened.code };
  const track = stream.getAudioTracks()[0];
  if (!track || track.readyState !== "live") return { result: "fail", code: "missing" };
  if (!meter || !meter.ctx) return { result: "ok", code: "ok", peak_db: null };
  await sleep(listenMs);
  const peak = Number.isFinite(meter.peakDb) ? Math.round(meter.peakDb) : -100;
  if (peak < SILENCE_DB) return { result: "warn", code: "silent", peak_db: peak };
  return { result: "ok", code: "ok", peak_db: peak };
}

// WebSocket reachability (the signaling socket must be open) and the round-trip time to the
// service, as the median of a few tiny uncached requests.
export async function checkConnection(signaling, samples = 5) {
  const open = await signaling.waitOpen(5000);
  if (!open) return { result: "fail", code: "fail", websocket: false };
  const times = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    try {
      const resp = await fetch(`/static/rtt.txt?n=${Date.now()}-${i}`, { cache: "no-store" });
      await resp.arrayBuffer();
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
    } catch (err) {
      return { result: "fail", code: "fail", websocket: true };
    }
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const rtt = Math.max(1, Math.round(times[Math.floor(times.length / 2)]));
  const slow = rtt > SLOW_RTT_MS;
  return { result: slow ? "warn" : "ok", code: slow ? "slow" : "ok", websocket: true, rtt_ms: rtt };
}
