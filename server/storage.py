"""Where evidence lives: the uploads being received and the finished packages.

Every desk instance of a deployment reaches the same storage, so that the chunks of one upload
may arrive at different instances and a package stored by one is served by another. Nothing an
upload needs to go on is kept in a process: its state (``received``) is in the database and its
bytes are in the storage. Two backends:

:class:`FilesystemStorage`
    a directory tree (the data dir by default; in a deployment a mount every instance sees):
    ``uploads/<upload_id>.part`` (one file, each chunk written at its offset) and
    ``evidence/<upload_id>.bin`` (the finished package, renamed there). Files 0600, every write
    fsynced, short writes carried on; a full or read-only disk raises ``OSError`` (ENOSPC,
    EROFS), which the routes answer 507.
:class:`S3Storage`
    any S3-compatible object store (boto3): each chunk is one object
    ``<prefix>uploads/<upload_id>/<offset:016d>``; at completion the parts are streamed through
    a SHA-256 into a multipart upload of ``<prefix>packages/<upload_id>.bin`` created with
    Object Lock retention (COMPLIANCE mode, RetainUntilDate = the package's retention date),
    completed only when the digest matches (aborted otherwise: nothing is locked), then the
    parts are deleted. The bucket must have been created with Object Lock enabled
    (:meth:`S3Storage.create_bucket`); the service checks at start-up. Errors of the store are
    :class:`StorageUnavailable` (503) or, for a full store, :class:`StorageFull` (507).

The methods are synchronous (file system calls, boto3); the routes run them in a thread.
A *locator* is what the database keeps of a stored package (``EvidencePackage.stored_path``):
an absolute path for the file system (as before), ``s3://bucket/key`` for S3.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from server.config import ConfigError, DeskConfig
from server.files import fsync_dir, make_private_dir, open_private, pwrite_all

logger = logging.getLogger(__name__)

#: bytes read at a time while hashing or streaming
BLOCK = 1 << 20
#: the part size of the multipart upload that assembles a package on S3 (S3: 5 MiB at least
#: but for the last part, 10 000 parts at most: 8 MiB parts hold 78 GiB)
S3_PART_SIZE = 8 * 1024 * 1024
#: Object Lock mode of stored packages: nobody, the root account included, can shorten it
S3_LOCK_MODE = "COMPLIANCE"


class DigestMismatch(Exception):
    """The bytes received do not have the declared SHA-256 (or not the declared size)."""


class StorageUnavailable(Exception):
    """The object store did not answer or refused the operation (``code``: its error code, or
    the exception's class name; never credentials)."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


class StorageFull(StorageUnavailable):
    """The object store is out of room or over its quota: the routes answer 507."""


class PackageReader(ABC):
    """A stored package opened for a download: ``size`` bytes, read in blocks."""

    size: int
    #: a local file to send as it is (``sendfile``), or None: read the blocks
    path: Path | None = None

    @abstractmethod
    def read(self, n: int = BLOCK) -> bytes:
        """Up to ``n`` bytes; ``b""`` at the end."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release what the reader holds."""


class EvidenceStorage(ABC):
    """What the evidence routes need of the storage (see the module's docstring)."""

    kind: ClassVar[str]

    @abstractmethod
    def describe(self) -> str:
        """Where, for the start-up log (no credentials)."""

    def check(self) -> None:  # noqa: B027 - optional
        """At start-up: :class:`ConfigError` when the storage cannot be used as configured."""

    # --- uploads -----------------------------------------------------------------------

    @abstractmethod
    def begin_upload(self, upload_id: str) -> None:
        """A new upload (nothing received yet)."""

    @abstractmethod
    def write_chunk(self, upload_id: str, offset: int, data: bytes) -> None:
        """Store ``data`` at ``offset`` durably, all of it or none; only after this returns
        may the chunk be counted (``received``). A chunk already at ``offset`` is replaced."""

    @abstractmethod
    def read_upload(self, upload_id: str, size: int) -> Iterator[bytes]:
        """The bytes received so far, from offset 0, at most ``size`` of them, in blocks."""

    def digest(self, upload_id: str, size: int) -> tuple[str, int]:
        """(SHA-256 hex, length) of the first ``size`` bytes received."""
        h = hashlib.sha256()
        n = 0
        for block in self.read_upload(upload_id, size):
            h.update(block)
            n += len(block)
        return h.hexdigest(), n

    @abstractmethod
    def finish_upload(self, upload_id: str, size: int, sha256: str,
                      retain_until: datetime) -> str:
        """Make the upload a stored package, kept until ``retain_until``, once its ``size``
        bytes have the SHA-256 ``sha256`` (else :class:`DigestMismatch`, nothing stored).
        Returns the package's locator. Doing it again after a success returns the same
        locator (an instance that stored it but died before the database heard of it)."""

    @abstractmethod
    def reset_upload(self, upload_id: str) -> None:
        """Forget what was received (after a SHA-256 mismatch: the upload starts again)."""

    @abstractmethod
    def discard_upload(self, upload_id: str) -> None:
        """Delete what is left of an upload once its package is stored (idempotent)."""

    # --- packages ----------------------------------------------------------------------

    @abstractmethod
    def open_package(self, locator: str) -> PackageReader | None:
        """The stored package for a download; None when it is missing."""

    @abstractmethod
    def delete_package(self, locator: str) -> None:
        """Delete a stored package (after its retention; a missing one is no error)."""

    @abstractmethod
    def set_retention(self, locator: str, until: datetime) -> None:
        """Keep the package at least until ``until`` (S3: Object Lock; extend only)."""


# --- the file system ---------------------------------------------------------------------------


def write_at(path: Path, offset: int, data: bytes) -> None:
    """Put ``data`` at ``offset`` and fsync it: all of it or none. A short write goes on with
    the rest (``pwrite_all``); when a write or the fsync fails (a full or read-only disk) the
    file is cut back to ``offset`` so that no part of the chunk stays, and the error is raised.
    Only after this returns is the chunk counted (``received``)."""
    fd = open_private(path, os.O_WRONLY)
    try:
        try:
            pwrite_all(fd, data, offset)
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, offset)
            raise
    finally:
        os.close(fd)


class _FileReader(PackageReader):
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path
        self.size = path.stat().st_size
        self._fh: Any = None

    def read(self, n: int = BLOCK) -> bytes:
        if self._fh is None:
            self._fh = self._file.open("rb")
        return bytes(self._fh.read(n))

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class FilesystemStorage(EvidenceStorage):
    """Uploads in ``uploads``, packages in ``packages`` (by default ``root/uploads`` and
    ``root/evidence``: the data dir's layout)."""

    kind = "file"

    def __init__(self, root: Path, *, uploads: Path | None = None,
                 packages: Path | None = None) -> None:
        self.root = root
        self.uploads = uploads or root / "uploads"
        self.packages = packages or root / "evidence"

    def describe(self) -> str:
        return f"file system ({self.root.name or self.root})"

    def check(self) -> None:
        try:
            for d in (self.root, self.uploads, self.packages):
                make_private_dir(d)
        except OSError as exc:
            raise ConfigError(f"evidence storage {self.root}: {exc.strerror}") from exc

    def part_path(self, upload_id: str) -> Path:
        return self.uploads / f"{upload_id}.part"

    def final_path(self, upload_id: str) -> Path:
        return self.packages / f"{upload_id}.bin"

    def begin_upload(self, upload_id: str) -> None:
        os.close(open_private(self.part_path(upload_id), os.O_WRONLY))

    def write_chunk(self, upload_id: str, offset: int, data: bytes) -> None:
        write_at(self.part_path(upload_id), offset, data)

    def _source(self, upload_id: str) -> Path:
        src = self.part_path(upload_id)
        dst = self.final_path(upload_id)
        if not src.exists() and dst.exists():
            return dst  # moved by an earlier attempt that did not reach the database
        return src

    def read_upload(self, upload_id: str, size: int) -> Iterator[bytes]:
        src = self._source(upload_id)
        if not src.exists():
            return
        with src.open("rb") as fh:
            remaining = size
            while remaining > 0:
                block = fh.read(min(BLOCK, remaining))
                if not block:
                    break
                yield block
                remaining -= len(block)

    def finish_upload(self, upload_id: str, size: int, sha256: str,
                      retain_until: datetime) -> str:
        src = self._source(upload_id)
        dst = self.final_path(upload_id)
        digest, n = self.digest(upload_id, size)
        if digest != sha256 or n != size:
            raise DigestMismatch(upload_id)
        if src != dst:
            if src.stat().st_size > size:  # a tail left by an earlier attempt
                os.truncate(src, size)
            # the package is acknowledged only once the move survives a power cut
            os.replace(src, dst)
            fsync_dir(dst.parent)
            if src.parent != dst.parent:
                fsync_dir(src.parent)
        return str(dst)

    def reset_upload(self, upload_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.truncate(self.part_path(upload_id), 0)

    def discard_upload(self, upload_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.part_path(upload_id).unlink()

    def _path(self, locator: str) -> Path:
        path = Path(locator)
        if not path.is_absolute():
            path = self.root / path
        if not path.exists() and (self.packages / path.name).exists():
            path = self.packages / path.name  # the shared root mounted elsewhere here
        return path

    def open_package(self, locator: str) -> PackageReader | None:
        path = self._path(locator)
        try:
            return _FileReader(path)
        except FileNotFoundError:
            return None

    def delete_package(self, locator: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(locator).unlink()

    def set_retention(self, locator: str, until: datetime) -> None:
        """The database enforces retention on the file system (deletion is refused before)."""


# --- S3 ----------------------------------------------------------------------------------------

#: error codes of S3-compatible stores that mean "no room" (AWS has no quota; MinIO, Ceph do)
_FULL_CODES = frozenset({"XMinioStorageFull", "QuotaExceeded", "StorageFull",
                         "InsufficientStorage"})
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound", "NoSuchVersion"})
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def _botocore_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        err = response.get("Error") or {}
        code = str(err.get("Code") or "")
        if code:
            return code
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        if status:
            return str(status)
    return type(exc).__name__


def _unavailable(exc: BaseException, what: str) -> StorageUnavailable:
    code = _code(exc)
    cls = StorageFull if code in _FULL_CODES else StorageUnavailable
    return cls(code, what)


class _S3Reader(PackageReader):
    def __init__(self, body: Any, size: int) -> None:
        self._body = body
        self.size = size

    def read(self, n: int = BLOCK) -> bytes:
        try:
            return bytes(self._body.read(n))
        except _botocore_errors() as exc:
            raise _unavailable(exc, "read") from exc

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._body.close()


@dataclass(frozen=True)
class _Part:
    offset: int
    key: str
    size: int


class S3Storage(EvidenceStorage):
    """Objects under ``prefix`` in ``bucket``; ``client`` a boto3 S3 client (thread-safe)."""

    kind = "s3"

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def connect(cls, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                region: str | None = None, access_key_id: str | None = None,
                secret_access_key: str | None = None) -> S3Storage:
        """A client from the usual boto3 chain (environment, profile, instance role) unless
        keys are given; path-style addressing for a custom endpoint (MinIO, Ceph...)."""
        import boto3
        from botocore.config import Config

        config = Config(retries={"max_attempts": 5, "mode": "standard"},
                        connect_timeout=10, read_timeout=60,
                        s3={"addressing_style": "path"} if endpoint_url else None)
        session = boto3.session.Session()
        client = session.client("s3", endpoint_url=endpoint_url, region_name=region,
                                aws_access_key_id=access_key_id,
                                aws_secret_access_key=secret_access_key, config=config)
        return cls(client, bucket, prefix)

    def describe(self) -> str:
        return f"S3 bucket {self.bucket}" + (f" prefix {self.prefix}" if self.prefix else "")

    def check(self) -> None:
        try:
            conf = self.client.get_object_lock_configuration(Bucket=self.bucket)
        except _botocore_errors() as exc:
            code = _code(exc)
            if code in ("ObjectLockConfigurationNotFoundError", "InvalidRequest"):
                raise ConfigError(f"S3 bucket {self.bucket} has no Object Lock: create it with "
                                  "Object Lock enabled (evidence is kept in COMPLIANCE "
                                  "mode)") from None
            raise ConfigError(f"S3 bucket {self.bucket}: {code}") from None
        lock = conf.get("ObjectLockConfiguration") or {}
        if lock.get("ObjectLockEnabled") != "Enabled":
            raise ConfigError(f"S3 bucket {self.bucket} has no Object Lock enabled")
        if (lock.get("Rule") or {}).get("DefaultRetention"):
            logger.warning("S3 bucket %s has a default retention: upload parts get locked "
                           "too and stay until it expires", self.bucket)

    @classmethod
    def create_bucket(cls, client: Any, bucket: str, region: str | None = None) -> None:
        """Create ``bucket`` with Object Lock enabled (and so versioning), no default rule."""
        kwargs: dict[str, Any] = {"Bucket": bucket, "ObjectLockEnabledForBucket": True}
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        client.create_bucket(**kwargs)

    # --- keys --------------------------------------------------------------------------

    def part_prefix(self, upload_id: str) -> str:
        return f"{self.prefix}uploads/{upload_id}/"

    def part_key(self, upload_id: str, offset: int) -> str:
        return f"{self.part_prefix(upload_id)}{offset:016d}"

    def package_key(self, upload_id: str) -> str:
        return f"{self.prefix}packages/{upload_id}.bin"

    def locator(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _split(self, locator: str) -> tuple[str, str]:
        if locator.startswith("s3://"):
            bucket, _, key = locator[5:].partition("/")
            return bucket, key
        return self.bucket, locator  # a bare key

    # --- uploads -----------------------------------------------------------------------

    def begin_upload(self, upload_id: str) -> None:
        """Nothing to create: the parts are objects of their own."""

    def write_chunk(self, upload_id: str, offset: int, data: bytes) -> None:
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.part_key(upload_id, offset),
                                   Body=data, ContentMD5=md5,
                                   ContentType="application/octet-stream")
        except _botocore_errors() as exc:
            raise _unavailable(exc, "chunk") from exc

    def parts(self, upload_id: str) -> list[_Part]:
        """The part objects of an upload, by offset."""
        out: list[_Part] = []
        prefix = self.part_prefix(upload_id)
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix)
            for page in pages:
                for obj in page.get("Contents") or []:
                    tail = str(obj["Key"])[len(prefix):]
                    if tail.isdigit():
                        out.append(_Part(int(tail), str(obj["Key"]), int(obj["Size"])))
        except _botocore_errors() as exc:
            raise _unavailable(exc, "list parts") from exc
        return sorted(out, key=lambda p: p.offset)

    def _chain(self, upload_id: str, size: int) -> list[_Part]:
        """The parts from offset 0 on, each starting where the one before ends (a part left
        by a chunk that was never counted lies off this chain, or was replaced)."""
        by_offset = {p.offset: p for p in self.parts(upload_id)}
        chain: list[_Part] = []
        pos = 0
        while pos < size and pos in by_offset and by_offset[pos].size > 0:
            part = by_offset[pos]
            chain.append(part)
            pos += part.size
        return chain

    def read_upload(self, upload_id: str, size: int) -> Iterator[bytes]:
        remaining = size
        for part in self._chain(upload_id, size):
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=part.key)["Body"]
            except _botocore_errors() as exc:
                raise _unavailable(exc, "read part") from exc
            try:
                while remaining > 0:
                    try:
                        block = body.read(min(BLOCK, remaining))
                    except _botocore_errors() as exc:
                        raise _unavailable(exc, "read part") from exc
                    if not block:
                        break
                    remaining -= len(block)
                    yield bytes(block)
            finally:
                with contextlib.suppress(Exception):
                    body.close()
            if remaining <= 0:
                return

    def _head(self, bucket: str, key: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = self.client.head_object(Bucket=bucket, Key=key)
            return head
        except _botocore_errors() as exc:
            if _code(exc) in _MISSING_CODES:
                return None
            raise _unavailable(exc, "head") from exc

    def finish_upload(self, upload_id: str, size: int, sha256: str,
                      retain_until: datetime) -> str:
        key = self.package_key(upload_id)
        head = self._head(self.bucket, key)
        if head is not None and (head.get("Metadata") or {}).get("sha256") == sha256 \
                and int(head.get("ContentLength", -1)) == size:
            try:  # stored by an earlier attempt (which may have failed to lock it)
                self._ensure_locked(key, head.get("VersionId"), retain_until)
            except _botocore_errors() as exc:
                raise _unavailable(exc, "lock package") from exc
            return self.locator(key)
        try:
            mpu = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType="application/octet-stream",
                Metadata={"sha256": sha256}, ObjectLockMode=S3_LOCK_MODE,
                ObjectLockRetainUntilDate=retain_until, ChecksumAlgorithm="SHA256")
        except _botocore_errors() as exc:
            raise _unavailable(exc, "create package") from exc
        mpu_id = mpu["UploadId"]
        done = False
        try:
            h = hashlib.sha256()
            n = 0
            parts: list[dict[str, Any]] = []
            buf = bytearray()

            def send(data: bytes) -> None:
                number = len(parts) + 1
                r = self.client.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=mpu_id, PartNumber=number,
                    Body=data, ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=base64.b64encode(hashlib.sha256(data).digest()).decode())
                part = {"PartNumber": number, "ETag": r["ETag"]}
                if r.get("ChecksumSHA256"):
                    part["ChecksumSHA256"] = r["ChecksumSHA256"]
                parts.append(part)

            for block in self.read_upload(upload_id, size):
                h.update(block)
                n += len(block)
                buf += block
                if len(buf) >= S3_PART_SIZE:
                    send(bytes(buf[:S3_PART_SIZE]))
                    del buf[:S3_PART_SIZE]
            if h.hexdigest() != sha256 or n != size:
                raise DigestMismatch(upload_id)
            if buf or not parts:
                send(bytes(buf))
            done_r = self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=mpu_id,
                MultipartUpload={"Parts": parts})
            done = True
            self._ensure_locked(key, done_r.get("VersionId"), retain_until)
        except _botocore_errors() as exc:
            raise _unavailable(exc, "store package") from exc
        finally:
            if not done:  # nothing was stored, so nothing is locked
                with contextlib.suppress(Exception):
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=key,
                                                       UploadId=mpu_id)
        return self.locator(key)

    def _ensure_locked(self, key: str, version: str | None, retain_until: datetime) -> None:
        """The stored version carries COMPLIANCE retention until ``retain_until``: asked for
        when the multipart upload began; a store that did not apply it (some S3-compatible
        servers ignore lock headers on multipart uploads) gets it set on the version now."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version:
            kwargs["VersionId"] = version
        head = self.client.head_object(**kwargs)
        until = head.get("ObjectLockRetainUntilDate")
        if head.get("ObjectLockMode") == S3_LOCK_MODE and until is not None \
                and until >= retain_until:
            return
        logger.warning("the object store did not lock the package on upload: locking it now")
        self.client.put_object_retention(
            **kwargs, Retention={"Mode": S3_LOCK_MODE, "RetainUntilDate": retain_until})
        head = self.client.head_object(**kwargs)
        if head.get("ObjectLockMode") != S3_LOCK_MODE:
            raise StorageUnavailable("object_lock", "the object store did not lock the package")

    def _delete_versions(self, bucket: str, prefix: str, exact: bool) -> list[str]:
        """Delete every version (and delete marker) of the keys under ``prefix`` (only the key
        ``prefix`` itself when ``exact``); returns the codes of those refused."""
        refused: list[str] = []
        pages = self.client.get_paginator("list_object_versions").paginate(
            Bucket=bucket, Prefix=prefix)
        for page in pages:
            entries = [*(page.get("Versions") or []), *(page.get("DeleteMarkers") or [])]
            for v in entries:
                if exact and v["Key"] != prefix:
                    continue
                try:
                    self.client.delete_object(Bucket=bucket, Key=v["Key"],
                                              VersionId=v["VersionId"])
                except _botocore_errors() as exc:
                    refused.append(_code(exc))
        return refused

    def reset_upload(self, upload_id: str) -> None:
        self.discard_upload(upload_id)

    def discard_upload(self, upload_id: str) -> None:
        try:
            refused = self._delete_versions(self.bucket, self.part_prefix(upload_id), False)
        except _botocore_errors() as exc:
            raise _unavailable(exc, "delete parts") from exc
        if refused:
            logger.warning("upload %s: %d part objects not deleted (%s)", upload_id,
                           len(refused), refused[0])

    # --- packages ----------------------------------------------------------------------

    def open_package(self, locator: str) -> PackageReader | None:
        bucket, key = self._split(locator)
        try:
            r = self.client.get_object(Bucket=bucket, Key=key)
        except _botocore_errors() as exc:
            if _code(exc) in _MISSING_CODES:
                return None
            raise _unavailable(exc, "open package") from exc
        return _S3Reader(r["Body"], int(r["ContentLength"]))

    def delete_package(self, locator: str) -> None:
        """Delete every version of the object. A version still under Object Lock (the store's
        clock says the retention has not passed) cannot be: it is hidden behind a delete
        marker instead and goes when its retention ends (a lifecycle rule on noncurrent
        versions), with a warning."""
        bucket, key = self._split(locator)
        try:
            refused = self._delete_versions(bucket, key, True)
            if refused:
                self.client.delete_object(Bucket=bucket, Key=key)
                logger.warning("package object %s: %d versions still locked (%s); hidden "
                               "behind a delete marker", key.rsplit("/", 1)[-1], len(refused),
                               refused[0])
        except _botocore_errors() as exc:
            raise _unavailable(exc, "delete package") from exc

    def set_retention(self, locator: str, until: datetime) -> None:
        bucket, key = self._split(locator)
        try:
            self.client.put_object_retention(
                Bucket=bucket, Key=key,
                Retention={"Mode": S3_LOCK_MODE, "RetainUntilDate": until})
        except _botocore_errors() as exc:
            raise _unavailable(exc, "set retention") from exc


# --- from the configuration --------------------------------------------------------------------


def parse_storage_url(url: str) -> tuple[str, str, str]:
    """``file:///PATH`` -> ("file", "", PATH); ``s3://BUCKET/PREFIX`` -> ("s3", BUCKET,
    PREFIX). :class:`ConfigError` for anything else."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ConfigError(f"bad storage URL {url!r}: file:///ABSOLUTE/PATH")
        return "file", "", unquote(parts.path)
    if parts.scheme == "s3":
        if not _BUCKET.fullmatch(parts.netloc or ""):
            raise ConfigError(f"bad storage URL {url!r}: s3://BUCKET/PREFIX with a valid "
                              "bucket name")
        if parts.query or parts.fragment:
            raise ConfigError(f"bad storage URL {url!r}: no query or fragment")
        return "s3", parts.netloc, unquote(parts.path).strip("/")
    raise ConfigError(f"bad storage URL {url!r}: file:///PATH or s3://BUCKET/PREFIX")


def make_storage(config: DeskConfig) -> EvidenceStorage:
    """The evidence storage of ``config`` (``storage_url``; default: the data dir), checked."""
    url = getattr(config, "storage_url", None)
    storage: EvidenceStorage
    if not url:
        storage = FilesystemStorage(config.data_dir)
    else:
        kind, bucket, rest = parse_storage_url(url)
        if kind == "file":
            storage = FilesystemStorage(Path(rest))
        else:
            try:
                storage = S3Storage.connect(
                    bucket, rest, endpoint_url=getattr(config, "s3_endpoint_url", None),
                    region=getattr(config, "s3_region", None),
                    access_key_id=getattr(config, "s3_access_key_id", None),
                    secret_access_key=getattr(config, "s3_secret_access_key", None))
            except ImportError as exc:
                raise ConfigError("an s3:// storage needs boto3 installed") from exc
    storage.check()
    return storage
