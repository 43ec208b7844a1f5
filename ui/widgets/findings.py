"""Findings panel: what the automated checks see, beside the operator.

Per captured still: quality (sharpness, glare, exposure), the MRZ fields against the request
(matches / differs / unreadable), the expiry, the codice fiscale on the Tessera Sanitaria; the
face comparison (document photo vs live face); live capture hints with the auto-capture switch;
the security features drawn for this session with the instruction, a capture button and the
operator's verdict. The checks return codes; everything shown here is translated.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.script_labels import target_label

log = logging.getLogger(__name__)

_GOOD = "#1e8e3e"
_BAD = "#c5221f"
_MUTED = "#5b6775"
_GOOD_CODES = {"match", "ok", "same", "valid"}
_BAD_CODES = {"differ", "different", "blurred", "glare", "dark", "bright", "expired",
              "invalid", "not_ok"}


def verdict_label(code: str) -> str:
    return {
        "match": QCoreApplication.translate("Findings", "matches"),
        "differ": QCoreApplication.translate("Findings", "differs"),
        "unreadable": QCoreApplication.translate("Findings", "unreadable"),
        "unsure": QCoreApplication.translate("Findings", "unsure: check by eye"),
        "absent": QCoreApplication.translate("Findings", "not in the request"),
        "ok": QCoreApplication.translate("Findings", "ok"),
        "blurred": QCoreApplication.translate("Findings", "blurred"),
        "glare": QCoreApplication.translate("Findings", "reflections"),
        "dark": QCoreApplication.translate("Findings", "too dark"),
        "bright": QCoreApplication.translate("Findings", "overexposed"),
        "same": QCoreApplication.translate("Findings", "same person"),
        "different": QCoreApplication.translate("Findings", "different person"),
        "unknown": QCoreApplication.translate("Findings", "cannot say"),
        "valid": QCoreApplication.translate("Findings", "valid"),
        "invalid": QCoreApplication.translate("Findings", "invalid"),
        "expired": QCoreApplication.translate("Findings", "expired"),
        "not_expired": QCoreApplication.translate("Findings", "in force"),
        "not_ok": QCoreApplication.translate("Findings", "not ok"),
    }.get(code, code)


def field_label(name: str) -> str:
    return {
        "surname": QCoreApplication.translate("Findings", "Surname"),
        "given_names": QCoreApplication.translate("Findings", "Given names"),
        "document_number": QCoreApplication.translate("Findings", "Document number"),
        "birth_date": QCoreApplication.translate("Findings", "Birth date"),
        "sex": QCoreApplication.translate("Findings", "Sex"),
        "expiry_date": QCoreApplication.translate("Findings", "Expiry date"),
        "nationality": QCoreApplication.translate("Findings", "Nationality"),
        "value": QCoreApplication.translate("Findings", "Codice fiscale"),
        "sharpness": QCoreApplication.translate("Findings", "Sharpness"),
        "glare": QCoreApplication.translate("Findings", "Glare"),
        "exposure": QCoreApplication.translate("Findings", "Exposure"),
    }.get(name, name)


def hint_label(code: str) -> str:
    return {
        "no_document": QCoreApplication.translate(
            "Findings", "No document in view: ask to show it to the camera"),
        "move_closer": QCoreApplication.translate(
            "Findings", "Closer: ask to bring the document nearer"),
        "move_away": QCoreApplication.translate(
            "Findings", "Too close: ask to move the document away a little"),
        "center_document": QCoreApplication.translate("Findings", "Ask to centre the document"),
        "hold_still": QCoreApplication.translate("Findings", "Hold still"),
        "tilt_away_from_light": QCoreApplication.translate(
            "Findings", "Tilt to avoid reflections"),
        "more_light": QCoreApplication.translate("Findings", "Too dark: more light needed"),
        "less_light": QCoreApplication.translate("Findings", "Too bright: less light"),
        "focus": QCoreApplication.translate(
            "Findings", "Out of focus: hold still or clean the lens"),
    }.get(code, code)


def error_label(code: str) -> str:
    return {
        "ocr_unavailable": QCoreApplication.translate("Findings", "OCR not available"),
        "mrz_failed": QCoreApplication.translate("Findings", "MRZ reading failed"),
        "barcode_failed": QCoreApplication.translate("Findings", "barcode reading failed"),
        "quality_failed": QCoreApplication.translate("Findings", "quality check failed"),
        "unreadable_image": QCoreApplication.translate(
            "Findings", "the still is not a readable image"),
        "check_failed": QCoreApplication.translate("Findings", "the check could not run"),
        "face_models_missing": QCoreApplication.translate("Findings", "face models not installed"),
        "faces_failed": QCoreApplication.translate("Findings", "face comparison failed"),
    }.get(code, code)


def injection_label(code: str) -> str:
    return {
        "virtual_camera_name": QCoreApplication.translate(
            "Findings", "Virtual or fake camera name"),
        "camera_settings_changed": QCoreApplication.translate(
            "Findings", "Camera changed during the call"),
        "frames_identical": QCoreApplication.translate("Findings", "Picture frozen"),
        "frames_repeating": QCoreApplication.translate(
            "Findings", "Pictures repeat: a looped clip"),
        "frame_clock_exact": QCoreApplication.translate(
            "Findings", "Frame timestamps from a synthetic clock (weak)"),
        "sensor_noise_absent": QCoreApplication.translate(
            "Findings", "No camera sensor noise in the stills (weak)"),
        "response_too_fast": QCoreApplication.translate(
            "Findings", "Challenges answered faster than a person reacts"),
        "response_slow": QCoreApplication.translate(
            "Findings", "Challenges answered with a long delay"),
    }.get(code, code)


def challenge_label(code: str) -> str:
    """The operator's words for a liveness challenge (the applicant's page has its own)."""
    return {
        "turn_left": QCoreApplication.translate("Findings", "turn the head left"),
        "turn_right": QCoreApplication.translate("Findings", "turn the head right"),
        "look_up": QCoreApplication.translate("Findings", "look up"),
        "blink": QCoreApplication.translate("Findings", "blink"),
        "move_closer": QCoreApplication.translate("Findings", "move closer"),
    }.get(code, code)


def liveness_verdict_label(code: str) -> str:
    return {
        "pass": QCoreApplication.translate("Findings", "passed"),
        "fail": QCoreApplication.translate("Findings", "failed"),
        "inconclusive": QCoreApplication.translate("Findings", "inconclusive: repeat it"),
        "pending": QCoreApplication.translate("Findings", "waiting"),
        "running": QCoreApplication.translate("Findings", "running"),
        "idle": QCoreApplication.translate("Findings", "not done yet"),
        "not_shown": QCoreApplication.translate(
            "Findings", "not shown on the applicant's screen: repeat it"),
    }.get(code, code)


class FindingsPanel(QWidget):
    """Shows what ``console.flows.checks.SessionChecks`` finds; emits the operator's requests."""

    auto_capture_toggled = Signal(bool)
    feature_ask = Signal(str)  # feature id
    feature_capture = Signal(str)
    feature_verdict = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findings")
        self.hint = QLabel(self)
        self.hint.setObjectName("liveHint")
        self.hint.setWordWrap(True)
        self.auto_capture = QCheckBox(self.tr("Auto-capture"), self)
        self.auto_capture.setChecked(True)
        self.auto_capture.setToolTip(
            self.tr("Ask for the still by itself when the document is steady, sharp and "
                    "free of reflections"))
        self.auto_capture.toggled.connect(self.auto_capture_toggled)
        live = QHBoxLayout()
        live.addWidget(self.hint, 1)
        live.addWidget(self.auto_capture)

        self.banner = QLabel(self)
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()

        self.tree = QTreeWidget(self)
        self.tree.setObjectName("findingsTree")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels([self.tr("Check"), self.tr("Result")])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setRootIsDecorated(True)
        self.tree.setMinimumHeight(120)
        self._roots: dict[str, QTreeWidgetItem] = {}

        self.features_box = QGroupBox(self.tr("Security features to check"), self)
        self._features_grid = QGridLayout(self.features_box)
        self._feature_widgets: dict[str, dict[str, Any]] = {}
        self.features_box.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(live)
        layout.addWidget(self.banner)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.features_box)
        self.clear()

    # --- results -------------------------------------------------------------------------------
    def clear(self) -> None:
        self.tree.clear()
        self._roots = {}
        self.hint.setText(self.tr("Automated checks: waiting for the first still."))
        self.banner.hide()
        self.set_features([], lambda code: code)

    def _root(self, key: str, title: str) -> QTreeWidgetItem:
        item = self._roots.get(key)
        if item is None:
            item = QTreeWidgetItem(self.tree, [title, ""])
            order = ["face", "document_front", "document_back", "health_card"]
            self._roots[key] = item
            # the face first (the ETSI rule), then the documents in the script's order
            items = sorted(self._roots.items(),
                           key=lambda kv: order.index(kv[0]) if kv[0] in order else 9)
            for i, (_k, it) in enumerate(items):
                idx = self.tree.indexOfTopLevelItem(it)
                if idx != i:
                    self.tree.takeTopLevelItem(idx)
                    self.tree.insertTopLevelItem(i, it)
        item.takeChildren()
        item.setExpanded(True)
        return item

    @staticmethod
    def _row(parent: QTreeWidgetItem, name: str, code: str, key: str = "") -> QTreeWidgetItem:
        row = QTreeWidgetItem(parent, [name, verdict_label(code)])
        row.setData(0, Qt.ItemDataRole.UserRole, key or name)
        row.setData(1, Qt.ItemDataRole.UserRole, code)
        color = _GOOD if code in _GOOD_CODES else _BAD if code in _BAD_CODES else _MUTED
        row.setForeground(1, QBrush(QColor(color)))
        return row

    def show_still(self, target: str, check: Any) -> None:
        """One still's results (``console.flows.checks.StillCheck``)."""
        root = self._root(target, self.tr("Still: %1").replace("%1", target_label(target)))
        summary = []
        if check.quality is not None:
            codes = [check.quality[k] for k in ("sharpness", "glare", "exposure")]
            bad = [c for c in codes if c != "ok"]
            quality = self._row(root, self.tr("Picture quality"), bad[0] if bad else "ok",
                                "quality")
            if len(bad) > 1:
                quality.setText(1, ", ".join(verdict_label(c) for c in bad))
            for key in ("sharpness", "glare", "exposure"):
                self._row(quality, field_label(key), check.quality[key], f"quality.{key}")
            quality.setExpanded(False)
        if not check.card_found:
            QTreeWidgetItem(root, [self.tr("Document"), self.tr("not found in the still")])
        if check.mrz is not None:
            self._row(root, self.tr("MRZ (%1) check digits").replace("%1", check.mrz["format"]),
                      "valid" if check.mrz["valid"] else "invalid", "mrz.valid")
            confidence = check.mrz.get("confidence") or {}
            candidates = check.mrz.get("candidates") or {}
            for name, verdict in check.mrz["fields"].items():
                if verdict == "unreadable" and confidence.get(name) == "unsure":
                    # two readings fit every rule: say so and show them, pick neither
                    row = self._row(root, self.tr("MRZ %1").replace("%1", field_label(name)),
                                    "unsure", f"mrz.{name}")
                    options = candidates.get(name) or []
                    if options:
                        row.setText(1, self.tr("unsure: %1").replace("%1", " / ".join(options)))
                    continue
                self._row(root, self.tr("MRZ %1").replace("%1", field_label(name)), verdict,
                          f"mrz.{name}")
                if verdict == "differ":
                    summary.append(field_label(name))
            expired = check.mrz["expired"]
            if expired is not None:
                self._row(root, self.tr("Validity"), "expired" if expired else "not_expired",
                          "expired")
        elif target in ("document_front", "document_back"):
            QTreeWidgetItem(root, [self.tr("MRZ"), self.tr("not found")])
        if check.codice_fiscale is not None:
            cf = check.codice_fiscale
            self._row(root, self.tr("Codice fiscale (barcode)"),
                      "valid" if cf["valid"] else "invalid", "cf.valid")
            for name, verdict in cf["fields"].items():
                label = field_label(name) if name == "value" else \
                    self.tr("Codice fiscale: %1").replace("%1", field_label(name))
                self._row(root, label, verdict, f"cf.{name}")
        elif target == "health_card":
            QTreeWidgetItem(root, [self.tr("Codice fiscale (barcode)"), self.tr("not read")])
        for code in check.errors:
            QTreeWidgetItem(root, [self.tr("Error"), error_label(code)])
        root.setText(1, self.tr("differs: %1").replace("%1", ", ".join(summary))
                     if summary else "")
        if summary:
            root.setForeground(1, QBrush(QColor(_BAD)))

    def show_still_failed(self, target: str, code: str) -> None:
        root = self._root(target, self.tr("Still: %1").replace("%1", target_label(target)))
        QTreeWidgetItem(root, [self.tr("Error"), error_label(code)])

    def show_face(self, face: dict[str, Any]) -> None:
        root = self._root("face", self.tr("Face: document photo vs live"))
        decision = str(face.get("decision", "unknown"))
        row = self._row(root, self.tr("Automated comparison"), decision, "face.decision")
        similarity = face.get("similarity")
        if similarity is not None:
            QTreeWidgetItem(root, [self.tr("Similarity"), f"{100 * float(similarity):.0f}%"])
        if not face.get("document_face"):
            QTreeWidgetItem(root, [self.tr("Document photo"), self.tr("no face found")])
        count = int(face.get("live_face_count") or 0)
        if count == 0:
            QTreeWidgetItem(root, [self.tr("Live picture"), self.tr("no face found")])
        elif count > 1:
            self._row(root, self.tr("Live picture"), "different", "face.third_person") \
                .setText(1, self.tr("%1 faces: a third person is present").replace(
                    "%1", str(count)))
        if "error" in face:
            QTreeWidgetItem(root, [self.tr("Error"), error_label(str(face["error"]))])
        root.setText(1, row.text(1))
        root.setForeground(1, row.foreground(1))

    def show_injection(self, result: dict[str, Any]) -> None:
        """The injection signals (``console.injection``): one row per signal, the override."""
        root = self._root("injection", self.tr("Camera: injection signals"))
        signals = result.get("signals") or []
        override = result.get("override")
        for signal in signals:
            # a weak signal counts only with another weak one (console.injection)
            verdict = "unsure" if signal.get("weight") == "weak" else "not_ok"
            row = self._row(root, injection_label(str(signal.get("code", ""))), verdict,
                            f"injection.{signal.get('code', '')}")
            row.setText(1, str(signal.get("detail", "")))
        if override:
            QTreeWidgetItem(root, [self.tr("Overridden by the operator"),
                                   str(override.get("reason", ""))])
        if not signals:
            text, color = self.tr("none"), _GOOD
        elif not result.get("suspected", True):
            text, color = self.tr("one weak signal: not suspected"), _MUTED
        elif override and {s.get("code") for s in signals} <= set(override.get("signals") or []):
            text, color = self.tr("suspected, overridden"), _MUTED
        else:
            text, color = self.tr("suspected"), _BAD
        root.setText(1, text)
        root.setData(1, Qt.ItemDataRole.UserRole, "suspected" if signals else "none")
        root.setForeground(1, QBrush(QColor(color)))

    def show_liveness(self, state: dict[str, Any]) -> None:
        """The active liveness check: its state, then one row per challenge with its verdict."""
        root = self._root("liveness", self.tr("Liveness (random challenges)"))
        result = state.get("result") or {}
        phase = str(state.get("state", "idle"))
        for challenge in result.get("challenges") or []:
            verdict = str(challenge.get("verdict", ""))
            row = self._row(root, challenge_label(str(challenge.get("code", ""))),
                            {"pass": "ok", "fail": "not_ok"}.get(verdict, verdict),
                            f"liveness.{challenge.get('code', '')}")
            shown = "not_shown" if challenge.get("reason") == "not_shown" else verdict
            row.setText(1, liveness_verdict_label(shown))
        code = str(result.get("verdict")) if phase == "done" and result else phase
        if phase == "running" and state.get("challenge"):
            code = "running"
            QTreeWidgetItem(root, [challenge_label(str(state["challenge"])),
                                   f"{state.get('index', 0)}/{state.get('count', 0)}"])
        root.setText(1, liveness_verdict_label(code))
        root.setData(1, Qt.ItemDataRole.UserRole, code)
        color = _GOOD if code == "pass" else _BAD if code == "fail" else _MUTED
        root.setForeground(1, QBrush(QColor(color)))
        if result.get("supervisor_confirmed"):
            QTreeWidgetItem(root, [self.tr("Confirmed by supervisor"),
                                   str(result["supervisor_confirmed"])])

    def set_blockers(self, blockers: tuple[str, ...], supervisor: str | None) -> None:
        if "face_mismatch_unconfirmed" in blockers:
            self.banner.setText(self.tr(
                "The automated comparison says the face is a different person. Approval needs "
                "a supervisor's second look; rejection is always possible."))
            self.banner.show()
        elif supervisor:
            self.banner.setText(self.tr("Face difference confirmed by supervisor %1.")
                                .replace("%1", supervisor))
            self.banner.show()
        else:
            self.banner.hide()

    def _rows(self, key: str) -> list[QTreeWidgetItem]:
        found: list[QTreeWidgetItem] = []

        def walk(item: QTreeWidgetItem) -> None:
            for j in range(item.childCount()):
                child = item.child(j)
                if child is None:
                    continue
                if child.data(0, Qt.ItemDataRole.UserRole) == key:
                    found.append(child)
                walk(child)

        for i in range(self.tree.topLevelItemCount()):
            root = self.tree.topLevelItem(i)
            if root is not None:
                walk(root)
        return found

    def verdict(self, key: str) -> str | None:
        """The code shown for a row key (``mrz.surname``, ``face.decision``…), first still."""
        rows = self._rows(key)
        value = rows[0].data(1, Qt.ItemDataRole.UserRole) if rows else None
        return None if value is None else str(value)

    def verdict_text(self, key: str) -> str | None:
        rows = self._rows(key)
        return rows[0].text(1) if rows else None

    # --- live ----------------------------------------------------------------------------------
    def show_hints(self, target: str, hints: list[str], ready: bool) -> None:
        if not target:
            self.hint.setText("")
            return
        if ready:
            text = self.tr("%1: ready to capture").replace("%1", target_label(target))
        elif hints:
            text = " · ".join(hint_label(h) for h in hints)
        else:
            text = self.tr("%1: checking the picture…").replace("%1", target_label(target))
        self.hint.setText(text)

    # --- security features ---------------------------------------------------------------------
    def set_features(self, features: list[Any], instruction: Any, language: str = "it") -> None:
        while self._features_grid.count():
            item = self._features_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self._feature_widgets = {}
        for row, f in enumerate(features):
            name = f.name_it if language == "it" else f.name_en
            ov = self.tr(" (optically variable)") if f.optically_variable else ""
            label = QLabel(f"<b>{_escape(name)}</b>{_escape(ov)}<br>"
                           f"<i>{_escape(str(instruction(f.instruction)))}</i>", self)
            label.setWordWrap(True)
            ask = QPushButton(self.tr("Ask"), self)
            ask.setToolTip(self.tr("Show the movement to the applicant"))
            ask.clicked.connect(lambda _=False, fid=f.id: self.feature_ask.emit(fid))
            capture = QPushButton(self.tr("Capture"), self)
            capture.clicked.connect(lambda _=False, fid=f.id: self._capture(fid))
            ok = QPushButton(self.tr("OK"), self)
            ok.clicked.connect(lambda _=False, fid=f.id: self.feature_verdict.emit(fid, True))
            bad = QPushButton(self.tr("Not OK"), self)
            bad.clicked.connect(lambda _=False, fid=f.id: self.feature_verdict.emit(fid, False))
            state = QLabel("", self)
            for col, w in enumerate((label, ask, capture, ok, bad, state)):
                self._features_grid.addWidget(w, row, col)
            self._features_grid.setColumnStretch(0, 1)
            self._feature_widgets[f.id] = {"label": label, "ask": ask, "capture": capture,
                                           "ok": ok, "not_ok": bad, "state": state}
        self.features_box.setVisible(bool(features))

    def _capture(self, feature_id: str) -> None:
        w = self._feature_widgets.get(feature_id)
        if w is not None:
            w["capture"].setEnabled(False)
            w["state"].setText(self.tr("waiting…"))
        self.feature_capture.emit(feature_id)

    def feature_ids(self) -> list[str]:
        return list(self._feature_widgets)

    def feature_button(self, feature_id: str, name: str) -> QPushButton:
        button: QPushButton = self._feature_widgets[feature_id][name]
        return button

    def feature_state_text(self, feature_id: str) -> str:
        return str(self._feature_widgets[feature_id]["state"].text())

    def update_feature(self, feature_id: str, state: dict[str, Any]) -> None:
        w = self._feature_widgets.get(feature_id)
        if w is None:
            return
        w["capture"].setEnabled(True)
        parts = []
        if "error" in state:
            parts.append(self.tr("capture failed"))
        still = state.get("still")
        if still:
            parts.append(self.tr("still %1×%2").replace("%1", str(still["width"]))
                         .replace("%2", str(still["height"])))
        verdict = state.get("verdict")
        if verdict:
            parts.append(verdict_label(str(verdict)))
        w["state"].setText(" · ".join(parts))
        color = _GOOD if verdict == "ok" else _BAD if verdict == "not_ok" else _MUTED
        w["state"].setStyleSheet(f"color: {color}")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
