"""Registering a scenario pack's request at a desk service (as a partner shop or the web form
would), for training runs and the trainer's window."""

from __future__ import annotations

from datetime import date
from typing import Any


def create_request(desk_url: str, request: dict[str, Any]) -> dict[str, Any]:
    """Register the pack's request at the desk (as a partner shop or the web form would).

    The desk refuses to register a document that has already expired; a scenario whose card
    expired is then registered as it was when the card was still valid (expiry a year ahead),
    and the answer names the adjusted field in ``request_adjusted``: the card shown in the
    call still carries its real, past expiry date, which is what the operator must catch."""
    import copy

    import requests

    body = copy.deepcopy(request)
    adjusted: list[str] = []
    for _attempt in range(2):
        resp = requests.post(f"{desk_url}/api/v1/requests", json=body, timeout=30)
        if resp.status_code == 201:
            data: dict[str, Any] = resp.json()
            data["request_adjusted"] = adjusted
            return data
        try:
            err = resp.json()
        except ValueError:
            err = {}
        fields = err.get("fields") or {}
        if fields.get("document.expiry_date") == "expired" and not adjusted:
            body["document"]["expiry_date"] = date(date.today().year + 1, 3, 1).isoformat()
            adjusted.append("document.expiry_date")
            continue
        raise RuntimeError(f"the desk refused the scenario's request "
                           f"({err.get('error', resp.status_code)})")
    raise RuntimeError("the desk refused the scenario's request")
