"""Evidence intake and archive: resumable uploads, SHA-256 check, retention, logged access.

Packages arrive already encrypted by the console to the archive key; the service stores opaque
bytes under ``<data dir>/evidence`` and never needs the private key.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from server.context import DESK, Desk
from server.errors import ApiError, not_found, storage_error
from server.files import fsync_dir, open_private, pwrite_all
from server.policy import TRAINER_ACCESS_ACTIONS, Scope, caller, check_request, principal
from server.store import EvidencePackage, IdRequest, Operator
from server.validation import Fields, is_uuid, iso, parse_date, parse_datetime
from server.web_util import json_response, read_body, read_object

logger = logging.getLogger(__name__)

UPLOAD_KINDS = ("package", "recording")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$")

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
    return desk.config.data_dir / "uploads" / f"{upload_id}.part"


def final_path(desk: Desk, upload_id: str) -> Path:
    return desk.config.data_dir / "evidence" / f"{upload_id}.bin"


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
            os.close(open_private(part_path(desk, up.id), os.O_WRONLY))
        except OSError as exc:  # the chunks create it too: the upload stays usable
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


def _write_at(path: Path, offset: int, data: bytes) -> None:
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


def _refused(exc: OSError, upload_id: str, what: str, received: int) -> ApiError:
    """The 507 for a write the disk refused; any other OSError is raised again (a 500)."""
    err = storage_error(exc, received=received)
    if err is None:
        raise exc
    logger.warning("upload %s: %s not stored (%s)", upload_id, what, err.code)
    return err


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
            await asyncio.to_thread(_write_at, part_path(desk, upload_id), offset, data)
        except OSError as exc:
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


def _move_into_store(src: Path, dst: Path) -> None:
    """Rename the finished upload into the package store and fsync both directories: the
    package is acknowledged only once the move survives a power cut."""
    os.replace(src, dst)
    fsync_dir(dst.parent)
    if src.parent != dst.parent:
        fsync_dir(src.parent)


def _sha256_file(path: Path, size: int) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        remaining = size
        while remaining > 0:
            block = fh.read(min(1 << 20, remaining))
            if not block:
                break
            h.update(block)
            remaining -= len(block)
    return h.hexdigest()


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
        src = part_path(desk, upload_id)
        dst = final_path(desk, upload_id)
        if not src.exists() and dst.exists():
            src = dst  # moved by an earlier attempt that did not reach the database
        digest = await asyncio.to_thread(_sha256_file, src, up.size)
        if digest != up.sha256:
            desk.store.advance_upload(upload_id, up.received, 0)
            logger.warning("upload %s: sha256 mismatch, restart from 0", upload_id)
            raise ApiError(422, "sha256_mismatch", "content does not match the declared sha256",
                           received=0)
        if src != dst:
            try:
                await asyncio.to_thread(_move_into_store, src, dst)
            except OSError as exc:
                raise _refused(exc, upload_id, "package", up.received) from exc
        req = desk.store.request(up.request_id)
        product = req.product if req else "spid_personal"
        now = desk.config.clock.now()
        years = desk.config.retention_years.get(product, 20)
        pkg, created = desk.store.finish_upload(upload_id, lambda _pid: str(dst), now,
                                                add_years(now, years))
        if not created and Path(pkg.stored_path) != dst:
            with contextlib.suppress(OSError):
                dst.unlink()  # identical content already archived: keep one copy
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
    path = Path(pkg.stored_path)
    if not path.exists():
        logger.error("package %s: stored file missing", pkg.id)
        raise ApiError(410, "content_missing")
    desk.store.log_access(pkg.id, op.id, "download", reason, desk.config.clock.now())
    logger.info("package %s downloaded by operator %d", pkg.id, op.id)
    return web.FileResponse(path, headers={
        "Content-Type": "application/octet-stream",
        "Content-Disposition": 'attachment; filename="evidence.bin"',
        "X-Content-SHA256": pkg.sha256})


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
    with contextlib.suppress(OSError):
        Path(pkg.stored_path).unlink()
    logger.info("package %s deleted by operator %d", pkg.id, op.id)
    return json_response({"package_id": pkg.id, "deleted": True})


def setup(app: web.Application, prefix: str) -> None:
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
