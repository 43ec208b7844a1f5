// The applicant's WebSocket to the desk service (docs/PROTOCOL.md, "WebSocket").
// Reconnects with back-off after an unexpected close; a close with an auth code (4401 and the
// like) is final. Never logs the join token.

const FINAL_CLOSE_CODES = new Set([4401, 4403, 4404, 4409, 4410]);
const QUEUED_TYPES = new Set(["consent", "device_check"]);

export class Signaling extends EventTarget {
  constructor(token) {
    super();
    this.token = token;
    this.ws = null;
    this.closedForGood = false;
    this.retry = 0;
    this.pending = [];
    this.everOpened = false;
    this.openedAt = 0;
    this.connectStartedAt = 0;
    this.connectMs = null;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws/applicant/${encodeURIComponent(this.token)}`;
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  connect() {
    if (this.closedForGood) return;
    let ws;
    this.connectStartedAt = performance.now();
    try {
      ws = new WebSocket(this.url());
    } catch (err) {
      console.warn("signaling: cannot open WebSocket", err && err.name);
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.connectMs = performance.now() - this.connectStartedAt;
      this.openedAt = performance.now();
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.retry = 0;
      const queued = this.pending;
      this.pending = [];
      for (const msg of queued) this.send(msg);
      this.dispatchEvent(new CustomEvent("open", { detail: { reconnected } }));
    });
    ws.addEventListener("message", (ev) => {
      if (typeof ev.data !== "string") return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (err) {
        console.warn("signaling: ignored a message that is not JSON");
        return;
      }
      if (!msg || typeof msg !== "object" || typeof msg.type !== "string") {
        console.warn("signaling: ignored a message without a type");
        return;
      }
      this.dispatchEvent(new CustomEvent("message", { detail: msg }));
    });
    ws.addEventListener("close", (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      console.info("signaling: closed", ev.code);
      if (FINAL_CLOSE_CODES.has(ev.code)) {
        this.closedForGood = true;
        this.dispatchEvent(new CustomEvent("final", { detail: { code: ev.code } }));
        return;
      }
      this.dispatchEvent(new CustomEvent("lost", { detail: { code: ev.code } }));
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    if (this.closedForGood) return;
    const delay = Math.min(10000, 500 * 2 ** this.retry);
    this.retry += 1;
    setTimeout(() => this.connect(), delay);
  }

  // Sends a message; consent and device_check wait for the socket if it is down, the rest
  // (answers, hangups) are only meaningful now. Returns whether it went out.
  send(msg) {
    if (this.isOpen) {
      this.ws.send(JSON.stringify(msg));
      return true;
    }
    if (QUEUED_TYPES.has(msg.type)) this.pending.push(msg);
    return false;
  }

  // Resolves true once the socket is open, false after timeoutMs.
  waitOpen(timeoutMs) {
    if (this.isOpen) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.removeEventListener("open", onOpen);
        resolve(false);
      }, timeoutMs);
      const onOpen = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.addEventListener("open", onOpen, { once: true });
    });
  }

  close() {
    this.closedForGood = true;
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }
}
