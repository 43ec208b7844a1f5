// Full-resolution stills for the operator (docs/PROTOCOL.md, "Data channel control").
// The call video is often scaled down by the browser's encoder; a still is taken from the
// camera itself at its full resolution, encoded as JPEG q95 and sent over the data channel in
// chunks, the channel's buffer kept full.
//
// Why JPEG q95 (bench/bench_still_formats.py, the synthetic applicant at 1920x1080 with sensor
// noise ±8): the MRZ reading and the face detection give the same results as on a PNG for all
// 5 steps, at 0.30 of the PNG's bytes (880 KiB against 2960 KiB a still); WebP lossless is
// still 0.66 of the PNG (1951 KiB) and encodes 100 times slower (OpenCV: 1.9 s against 16 ms).
// Over aiortc's data channel the bytes are the time.

export const CHUNK_PAYLOAD = 60000;
// sent at once up to HIGH_WATER queued; refilled when the queue falls to LOW_WATER, which is
// large enough that the channel never runs dry while the page wakes up
const HIGH_WATER = 8 << 20;
const LOW_WATER = 2 << 20;
export const STILL_MIME = "image/jpeg";
export const STILL_QUALITY = 0.95;

export class StillError extends Error {
  constructor(reason) {
    super(reason);
    this.reason = reason;
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function uuidBytes(id) {
  if (typeof id !== "string") return null;
  const hex = id.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return null;
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

// The console refuses stills over 8192 px a side, 40 megapixels or 32 MiB (media/imagegate.py):
// bigger pictures are scaled down; a JPEG over 30 MiB (never seen) goes at a lower quality.
const MAX_SIDE = 8192;
const MAX_PIXELS = 40000000;
const MAX_STILL_BYTES = 30 * 1024 * 1024;

async function encode(canvas, type, quality) {
  if (typeof OffscreenCanvas !== "undefined" && canvas instanceof OffscreenCanvas) {
    return canvas.convertToBlob({ type, quality });
  }
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}

async function canvasToStill(source, srcWidth, srcHeight) {
  // (the pixel term keeps a margin of w + h so that rounding cannot take it over the limit)
  const scale = Math.min(1, MAX_SIDE / Math.max(srcWidth, srcHeight),
    Math.sqrt((MAX_PIXELS - srcWidth - srcHeight) / (srcWidth * srcHeight)));
  const width = Math.round(srcWidth * scale);
  const height = Math.round(srcHeight * scale);
  let canvas;
  if (typeof OffscreenCanvas !== "undefined") {
    canvas = new OffscreenCanvas(width, height);
  } else {
    canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
  }
  canvas.getContext("2d").drawImage(source, 0, 0, width, height);
  let blob = await encode(canvas, STILL_MIME, STILL_QUALITY);
  if (blob && blob.size > MAX_STILL_BYTES) blob = await encode(canvas, STILL_MIME, 0.85);
  if (!blob || blob.type !== STILL_MIME) throw new StillError("encode_failed");
  return { blob, mime: STILL_MIME, width, height, method: "" };
}

// takePhoto() when the camera's photo mode gives more pixels than the video stream (a phone or
// a webcam with a larger sensor mode); otherwise grabFrame() gives the same pixels losslessly and
// 4-5 times faster (measured here: 100-180 ms against 460-800 ms for takePhoto + PNG).
const photoCapabilities = new WeakMap();

async function photoHasMorePixels(capture, track) {
  if (!photoCapabilities.has(track)) {
    let caps = null;
    try {
      caps = await withTimeout(capture.getPhotoCapabilities(), 2000, "getPhotoCapabilities");
    } catch (err) {
      caps = null;
    }
    photoCapabilities.set(track, caps);
  }
  const caps = photoCapabilities.get(track);
  if (!caps || !caps.imageWidth || !caps.imageHeight) return false;
  const s = track.getSettings();
  return (caps.imageWidth.max || 0) * (caps.imageHeight.max || 0) > (s.width || 0) * (s.height || 0);
}

// The call's track is asked for 1280x720 (devicecheck.js); a camera with more pixels runs its
// source at full size and Chromium scales the call's track down. A clone of the track asked for
// the capabilities' maximum gives the source's own frames: grabFrame() on it takes 30-60 ms
// where takePhoto() took 900-1200 ms for the same 1920x1080 picture (fake camera, loaded
// 2-core machine). The clone is made once per track (prepareStills, when the call starts), ends
// with it, and never sends anything: it only feeds grabFrame().
const fullTracks = new WeakMap();
const captures = new WeakMap();

function pixels(w, h) {
  return (w || 0) * (h || 0);
}

export async function prepareStills(track) {
  if (!track || track.readyState !== "live" || typeof track.clone !== "function") return null;
  if (fullTracks.has(track)) return fullTracks.get(track);
  const pending = (async () => {
    let caps = {};
    try {
      caps = typeof track.getCapabilities === "function" ? track.getCapabilities() || {} : {};
    } catch (err) {
      caps = {};
    }
    const maxW = caps.width && caps.width.max;
    const maxH = caps.height && caps.height.max;
    const s = track.getSettings();
    if (!maxW || !maxH || pixels(maxW, maxH) <= pixels(s.width, s.height)) return null;
    const clone = track.clone();
    try {
      // (getSettings() of the clone still says the old size until a frame arrives: the size
      // of the grabbed frame is what is checked, in grabFull)
      await withTimeout(clone.applyConstraints({
        width: { exact: maxW }, height: { exact: maxH }, resizeMode: "none",
      }), 2000, "applyConstraints");
    } catch (err) {
      console.info("still: no full-resolution track:", err && (err.name || err.message));
      clone.stop();
      return null;
    }
    track.addEventListener("ended", () => clone.stop());
    return clone;
  })();
  fullTracks.set(track, pending);
  return pending;
}

// Stops the track's full-resolution clone (track.stop() fires no "ended": the page calls this
// whenever it stops the camera, or the clone would keep it open).
export function releaseStills(track) {
  const pending = fullTracks.get(track);
  fullTracks.delete(track);
  if (pending) pending.then((clone) => clone && clone.stop()).catch(() => {});
}

// The next frame of the track as a VideoFrame, read through a MediaStreamTrackProcessor made for
// this one still (Chromium): the frame the camera delivers next, 0-35 ms. ImageCapture's
// grabFrame() on the same clone took 1.8-2.2 s for one still in three (rejected with no reason,
// or late), measured with a 1920x1080 fake camera on a quiet machine (bench_applicant_page).
// Cancelling the reader does not stop the track.
async function nextVideoFrame(track) {
  const processor = new MediaStreamTrackProcessor({ track, maxBufferSize: 1 });
  const reader = processor.readable.getReader();
  try {
    const { value } = await withTimeout(reader.read(), 3000, "next frame");
    if (!value) throw new Error("the track ended");
    return { source: value, width: value.displayWidth, height: value.displayHeight };
  } finally {
    reader.cancel().catch(() => {});
  }
}

// The same through ImageCapture.grabFrame() (browsers without MediaStreamTrackProcessor).
async function grabbedFrame(track) {
  let capture = captures.get(track);
  if (!capture) {
    capture = new ImageCapture(track);
    captures.set(track, capture);
  }
  // (Chromium's grabFrame() now and then rejects with no reason at all: a second try has always
  // worked here, and costs one frame, not a takePhoto)
  for (let attempt = 1; ; attempt++) {
    try {
      const frame = await withTimeout(capture.grabFrame(), 3000, "grabFrame");
      return { source: frame, width: frame.width, height: frame.height };
    } catch (err) {
      if (attempt >= 3) throw err || new Error("grabFrame failed");
      console.info("still: grabFrame failed, once more:", String(err));
    }
  }
}

// The camera's next frame, {source, width, height} (close the source when done).
function nextFrame(track) {
  return typeof MediaStreamTrackProcessor !== "undefined"
    ? nextVideoFrame(track) : grabbedFrame(track);
}

async function grabFull(track) {
  const full = await prepareStills(track);
  if (!full || full.readyState !== "live") return null;
  full.enabled = track.enabled;
  const t0 = performance.now();
  const frame = await nextFrame(full);
  try {
    const s = track.getSettings();
    if (pixels(frame.width, frame.height) <= pixels(s.width, s.height)) return null;
    const t1 = performance.now();
    const still = await canvasToStill(frame.source, frame.width, frame.height);
    still.grabMs = Math.round(t1 - t0);
    still.method = "full_frame";
    return still;
  } finally {
    frame.source.close();
  }
}

// Returns {blob, mime, width, height, method}: a JPEG (q95) of the camera's full resolution.
export async function captureStill(track, videoEl) {
  if (!track || track.readyState !== "live") throw new StillError("no_camera");
  if (!track.enabled) throw new StillError("camera_off");
  if (typeof ImageCapture !== "undefined") {
    try {
      const still = await grabFull(track);
      if (still) return still;
    } catch (err) {
      console.info("still: full-resolution frame failed, falling back:", String(err));
    }
    let capture = null;
    try {
      capture = new ImageCapture(track);
    } catch (err) {
      console.info("still: ImageCapture unavailable:", err && err.name);
    }
    if (capture && (await photoHasMorePixels(capture, track))) {
      try {
        const photo = await withTimeout(capture.takePhoto(), 5000, "takePhoto");
        // re-encoded whatever the camera gave (its PNG would be 3-4 times the bytes)
        const bitmap = await createImageBitmap(photo);
        const still = await canvasToStill(bitmap, bitmap.width, bitmap.height);
        bitmap.close();
        still.method = "take_photo";
        return still;
      } catch (err) {
        console.info("still: takePhoto failed, falling back:", err && (err.name || err.message));
      }
    }
    if (capture) {
      try {
        const frame = await nextFrame(track);
        try {
          const still = await canvasToStill(frame.source, frame.width, frame.height);
          still.method = "grab_frame";
          return still;
        } finally {
          frame.source.close();
        }
      } catch (err) {
        console.info("still: grabFrame failed, falling back:", err && (err.name || err.message));
      }
    }
  }
  // Fallback: the <video> element at the track's own size (its intrinsic size, not the
  // size it is shown at).
  const s = track.getSettings();
  const width = s.width || videoEl.videoWidth;
  const height = s.height || videoEl.videoHeight;
  if (!width || !height || videoEl.readyState < 2) throw new StillError("no_frame");
  const still = await canvasToStill(videoEl, width, height);
  still.method = "video_frame";
  return still;
}

function waitBufferedLow(dc) {
  return new Promise((resolve, reject) => {
    const done = () => {
      dc.removeEventListener("bufferedamountlow", done);
      dc.removeEventListener("close", closed);
      resolve();
    };
    const closed = () => {
      dc.removeEventListener("bufferedamountlow", done);
      dc.removeEventListener("close", closed);
      reject(new StillError("channel_closed"));
    };
    dc.addEventListener("bufferedamountlow", done);
    dc.addEventListener("close", closed);
  });
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

// Sends still_begin, the binary chunks and still_end, respecting bufferedAmount.
export async function sendStill(dc, id, still) {
  const idBytes = uuidBytes(id);
  if (!idBytes) throw new StillError("bad_request");
  const bytes = new Uint8Array(await still.blob.arrayBuffer());
  const digest = hex(await crypto.subtle.digest("SHA-256", bytes));
  const chunks = Math.ceil(bytes.length / CHUNK_PAYLOAD);
  dc.bufferedAmountLowThreshold = LOW_WATER;
  if (dc.readyState !== "open") throw new StillError("channel_closed");
  dc.send(JSON.stringify({
    type: "still_begin",
    id,
    mime: still.mime,
    width: still.width,
    height: still.height,
    size: bytes.length,
    sha256: digest,
    chunks,
  }));
  for (let index = 0; index < chunks; index++) {
    if (dc.bufferedAmount > HIGH_WATER) await waitBufferedLow(dc);
    if (dc.readyState !== "open") throw new StillError("channel_closed");
    const payload = bytes.subarray(index * CHUNK_PAYLOAD, (index + 1) * CHUNK_PAYLOAD);
    const msg = new Uint8Array(20 + payload.length);
    msg.set(idBytes, 0);
    new DataView(msg.buffer).setUint32(16, index, false);
    msg.set(payload, 20);
    dc.send(msg.buffer);
  }
  dc.send(JSON.stringify({ type: "still_end", id }));
  return { size: bytes.length, chunks, sha256: digest };
}
