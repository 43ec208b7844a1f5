// Full-resolution stills for the operator (docs/PROTOCOL.md, "Data channel control").
// The call video is often scaled down by the browser's encoder; a still is taken from the
// camera itself, encoded as PNG (lossless) and sent over the data channel in chunks.

export const CHUNK_PAYLOAD = 60000;
const HIGH_WATER = 1 << 20; // wait when more than 1 MiB is queued
const LOW_WATER = 256 * 1024;

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
// bigger pictures are scaled down; a PNG over 30 MiB (a 12-megapixel phone photo) goes as a
// high-quality JPEG instead.
const MAX_SIDE = 8192;
const MAX_PIXELS = 40000000;
const MAX_PNG_BYTES = 30 * 1024 * 1024;

async function encode(canvas, type, quality) {
  if (typeof OffscreenCanvas !== "undefined" && canvas instanceof OffscreenCanvas) {
    return canvas.convertToBlob({ type, quality });
  }
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}

async function canvasToPng(source, srcWidth, srcHeight) {
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
  let blob = await encode(canvas, "image/png");
  let mime = "image/png";
  if (blob && blob.size > MAX_PNG_BYTES) {
    blob = await encode(canvas, "image/jpeg", 0.95);
    mime = "image/jpeg";
  }
  if (!blob) throw new StillError("encode_failed");
  return { blob, mime, width, height, method: "" };
}

// Width and height from a PNG's IHDR chunk (null when the bytes are not a PNG).
async function pngSize(blob) {
  const head = new Uint8Array(await blob.slice(0, 24).arrayBuffer());
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (head.length < 24 || sig.some((b, i) => head[i] !== b)) return null;
  if (String.fromCharCode(...head.subarray(12, 16)) !== "IHDR") return null;
  const view = new DataView(head.buffer);
  const width = view.getUint32(16, false);
  const height = view.getUint32(20, false);
  return width > 0 && height > 0 ? { width, height } : null;
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

// Returns {blob, mime, width, height, method}: PNG unless that would be too big.
export async function captureStill(track, videoEl) {
  if (!track || track.readyState !== "live") throw new StillError("no_camera");
  if (!track.enabled) throw new StillError("camera_off");
  if (typeof ImageCapture !== "undefined") {
    let capture = null;
    try {
      capture = new ImageCapture(track);
    } catch (err) {
      console.info("still: ImageCapture unavailable:", err && err.name);
    }
    if (capture && (await photoHasMorePixels(capture, track))) {
      try {
        const photo = await withTimeout(capture.takePhoto(), 5000, "takePhoto");
        const size = photo.type === "image/png" ? await pngSize(photo) : null;
        if (size && size.width <= MAX_SIDE && size.height <= MAX_SIDE
            && size.width * size.height <= MAX_PIXELS && photo.size <= MAX_PNG_BYTES) {
          // already lossless: send the camera's own PNG as it is
          return { blob: photo, mime: "image/png", ...size, method: "take_photo" };
        }
        const bitmap = await createImageBitmap(photo);
        const png = await canvasToPng(bitmap, bitmap.width, bitmap.height);
        bitmap.close();
        png.method = "take_photo";
        return png;
      } catch (err) {
        console.info("still: takePhoto failed, falling back:", err && (err.name || err.message));
      }
    }
    if (capture) {
      try {
        const frame = await withTimeout(capture.grabFrame(), 3000, "grabFrame");
        const png = await canvasToPng(frame, frame.width, frame.height);
        frame.close();
        png.method = "grab_frame";
        return png;
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
  const png = await canvasToPng(videoEl, width, height);
  png.method = "video_frame";
  return png;
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
