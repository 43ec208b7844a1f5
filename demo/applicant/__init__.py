"""The synthetic applicant: a DEMO/TEST peer (aiortc) that joins a call like the applicant's
browser page would, on the real protocol. Never a production component.

    python -m demo.applicant --desk http://127.0.0.1:8080 --join-token TOKEN

In-process: `ApplicantThread(ApplicantConfig(desk_url, join_token)).start()` ... `.stop()`.
"""

from demo.applicant.applicant import ApplicantConfig, ApplicantThread, SyntheticApplicant
from demo.applicant.scene import SCRIPT, Hand, SceneRenderer, Step, write_y4m

__all__ = [
    "SCRIPT",
    "ApplicantConfig",
    "ApplicantThread",
    "Hand",
    "SceneRenderer",
    "Step",
    "SyntheticApplicant",
    "write_y4m",
]
