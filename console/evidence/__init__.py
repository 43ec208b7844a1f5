"""Evidence of an identification session: recording, package, signature, seal, upload.

Public API (no Qt here)::

    key = WorkstationKey.load_or_create(data_dir)
    b = EvidencePackageBuilder.create(work_dir, key, request_id=..., product=..., operator=...)
    rec = b.start_recording()        # media.recorder.Recorder; engine.add_media_sink(rec)
    b.record_step("a", passed=True) / b.add_capture(...) / b.otp_event(...) / b.record_decision(...)
    folder = b.finalize()
    trust = TrustStore.load(file) | fetch_trust_store(api) | TrustStore.of_keys([key])
    verify(folder | tar | sealed, key_file=..., trust=trust) -> VerifyResult
    seal(folder, archive_public_key) -> SealedInfo;  open_sealed(sealed, key_file, out_dir)
    Uploader(api, data_dir).submit(...) / .run_pending(progress) / .recover(...)
"""

from __future__ import annotations

from console.evidence.errors import (
    EvidenceError,
    EvidenceKeyError,
    PackageError,
    RecordingError,
    SealError,
    UploadError,
)
from console.evidence.keys import (
    ArchivePublicKey,
    WorkstationKey,
    generate_archive_key,
    load_archive_private_key,
)
from console.evidence.package import EvidencePackageBuilder, build_archive
from console.evidence.seal import SealedInfo, open_sealed, seal, sealed_header
from console.evidence.trust import TrustedKey, TrustStore, fetch_trust_store
from console.evidence.verify import Problem, VerifyResult, verify

__all__ = [
    "ArchivePublicKey",
    "EvidenceError",
    "EvidenceKeyError",
    "EvidencePackageBuilder",
    "PackageError",
    "Problem",
    "RecordingError",
    "SealError",
    "SealedInfo",
    "TrustStore",
    "TrustedKey",
    "UploadError",
    "VerifyResult",
    "WorkstationKey",
    "build_archive",
    "fetch_trust_store",
    "generate_archive_key",
    "load_archive_private_key",
    "open_sealed",
    "seal",
    "sealed_header",
    "verify",
]
