"""The automated checks beside the operator: stills, live hints, faces, security features.

``SessionChecks`` belongs to a remote flow and lives on its owner thread. Every image operation
(decoding a still, the pipeline of ``console.checks``, the face comparison, the live analysis of
the latest applicant frame, the supervisor's sign-in) runs on the flow runner's workers; the
results come back as the flow's events. Results are codes and verdicts (match / differ /
unreadable, same / different / unknown): the widgets translate them. What the checks find is
recorded in the session's timeline (``Session.record``), never the personal values themselves.

ETSI TS 119 461: where the automated face comparison says "different person", the blocker
``face_mismatch_unconfirmed`` forbids approval until a supervisor's second look clears it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import cv2
import numpy as np

from console.errors import ConsoleError
from console.flows.events import error_code
from console.flows.tasks import Cancellable, Runner
from console.injection import sensor_noise
from media import imagegate

log = logging.getLogger(__name__)

FACE_BLOCKER = "face_mismatch_unconfirmed"
DOCUMENT_TARGETS = ("document_front", "document_back", "health_card")
LIVE_INTERVAL_MS = 200  # 5 analyses per second at most
#: the applicant page's instruction codes (server/static/js/i18n.js) for the catalogue's codes
PAGE_INSTRUCTIONS = {
    "tilt_left_right": "tilt_document",
    "tilt_up_down": "tilt_document",
    "rotate_slowly": "tilt_document",
    "tilt_towards_light": "tilt_document",
    "move_closer": "move_closer",
    "hold_against_light": "tilt_document",
}
MRZ_FIELDS = ("surname", "given_names", "document_number", "birth_date", "sex",
              "expiry_date")


@dataclass
class StillCheck:
    """What the pipeline found on one still (verdicts only, no personal values)."""

    target: str
    quality: dict[str, Any] | None = None  # {sharpness, glare, exposure: verdict, values}
    card_found: bool = False
    #: {format, valid, fields: {name: verdict}, expired, confidence: {name: level}, candidates:
    #: {name: readings}}; the candidates are shown to the operator, never put in the report
    mrz: dict[str, Any] | None = None
    codice_fiscale: dict[str, Any] | None = None  # {valid, source, fields: {name: verdict}}
    errors: list[str] = field(default_factory=list)
    ms: float = 0.0

    def to_report(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "card": self.card_found,
            "quality": self.quality,
            "mrz_valid": None if self.mrz is None else self.mrz["valid"],
            "mrz_format": None if self.mrz is None else self.mrz["format"],
            "fields": {} if self.mrz is None else dict(self.mrz["fields"]),
            "confidence": {} if self.mrz is None else dict(self.mrz.get("confidence") or {}),
            "expired": None if self.mrz is None else self.mrz["expired"],
            "codice_fiscale": None if self.codice_fiscale is None else {
                "valid": self.codice_fiscale["valid"],
                "fields": dict(self.codice_fiscale["fields"])},
            "errors": list(self.errors),
        }


def decode_image(data: bytes) -> np.ndarray:
    """A BGR image from still bytes through the image gate (media.imagegate); raises
    ImageGateError (a ValueError) for anything that is not a readable PNG/JPEG within limits."""
    return imagegate.decode_image(data, formats=imagegate.STILL_FORMATS)


def quality_verdicts(q: Any) -> dict[str, Any]:
    from console.checks import quality as qmod

    exposure = "ok"
    if q.exposure < qmod.DARK_MAX:
        exposure = "dark"
    elif q.clipped > qmod.BRIGHT_CLIP_MAX:
        exposure = "bright"
    return {
        "sharpness": "ok" if q.sharpness >= qmod.SHARP_MIN else "blurred",
        "glare": "ok" if q.glare <= qmod.GLARE_MAX else "glare",
        "exposure": exposure,
        "values": {"sharpness": round(q.sharpness, 1), "glare": round(q.glare, 4),
                   "exposure": round(q.exposure, 3)},
    }


def inspect_still(target: str, img: np.ndarray, request: dict[str, Any],
                  today: date) -> tuple[StillCheck, Any]:
    """Worker: the still pipeline on one image. Returns the check and the card detection."""
    from console.checks.pipeline import inspect_image

    t0 = time.perf_counter()
    res = inspect_image(img, request=request, today=today, detect_faces=False)
    out = StillCheck(target, card_found=res.card is not None)
    if res.quality is not None:
        out.quality = quality_verdicts(res.quality)
    if res.mrz is not None and res.mrz.result is not None and target != "health_card":
        comp = res.mrz_comparison or {}
        raw = comp.get("fields")
        fields: dict[str, Any] = raw if isinstance(raw, dict) else {}
        conf = comp.get("confidence")
        out.mrz = {"format": res.mrz.result.format, "valid": bool(res.mrz.result.valid),
                   "fields": {k: str(v) for k, v in fields.items()},
                   "expired": comp.get("expired"),
                   # certain | resolved | unsure | invalid per field; the readings an unsure
                   # field could be (console.checks.mrz): shown, never picked for the operator
                   "confidence": dict(conf) if isinstance(conf, dict) else {},
                   "candidates": {k: list(v) for k, v in res.mrz.result.candidates.items()}}
    if res.codice_fiscale is not None:
        out.codice_fiscale = {"valid": bool(res.codice_fiscale.valid),
                              "source": str(getattr(res.codice_fiscale, "source", "")),
                              "fields": dict(res.cf_comparison or {})}
    out.errors = [str(e.get("code", "")) for e in res.errors]
    out.ms = (time.perf_counter() - t0) * 1000.0
    return out, res.card


def _document_photo(front: np.ndarray, card: Any) -> np.ndarray | None:
    """The document's photo zone when the card rectification missed it: the front still shows
    the card photo and often the applicant too, so with two or more faces the smallest one is
    the card's; a single face counts only when it lies inside the detected card."""
    from console.checks import faces

    found = faces.detect_faces(front, upsample=1)
    if not found:
        return None
    if len(found) == 1:
        if card is None:
            return None
        x0, y0, x1, y1 = found[0].box
        centre = (float((x0 + x1) / 2), float((y0 + y1) / 2))
        quad = np.asarray(card.corners, np.float32).reshape(-1, 1, 2)
        if cv2.pointPolygonTest(quad, centre, False) < 0:
            return None
        face = found[0]
    else:
        face = min(found, key=lambda f: f.size)
    x0, y0, x1, y1 = face.box
    m = int(0.6 * max(x1 - x0, y1 - y0))
    h, w = front.shape[:2]
    return front[max(0, y0 - m):min(h, y1 + m), max(0, x0 - m):min(w, x1 + m)].copy()


def compare_faces(front: np.ndarray, card: Any, live: np.ndarray) -> dict[str, Any]:
    """Worker: document photo (the rectified card when found) against the live face still."""
    from console.checks import card as cardmod
    from console.checks import faces

    doc = cardmod.rectify(front, card.corners, card.format) if card is not None else None
    fc = faces.compare_faces(doc, live) if doc is not None else None
    if fc is None or fc.document_face is None:
        photo = _document_photo(front, card)
        if photo is not None:
            fc = faces.compare_faces(photo, live)
    if fc is None:
        live_faces = faces.detect_faces(live)
        fc = faces.FaceComparison(None, "unknown", None, live_faces[0] if live_faces else None,
                                  len(live_faces))
    return {
        "decision": fc.decision,
        "distance": None if fc.distance is None else round(fc.distance, 4),
        "similarity": None if fc.distance is None else round(max(0.0, 1.0 - fc.distance), 4),
        "document_face": fc.document_face is not None,
        "live_face_count": int(fc.live_face_count),
    }


def request_dict(request: Any) -> dict[str, Any]:
    """The request's data in the shape the core's comparisons read (PROTOCOL.md)."""
    a = request.applicant
    out: dict[str, Any] = {"applicant": {
        "surname": a.surname, "given_names": a.given_names,
        "codice_fiscale": a.codice_fiscale, "sex": a.sex,
        "birth_date": a.birth_date.isoformat() if a.birth_date else None}}
    d = request.document
    if d is not None:
        out["document"] = {"type": d.type.value, "number": d.number,
                           "expiry_date": d.expiry_date.isoformat() if d.expiry_date else None}
    return out


class SessionChecks:
    """The checks of the open session; created by the remote flow (``flow.checks``). Its events
    go to the flow's listeners:

    =====================  =====================================================
    still_checked          target, StillCheck
    still_check_failed     target, code
    face_checked           dict (decision, similarity, live_face_count...)
    findings_changed       list of finding codes
    blockers_changed       tuple of blocker codes
    live_hints             target, list of hint codes, auto-capture ready
    auto_capture           step id, target: the window asks for the still
    features_changed       list of SecurityFeature
    feature_updated        feature id, {"verdict", "still"}
    supervisor_done        confirmed, error code
    =====================  =====================================================
    """

    def __init__(self, flow: Any, runner: Runner) -> None:
        self.c = flow
        self._runner = runner
        self.today: date | None = None  # tests may pin the day
        self.auto_capture_enabled = True
        self._live_timer: Cancellable | None = None
        self.reset()

    # --- state ---------------------------------------------------------------------------------
    def reset(self) -> None:
        self.results: dict[str, StillCheck] = {}
        self.face: dict[str, Any] | None = None
        self.features: list[Any] = []
        self.feature_state: dict[str, dict[str, Any]] = {}
        self.supervisor: str | None = None
        self._images: dict[str, np.ndarray] = {}
        self._cards: dict[str, Any] = {}
        self._pending = 0
        self._face_gen = 0
        self._live_busy = False
        self._live_target: tuple[str, str] | None = None
        self._live_seen: Any = None
        self._auto_fired: set[str] = set()
        self._analyzers: dict[str, Any] = {}

    @property
    def busy(self) -> bool:
        """A still or face check is still running (the autopilot waits for the results)."""
        return self._pending > 0

    def start_session(self) -> None:
        self.reset()
        self.pick_features()

    def _record(self, name: str, **data: Any) -> None:
        self.c._record(name, **data)

    def _request(self) -> dict[str, Any]:
        a = self.c.assignment
        return {} if a is None else request_dict(a.request)

    # --- stills --------------------------------------------------------------------------------
    def on_still(self, step_id: str, target: str, still: Any) -> None:
        if target not in DOCUMENT_TARGETS and target != "face":
            return
        request = self._request()
        today = self.today or date.today()
        data = bytes(getattr(still, "data", b""))
        self._pending += 1

        def work() -> tuple[np.ndarray, StillCheck | None, Any, float]:
            img = decode_image(data)
            noise = sensor_noise(img)  # injection signal: a camera's still has sensor noise
            if target == "face":
                return img, None, None, noise
            check, card = inspect_still(target, img, request, today)
            return img, check, card, noise

        def done(result: tuple[np.ndarray, StillCheck | None, Any, float]) -> None:
            self._pending -= 1
            img, check, card, noise = result
            self._images[target] = img
            self.c.still_noise(noise)
            if check is not None:
                self._cards[target] = card
                self.results[target] = check
                self._record_still(step_id, check)
                self.c._emit("still_checked", target, check)
            if target in ("document_front", "face"):
                self._compare_faces()
            self.c._emit("findings_changed", self.findings())

        def failed(exc: BaseException) -> None:
            self._pending -= 1
            code = "unreadable_image" if isinstance(exc, ValueError) else "check_failed"
            log.warning("check of a %s still failed: %s", target,
                        getattr(exc, "code", None) or type(exc).__name__)
            self._record("check_failed", target=target, code=code)
            self.c._emit("still_check_failed", target, code)

        self._runner.run(work, done, failed)

    def _record_still(self, step_id: str, check: StillCheck) -> None:
        data: dict[str, Any] = {"target": check.target, "step": step_id,
                                "card": check.card_found}
        if check.quality is not None:
            for key in ("sharpness", "glare", "exposure"):
                data[key] = check.quality[key]
        if check.mrz is not None:
            data["mrz_format"] = check.mrz["format"]
            data["mrz_valid"] = check.mrz["valid"]
            data["mrz_fields"] = ",".join(f"{k}={v}" for k, v in check.mrz["fields"].items())
            data["expired"] = check.mrz["expired"]
        if check.codice_fiscale is not None:
            data["cf_valid"] = check.codice_fiscale["valid"]
            data["cf_fields"] = ",".join(
                f"{k}={v}" for k, v in check.codice_fiscale["fields"].items())
        if check.errors:
            data["errors"] = ",".join(check.errors)
        self._record("document_check", **data)

    def _compare_faces(self) -> None:
        front, live = self._images.get("document_front"), self._images.get("face")
        if front is None or live is None:
            return
        card = self._cards.get("document_front")
        self._face_gen += 1
        gen = self._face_gen
        self._pending += 1

        def done(result: dict[str, Any]) -> None:
            self._pending -= 1
            if gen != self._face_gen:
                return  # a newer still replaced one of the two
            self.face = result
            self._record("face_check", decision=result["decision"],
                         distance=result["distance"], live_faces=result["live_face_count"])
            self._apply_face_rule()
            self.c._emit("face_checked", result)
            self.c._emit("findings_changed", self.findings())

        def failed(exc: BaseException) -> None:
            self._pending -= 1
            code = getattr(exc, "code", None) or "faces_failed"
            if type(exc).__name__ == "FaceModelsMissing":
                code = "face_models_missing"
            log.warning("face comparison failed: %s", type(exc).__name__)
            self._record("face_check_failed", code=str(code))
            if gen == self._face_gen:
                self.face = {"decision": "unknown", "distance": None, "similarity": None,
                             "document_face": False, "live_face_count": 0, "error": str(code)}
                self.c._emit("face_checked", self.face)

        self._runner.run(lambda: compare_faces(front, card, live), done, failed)

    def _apply_face_rule(self) -> None:
        session = self.c.session
        if session is None or self.face is None:
            return
        core = session.session
        different = self.face["decision"] == "different"
        try:
            if different and self.supervisor is None:
                core.set_blocker(FACE_BLOCKER, True, source="face_check")
            elif not different:
                core.set_blocker(FACE_BLOCKER, False, source="face_check")
        except ConsoleError as exc:
            log.info("face blocker not changed: %s", exc.code)
        self.c._emit("blockers_changed", self.blockers())

    def blockers(self) -> tuple[str, ...]:
        session = self.c.session
        return () if session is None else tuple(session.session.blockers)

    def needs_second_look(self) -> bool:
        """A supervisor must look (four eyes): the faces differ, or liveness did not pass."""
        liveness = getattr(self.c, "liveness", None)
        failed = liveness is not None and liveness.verdict in ("fail", "inconclusive")
        return FACE_BLOCKER in self.blockers() or (failed and "liveness_not_passed"
                                                   in self.blockers())

    def findings(self) -> list[str]:
        """Finding codes: data_mismatch:<field>, document_expired, face_mismatch,
        third_person_present (the reason codes the operator would reject with)."""
        out: list[str] = []
        for target in DOCUMENT_TARGETS:
            check = self.results.get(target)
            if check is None:
                continue
            if check.mrz is not None and check.mrz["valid"]:  # names have no check digit
                for name in MRZ_FIELDS:
                    if check.mrz["fields"].get(name) == "differ" and name != "expiry_date":
                        out.append(f"data_mismatch:{name}")
                if check.mrz["expired"] is True:
                    out.append("document_expired")
            if check.codice_fiscale is not None \
                    and check.codice_fiscale["fields"].get("value") == "differ":
                out.append("data_mismatch:codice_fiscale")
        if self.face is not None:
            if self.face["decision"] == "different":
                out.append("face_mismatch")
            if int(self.face.get("live_face_count") or 0) > 1:
                out.append("third_person_present")
        return list(dict.fromkeys(out))

    def report(self) -> list[dict[str, Any]]:
        """Per still: MRZ validity, field verdicts, and the face decision on the face still."""
        out = [self.results[t].to_report() for t in DOCUMENT_TARGETS if t in self.results]
        if self.face is not None:
            out.append({"target": "face", "face": dict(self.face)})
        return out

    # --- the supervisor's second look ------------------------------------------------------------
    def verify_supervisor(self, username: str, password: str, totp: str) -> None:
        """Sign the supervisor in with a separate client (worker); on success clear the face
        blocker and record who confirmed. ``supervisor_done(ok, code)`` answers."""
        from console.client import DeskClient
        from console.models import Role

        client = self.c.client
        if client is None or self.c.session is None:
            self.c._emit("supervisor_done", False, "not_authenticated")
            return
        origin = client.origin
        ca = self.c.settings.get("ca_bundle") or None
        me = self.c.operator
        assignment = self.c.assignment
        request_id = assignment.request.id if assignment is not None else None
        subjects = []
        if FACE_BLOCKER in self.blockers():
            subjects.append("face_mismatch")
        liveness = getattr(self.c, "liveness", None)
        if liveness is not None and liveness.verdict in ("fail", "inconclusive"):
            subjects.append("liveness")

        def work() -> Any:
            from console.approval import second_look

            other = DeskClient(origin, ca_bundle=ca)
            try:
                operator = other.login(username, password, totp).operator
                if operator.role is Role.SUPERVISOR and request_id is not None \
                        and (me is None or operator.id != me.id):
                    # the service records the second look under the supervisor's own sign-in
                    for subject in subjects:
                        second_look(other, request_id, subject)
                try:
                    other.logout()
                except Exception:  # the confirmation stands; the token expires by itself
                    log.info("supervisor sign-out failed")
            finally:
                other.close()
            if operator.role is not Role.SUPERVISOR:
                raise ConsoleError("not a supervisor", code="not_supervisor")
            if me is not None and operator.id == me.id:
                raise ConsoleError("second look by the same person", code="same_person")
            return operator

        def done(operator: Any) -> None:
            session = self.c.session
            if session is None:
                self.c._emit("supervisor_done", False, "not_authenticated")
                return
            self.supervisor = operator.username
            self._record("face_mismatch_confirmed", supervisor=operator.username,
                         supervisor_id=operator.id,
                         distance=None if self.face is None else self.face.get("distance"))
            try:
                session.session.set_blocker(FACE_BLOCKER, False, source=operator.id)
            except ConsoleError as exc:
                log.info("face blocker not cleared: %s", exc.code)
            liveness = getattr(self.c, "liveness", None)
            if liveness is not None and liveness.confirmed_by_supervisor(operator.username):
                self._record("liveness_failure_confirmed", supervisor=operator.username,
                             supervisor_id=operator.id, verdict=liveness.verdict)
            log.info("face mismatch confirmed by a supervisor")
            self.c._emit("blockers_changed", self.blockers())
            self.c._emit("supervisor_done", True, "")

        def failed(exc: BaseException) -> None:
            code = error_code(exc)
            log.info("supervisor second look refused: %s", code)
            self._record("supervisor_second_look_refused", code=code)
            self.c._emit("supervisor_done", False, code)

        self._runner.run(work, done, failed)

    # --- live hints and auto-capture -------------------------------------------------------------
    def set_live_target(self, step_id: str | None, target: str | None) -> None:
        """The document the operator is asking for now (None: no live analysis)."""
        new = (step_id, target) if step_id and target in DOCUMENT_TARGETS else None
        if new == self._live_target:
            return
        self._live_target = new
        if new is None:
            self._stop_live_timer()
            self.c._emit("live_hints", "", [], False)
        else:
            self._start_live_timer()

    def _start_live_timer(self) -> None:
        if self._live_timer is not None:
            return

        def tick() -> None:
            self._live_timer = None
            if self._live_target is None:
                return
            self._live_tick()
            self._start_live_timer()

        self._live_timer = self._runner.call_later(LIVE_INTERVAL_MS / 1000.0, tick)

    def _stop_live_timer(self) -> None:
        if self._live_timer is not None:
            self._live_timer.cancel()
            self._live_timer = None

    def set_auto_capture(self, enabled: bool) -> None:
        self.auto_capture_enabled = bool(enabled)
        self._record("auto_capture", enabled=self.auto_capture_enabled)

    def _analyzer(self, target: str) -> Any:
        from console.checks.quality import LiveAnalyzer

        if target not in self._analyzers:
            self._analyzers[target] = LiveAnalyzer(steady_frames=6)
        return self._analyzers[target]

    def _live_tick(self) -> None:
        live = self._live_target
        engine = self.c.engine
        if live is None or engine is None or self._live_busy or self.c.call_state != "connected":
            return
        try:
            item = engine.latest_remote_frame()
        except Exception:
            return
        frame = getattr(item, "frame", item)
        if frame is None or frame is self._live_seen:
            return
        self._live_seen = frame
        step_id, target = live
        analyzer = self._analyzer(target)
        self._live_busy = True

        def work() -> Any:
            img = frame.to_ndarray(format="bgr24")
            return analyzer.analyze(img)

        def done(result: Any) -> None:
            self._live_busy = False
            if self._live_target != live:
                return
            hints = [str(getattr(h, "value", h)) for h in result.hints]
            ready = bool(result.auto_capture_ready)
            self.c._emit("live_hints", target, hints, ready)
            if ready and self.auto_capture_enabled and target not in self._auto_fired:
                self._auto_fired.add(target)
                self._record("auto_capture_requested", target=target)
                self.c._emit("auto_capture", step_id, target)

        def failed(exc: BaseException) -> None:
            self._live_busy = False
            log.debug("live analysis failed: %s", type(exc).__name__)

        self._runner.run(work, done, failed)

    def stop(self) -> None:
        self._stop_live_timer()
        self._live_target = None

    # --- security features ----------------------------------------------------------------------
    def pick_features(self) -> None:
        """ETSI TS 119 461: ≥ 3 features, ≥ 2 optically variable, drawn at random per session."""
        from console.checks import features

        a = self.c.assignment
        self.features = []
        if a is None or a.request.document is None:
            self.c._emit("features_changed", self.features)
            return
        doc_type = a.request.document.type.value
        try:
            self.features = features.pick_features(doc_type)
        except features.CatalogueError as exc:
            log.warning("no security features for this document: %s", exc)
        self.feature_state = {f.id: {"verdict": None, "still": None} for f in self.features}
        if self.features:
            self._record("security_features_picked", document_type=doc_type,
                         features=",".join(f.id for f in self.features))
        self.c._emit("features_changed", self.features)

    def instruction_text(self, code: str) -> str:
        from console.checks import features

        language = "it" if self.c.session is None else self.c.session.language
        try:
            return features.instruction_text(code, language)
        except features.CatalogueError:
            return code

    def ask_feature(self, feature_id: str) -> None:
        """Send the feature's tilt/movement instruction to the applicant's page."""
        feature = self._feature(feature_id)
        if feature is None:
            return
        self.c.send_instruction(PAGE_INSTRUCTIONS.get(feature.instruction, "tilt_document"))
        state = self.feature_state.setdefault(feature.id, {"verdict": None, "still": None})
        state["asked_mono"] = time.monotonic()  # the clip of this movement starts here
        self._record("security_feature_asked", feature=feature.id,
                     instruction=feature.instruction)

    def capture_feature(self, feature_id: str) -> None:
        """A still of the document while the feature is shown, kept and recorded."""
        feature = self._feature(feature_id)
        engine = self.c.engine
        if feature is None:
            return
        if engine is None or self.c.call_state != "connected":
            self.c._emit("feature_updated", feature_id, {"error": "not_connected"})
            return
        target = "document_back" if feature.side == "back" else "document_front"
        try:
            future = engine.request_still(target)
        except Exception as exc:
            self.c._emit("feature_updated", feature_id, {"error": error_code(exc)})
            return
        folder = getattr(self.c.session, "stills_dir", None)

        def work() -> dict[str, Any]:
            still = future.result(timeout=30)
            digest = hashlib.sha256(still.data).hexdigest()
            if folder is not None:
                (folder / f"feature-{feature.id}.png").write_bytes(still.data)
            return {"width": int(still.width), "height": int(still.height), "sha256": digest,
                    "data": still.data}

        def done(info: dict[str, Any]) -> None:
            state = self.feature_state.setdefault(feature.id, {"verdict": None, "still": None})
            state["still"] = {k: info[k] for k in ("width", "height", "sha256")}
            self._record("security_feature_still", feature=feature.id, width=info["width"],
                         height=info["height"], sha256=info["sha256"])
            self.c._emit("feature_updated", feature.id, dict(state, data=info["data"]))

        def failed(exc: BaseException) -> None:
            self.c._emit("feature_updated", feature.id, {"error": error_code(exc)})

        self._runner.run(work, done, failed)

    def set_feature_verdict(self, feature_id: str, ok: bool) -> None:
        feature = self._feature(feature_id)
        if feature is None:
            return
        state = self.feature_state.setdefault(feature.id, {"verdict": None, "still": None})
        state["verdict"] = "ok" if ok else "not_ok"
        asked = state.get("asked_mono")
        if isinstance(asked, float):
            # the recording from the instruction to the verdict: the movement the operator saw
            state["clip"] = self.c.mark_clip(
                "security_feature", feature.id, asked, time.monotonic(),
                {"verdict": state["verdict"], "instruction": feature.instruction})
        self._record("security_feature_verdict", feature=feature.id, verdict=state["verdict"],
                     optically_variable=feature.optically_variable)
        self.c._emit("feature_updated", feature.id, dict(state))

    def _feature(self, feature_id: str) -> Any:
        return next((f for f in self.features if f.id == feature_id), None)

    def features_report(self) -> list[dict[str, Any]]:
        return [{"id": f.id, "optically_variable": f.optically_variable,
                 "instruction": f.instruction,
                 "verdict": self.feature_state.get(f.id, {}).get("verdict"),
                 "still": self.feature_state.get(f.id, {}).get("still") is not None,
                 # where on the recording the movement for this feature is
                 "clip": self.feature_state.get(f.id, {}).get("clip")}
                for f in self.features]
