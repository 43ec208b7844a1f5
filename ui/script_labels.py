"""Translated titles for the script step codes and capture targets the core returns."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication


def step_title(code: str) -> str:
    titles = {
        "consent_recording": QCoreApplication.translate(
            "Script", "Consent to recording and 20-year retention"
        ),
        "operator_identity": QCoreApplication.translate("Script", "Operator states their identity"),
        "personal_data": QCoreApplication.translate("Script", "Applicant confirms personal data"),
        "date_time": QCoreApplication.translate("Script", "Applicant states date and time"),
        "will_to_obtain": QCoreApplication.translate(
            "Script", "Applicant confirms the will to obtain the identity"
        ),
        "contacts": QCoreApplication.translate("Script", "Applicant confirms mobile and e-mail"),
        "otp": QCoreApplication.translate("Script", "SMS code read back (and e-mail link)"),
        "credential_types": QCoreApplication.translate(
            "Script", "Applicant knows the kinds of credentials"
        ),
        "identity_document": QCoreApplication.translate(
            "Script", "Identity document, front and back"
        ),
        "health_card": QCoreApplication.translate("Script", "Tessera Sanitaria shown"),
        "terms": QCoreApplication.translate("Script", "Applicant accepts the terms"),
        "random_action": QCoreApplication.translate("Script", "Random action"),
        "summary": QCoreApplication.translate("Script", "Operator summarises, applicant confirms"),
        "face": QCoreApplication.translate("Script", "Face to the camera"),
        "signed_form": QCoreApplication.translate("Script", "Signed request form"),
        "document_valid": QCoreApplication.translate("Script", "Document intact and valid"),
        "codice_fiscale_checked": QCoreApplication.translate(
            "Script", "Codice fiscale checked on the card"
        ),
    }
    return titles.get(code, code.replace("_", " ").capitalize())


def target_label(target: str) -> str:
    return {
        "document_front": QCoreApplication.translate("Script", "Front"),
        "document_back": QCoreApplication.translate("Script", "Back"),
        "health_card": QCoreApplication.translate("Script", "Card"),
        "face": QCoreApplication.translate("Script", "Face"),
        "signed_form": QCoreApplication.translate("Script", "Form"),
    }.get(target, target)


def random_action_label(code: str) -> str:
    return {
        "raise_right_hand": QCoreApplication.translate("Script", "Raise the right hand"),
        "raise_left_hand": QCoreApplication.translate("Script", "Raise the left hand"),
        "turn_head_left": QCoreApplication.translate("Script", "Turn the head to the left"),
        "turn_head_right": QCoreApplication.translate("Script", "Turn the head to the right"),
        "touch_nose": QCoreApplication.translate("Script", "Touch the nose with the index finger"),
        "show_three_fingers": QCoreApplication.translate("Script", "Show three fingers"),
        "cover_left_eye": QCoreApplication.translate("Script", "Cover the left eye"),
        "look_up": QCoreApplication.translate("Script", "Look up, then back at the camera"),
        "touch_right_ear": QCoreApplication.translate("Script", "Touch the right ear"),
        "nod_twice": QCoreApplication.translate("Script", "Nod twice"),
    }.get(code, code.replace("_", " "))
