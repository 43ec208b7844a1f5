"""Which workspace each role reaches from sign-in (no Qt here: ``ui.shell`` opens the window).

One table, :data:`WORKSPACE_OF_ROLE`, says where a signed-in account lands:

============  ==================  ============================================================
role          workspace           what it holds
============  ==================  ============================================================
operator      ``video_session``   the waiting room and the remote video session
partner       ``in_person``       the in-person check at the partner's InfoCert Point (card
                                  reader, workstation camera, form print/scan)
trainer       ``trainer``         training runs, scenarios and the player (anonymised only)
supervisor    ``review``          requests to review (suspended, in call) and sealed evidence
admin         ``review``          the same view; account administration is the desk's CLI
============  ==================  ============================================================

This decides the console's *window*, a convenience: what each role may actually do is enforced
by the desk service's role table (``server/policy.py``), never here.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from console.models import Role


class Workspace(StrEnum):
    VIDEO_SESSION = "video_session"
    IN_PERSON = "in_person"
    TRAINER = "trainer"
    REVIEW = "review"


WORKSPACE_OF_ROLE: Mapping[Role, Workspace] = MappingProxyType({
    Role.OPERATOR: Workspace.VIDEO_SESSION,
    Role.PARTNER: Workspace.IN_PERSON,
    Role.TRAINER: Workspace.TRAINER,
    Role.SUPERVISOR: Workspace.REVIEW,
    Role.ADMIN: Workspace.REVIEW,
})


def workspace_for(role: Role | str) -> Workspace:
    """The workspace of ``role``; ``ValueError`` for a role this console does not know."""
    return WORKSPACE_OF_ROLE[Role(role)]


#: the role each ``recognition-console demo --role`` signs in as (the seeded demo accounts)
DEMO_ACCOUNTS: Mapping[str, str] = MappingProxyType({
    "operator": "operatore1",
    "partner": "partner1",
    "trainer": "formatore1",
    "supervisor": "supervisore1",
})
