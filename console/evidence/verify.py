"""Re-verify an evidence package: file hashes, audit chain, manifest signature, signer.

Works on the folder, on its tar archive, and (with the archive private key) on a sealed file,
which is decrypted as a stream -- no plaintext copy is written to disk. The result names exactly
what was altered, removed or added.

The signature is trusted only when its key is in the :class:`~console.evidence.trust.TrustStore`
given (``trust=``) and was valid, and not revoked, when the manifest says it was signed
(``created_at``): the key the package carries is never trusted because the package carries it.
Without a trust store every package is refused as "signed by unknown key <key id>".

Archives: each member must be a regular file under the one package folder, named plainly
(no ``.``/``..``/empty components, not absolute), appear once, and be listed in the manifest
(``manifest.json`` and ``manifest.sig`` excepted); directory entries carry no data and are
accepted inside the package folder only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from console.evidence.audit import check_chain
from console.evidence.keys import key_fingerprint, verify_signature
from console.evidence.package import (
    AUDIT,
    CHUNK,
    FORMAT,
    MANIFEST,
    PUBLIC_KEY,
    SIGNATURE,
    UNSIGNED,
    package_files,
)
from console.evidence.trust import TrustStore, parse_time

log = logging.getLogger(__name__)

_KEEP = {MANIFEST, SIGNATURE, AUDIT, PUBLIC_KEY}  # small files read into memory
NO_TRUST = "no trust store given: use --trust FILE or --desk URL"

#: (relative path, an open file | None for a non-regular file | why the entry is refused)
Entry = tuple[str, IO[bytes] | str | None]


@dataclass(frozen=True)
class Problem:
    kind: str  # "altered" | "removed" | "added" | "invalid" | "untrusted"
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}: {self.detail}"


@dataclass
class VerifyResult:
    ok: bool
    problems: list[Problem] = field(default_factory=list)
    package_id: str | None = None
    request_id: str | None = None
    workstation_key: str | None = None  # base64 public key the manifest was signed with
    key_id: str | None = None  # its SHA-256 (the key id at the registry)
    workstation: str | None = None  # the trust store's name for it, when trusted
    signed_at: str | None = None  # the manifest's created_at
    files_checked: int = 0
    partial: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "package_id": self.package_id, "request_id": self.request_id,
                "workstation_key": self.workstation_key, "key_id": self.key_id,
                "workstation": self.workstation, "signed_at": self.signed_at,
                "files_checked": self.files_checked, "partial": self.partial,
                "problems": [p.__dict__ for p in self.problems]}


def _iter_folder(folder: Path) -> Iterator[Entry]:
    for rel in package_files(folder):
        p = folder / rel
        if p.is_symlink() or not p.is_file():
            yield rel, None
            continue
        with open(p, "rb") as fh:
            yield rel, fh


def _iter_tar(tar: tarfile.TarFile) -> Iterator[Entry]:
    """Members as package-relative paths; anything that is not a plainly named member of the
    one package folder comes with the reason it is refused."""
    root: str | None = None
    for member in tar:
        name = member.name[2:] if member.name.startswith("./") else member.name
        parts = name.split("/")
        if not name or name.startswith("/") or any(p in ("", ".", "..") for p in parts):
            yield member.name, "archive member name is not a plain relative path"
            continue
        if root is None:
            root = parts[0]
        rel = "/".join(parts[1:])
        if parts[0] != root:
            yield name, f"archive member outside the package folder {root}/"
            continue
        if member.isdir():
            continue  # no data; the folder itself or one of its subfolders
        if not rel:
            yield name, "the package folder itself is not a folder"
            continue
        if not member.isfile():
            yield rel, None
            continue
        yield rel, tar.extractfile(member)


def verify_stream(entries: Iterator[Entry], trust: TrustStore | None = None) -> VerifyResult:
    """Verify from an iterator of :data:`Entry` (folder or archive members, in order)."""
    digests: dict[str, tuple[str, int]] = {}
    kept: dict[str, bytes] = {}
    odd: list[tuple[str, str]] = []
    seen: set[str] = set()
    for rel, fh in entries:
        if isinstance(fh, str):
            odd.append((rel, fh))
            continue
        if rel in seen:  # extractors differ on which copy wins: refuse both
            odd.append((rel, "appears more than once in the archive"))
            continue
        seen.add(rel)
        if fh is None:
            odd.append((rel, "not a regular file"))
            continue
        h = hashlib.sha256()
        size = 0
        buf = bytearray() if rel in _KEEP else None
        while block := fh.read(CHUNK):
            h.update(block)
            size += len(block)
            if buf is not None:
                buf += block
        digests[rel] = (h.hexdigest(), size)
        if buf is not None:
            kept[rel] = bytes(buf)
    return _judge(digests, kept, odd, trust)


def _judge(digests: dict[str, tuple[str, int]], kept: dict[str, bytes],
           odd: list[tuple[str, str]], trust: TrustStore | None) -> VerifyResult:
    res = VerifyResult(ok=False)
    probs = res.problems
    for rel, reason in odd:
        probs.append(Problem("added", rel, reason))
    body = kept.get(MANIFEST)
    if body is None:
        probs.append(Problem("removed", MANIFEST, "manifest missing: nothing can be verified"))
        return res
    try:
        manifest = json.loads(body)
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            raise ValueError("not a manifest")
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        probs.append(Problem("altered", MANIFEST, "not a valid manifest (unreadable JSON)"))
        return res
    res.package_id = str(manifest.get("package_id"))
    res.request_id = str(manifest.get("request_id"))
    res.partial = bool(manifest.get("partial"))
    if manifest.get("format") != FORMAT:
        probs.append(Problem("invalid", MANIFEST, "unknown package format"))
    ws_raw = manifest.get("workstation")
    ws: dict[str, Any] = ws_raw if isinstance(ws_raw, dict) else {}
    pub_b64 = str(ws.get("public_key", ""))
    res.workstation_key = pub_b64 or None
    res.signed_at = str(manifest["created_at"]) if "created_at" in manifest else None
    # signature
    sig_text = kept.get(SIGNATURE)
    if sig_text is None:
        probs.append(Problem("removed", SIGNATURE, "signature missing"))
    else:
        try:
            sig = base64.b64decode(sig_text.removesuffix(b"\n"), validate=True)
            pub = base64.b64decode(pub_b64, validate=True)
        except (binascii.Error, ValueError):
            sig, pub = b"", b""
        if base64.b64encode(sig) + b"\n" != sig_text:  # byte-exact: no tolerated variants
            sig = b""
        if not verify_signature(pub, sig, body):
            probs.append(Problem("altered", f"{MANIFEST} or {SIGNATURE}",
                                 "the manifest signature does not verify"))
        else:
            res.key_id = key_fingerprint(pub)
            if trust is None:
                why: str | None = f"signed by unknown key {res.key_id} ({NO_TRUST})"
            else:
                why = trust.check(pub, parse_time(manifest.get("created_at")))
                found = trust.find(pub)
                if why is None and found is not None:
                    res.workstation = found.workstation
            if why is not None:
                probs.append(Problem("untrusted", SIGNATURE, why))
    # the public key file must be the key the manifest names
    pub_file = kept.get(PUBLIC_KEY)
    if pub_file is not None and pub_file != pub_b64.encode() + b"\n":
        probs.append(Problem("altered", PUBLIC_KEY, "differs from the key in the manifest"))
    # files
    listed: dict[str, Any] = manifest["files"]
    for rel, meta in sorted(listed.items()):
        if rel not in digests:
            probs.append(Problem("removed", rel, "listed in the manifest, missing"))
            continue
        sha = digests[rel][0]
        want = meta.get("sha256") if isinstance(meta, dict) else None
        if sha != want:
            probs.append(Problem("altered", rel, f"SHA-256 {sha[:16]}… differs from the manifest"
                                 f" ({str(want)[:16]}…)"))
    for rel in sorted(digests):
        if rel not in listed and rel not in UNSIGNED:
            probs.append(Problem("added", rel, "not listed in the manifest"))
    res.files_checked = len(digests)
    # audit chain
    audit = kept.get(AUDIT)
    if audit is not None:
        entries, chain_problems, head = check_chain(audit.split(b"\n"))
        for cp in chain_problems:
            probs.append(Problem("altered", AUDIT, f"line {cp.line}: {cp.detail}"))
        named = manifest.get("audit")
        named = named if isinstance(named, dict) else {}
        if head != named.get("head"):
            probs.append(Problem("altered", AUDIT, "last entry is not the head named in the "
                                 "manifest (entries removed or added)"))
        n = named.get("entries")
        if isinstance(n, int) and n != len(entries):
            probs.append(Problem("altered", AUDIT, f"{len(entries)} entries, manifest says {n}"))
    elif AUDIT not in [p.path for p in probs]:
        probs.append(Problem("removed", AUDIT, "audit log missing"))
    res.ok = not probs
    return res


def verify(path: str | os.PathLike[str], *, key_file: str | os.PathLike[str] | None = None,
           trust: TrustStore | None = None) -> VerifyResult:
    """Verify a package folder, its ``.tar`` archive, or a sealed file (``key_file``: the
    archive private key that opens it). ``trust``: the workstation keys whose signatures count;
    without one the package is refused (signed by unknown key)."""
    from console.evidence.seal import SealedReader, is_sealed

    p = Path(path)
    if p.is_dir():
        return verify_stream(_iter_folder(p), trust)
    if not p.exists():
        return VerifyResult(ok=False, problems=[Problem("removed", p.name, "no such file")])
    if is_sealed(p):
        if key_file is None:
            return VerifyResult(ok=False, problems=[Problem(
                "invalid", p.name, "sealed package: the archive key (--key) is needed")])
        from console.evidence.keys import load_archive_private_key

        key = load_archive_private_key(key_file)
        with SealedReader(p, key) as reader:
            try:
                with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
                    result = verify_stream(_iter_tar(tar), trust)
            except tarfile.TarError:  # decrypts (so sealed with the archive key), not a tar
                result = VerifyResult(ok=False, problems=[Problem(
                    "invalid", p.name, "the sealed content is not a package archive")])
            reader.drain()  # authenticate every chunk to the final one
        return result
    try:
        with tarfile.open(p, mode="r:") as tar:
            result = verify_stream(_iter_tar(tar), trust)
        result.problems += _tar_slack(p)
        result.ok = not result.problems
        return result
    except tarfile.TarError:
        return VerifyResult(ok=False, problems=[Problem(
            "invalid", p.name, "neither a package folder, a tar archive nor a sealed package")])


def _tar_slack(path: Path) -> list[Problem]:
    """Bytes of a tar outside headers and file contents (block padding, end-of-archive
    blocks) must be zero: with the header checksums and the manifest's file hashes this makes
    every byte of the archive count."""
    problems: list[Problem] = []
    size = path.stat().st_size
    with tarfile.open(path, mode="r:") as tar, open(path, "rb") as raw:
        end = 0
        for m in tar:
            data_end = m.offset_data + (m.size if m.isfile() else 0)
            pad_end = -(-data_end // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE
            raw.seek(data_end)
            if raw.read(pad_end - data_end).strip(b"\0"):
                problems.append(Problem("altered", path.name,
                                        f"padding after {m.name} is not zero"))
            end = pad_end
        raw.seek(end)
        while block := raw.read(1 << 16):
            if block.strip(b"\0"):
                problems.append(Problem("altered", path.name,
                                        f"data after the last file (offset >= {end} of {size})"))
                break
    return problems
