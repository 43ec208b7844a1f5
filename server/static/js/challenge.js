// Liveness challenges (docs/PROTOCOL.md, "challenge"): the console asks for a head movement
// with a countdown. The same rules as media/challenge.py: an invalid message is refused with a
// reason (`challenge_error`) and nothing is shown.

export const CHALLENGE_CODES = new Set(["turn_left", "turn_right", "look_up", "blink", "move_closer"]);
export const MIN_SECONDS = 1;
export const MAX_SECONDS = 30;
export const MAX_COUNT = 10;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// -> {ok: true, challenge: {id, code, seconds, index, count}} or {ok: false, reason, id}
export function parseChallenge(msg) {
  const id = msg && typeof msg.id === "string" && UUID_RE.test(msg.id) ? msg.id : null;
  if (!id) return { ok: false, reason: "invalid_id", id: null };
  if (typeof msg.code !== "string" || !CHALLENGE_CODES.has(msg.code)) {
    return { ok: false, reason: "invalid_code", id };
  }
  const s = msg.seconds;
  if (typeof s !== "number" || !Number.isFinite(s) || s < MIN_SECONDS || s > MAX_SECONDS) {
    return { ok: false, reason: "invalid_seconds", id };
  }
  const index = msg.index === undefined ? 1 : msg.index;
  const count = msg.count === undefined ? 1 : msg.count;
  if (!Number.isInteger(index) || !Number.isInteger(count) || count < 1 || count > MAX_COUNT
      || index < 1 || index > count) {
    return { ok: false, reason: "invalid_index", id };
  }
  return { ok: true, challenge: { id, code: msg.code, seconds: s, index, count } };
}
