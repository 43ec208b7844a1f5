"""Evidence intake and archive: resumable uploads, SHA-256 check, retention, logged access.

Packages arrive already encrypted by the console to the archive key; the service stores opaque
bytes in the evidence storage (server/storage.py: the data dir, a shared directory or an S3
bucket with Object Lock) and never needs the private key. No upload state is kept in the
process: ``received`` is in the database and the bytes in the storage, so the chunks of one
upload may reach different instances.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from server.context import DESK, Desk
from server.errors import STORAGE_RETRY_AFTER, ApiError, not_found, storage_error, storage_refusal
from server.policy import TRAINER_ACCESS_ACTIONS, Scope, caller, check_request, principal
from server.storage import (
    DigestMismatch,
    EvidenceStorage,
    FilesystemStorage,
    StorageFull,
    StorageUnavailable,
    make_storage,
    write_at,
)
from server.store import EvidencePackage, IdRequest, Operator
from server.validation import Fields, is_uuid, iso, parse_date, parse_datetime
from server.web_util import json_response, read_body, read_object

logger = logging.getLogger(__name__)

UPLOAD_KINDS = ("package", "recording")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$")

#: the evidence storage of the application (set by :func:`setup` from the configuration)
STORAGE: web.AppKey[EvidenceStorage] = web.AppKey("evidence_storage", EvidenceStorage)
#: chunks of one upload reaching this process one at a time (an optimisation only: across
#: instances the database's conditional update of ``received`` decides)
_locks: dict[str, asyncio.Lock] = {}


def _lock(upload_id: str) -> asyncio.Lock:
    lock = _locks.get(upload_id)
    if lock is None:
        lock = _locks[upload_id] = asyncio.Lock()
    return lock


def add_years(dt: datetime, years: int) -> datetime:
    try:
        return dt.replace(year=dt.year + years)
    except ValueError:  # 29 February
        return dt.replace(year=dt.year + years, day=28)


def part_path(desk: Desk, upload_id: str) -> Path:
    """The part file of an upload in the default storage (the data dir)."""
    return FilesystemStorage(desk.config.data_dir).part_path(upload_id)


def final_path(desk: Desk, upload_id: str) -> Path:
    """The stored package of an upload in the default storage (the data dir)."""
    return FilesystemStorage(desk.config.data_dir).final_path(upload_id)


#: the all-or-nothing chunk write of the file system storage (tests call it directly)
_write_at = write_at


async def archive_key(request: web.Request) -> web.Response:
    return json_response(request.app[DESK].archive.as_json())


async def open_upload(request: web.Request) -> web.Response:
    op = caller(request)
    desk = request.app[DESK]
    body = await read_object(request)
    f = Fields()
    f.unknown(body, {"upload_key", "request_id", "filename", "size", "sha256", "kind"})
    kind = f.enum(body, "kind", "kind", UPLOAD_KINDS, required=False) or "package"
    key = f.string(body, "upload_key", "upload_key", max_len=128, pattern=_KEY)
    req_id = body.get("request_id")
    if req_id is None:
        f.add("request_id", "required")
    elif not is_uuid(req_id):
        f.add("request_id", "invalid_format")
    filename = f.string(body, "filename", "filename", max_len=200, pattern=_FILENAME)
    size = body.get("size")
    if size is None:
        f.add("size", "required")
    elif not isinstance(size, int) or isinstance(size, bool):
        f.add("size", "invalid_type")
    elif not 1 <= size <= desk.config.max_upload_size:
        f.add("size", "out_of_range")
    sha = body.get("sha256")
    if sha is None:
        f.add("sha256", "required")
    elif not isinstance(sha, str) or not _SHA256.fullmatch(sha.lower()):
        f.add("sha256", "invalid_format")
    if f.errors:
        raise ApiError(422, "validation_failed", fields=f.errors)
    assert key and filename and isinstance(size, int) and isinstance(sha, str)
    req_id = str(req_id).lower()
    sess = check_request(desk, principal(request), req_id)
    if sess is None:
        raise ApiError(409, "no_session", "evidence belongs to a session")
    up, created = desk.store.open_upload(key, req_id, op.id, filename, size, sha.lower(),
                                         desk.config.clock.now(), kind=kind,
                                         session_id=sess.id)
    if created:
        try:
            await asyncio.to_thread(request.app[STORAGE].begin_upload, up.id)
        except (OSError, StorageUnavailable) as exc:  # the chunks create it too: still usable
            raise _refused(exc, up.id, "part file", 0) from exc
        logger.info("upload %s opened for request %s (%d bytes)", up.id, up.request_id, size)
    out = {"upload_id": up.id, "received": up.received, "complete": up.package_id is not None}
    if up.package_id:
        out["package_id"] = up.package_id
    return json_response(out, 201 if created else 200)


def _upload_id(request: web.Request) -> str:
    raw = request.match_info["upload_id"]
    if not is_uuid(raw):
        raise not_found("upload_not_found")
    return raw


def _refused(exc: OSError | StorageUnavailable, upload_id: str, what: str,
             received: int) -> ApiError:
    """The 507 for a write the disk (or the object store: :class:`StorageFull`) refused, the
    503 ``storage_unavailable`` for an object store that failed; any other OSError is raised
    again (a 500)."""
    if isinstance(exc, StorageFull):
        err = storage_refusal("insufficient_storage", received=received)
    elif isinstance(exc, StorageUnavailable):
        logger.warning("upload %s: %s not stored (storage unavailable: %s)", upload_id, what,
                       exc.code)
        return _unavailable(received=received)
    else:
        found = storage_error(exc, received=received)
        if found is None:
            raise exc
        err = found
    logger.warning("upload %s: %s not stored (%s)", upload_id, what, err.code)
    return err


def _unavailable(**extra: Any) -> ApiError:
    return ApiError(503, "storage_unavailable", "the evidence storage did not answer: nothing "
                    "was stored, send it again later", retry_after=STORAGE_RETRY_AFTER, **extra)


async def put_chunk(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    upload_id = _upload_id(request)
    raw_offset = request.query.get("offset", "")
    if not (raw_offset.isascii() and raw_offset.isdigit()) or len(raw_offset) > 15:
        raise ApiError(422, "validation_failed", fields={"offset": "invalid_format"})
    offset = int(raw_offset)
    limit = desk.config.max_chunk_size
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "chunk_too_large", max_chunk=limit)
    data = await read_body(request, limit)
    if len(data) > limit:
        raise ApiError(413, "chunk_too_large", max_chunk=limit)
    if not data:
        raise ApiError(422, "validation_failed", fields={"body": "required"})
    async with _lock(upload_id):
        up = desk.store.upload(upload_id)
        if up is None:
            raise not_found("upload_not_found")
        if up.package_id is not None:
            raise ApiError(409, "upload_complete", received=up.received)
        if offset != up.received:
            raise ApiError(409, "wrong_offset", received=up.received)
        if offset + len(data) > up.size:
            raise ApiError(422, "validation_failed", fields={"body": "exceeds_declared_size"})
        try:
            await asyncio.to_thread(request.app[STORAGE].write_chunk, upload_id, offset, data)
        except (OSError, StorageUnavailable) as exc:
            raise _refused(exc, upload_id, f"chunk at {offset}", up.received) from exc
        try:
            advanced = desk.store.advance_upload(upload_id, offset, offset + len(data))
        except ApiError as exc:  # 507: the database's disk is full; the bytes are not counted
            if exc.status == 507:
                exc.extra.setdefault("received", up.received)
            raise
        if not advanced:
            raise ApiError(409, "wrong_offset", received=up.received)
    return json_response({"received": offset + len(data)})


def package_json(pkg: EvidencePackage, req: IdRequest | None = None,
                 op: Operator | None = None, anonymised: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "package_id": pkg.id, "request_id": pkg.request_id, "filename": pkg.filename,
        "size": pkg.size, "sha256": pkg.sha256, "stored_at": iso(pkg.stored_at),
        "retention_until": iso(pkg.retention_until),
    }
    if anonymised:
        if req is not None:
            out["product"] = req.product
        return out
    if req is not None:
        out["codice_fiscale"] = req.codice_fiscale
        out["product"] = req.product
    if op is not None:
        out["operator"] = op.username
    return out


async def complete_upload(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    storage = request.app[STORAGE]
    upload_id = _upload_id(request)
    async with _lock(upload_id):
        up = desk.store.upload(upload_id)
        if up is None:
            raise not_found("upload_not_found")
        if up.package_id is not None:
            pkg = desk.store.package(up.package_id)
            if pkg is not None:
                return json_response(package_json(pkg))
        if up.received != up.size:
            raise ApiError(409, "upload_incomplete", received=up.received, size=up.size)
        req = desk.store.request(up.request_id)
        product = req.product if req else "spid_personal"
        now = desk.config.clock.now()
        years = desk.config.retention_years.get(product, 20)
        until = add_years(now, years)
        # the same content already archived for this request: check the bytes, store no copy
        same = next((p for p, _r, _o in desk.store.search_packages(
            up.request_id, None, None, None, None) if p.sha256 == up.sha256), None)
        try:
            if same is not None:
                digest, n = await asyncio.to_thread(storage.digest, upload_id, up.size)
                if digest != up.sha256 or n != up.size:
                    raise DigestMismatch(upload_id)
                locator = same.stored_path
            else:
                locator = await asyncio.to_thread(storage.finish_upload, upload_id, up.size,
                                                  up.sha256, until)
        except DigestMismatch:
            # the storage first: while ``received`` is the size no chunk is taken
            with contextlib.suppress(OSError, StorageUnavailable):
                await asyncio.to_thread(storage.reset_upload, upload_id)
            desk.store.advance_upload(upload_id, up.received, 0)
            logger.warning("upload %s: sha256 mismatch, restart from 0", upload_id)
            raise ApiError(422, "sha256_mismatch", "content does not match the declared sha256",
                           received=0) from None
        except (OSError, StorageUnavailable) as exc:
            raise _refused(exc, upload_id, "package", up.received) from exc
        pkg, created = desk.store.finish_upload(upload_id, lambda _pid: locator, now, until)
        if pkg.stored_path != locator:
            try:  # identical content already archived: keep one copy
                await asyncio.to_thread(storage.delete_package, locator)
            except (OSError, StorageUnavailable) as exc:
                logger.warning("upload %s: duplicate not deleted (%s)", upload_id,
                               getattr(exc, "code", None) or type(exc).__name__)
        try:
            await asyncio.to_thread(storage.discard_upload, upload_id)
        except (OSError, StorageUnavailable) as exc:
            logger.warning("upload %s: parts not deleted (%s)", upload_id,
                           getattr(exc, "code", None) or type(exc).__name__)
        logger.info("upload %s complete: package %s (%s)", upload_id, pkg.id,
                    "new" if created else "already stored")
        _locks.pop(upload_id, None)
    return json_response(package_json(pkg))


def _date_param(request: web.Request, name: str, fields: dict[str, str]) -> datetime | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    dt = parse_datetime(raw)
    if dt is None:
        d = parse_date(raw)
        if d is not None:
            dt = datetime(d.year, d.month, d.day, tzinfo=UTC)
    if dt is None:
        fields[name] = "invalid_format"
    return dt


async def search(request: web.Request) -> web.Response:
    anonymised = principal(request).scope is Scope.ANONYMISED
    desk = request.app[DESK]
    fields: dict[str, str] = {}
    date_from = _date_param(request, "date_from", fields)
    date_to = _date_param(request, "date_to", fields)
    req_id = request.query.get("request_id") or None
    if req_id is not None and not is_uuid(req_id):
        fields["request_id"] = "invalid_format"
    cf = (request.query.get("codice_fiscale") or "").upper() or None
    if cf is not None and len(cf) != 16:
        fields["codice_fiscale"] = "invalid_format"
    operator = request.query.get("operator") or None
    if operator is not None and len(operator) > 64:
        fields["operator"] = "too_long"
    if anonymised and (cf or operator):
        raise ApiError(403, "forbidden", "trainers search anonymised packages by request only")
    if fields:
        raise ApiError(422, "validation_failed", fields=fields)
    if date_to is not None and request.query.get("date_to", "").count("T") == 0:
        date_to = add_days(date_to, 1)  # a date is inclusive
    rows = desk.store.search_packages(req_id, cf, operator, date_from, date_to)
    return json_response({"packages": [package_json(p, r, o, anonymised) for p, r, o in rows]})


def add_days(dt: datetime, days: int) -> datetime:
    return dt + timedelta(days=days)


def _package_id(request: web.Request) -> str:
    raw = request.match_info["package_id"]
    if not is_uuid(raw):
        raise not_found("package_not_found")
    return raw


def _reason(value: Any) -> str:
    if not isinstance(value, str) or not 3 <= len(value.strip()) <= 500:
        raise ApiError(422, "validation_failed", fields={"reason": "required"})
    return value.strip()


async def package_info(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    pkg = desk.store.package(_package_id(request))
    if pkg is None or pkg.deleted_at is not None:
        raise not_found("package_not_found")
    log = [{"operator": name, "action": a.action, "reason": a.reason, "at": iso(a.at)}
           for a, name in desk.store.access_log(pkg.id)]
    return json_response({**package_json(pkg), "access_log": log})


async def content(request: web.Request) -> web.StreamResponse:
    op = caller(request)
    desk = request.app[DESK]
    pkg = desk.store.package(_package_id(request))
    if pkg is None or pkg.deleted_at is not None:
        raise not_found("package_not_found")
    reason = _reason(request.query.get("reason"))
    try:
        reader = await asyncio.to_thread(request.app[STORAGE].open_package, pkg.stored_path)
    except StorageUnavailable as exc:
        logger.warning("package %s: storage unavailable (%s)", pkg.id, exc.code)
        raise _unavailable() from exc
    if reader is None:
        logger.error("package %s: stored file missing", pkg.id)
        raise ApiError(410, "content_missing")
    headers = {"Content-Type": "application/octet-stream",
               "Content-Disposition": 'attachment; filename="evidence.bin"',
               "X-Content-SHA256": pkg.sha256}
    try:
        desk.store.log_access(pkg.id, op.id, "download", reason, desk.config.clock.now())
        logger.info("package %s downloaded by operator %d", pkg.id, op.id)
        if reader.path is not None:
            return web.FileResponse(reader.path, headers=headers)
        resp = web.StreamResponse(headers=headers)
        resp.content_length = reader.size
        await resp.prepare(request)
        while block := await asyncio.to_thread(reader.read):
            await resp.write(block)
        await resp.write_eof()
        return resp
    finally:
        reader.close()


async def log_access(request: web.Request) -> web.Response:
    op = caller(request)
    desk = request.app[DESK]
    pkg_id = _package_id(request)
    body = await read_object(request)
    f = Fields()
    f.unknown(body, {"action", "reason"})
    action = f.string(body, "action", "action", max_len=32,
                      pattern=re.compile(r"^[a-z][a-z_]{1,31}$"))
    if f.errors or action is None:
        raise ApiError(422, "validation_failed", fields=f.errors)
    reason = _reason(body.get("reason"))
    if principal(request).scope is Scope.ANONYMISED and action not in TRAINER_ACCESS_ACTIONS:
        raise ApiError(403, "forbidden", "trainers record replays of anonymised copies only",
                       allowed=list(TRAINER_ACCESS_ACTIONS))
    row = desk.store.log_access(pkg_id, op.id, action, reason, desk.config.clock.now())
    return json_response({"access_id": row.id, "at": iso(row.at)}, 201)


async def delete_package(request: web.Request) -> web.Response:
    op = caller(request)
    desk = request.app[DESK]
    reason = _reason(request.query.get("reason", "retention expired"))
    pkg = desk.store.delete_package(_package_id(request), op.id, reason,
                                    desk.config.clock.now())
    try:
        await asyncio.to_thread(request.app[STORAGE].delete_package, pkg.stored_path)
    except (OSError, StorageUnavailable) as exc:  # recorded as deleted; the bytes stay
        logger.warning("package %s: stored object not deleted (%s)", pkg.id,
                       getattr(exc, "code", None) or type(exc).__name__)
    logger.info("package %s deleted by operator %d", pkg.id, op.id)
    return json_response({"package_id": pkg.id, "deleted": True})


def setup(app: web.Application, prefix: str) -> None:
    """The evidence routes, and the storage of ``app[DESK].config`` (:class:`ConfigError` when
    it cannot be used) unless the application has one already."""
    if STORAGE not in app:
        storage = make_storage(app[DESK].config)
        app[STORAGE] = storage
        logger.info("evidence storage: %s", storage.describe())
    r = app.router
    r.add_get(f"{prefix}/archive-key", archive_key)
    r.add_post(f"{prefix}/evidence/uploads", open_upload)
    r.add_put(f"{prefix}/evidence/uploads/{{upload_id}}", put_chunk)
    r.add_post(f"{prefix}/evidence/uploads/{{upload_id}}/complete", complete_upload)
    r.add_get(f"{prefix}/evidence", search)
    r.add_get(f"{prefix}/evidence/{{package_id}}", package_info)
    r.add_delete(f"{prefix}/evidence/{{package_id}}", delete_package)
    r.add_get(f"{prefix}/evidence/{{package_id}}/content", content)
    r.add_post(f"{prefix}/evidence/{{package_id}}/access", log_access)
