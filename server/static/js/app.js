// The applicant's page: landing → device check → consent → waiting room → call → ended.
// Contract with the desk service and the console: docs/PROTOCOL.md.

import { applyTranslations, getLanguage, LANGUAGES, setLanguage, setText, tr } from "./i18n.js";
import { Signaling } from "./signaling.js";
import { checkCamera, checkConnection, checkMicrophone, LevelMeter, openDevices } from "./devicecheck.js";
import { Call } from "./call.js";
import { prepareStills, releaseStills } from "./still.js";

const $ = (id) => document.getElementById(id);
const STEP_ORDER = ["landing", "check", "consent", "waiting", "call"];
const FINAL_STATES = new Set(["approved", "rejected"]);
const INSTRUCTION_SHOW_MS = 15000;

const state = {
  view: "landing",
  serverState: null,
  consentGiven: false,
  stream: null,
  meter: null,
  checkOk: false,
  checkRunning: false,
  call: null,
  iceServers: [],
  hungUp: false,
  ended: false,
  languageChosen: false,
};

// Exposed read-only for diagnostics (and the browser tests); holds no personal data.
window.recognitionPage = {
  get view() { return state.view; },
  get serverState() { return state.serverState; },
  get connectionState() { return state.call && state.call.pc ? state.call.pc.connectionState : null; },
  get peerGeneration() { return state.call ? state.call.generation : 0; },
  get stillsSent() { return state.call ? state.call.stillsSent : 0; },
  get lastStillMethod() { return state.call ? state.call.lastStillMethod : null; },
  get videoMaxKbps() { return state.call ? state.call.videoMaxKbps || null : null; },
};

function joinToken() {
  const parts = location.pathname.split("/").filter(Boolean);
  const i = parts.indexOf("join");
  const raw = i >= 0 && parts.length > i + 1 ? parts[i + 1] : parts[parts.length - 1] || "";
  try {
    return decodeURIComponent(raw);
  } catch (err) {
    return raw;
  }
}

const signaling = new Signaling(joinToken());

// ---------------------------------------------------------------- language

function switchLanguage(lang, chosen) {
  setLanguage(lang);
  if (chosen) {
    state.languageChosen = true;
    try {
      localStorage.setItem("recognition.lang", getLanguage());
    } catch (err) {
      // storage may be disabled; the choice then lasts for this page only
    }
  }
  document.documentElement.lang = getLanguage();
  document.querySelectorAll(".lang-btn").forEach((b) => {
    b.setAttribute("aria-pressed", String(b.dataset.lang === getLanguage()));
  });
  applyTranslations(document);
  document.title = tr("app.title");
}

function initialLanguage() {
  const q = new URLSearchParams(location.search).get("lang");
  if (q && LANGUAGES.includes(q)) {
    state.languageChosen = true;
    return q;
  }
  try {
    const saved = localStorage.getItem("recognition.lang");
    if (saved && LANGUAGES.includes(saved)) {
      state.languageChosen = true;
      return saved;
    }
  } catch (err) {
    // no storage
  }
  return "it";
}

// ---------------------------------------------------------------- views

function showView(view) {
  state.view = view;
  document.body.dataset.view = view;
  document.querySelectorAll(".view").forEach((el) => {
    el.hidden = el.id !== `view-${view}`;
  });
  const idx = STEP_ORDER.indexOf(view);
  document.querySelectorAll(".steps li").forEach((li) => {
    const i = STEP_ORDER.indexOf(li.dataset.step);
    li.classList.toggle("done", idx > i || view === "ended");
    li.classList.toggle("current", i === idx);
    if (i === idx) li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
  });
  const heading = document.querySelector(`#view-${view} h1`);
  if (heading) heading.focus({ preventScroll: true });
  if (view !== "check" && state.meter) {
    state.meter.stop();
    state.meter = null;
  }
  if (view === "waiting" && state.stream) attach($("waiting-video"), state.stream);
}

function attach(videoEl, stream) {
  if (videoEl.srcObject !== stream) videoEl.srcObject = stream;
  videoEl.play().catch(() => {});
}

function banner(key) {
  const el = $("conn-banner");
  if (!key) {
    el.hidden = true;
    setText(el, null);
    return;
  }
  setText(el, key);
  el.hidden = false;
}

function showEnded(key, kind, canRejoin) {
  state.ended = true;
  if (state.call) state.call.close();
  signaling.close();
  banner(null);
  stopStream();
  setText($("ended-text"), key);
  $("ended-icon").dataset.kind = kind;
  $("btn-rejoin").hidden = !canRejoin;
  showView("ended");
}

function stopStream() {
  if (state.meter) {
    state.meter.stop();
    state.meter = null;
  }
  if (state.stream) {
    state.stream.getVideoTracks().forEach(releaseStills); // the clone holds the camera too
    state.stream.getTracks().forEach((t) => t.stop());
  }
  state.stream = null;
  for (const id of ["check-video", "waiting-video", "self-video"]) $(id).srcObject = null;
}

// ---------------------------------------------------------------- device check

function setItem(name, result, statusKey, msgKey, params) {
  const li = $(`check-${name}`);
  li.dataset.result = result;
  setText(li.querySelector(".check-status"), statusKey);
  setText(li.querySelector(".check-msg"), msgKey, params);
}

const STATUS_KEY = { ok: "check.ok", warn: "check.warn", fail: "check.fail" };

function setMeter(level) {
  const m = $("mic-meter");
  m.setAttribute("aria-valuenow", String(level));
  m.querySelector(".meter-fill").style.width = `${level}%`;
}

async function runDeviceCheck() {
  if (state.checkRunning) return;
  state.checkRunning = true;
  state.checkOk = false;
  $("btn-check-run").disabled = true;
  $("btn-check-continue").disabled = true;
  setText($("check-summary"), null);
  for (const n of ["camera", "microphone", "connection"]) setItem(n, "running", "check.running", null);
  stopStream();

  const details = {};
  const opened = await openDevices();
  state.stream = opened.stream;
  prepareFullResolution(state.stream);

  // camera
  const GLOBAL = new Set(["unsupported", "insecure"]);
  let cam;
  if (opened.camera && GLOBAL.has(opened.camera.code)) cam = { result: "fail", code: opened.camera.code };
  else cam = await checkCamera(opened.stream, $("check-video"), opened.camera);
  details.camera = { ok: cam.result !== "fail", ...cam };
  if (GLOBAL.has(cam.code)) setItem("camera", "fail", "check.fail", `check.${cam.code}`);
  else setItem("camera", cam.result, STATUS_KEY[cam.result], `check.camera.${cam.code}`, { width: cam.width, height: cam.height });

  // microphone
  const audioTrack = opened.stream.getAudioTracks()[0];
  if (audioTrack && !opened.microphone) {
    try {
      state.meter = new LevelMeter(audioTrack, setMeter);
    } catch (err) {
      console.warn("devicecheck: no audio meter:", err && err.name);
      state.meter = null;
    }
  }
  let mic;
  if (opened.microphone && GLOBAL.has(opened.microphone.code)) mic = { result: "fail", code: opened.microphone.code };
  else mic = await checkMicrophone(opened.stream, opened.microphone, state.meter);
  details.microphone = { ok: mic.result !== "fail", ...mic };
  if (GLOBAL.has(mic.code)) setItem("microphone", "fail", "check.fail", `check.${mic.code}`);
  else setItem("microphone", mic.result, STATUS_KEY[mic.result], `check.microphone.${mic.code}`);

  // connection
  const conn = await checkConnection(signaling);
  details.connection = { ok: conn.result !== "fail", ...conn };
  setItem("connection", conn.result, STATUS_KEY[conn.result], `check.connection.${conn.code}`, { rtt: conn.rtt_ms });

  const ok = details.camera.ok && details.microphone.ok && details.connection.ok;
  details.user_agent = navigator.userAgent;
  signaling.send({ type: "device_check", ok, details });
  state.checkOk = ok;
  setText($("check-summary"), ok ? "check.summary.ok" : "check.summary.fail");
  $("check-summary").dataset.result = ok ? "ok" : "fail";
  setText($("btn-check-run"), "check.retry");
  $("btn-check-run").disabled = false;
  $("btn-check-continue").disabled = !ok;
  state.checkRunning = false;
  if (ok) $("btn-check-continue").focus();
}

// ---------------------------------------------------------------- consent

function updateConsentButton() {
  const both = $("consent-recording").checked && $("consent-terms").checked;
  $("btn-consent").setAttribute("aria-disabled", String(!both));
  if (both) $("consent-error").hidden = true;
}

function submitConsent(ev) {
  ev.preventDefault();
  const recording = $("consent-recording").checked;
  const terms = $("consent-terms").checked;
  if (!recording || !terms) {
    $("consent-error").hidden = false;
    ($("consent-recording").checked ? $("consent-terms") : $("consent-recording")).focus();
    return;
  }
  signaling.send({ type: "consent", recording: true, terms: true });
  state.consentGiven = true;
  showView("waiting");
}

// ---------------------------------------------------------------- waiting room

function showQueue(msg) {
  const pos = Number(msg.position);
  const wait = Number(msg.estimated_wait_s);
  const posEl = $("queue-position");
  const waitEl = $("queue-wait");
  if (Number.isFinite(pos) && pos >= 1) {
    posEl.removeAttribute("data-i18n");
    posEl.textContent = String(pos);
    posEl.dataset.position = String(pos);
  } else {
    setText(posEl, "waiting.unknown");
  }
  if (Number.isFinite(pos) && pos === 1 && (!Number.isFinite(wait) || wait < 60)) {
    setText(waitEl, "waiting.first");
  } else if (Number.isFinite(wait) && wait >= 0) {
    if (wait < 60) setText(waitEl, "waiting.lessminute");
    else setText(waitEl, "waiting.minutes", { n: Math.round(wait / 60) });
  } else {
    setText(waitEl, "waiting.unknown");
  }
}

// ---------------------------------------------------------------- call

let instructionTimer = null;
let toastTimer = null;

function showInstruction(code) {
  const box = $("instruction");
  if (instructionTimer) clearTimeout(instructionTimer);
  if (!code || code === "clear") {
    box.hidden = true;
    return;
  }
  const key = tr(`instr.${code}`) === `instr.${code}` ? "instr.generic" : `instr.${code}`;
  setText($("instruction-text"), key);
  box.dataset.code = code;
  box.hidden = false;
  instructionTimer = setTimeout(() => {
    box.hidden = true;
  }, INSTRUCTION_SHOW_MS);
}

// a liveness challenge: its text and a countdown, hidden when the time is up
let challengeTimer = null;

function showChallenge(ch) {
  const box = $("challenge");
  if (challengeTimer) clearInterval(challengeTimer);
  $("instruction").hidden = true;
  setText($("challenge-text"), `challenge.${ch.code}`);
  setText($("challenge-step"), "challenge.step", { index: ch.index, count: ch.count });
  box.dataset.code = ch.code;
  box.dataset.id = ch.id;
  const end = performance.now() + ch.seconds * 1000;
  const tick = () => {
    const left = Math.max(0, Math.ceil((end - performance.now()) / 1000));
    setText($("challenge-countdown"), "challenge.countdown", { seconds: left });
    if (left <= 0) {
      clearInterval(challengeTimer);
      challengeTimer = null;
      box.hidden = true;
    }
  };
  tick();
  box.hidden = false;
  challengeTimer = setInterval(tick, 200);
}

function toast(key) {
  const el = $("call-toast");
  setText(el, key);
  el.hidden = false;
  if (toastTimer) clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 4000);
}

function setCallStatus(key, st) {
  const el = $("call-status");
  el.dataset.state = st;
  setText(el, key);
  // while there is no operator video, say it in the middle of the stage too
  setText($("stage-msg-text"), key);
  $("stage-msg").hidden = st === "connected";
  $("stage-msg").dataset.state = st;
}

// The full-resolution clone of the camera track for stills (still.js), made when the camera
// opens: asking the camera for its full size may restart it for a second or two, which must
// happen before the call, not during its first stills (measured: a 1.4-1.8 s stall of the
// second still when the clone was made as the call's channel opened).
function prepareFullResolution(stream) {
  const track = stream && stream.getVideoTracks()[0];
  if (track) prepareStills(track).catch(() => {});
}

async function ensureStream() {
  if (state.stream && state.stream.getTracks().some((t) => t.readyState === "live")) return state.stream;
  const opened = await openDevices();
  state.stream = opened.stream;
  prepareFullResolution(state.stream);
  return state.stream;
}

function ensureCall() {
  if (state.call) return state.call;
  const call = new Call(state.stream, { remoteVideo: $("remote-video"), selfVideo: $("self-video") },
    (msg) => signaling.send(msg), state.iceServers);
  call.addEventListener("state", (ev) => {
    const s = ev.detail;
    if (s === "connected") setCallStatus("call.connected", "connected");
    else if (s === "connecting" || s === "new") setCallStatus("call.connecting", "connecting");
    else if (s === "failed" || s === "disconnected") setCallStatus("call.reconnecting", "reconnecting");
    else if (s === "error") setCallStatus("call.error", "error");
  });
  call.addEventListener("instruction", (ev) => showInstruction(ev.detail.code));
  call.addEventListener("challenge", (ev) => showChallenge(ev.detail));
  call.addEventListener("still", (ev) => {
    if (ev.detail.ok) toast("call.still");
    else if (ev.detail.reason === "camera_off") toast("call.still.camera_off");
  });
  state.call = call;
  return call;
}

async function onOffer(msg) {
  if (state.ended || state.hungUp) return;
  if (typeof msg.sdp !== "string" || !msg.sdp) {
    console.warn("call: ignored an offer without SDP");
    return;
  }
  await ensureStream();
  const call = ensureCall();
  call.stream = state.stream;
  for (const track of state.stream.getVideoTracks()) {
    track.onended = () => {
      if (state.view === "call" && !state.ended) setCallStatus("call.camera_lost", "error");
    };
  }
  if (state.view !== "call") showView("call");
  attach($("self-video"), state.stream);
  updateCallButtons();
  const servers = Array.isArray(msg.ice_servers) ? msg.ice_servers : undefined;
  await call.handleOffer(msg.sdp, servers);
}

function updateCallButtons() {
  const stream = state.stream;
  const audio = stream && stream.getAudioTracks()[0];
  const video = stream && stream.getVideoTracks()[0];
  const muted = !audio || !audio.enabled;
  const camOff = !video || !video.enabled;
  const mute = $("btn-mute");
  mute.setAttribute("aria-pressed", String(muted));
  const muteKey = muted ? "call.unmute" : "call.mute";
  mute.setAttribute("data-i18n-attr", `aria-label:${muteKey};title:${muteKey}`);
  const cam = $("btn-camera");
  cam.setAttribute("aria-pressed", String(camOff));
  const camKey = camOff ? "call.camera_on" : "call.camera_off";
  cam.setAttribute("data-i18n-attr", `aria-label:${camKey};title:${camKey}`);
  const flags = $("self-flags");
  if (camOff) setText(flags, "call.camera_is_off");
  else if (muted) setText(flags, "call.muted");
  else setText(flags, null);
  $("view-call").classList.toggle("camera-off", camOff);
  applyTranslations($("view-call"));
}

function toggleTrack(kind) {
  if (!state.stream) return;
  const track = kind === "audio" ? state.stream.getAudioTracks()[0] : state.stream.getVideoTracks()[0];
  if (track) track.enabled = !track.enabled;
  updateCallButtons();
}

function hangUp() {
  state.hungUp = true;
  signaling.send({ type: "hangup" });
  showEnded("ended.hangup", "neutral", true);
}

// ---------------------------------------------------------------- signaling messages

function onWelcome(msg) {
  if (!state.languageChosen && typeof msg.language === "string" && LANGUAGES.includes(msg.language)) {
    switchLanguage(msg.language, false);
  }
  if (Array.isArray(msg.ice_servers)) state.iceServers = msg.ice_servers;
  const productEl = $("landing-product");
  if (typeof msg.product === "string" && tr(`product.${msg.product}`) !== `product.${msg.product}`) {
    setText($("landing-product-name"), `product.${msg.product}`);
    productEl.dataset.product = msg.product;
    productEl.hidden = false;
  }
  const st = typeof msg.state === "string" ? msg.state : null;
  state.serverState = st;
  if (st && FINAL_STATES.has(st)) {
    showEnded(`ended.${st}`, st === "approved" ? "success" : "failure", false);
    return;
  }
  if (st === "waiting" || st === "in_call") state.consentGiven = true;
  // A reload while waiting: the camera needs checking again, the consent does not.
}

function onMessage(msg) {
  switch (msg.type) {
    case "welcome":
      onWelcome(msg);
      break;
    case "queue":
      state.serverState = "waiting";
      showQueue(msg);
      break;
    case "operator_assigned": {
      const el = $("operator-assigned");
      if (typeof msg.operator === "string" && msg.operator) setText(el, "waiting.assigned", { name: msg.operator });
      else setText(el, "waiting.assigned.anon");
      el.hidden = false;
      break;
    }
    case "offer":
      onOffer(msg).catch((err) => {
        console.warn("call: offer failed:", err && (err.name || err.message));
        setCallStatus("call.error", "error");
      });
      break;
    case "peer_left":
      if (msg.role === "operator" && state.view === "call") {
        if (state.call) state.call.closePeer();
        showInstruction(null);
        setCallStatus("call.operator_left", "reconnecting");
      }
      break;
    case "ended": {
      const st = typeof msg.state === "string" ? msg.state : "";
      state.serverState = st || state.serverState;
      if (state.hungUp && st !== "approved" && st !== "rejected") break;
      const kind = st === "approved" ? "success" : st === "rejected" ? "failure" : "neutral";
      const key = ["approved", "rejected", "suspended"].includes(st) ? `ended.${st}` : "ended.generic";
      showEnded(key, kind, st === "suspended");
      break;
    }
    case "error":
      // the service refused something we sent (consent_required, invalid_state, no_session…)
      console.warn("signaling: service error", typeof msg.code === "string" ? msg.code : "");
      break;
    default:
      break; // heartbeats and future message types
  }
}

// ---------------------------------------------------------------- wiring

function init() {
  switchLanguage(initialLanguage(), false);
  document.querySelectorAll(".lang-btn").forEach((b) => {
    b.addEventListener("click", () => switchLanguage(b.dataset.lang, true));
  });
  $("btn-start").addEventListener("click", () => showView("check"));
  $("btn-check-back").addEventListener("click", () => showView("landing"));
  $("btn-check-run").addEventListener("click", () => {
    runDeviceCheck().catch((err) => {
      console.warn("devicecheck: failed:", err && (err.name || err.message));
      state.checkRunning = false;
      $("btn-check-run").disabled = false;
    });
  });
  $("btn-check-continue").addEventListener("click", () => {
    if (!state.checkOk) return;
    showView(state.consentGiven ? "waiting" : "consent");
  });
  $("consent-recording").addEventListener("change", updateConsentButton);
  $("consent-terms").addEventListener("change", updateConsentButton);
  $("consent-form").addEventListener("submit", submitConsent);
  $("btn-consent-back").addEventListener("click", () => showView("check"));
  $("btn-mute").addEventListener("click", () => toggleTrack("audio"));
  $("btn-camera").addEventListener("click", () => toggleTrack("video"));
  const dialog = $("hangup-dialog");
  $("btn-hangup").addEventListener("click", () => {
    if (typeof dialog.showModal === "function") dialog.showModal();
    else hangUp();
  });
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "hangup") hangUp();
  });
  $("btn-rejoin").addEventListener("click", () => location.reload());

  signaling.addEventListener("message", (ev) => onMessage(ev.detail));
  signaling.addEventListener("open", (ev) => {
    if (ev.detail.reconnected) {
      banner("conn.restored");
      setTimeout(() => banner(null), 3000);
    } else {
      banner(null);
    }
  });
  signaling.addEventListener("lost", () => {
    if (!state.ended) banner("conn.lost");
  });
  signaling.addEventListener("final", (ev) => {
    banner(null);
    if (state.ended) return;
    if (ev.detail.code === 4409) showEnded("ended.replaced", "neutral", false);
    else showEnded("ended.invalid", "failure", false);
  });
  showView("landing");
  signaling.connect();
}

init();
