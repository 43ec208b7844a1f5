// The video call: one RTCPeerConnection per offer (the console is always the offerer; after a
// drop it sends a new offer and we build a new connection), and the `control` data channel.

import { parseChallenge } from "./challenge.js";
import { captureStill, prepareStills, sendStill, StillError } from "./still.js";

const ICE_GATHERING_MAX_MS = 2000;
const STATS_INTERVAL_MS = 2000;
const CAMERA_POLL_MS = 2000;
const CAMERA_TEXT_MAX = 128;
const QUALITY_LIMITATIONS = new Set(["none", "cpu", "bandwidth", "other"]);
// The call video at the camera's resolution (docs/PROTOCOL.md, "Call video"). Chromium's
// encoder starts at 300 kbps and scales the picture down while its bandwidth estimate grows
// (aiortc's REMB grows it slowly): on loopback it sent 320x180-640x360 for tens of seconds.
// A bitrate floor and start in the offer's video fmtp (x-google-*: Chromium reads them from the
// remote description) and a ceiling on the sender give 1280x720 at once. The degradation stays
// "balanced": with "maintain-resolution" a CPU-starved browser (the demo's canvas camera at
// load 13 on 2 cores) kept 1280x720 at so few frames that the console's liveness check
// analysed 5 frames in 10 s and could not decide; "balanced" gave 960x540 and 168 frames there.
// The start is above the floor: Chromium picks the first frame size from the start bitrate
// less the audio's share, and libwebrtc's default limits want 1500 kbps for 1280x720 alone; a
// start of 1500 kbps began at 960x540 and stayed there (no resolution change in 10 s on a quiet
// loopback, although the estimate had passed 2.5 Mbps); 2000 kbps gives 1280x720 from the start.
const VIDEO_MIN_KBPS = 1500;
const VIDEO_START_KBPS = 2000;
const VIDEO_MAX_KBPS = 4000;
// Once the call runs at its size, the ceiling comes down to what the evidence keeps: the
// console stores this video as it is sent (no second encode), within a budget of 15 MB a
// minute for the session's four streams (README, Performance), and re-encodes a stream above
// 2000 kbps. 1500 kbps holds 1280x720 at 30 fps; the size was chosen at the start.
const VIDEO_SETTLED_KBPS = 1500;
const VIDEO_SETTLE_MS = 5000;

// The offer with x-google-min/start/max-bitrate added to each video codec's fmtp line (codecs
// without one get one). Other lines are left as they are.
export function withVideoBitrate(sdp, minKbps = VIDEO_MIN_KBPS, startKbps = VIDEO_START_KBPS,
  maxKbps = VIDEO_MAX_KBPS) {
  if (typeof sdp !== "string") return sdp;
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
  const trailing = sdp.endsWith(eol);
  const lines = (trailing ? sdp.slice(0, -eol.length) : sdp).split(eol);
  const extra = `x-google-min-bitrate=${minKbps};x-google-start-bitrate=${startKbps}`
    + `;x-google-max-bitrate=${maxKbps}`;
  const out = [];
  let video = false;
  let fmtpSeen = new Set();
  let payloads = [];
  const flush = () => {
    if (!video) return;
    for (const pt of payloads) if (!fmtpSeen.has(pt)) out.push(`a=fmtp:${pt} ${extra}`);
  };
  for (const line of lines) {
    if (line.startsWith("m=")) {
      flush();
      video = line.startsWith("m=video");
      fmtpSeen = new Set();
      payloads = [];
    } else if (video && line.startsWith("a=rtpmap:")) {
      const m = /^a=rtpmap:(\d+) ([^/]+)/.exec(line);
      if (m && !/^(rtx|red|ulpfec|flexfec-03)$/i.test(m[2])) payloads.push(m[1]);
    } else if (video && line.startsWith("a=fmtp:")) {
      const m = /^a=fmtp:(\d+) (.*)$/.exec(line);
      if (m && payloads.includes(m[1]) && !m[2].includes("x-google-min-bitrate")) {
        fmtpSeen.add(m[1]);
        out.push(`a=fmtp:${m[1]} ${m[2]};${extra}`);
        continue;
      }
      if (m) fmtpSeen.add(m[1]);
    }
    out.push(line);
  }
  flush();
  return out.join(eol) + (trailing ? eol : "");
}

// The video sender at full resolution (no scaling asked for) with the bitrate ceiling; the
// browser still scales down when its CPU is short ("balanced", see above).
async function keepResolution(sender, maxKbps = VIDEO_MAX_KBPS) {
  if (!sender || !sender.track || sender.track.kind !== "video") return false;
  try {
    const params = sender.getParameters();
    params.degradationPreference = "balanced";
    if (!params.encodings || !params.encodings.length) params.encodings = [{}];
    for (const enc of params.encodings) {
      enc.scaleResolutionDownBy = 1;
      enc.maxBitrate = maxKbps * 1000;
    }
    await sender.setParameters(params);
    return true;
  } catch (err) {
    console.info("call: sender parameters not set:", err && (err.name || err.message));
    return false;
  }
}

function waitIceGathering(pc, maxMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(finish, maxMs);
    function finish() {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    }
    function check() {
      if (pc.iceGatheringState === "complete") finish();
    }
    pc.addEventListener("icegatheringstatechange", check);
  });
}

// Summarises getStats() as the `stats` message of the protocol.
export function summariseStats(report) {
  let video = null;
  let bytesSent = 0;
  let selectedPairId = null;
  let nominatedPair = null;
  report.forEach((r) => {
    if (r.type === "outbound-rtp") {
      bytesSent += r.bytesSent || 0;
      if (r.kind === "video" && (!video || (r.frameWidth || 0) > (video.frameWidth || 0))) video = r;
    } else if (r.type === "transport" && r.selectedCandidatePairId) {
      selectedPairId = r.selectedCandidatePairId;
    } else if (r.type === "candidate-pair" && r.nominated && r.state === "succeeded") {
      nominatedPair = r;
    }
  });
  const pair = (selectedPairId && report.get(selectedPairId)) || nominatedPair;
  const rtt = pair && typeof pair.currentRoundTripTime === "number" ? pair.currentRoundTripTime : null;
  let limitation = (video && video.qualityLimitationReason) || "none";
  if (!QUALITY_LIMITATIONS.has(limitation)) limitation = "other";
  return {
    type: "stats",
    width: (video && video.frameWidth) || 0,
    height: (video && video.frameHeight) || 0,
    fps: video && typeof video.framesPerSecond === "number" ? Math.round(video.framesPerSecond * 10) / 10 : 0,
    rtt_ms: rtt === null ? null : Math.round(rtt * 1000),
    quality_limitation: limitation,
    bytes_sent: bytesSent,
  };
}

function cameraText(value) {
  return typeof value === "string" ? value.slice(0, CAMERA_TEXT_MAX) : undefined;
}

function cameraNumber(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

// Summarises the camera track as the `camera` message of the protocol (injection signals):
// label, settings and the maxima getCapabilities() offers. Never deviceId nor groupId.
export function describeCamera(track) {
  if (!track) return null;
  const s = typeof track.getSettings === "function" ? track.getSettings() || {} : {};
  const settings = {};
  for (const key of ["width", "height", "frameRate", "aspectRatio"]) {
    const v = cameraNumber(s[key]);
    if (v !== undefined) settings[key] = v;
  }
  for (const key of ["resizeMode", "facingMode"]) {
    const v = cameraText(s[key]);
    if (v !== undefined) settings[key] = v;
  }
  const capabilities = {};
  let caps = {};
  try {
    caps = typeof track.getCapabilities === "function" ? track.getCapabilities() || {} : {};
  } catch (err) {
    caps = {};
  }
  for (const key of ["width", "height", "frameRate"]) {
    const max = caps[key] && cameraNumber(caps[key].max);
    if (max !== undefined) capabilities[key] = { max };
  }
  return { type: "camera", label: cameraText(track.label) || "", settings, capabilities };
}

export class Call extends EventTarget {
  // stream: the local camera+mic stream; els: {remoteVideo, selfVideo}; send(msg): signaling.
  constructor(stream, els, send, iceServers) {
    super();
    this.stream = stream;
    this.els = els;
    this.send = send;
    this.iceServers = Array.isArray(iceServers) ? iceServers : [];
    this.pc = null;
    this.dc = null;
    this.generation = 0;
    this.statsTimer = null;
    this.cameraTimer = null;
    this.stillBusy = false;
    this.stillQueue = Promise.resolve();
    this.stillsSent = 0;
    this.lastStillMethod = null;
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  async handleOffer(sdp, iceServers) {
    if (Array.isArray(iceServers)) this.iceServers = iceServers;
    this.closePeer();
    const generation = ++this.generation;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    const remote = new MediaStream();
    pc.addEventListener("track", (ev) => {
      remote.addTrack(ev.track);
      const v = this.els.remoteVideo;
      if (v.srcObject !== remote) v.srcObject = remote;
      v.play().catch(() => {});
    });
    pc.addEventListener("datachannel", (ev) => {
      if (ev.channel.label === "control") this.setupControl(ev.channel, pc);
    });
    let settled = false;
    pc.addEventListener("connectionstatechange", () => {
      if (this.pc !== pc) return;
      this.emit("state", pc.connectionState);
      if (pc.connectionState === "connected" && !settled) {
        settled = true;
        setTimeout(async () => {
          if (this.pc !== pc) return;
          for (const sender of pc.getSenders()) {
            if (await keepResolution(sender, VIDEO_SETTLED_KBPS)) this.videoMaxKbps = VIDEO_SETTLED_KBPS;
          }
        }, VIDEO_SETTLE_MS);
      }
    });
    for (const track of this.stream.getTracks()) pc.addTrack(track, this.stream);
    this.emit("state", "connecting");
    try {
      await pc.setRemoteDescription({ type: "offer", sdp: withVideoBitrate(sdp) });
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      for (const sender of pc.getSenders()) {
        if (await keepResolution(sender)) this.videoMaxKbps = VIDEO_MAX_KBPS;
      }
      await waitIceGathering(pc, ICE_GATHERING_MAX_MS);
    } catch (err) {
      console.warn("call: could not answer the offer:", err && (err.name || err.message));
      if (this.pc === pc) {
        this.closePeer();
        this.emit("state", "error");
      }
      return false;
    }
    if (generation !== this.generation) return false; // a newer offer replaced this one
    this.send({ type: "answer", sdp: pc.localDescription.sdp });
    return true;
  }

  setupControl(dc, pc) {
    dc.binaryType = "arraybuffer";
    this.dc = dc;
    const opened = () => {
      this.startStats(dc, pc);
      this.startCamera(dc, pc);
      // the full-resolution clone for stills, ready before the first still_request
      prepareStills(this.stream.getVideoTracks()[0]).catch(() => {});
    };
    dc.addEventListener("open", opened);
    if (dc.readyState === "open") opened();
    dc.addEventListener("close", () => {
      if (this.dc === dc) this.stopStats();
    });
    dc.addEventListener("message", (ev) => {
      if (typeof ev.data !== "string") return; // the console sends no binary messages
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (err) {
        console.warn("control: ignored a message that is not JSON");
        return;
      }
      if (!msg || typeof msg.type !== "string") return;
      this.onControl(dc, msg);
    });
  }

  onControl(dc, msg) {
    switch (msg.type) {
      case "ping":
        if (dc.readyState === "open") dc.send(JSON.stringify({ type: "pong", t: msg.t }));
        break;
      case "still_request":
        this.stillQueue = this.stillQueue.then(async () => {
          this.stillBusy = true;
          try {
            await this.answerStill(dc, msg);
          } finally {
            this.stillBusy = false;
          }
        });
        break;
      case "instruction":
        this.emit("instruction", { code: typeof msg.code === "string" ? msg.code : "" });
        break;
      case "challenge": {
        const parsed = parseChallenge(msg);
        if (!parsed.ok) {
          console.error(`call: invalid challenge refused (${parsed.reason})`);
          if (dc.readyState === "open") {
            dc.send(JSON.stringify({ type: "challenge_error", id: parsed.id, reason: parsed.reason }));
          }
          break;
        }
        this.emit("challenge", parsed.challenge);
        if (dc.readyState === "open") {
          dc.send(JSON.stringify({ type: "challenge_ack", id: parsed.challenge.id }));
        }
        break;
      }
      default:
        break;
    }
  }

  async answerStill(dc, msg) {
    const id = msg.id;
    const videoTrack = this.stream.getVideoTracks()[0];
    try {
      if (typeof id !== "string") throw new StillError("bad_request");
      const t0 = performance.now();
      const still = await captureStill(videoTrack, this.els.selfVideo);
      const t1 = performance.now();
      const sent = await sendStill(dc, id, still);
      this.stillsSent += 1;
      this.lastStillMethod = still.method;
      console.info(`still: ${still.width}x${still.height} ${still.mime} via ${still.method},`
        + ` ${sent.size} bytes in ${sent.chunks} chunks; capture+encode ${Math.round(t1 - t0)} ms,`
        + ` hash+queue ${Math.round(performance.now() - t1)} ms`);
      this.emit("still", { ok: true, width: still.width, height: still.height });
    } catch (err) {
      const reason = err instanceof StillError ? err.reason : "capture_failed";
      console.warn("still: failed:", reason, err && err.message);
      if (dc.readyState === "open") dc.send(JSON.stringify({ type: "still_error", id, reason }));
      this.emit("still", { ok: false, reason });
    }
  }

  startStats(dc, pc) {
    this.stopStats();
    const tick = async () => {
      if (dc.readyState !== "open" || this.pc !== pc) return;
      try {
        const report = await pc.getStats();
        if (dc.readyState === "open") dc.send(JSON.stringify(summariseStats(report)));
      } catch (err) {
        console.warn("stats: failed:", err && err.message);
      }
    };
    this.statsTimer = setInterval(tick, STATS_INTERVAL_MS);
  }

  stopStats() {
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    if (this.cameraTimer) clearInterval(this.cameraTimer);
    this.cameraTimer = null;
  }

  // The camera report: once when the channel opens, then only when the track's settings change
  // (polled; a new value is sent once two polls in a row agree, and never while a still is
  // being taken, which may reconfigure the camera for a moment).
  startCamera(dc, pc) {
    if (this.cameraTimer) clearInterval(this.cameraTimer);
    const send = (msg) => {
      try {
        if (dc.readyState === "open" && this.pc === pc) dc.send(JSON.stringify(msg));
      } catch (err) {
        console.warn("camera: not sent:", err && err.message);
      }
    };
    const describe = () => describeCamera(this.stream.getVideoTracks()[0]);
    const first = describe();
    if (!first) return;
    let sent = JSON.stringify(first);
    let seen = sent;
    send(first);
    this.cameraTimer = setInterval(() => {
      if (this.stillBusy) return;
      const now = describe();
      if (!now) return;
      const text = JSON.stringify(now);
      if (text !== seen) {
        seen = text;
        return;
      }
      if (text !== sent) {
        sent = text;
        send(now);
      }
    }, CAMERA_POLL_MS);
  }

  closePeer() {
    this.stopStats();
    if (this.dc) {
      try {
        this.dc.close();
      } catch (err) {
        // already closed
      }
    }
    this.dc = null;
    if (this.pc) {
      try {
        this.pc.close();
      } catch (err) {
        // already closed
      }
    }
    this.pc = null;
    this.els.remoteVideo.srcObject = null;
  }

  close() {
    this.generation += 1;
    this.closePeer();
  }
}
