"""Translated titles for the script step codes and capture targets the core returns."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication


def step_title(code: str) -> str:
    t = QCoreApplication.translate
    titles = {
        "consent_recording": t("Script", "Consent to recording and 20-year retention"),
        "operator_identity": t("Script", "Operator states their identity"),
        "personal_data": t("Script", "Applicant confirms personal data"),
        "date_time": t("Script", "Applicant states date and time"),
        "will_to_obtain": t("Script", "Applicant confirms the will to obtain the identity"),
        "contacts": t("Script", "Applicant confirms mobile and e-mail"),
        "otp": t("Script", "SMS code read back (and e-mail link)"),
        "credential_types": t("Script", "Applicant knows the kinds of credentials"),
        "identity_document": t("Script", "Identity document, front and back"),
        "health_card": t("Script", "Tessera Sanitaria shown"),
        "terms": t("Script", "Applicant accepts the terms"),
        "random_action": t("Script", "Random action"),
        "summary": t("Script", "Operator summarises, applicant confirms"),
        "face": t("Script", "Face to the camera"),
        "signed_form": t("Script", "Signed request form"),
        "document_valid": t("Script", "Document intact and valid"),
        "codice_fiscale_checked": t("Script", "Codice fiscale checked on the card"),
    }
    return titles.get(code, code.replace("_", " ").capitalize())


def target_label(target: str) -> str:
    t = QCoreApplication.translate
    return {
        "document_front": t("Script", "Front"),
        "document_back": t("Script", "Back"),
        "health_card": t("Script", "Card"),
        "face": t("Script", "Face"),
        "signed_form": t("Script", "Form"),
    }.get(target, target)


def random_action_label(code: str) -> str:
    t = QCoreApplication.translate
    return {
        "raise_right_hand": t("Script", "Raise the right hand"),
        "raise_left_hand": t("Script", "Raise the left hand"),
        "turn_head_left": t("Script", "Turn the head to the left"),
        "turn_head_right": t("Script", "Turn the head to the right"),
        "touch_nose": t("Script", "Touch the nose with the index finger"),
        "show_three_fingers": t("Script", "Show three fingers"),
        "cover_left_eye": t("Script", "Cover the left eye"),
        "look_up": t("Script", "Look up, then back at the camera"),
        "touch_right_ear": t("Script", "Touch the right ear"),
        "nod_twice": t("Script", "Nod twice"),
    }.get(code, code.replace("_", " "))
