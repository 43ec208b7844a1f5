"""Storage of the desk service: the only module that speaks SQLAlchemy.

SQLite file by default; PostgreSQL with a URL change (``postgresql+psycopg://…``). Every public
method is one transaction: it commits entirely or not at all. Methods are synchronous; the hot
routes run them in the store's thread pool (``await store.call(store.method, ...)``) so that a
slow database (PostgreSQL over the network) never stalls the event loop. The schema comes from
the Alembic migrations (``server.migrate``), never from ``create_all``.
Objects returned are detached snapshots (``expire_on_commit=False``): read them, never mutate.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import os
import secrets
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    create_engine,
    delete,
    event,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from server.errors import ApiError, conflict, not_found, storage_code, storage_refusal
from server.files import sqlite_file

logger = logging.getLogger(__name__)
_P = ParamSpec("_P")
_T = TypeVar("_T")

TERMINAL_STATES = ("approved", "rejected")
#: Allowed state changes. registered→in_call is the partner's in-person check.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "registered": ("waiting", "in_call"),
    "waiting": ("in_call",),
    "in_call": ("approved", "rejected", "suspended"),
    "suspended": ("waiting", "in_call"),
    "approved": (),
    "rejected": (),
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (portable to SQLite), returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


def _uuid() -> str:
    return str(uuid.uuid4())


class Operator(Base):
    __tablename__ = "operators"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    #: the InfoCert Point a partner works at (None for every other role)
    point_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    #: sealed with the configured TOTP key (security.seal_totp_secret), never the base32 secret
    totp_secret: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_totp_step: Mapped[int] = mapped_column(Integer, default=0)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_passwords: Mapped[int] = mapped_column(Integer, default=0)
    failed_totps: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuthToken(Base):
    __tablename__ = "auth_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # access | refresh
    family: Mapped[str] = mapped_column(String(36), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: end of the sign-in this token belongs to (login + session_max_age; refresh keeps it)
    session_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class Refreshed:
    """What ``consume_refresh`` found: the operator and family, or why not (``error``)."""

    operator: Operator | None
    family: str | None
    session_expires_at: datetime | None
    #: None, invalid_refresh_token, refresh_reused (the family is revoked), session_expired
    error: str | None = None


class IdRequest(Base):
    __tablename__ = "requests"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    state: Mapped[str] = mapped_column(String(16), index=True)
    product: Mapped[str] = mapped_column(String(32))
    surname: Mapped[str] = mapped_column(String(100))
    given_names: Mapped[str] = mapped_column(String(100))
    codice_fiscale: Mapped[str] = mapped_column(String(16), index=True)
    birth_date: Mapped[date] = mapped_column(Date)
    birth_place: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(1))
    email: Mapped[str] = mapped_column(String(254))
    mobile: Mapped[str] = mapped_column(String(20))
    doc_type: Mapped[str] = mapped_column(String(32))
    doc_number: Mapped[str] = mapped_column(String(20))
    doc_issuer: Mapped[str] = mapped_column(String(100))
    doc_expiry: Mapped[date] = mapped_column(Date)
    appointment_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True,
                                                             index=True)
    booking_code: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: SMS codes sent (or tried) for this request, and wrong guesses across all of them
    otp_codes: Mapped[int] = mapped_column(Integer, default=0)
    otp_wrong: Mapped[int] = mapped_column(Integer, default=0)


class JoinLink(Base):
    __tablename__ = "join_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Transition(Base):
    __tablename__ = "transitions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(80))  # "operator:<username>", "applicant", "system"
    reason: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class RequestEvent(Base):
    """Facts about a request that are not state changes (consent, device check, OTP sent…)."""

    __tablename__ = "request_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class CallSession(Base):
    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # video | in_person
    #: the InfoCert Point of an in-person check (the partner's, when it started)
    point_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Decision(Base):
    __tablename__ = "decisions"
    decision_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"))
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    decision: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Otp(Base):
    """One SMS code. ``status``: pending (being sent), active (sent, the current one),
    superseded (a newer one was sent before this was verified), failed (the SMS never left)."""

    __tablename__ = "otps"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id"), nullable=True,
                                                   index=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    code_hash: Mapped[str] = mapped_column(String(64))
    salt: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts_used: Mapped[int] = mapped_column(Integer, default=0)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EmailVerification(Base):
    __tablename__ = "email_verifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Upload(Base):
    __tablename__ = "uploads"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    upload_key: Mapped[str] = mapped_column(String(128), unique=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    #: the session whose evidence this is, and what it holds: package | recording
    session_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(16), default="package")
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    package_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class EvidencePackage(Base):
    __tablename__ = "evidence_packages"
    __table_args__ = (UniqueConstraint("request_id", "sha256"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_path: Mapped[str] = mapped_column(String(400))
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    retention_until: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EvidenceAccess(Base):
    __tablename__ = "evidence_access"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package_id: Mapped[str] = mapped_column(ForeignKey("evidence_packages.id"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    action: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class WorkstationKey(Base):
    """An enrolled workstation signing key (Ed25519, public half): the evidence trust store."""

    __tablename__ = "workstation_keys"
    #: SHA-256 hex of the 32 raw public key bytes
    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(44), unique=True)  # base64 of 32 raw bytes
    workstation: Mapped[str] = mapped_column(String(64), index=True)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    not_after: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    enrolled_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"), nullable=True)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"), nullable=True)


class Presence(Base):
    """A live WebSocket connection on some instance (server/bus.py): who is online anywhere.

    Written only where several instances share the database (PostgreSQL); each instance renews
    its rows' ``seen_at`` every few seconds, so the rows of an instance that died expire."""

    __tablename__ = "presence"
    conn_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # applicant | operator
    #: the request id (applicant) or the operator id as text (operator)
    key: Mapped[str] = mapped_column(String(36), index=True)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    instance: Mapped[str] = mapped_column(String(36), index=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class BusMessage(Base):
    """An event too large for a NOTIFY payload (an SDP offer): the notification names its id."""

    __tablename__ = "bus_messages"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


@dataclass(frozen=True)
class QueueEntry:
    """The columns the waiting room needs (no personal data, no ORM object)."""

    id: str
    product: str
    state: str
    waiting_since: datetime | None
    appointment_at: datetime | None
    booking_code: str


@dataclass(frozen=True)
class ApprovalRules:
    """What an approval needs besides consent, a verified SMS code and the recording."""

    #: product -> capture targets the service must have recorded for the session
    captures: Mapping[str, tuple[str, ...]]
    #: products whose approval needs the e-mail address confirmed
    email_products: tuple[str, ...]
    #: a video session needs its liveness check passed (or a supervisor's second look after
    #: one that did not pass): ETSI TS 119 461 v2
    liveness: bool = True


@dataclass(frozen=True)
class LoginState:
    operator: Operator | None
    locked_until: datetime | None


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    # FULL: the WAL is synced at every commit, so what the service acknowledged to a client (a
    # decision, a received chunk) survives a power cut; NORMAL could lose the last commits.
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()


#: SQLite's primary result code of an I/O error (sqlite3.h): a write the OS refused for a
#: reason other than ENOSPC (EROFS is one) comes back as SQLITE_IOERR_WRITE
_SQLITE_IOERR = 10


def _disk_refuses(path: Path | None) -> str | None:
    """Whether the file system of ``path`` is read-only or full (``storage_code`` codes)."""
    if path is None:
        return None
    try:
        st = os.statvfs(path.parent)
    except OSError:
        return None
    if st.f_flag & os.ST_RDONLY:
        return "read_only_storage"
    if st.f_bavail == 0:
        return "insufficient_storage"
    return None


def _sqlite_primary(exc: DBAPIError) -> int:
    return (getattr(exc.orig, "sqlite_errorcode", None) or 0) & 0xFF


#: threads running store calls off the event loop (:meth:`Store.call`); the connection pool
#: holds as many, plus a few for the calls still made on the loop and the CLI
DB_THREADS = 4
_POOL_EXTRA = 4
ENV_DB_INLINE = "RECOGNITION_DESK_DB_INLINE"
#: SQLite takes one writer at a time: more threads only wait for its lock (busy_timeout)
SQLITE_DB_THREADS = 2
ENV_DB_THREADS = "RECOGNITION_DESK_DB_THREADS"


class Store:
    """``migrate``: bring the schema to the latest revision first (demo mode, the embedded
    SQLite default); otherwise a missing or outdated schema raises
    :class:`server.migrate.SchemaError` ("run recognition-desk migrate")."""

    def __init__(self, url: str, *, migrate: bool = False, threads: int | None = None) -> None:
        from server import migrate as schema

        if threads is None:
            threads = int(os.environ.get(ENV_DB_THREADS) or 0) or (
                SQLITE_DB_THREADS if url.startswith("sqlite") else DB_THREADS)
        if migrate:
            schema.upgrade(url)
        kwargs: dict[str, Any] = {"pool_size": threads, "max_overflow": _POOL_EXTRA}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False}
            if ":///" not in url or url.endswith((":///", ":memory:")):
                kwargs = {"connect_args": {"check_same_thread": False}}  # one shared connection
        else:
            kwargs["pool_pre_ping"] = True  # a server restart or a proxy's idle cut: reconnect
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            if not migrate:
                schema.check_schema(self.engine)
        except BaseException:
            self.engine.dispose()
            raise
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._db_file = sqlite_file(url)
        self._threads = threads
        self._executor: ThreadPoolExecutor | None = None
        #: bench/bench_desk_db.py only: run every call on the event loop, as before the pool
        self._inline = os.environ.get(ENV_DB_INLINE) == "1"

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def call(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run a store method in the store's thread pool, so the event loop never waits on the
        database: ``await desk.store.call(desk.store.waiting, now, grace)``. The pool has as
        many threads as the connection pool has connections (no thread waits for one)."""
        if self._inline:
            return fn(*args, **kwargs)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix="desk-db")
        loop = asyncio.get_running_loop()
        ctx = contextvars.copy_context()  # the request id goes with the call (server.logs)
        return await loop.run_in_executor(self._executor,
                                          functools.partial(ctx.run, fn, *args, **kwargs))

    def ping(self) -> bool:
        """Whether the database answers a trivial query (the readiness probe)."""
        with self.engine.connect() as conn:
            conn.execute(select(1))
        return True

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self.engine.dispose()

    @contextmanager
    def tx(self) -> Iterator[Session]:
        """One transaction: committed entirely or rolled back. A write refused by a full or
        read-only disk (SQLITE_FULL, SQLITE_READONLY, an I/O error on such a disk) is rolled
        back and raised as the 507 ApiError (``insufficient_storage``/``read_only_storage``)."""
        try:
            with self._sessions() as s, s.begin():
                yield s
        except DataError as exc:
            # a value PostgreSQL refuses where SQLite stored it (NUL in text, a string longer
            # than its column, a number out of range) that the validation let through: the
            # client's input, so a 422, never a 500. The value itself is never logged.
            logger.warning("database refused a value (%s)", type(exc.orig).__name__)
            raise ApiError(422, "validation_failed", "a value the database cannot store") \
                from exc
        except DBAPIError as exc:
            code = storage_code(exc)
            if code is None and _sqlite_primary(exc) == _SQLITE_IOERR:
                code = _disk_refuses(self._db_file)
            if code is None:
                raise
            logger.warning("database write refused and rolled back (%s)", code)
            raise storage_refusal(code) from exc

    # --- operators ---------------------------------------------------------------------

    def create_operator(self, username: str, display_name: str, role: str, password_hash: str,
                        now: datetime, totp_secret: str | None = None,
                        point_id: str | None = None) -> Operator:
        try:
            with self.tx() as s:
                op = Operator(username=username, display_name=display_name, role=role,
                              point_id=point_id,
                              password_hash=password_hash, totp_secret=totp_secret,
                              created_at=now, last_totp_step=0, disabled=False,
                              failed_passwords=0, failed_totps=0)
                s.add(op)
                s.flush()
                return op
        except IntegrityError as exc:
            raise conflict("username_taken") from exc

    def operator(self, op_id: int) -> Operator | None:
        with self.tx() as s:
            return s.get(Operator, op_id)

    def operator_by_username(self, username: str) -> Operator | None:
        with self.tx() as s:
            return s.scalars(select(Operator).where(Operator.username == username)).first()

    def list_operators(self) -> list[Operator]:
        with self.tx() as s:
            return list(s.scalars(select(Operator).order_by(Operator.id)))

    def set_totp_secret(self, op_id: int, secret: str) -> None:
        with self.tx() as s:
            op = s.get(Operator, op_id)
            if op is None:
                raise not_found("operator_not_found")
            op.totp_secret = secret
            op.last_totp_step = 0

    def set_password(self, op_id: int, password_hash: str) -> None:
        with self.tx() as s:
            op = s.get(Operator, op_id)
            if op is None:
                raise not_found("operator_not_found")
            op.password_hash = password_hash

    def set_disabled(self, op_id: int, disabled: bool, now: datetime) -> Operator:
        with self.tx() as s:
            op = s.get(Operator, op_id)
            if op is None:
                raise not_found("operator_not_found")
            op.disabled = disabled
            if disabled:
                s.execute(update(AuthToken).where(AuthToken.operator_id == op_id,
                                                  AuthToken.revoked_at.is_(None))
                          .values(revoked_at=now))
            return op

    def login_failure(self, op_id: int, kind: str, now: datetime, limit: int,
                      lock_for: timedelta) -> datetime | None:
        """Count a wrong password/TOTP; the lock deadline when the account is (now) locked.

        Atomic under concurrency, on SQLite and PostgreSQL alike: the first statement is the
        increment itself (``failed = failed + 1 ... RETURNING``), which takes the row's write
        lock, so parallel failures are serialised and each is counted exactly once. A failure
        while a lock holds reports that lock and is not counted towards the next one."""
        col = Operator.failed_passwords if kind == "password" else Operator.failed_totps
        locked = and_(Operator.locked_until.is_not(None), Operator.locked_until > now)
        with self.tx() as s:
            row = s.execute(update(Operator).where(Operator.id == op_id)
                            .values({col: case((locked, col), else_=col + 1)})
                            .returning(col, Operator.locked_until)).first()
            if row is None:
                return None
            count, locked_until = row
            if locked_until is not None and locked_until > now:
                return locked_until  # type: ignore[no-any-return]
            if count < limit:
                return None
            until = now + lock_for
            s.execute(update(Operator).where(Operator.id == op_id)
                      .values(locked_until=until, failed_passwords=0, failed_totps=0))
            return until

    def login_success(self, op_id: int, totp_step: int, now: datetime) -> tuple[bool,
                                                                              datetime | None]:
        """Consume the TOTP step and reset the counters, unless the account is locked or
        disabled or the step was used meanwhile, decided in the same statement: a lock set by
        parallel failures while this attempt was being verified is never cleared by it.

        Returns (signed in, the lock deadline when a lock refused it)."""
        with self.tx() as s:
            res = s.execute(update(Operator)
                            .where(Operator.id == op_id, Operator.last_totp_step < totp_step,
                                   Operator.disabled.is_(False),
                                   or_(Operator.locked_until.is_(None),
                                       Operator.locked_until <= now))
                            .values(last_totp_step=totp_step, failed_passwords=0,
                                    failed_totps=0, locked_until=None))
            if res.rowcount:  # type: ignore[attr-defined]
                return True, None
            op = s.get(Operator, op_id)
            if op is not None and op.locked_until is not None and op.locked_until > now:
                return False, op.locked_until
            return False, None

    def issue_tokens(self, op_id: int, access_hash: str, refresh_hash: str, now: datetime,
                     access_ttl: timedelta, refresh_ttl: timedelta,
                     family: str | None = None,
                     session_expires_at: datetime | None = None) -> datetime:
        """A token pair; neither outlives ``session_expires_at`` (the sign-in's end, which a new
        family sets to ``now + refresh_ttl`` when not given). Returns the access expiry."""
        fam = family or _uuid()
        end = session_expires_at or now + refresh_ttl
        access_end = min(now + access_ttl, end)
        with self.tx() as s:
            s.add(AuthToken(token_hash=access_hash, operator_id=op_id, kind="access",
                            family=fam, expires_at=access_end, session_expires_at=end))
            s.add(AuthToken(token_hash=refresh_hash, operator_id=op_id, kind="refresh",
                            family=fam, expires_at=min(now + refresh_ttl, end),
                            session_expires_at=end))
        return access_end

    def family_deadline(self, family: str) -> datetime | None:
        """When the sign-in of a token family ends (None for tokens issued before it existed)."""
        with self.tx() as s:
            return s.scalars(select(AuthToken.session_expires_at)
                             .where(AuthToken.family == family)
                             .order_by(AuthToken.expires_at.desc())).first()

    def revoke_operator_tokens(self, op_id: int, now: datetime) -> None:
        """Every sign-in of the account ends (its second factor changed, its device lost)."""
        with self.tx() as s:
            s.execute(update(AuthToken).where(AuthToken.operator_id == op_id,
                                              AuthToken.revoked_at.is_(None))
                      .values(revoked_at=now))

    def totp_rows(self) -> list[tuple[int, str, str]]:
        """(id, username, stored TOTP value) of every enrolled account."""
        with self.tx() as s:
            rows = s.execute(select(Operator.id, Operator.username, Operator.totp_secret)
                             .where(Operator.totp_secret.is_not(None))
                             .order_by(Operator.id)).all()
            return [(r[0], r[1], r[2]) for r in rows if r[2] is not None]

    def replace_totp_value(self, op_id: int, old: str, new: str) -> bool:
        """Re-encode a stored secret (sealing a legacy plaintext one), keeping its last step."""
        with self.tx() as s:
            res = s.execute(update(Operator).where(Operator.id == op_id,
                                                   Operator.totp_secret == old)
                            .values(totp_secret=new))
            return bool(res.rowcount)  # type: ignore[attr-defined]

    def token_owner(self, token_hash: str, kind: str, now: datetime
                    ) -> tuple[Operator, AuthToken] | None:
        with self.tx() as s:
            tok = s.get(AuthToken, token_hash)
            if tok is None or tok.kind != kind or tok.revoked_at is not None:
                return None
            if tok.expires_at <= now:
                return None
            op = s.get(Operator, tok.operator_id)
            if op is None or op.disabled:
                return None
            return op, tok

    def consume_refresh(self, token_hash: str, now: datetime) -> Refreshed:
        """Revoke a refresh token (rotation) and the access tokens of its family.

        A rotated token presented again (``refresh_reused``: stolen, or replayed) revokes the
        whole family; so does a sign-in past its absolute end (``session_expired``)."""
        with self.tx() as s:
            tok = s.get(AuthToken, token_hash)
            if tok is None or tok.kind != "refresh":
                return Refreshed(None, None, None, "invalid_refresh_token")
            family, end = tok.family, tok.session_expires_at
            revoke = (update(AuthToken).where(AuthToken.family == family,
                                              AuthToken.revoked_at.is_(None))
                      .values(revoked_at=now))
            if tok.revoked_at is not None:
                s.execute(revoke)
                return Refreshed(None, family, end, "refresh_reused")
            if end is None or end <= now:
                s.execute(revoke)
                return Refreshed(None, family, end, "session_expired")
            if tok.expires_at <= now:
                return Refreshed(None, family, end, "invalid_refresh_token")
            op = s.get(Operator, tok.operator_id)
            if op is None or op.disabled:
                return Refreshed(None, family, end, "invalid_refresh_token")
            s.execute(revoke)
            return Refreshed(op, family, end)

    def revoke_family(self, family: str, now: datetime) -> None:
        with self.tx() as s:
            s.execute(update(AuthToken).where(AuthToken.family == family,
                                              AuthToken.revoked_at.is_(None))
                      .values(revoked_at=now))

    # --- identification requests -------------------------------------------------------

    def create_request(self, values: dict[str, Any], now: datetime,
                       booking_code: Callable[[], str], join_hash: str,
                       join_expires: datetime, state: str = "registered") -> IdRequest:
        for _ in range(8):
            try:
                with self.tx() as s:
                    req = IdRequest(id=_uuid(), state=state, booking_code=booking_code(),
                                    created_at=now, updated_at=now,
                                    waiting_since=now if state == "waiting" else None,
                                    **values)
                    s.add(req)
                    s.flush()
                    s.add(Transition(request_id=req.id, from_state="new", to_state=state,
                                     actor="system", reason="created", at=now))
                    s.add(JoinLink(request_id=req.id, token_hash=join_hash, created_at=now,
                                   expires_at=join_expires))
                    return req
            except IntegrityError:
                logger.warning("booking code collision, retrying")
        raise ApiError(503, "try_again", "could not allocate a booking code")

    def request(self, req_id: str) -> IdRequest | None:
        with self.tx() as s:
            return s.get(IdRequest, req_id)

    def request_details(self, req_id: str) -> tuple[IdRequest, list[Transition], Decision | None,
                                                    CallSession | None]:
        with self.tx() as s:
            req = s.get(IdRequest, req_id)
            if req is None:
                raise not_found("request_not_found")
            history = list(s.scalars(select(Transition).where(Transition.request_id == req_id)
                                     .order_by(Transition.id)))
            decision = s.scalars(select(Decision).where(Decision.request_id == req_id)
                                 .order_by(Decision.decided_at.desc())).first()
            sess = s.scalars(select(CallSession).where(CallSession.request_id == req_id)
                             .order_by(CallSession.started_at.desc())).first()
            return req, history, decision, sess

    def find_requests(self, booking_code: str | None = None, state: str | None = None,
                      codice_fiscale: str | None = None, limit: int = 100) -> list[IdRequest]:
        with self.tx() as s:
            q = select(IdRequest)
            if booking_code is not None:
                q = q.where(IdRequest.booking_code == booking_code)
            if state is not None:
                q = q.where(IdRequest.state == state)
            if codice_fiscale is not None:
                q = q.where(IdRequest.codice_fiscale == codice_fiscale)
            return list(s.scalars(q.order_by(IdRequest.created_at, IdRequest.id).limit(limit)))

    def new_join_link(self, req_id: str, join_hash: str, now: datetime,
                      expires: datetime) -> IdRequest:
        with self.tx() as s:
            req = s.get(IdRequest, req_id)
            if req is None:
                raise not_found("request_not_found")
            if req.state in TERMINAL_STATES:
                raise conflict("request_closed", state=req.state)
            s.execute(update(JoinLink).where(JoinLink.request_id == req_id,
                                             JoinLink.revoked_at.is_(None))
                      .values(revoked_at=now))
            s.add(JoinLink(request_id=req_id, token_hash=join_hash, created_at=now,
                           expires_at=expires))
            return req

    def resolve_join(self, join_hash: str, now: datetime, mark_used: bool = False
                     ) -> IdRequest | None:
        """The request behind a join link that is still valid (not revoked, expired or closed)."""
        with self.tx() as s:
            link = s.scalars(select(JoinLink).where(JoinLink.token_hash == join_hash)).first()
            if link is None or link.revoked_at is not None or link.expires_at <= now:
                return None
            req = s.get(IdRequest, link.request_id)
            if req is None or req.state in TERMINAL_STATES:
                return None
            if mark_used and link.first_used_at is None:
                link.first_used_at = now
            return req

    def _transition(self, s: Session, req: IdRequest, to: str, actor: str, reason: str,
                    now: datetime) -> None:
        if to not in TRANSITIONS.get(req.state, ()):
            raise conflict("illegal_transition", f"{req.state} -> {to}", state=req.state)
        s.add(Transition(request_id=req.id, from_state=req.state, to_state=to, actor=actor,
                         reason=reason[:200], at=now))
        req.state = to
        req.updated_at = now
        req.waiting_since = now if to == "waiting" else None

    def applicant_ready(self, req_id: str, now: datetime, consent: dict[str, Any]) -> IdRequest:
        """Consent given on the page: registered|suspended → waiting."""
        with self.tx() as s:
            req = s.get(IdRequest, req_id)
            if req is None:
                raise not_found("request_not_found")
            s.add(RequestEvent(request_id=req_id, kind="consent", data=consent, at=now))
            if req.state == "waiting":
                return req
            self._transition(s, req, "waiting", "applicant", "consent", now)
            return req

    def add_event(self, req_id: str, kind: str, data: dict[str, Any], now: datetime) -> None:
        with self.tx() as s:
            s.add(RequestEvent(request_id=req_id, kind=kind, data=data, at=now))

    def events(self, req_id: str) -> list[RequestEvent]:
        with self.tx() as s:
            return list(s.scalars(select(RequestEvent).where(RequestEvent.request_id == req_id)
                                  .order_by(RequestEvent.id)))

    # --- queue and sessions ------------------------------------------------------------

    _QUEUE_COLUMNS = (IdRequest.id, IdRequest.product, IdRequest.state, IdRequest.waiting_since,
                      IdRequest.appointment_at, IdRequest.booking_code)

    def waiting(self, now: datetime, grace: timedelta) -> list[QueueEntry]:
        """Waiting requests that are due (no appointment, or its time has come), oldest first."""
        with self.tx() as s:
            q = (select(*self._QUEUE_COLUMNS).where(IdRequest.state == "waiting")
                 .where(or_(IdRequest.appointment_at.is_(None),
                            IdRequest.appointment_at <= now + grace))
                 .order_by(IdRequest.waiting_since, IdRequest.id))
            return [QueueEntry(*row) for row in s.execute(q)]

    def appointments_between(self, start: datetime, end: datetime) -> list[QueueEntry]:
        with self.tx() as s:
            q = (select(*self._QUEUE_COLUMNS).where(IdRequest.appointment_at >= start,
                                                    IdRequest.appointment_at < end)
                 .order_by(IdRequest.appointment_at))
            return [QueueEntry(*row) for row in s.execute(q)]

    def queue_entries(self, ids: list[str]) -> dict[str, QueueEntry]:
        """State and appointment of the given requests, in one query."""
        if not ids:
            return {}
        with self.tx() as s:
            q = select(*self._QUEUE_COLUMNS).where(IdRequest.id.in_(ids))
            return {row[0]: QueueEntry(*row) for row in s.execute(q)}

    def mean_session_seconds(self, default: int) -> int:
        with self.tx() as s:
            rows = s.execute(select(CallSession.started_at, CallSession.ended_at)
                             .where(CallSession.ended_at.is_not(None))
                             .order_by(CallSession.ended_at.desc()).limit(50)).all()
        durations = [(end - start).total_seconds() for start, end in rows if end and start]
        durations = [d for d in durations if d > 0]
        if len(durations) < 3:
            return default
        return int(sum(durations) / len(durations))

    def active_session_of_operator(self, op_id: int) -> CallSession | None:
        with self.tx() as s:
            return s.scalars(select(CallSession).where(CallSession.operator_id == op_id,
                                                       CallSession.ended_at.is_(None))).first()

    def active_session_of_request(self, req_id: str) -> CallSession | None:
        with self.tx() as s:
            return s.scalars(select(CallSession).where(CallSession.request_id == req_id,
                                                       CallSession.ended_at.is_(None))).first()

    def latest_session(self, req_id: str) -> CallSession | None:
        """The request's most recent session, open or ended (whose work it is)."""
        with self.tx() as s:
            return s.scalars(select(CallSession).where(CallSession.request_id == req_id)
                             .order_by(CallSession.started_at.desc(),
                                       CallSession.id.desc())).first()

    def session(self, session_id: str) -> CallSession | None:
        with self.tx() as s:
            return s.get(CallSession, session_id)

    def start_session(self, op: Operator, candidates: list[str], now: datetime,
                      channel: str = "video") -> tuple[CallSession, IdRequest] | None:
        """Pick one of ``candidates`` at random (secrets.choice) and open a session on it.

        The state change is a conditional UPDATE, so two operators (even in two processes)
        never get the same applicant: a lost race just draws again.
        """
        pool = list(candidates)
        while pool:
            req_id = secrets.choice(pool)
            with self.tx() as s:
                if s.scalars(select(CallSession).where(CallSession.operator_id == op.id,
                                                       CallSession.ended_at.is_(None))).first():
                    raise conflict("session_in_progress")
                req = s.get(IdRequest, req_id)
                if req is None:
                    pool.remove(req_id)
                    continue
                prev = req.state
                res = s.execute(update(IdRequest)
                                .where(IdRequest.id == req_id, IdRequest.state == prev,
                                       IdRequest.state.in_(("waiting", "registered",
                                                            "suspended")))
                                .values(state="in_call", updated_at=now, waiting_since=None))
                if not res.rowcount:  # type: ignore[attr-defined]
                    pool.remove(req_id)
                    continue
                s.add(Transition(request_id=req_id, from_state=prev, to_state="in_call",
                                 actor=f"operator:{op.username}",
                                 reason="in_person" if channel == "in_person" else "assigned",
                                 at=now))
                sess = CallSession(id=_uuid(), request_id=req_id, operator_id=op.id,
                                   channel=channel, started_at=now,
                                   point_id=op.point_id if channel == "in_person" else None)
                s.add(sess)
                s.flush()
                s.refresh(req)
                return sess, req
        return None

    def approval_readiness(self, req_id: str, rules: ApprovalRules) -> list[str]:
        """What approving the request's open session still needs (empty: it may be approved).
        409 ``no_active_session`` when no session is open."""
        with self.tx() as s:
            req = s.get(IdRequest, req_id)
            if req is None:
                raise not_found("request_not_found")
            sess = s.scalars(select(CallSession).where(CallSession.request_id == req_id,
                                                       CallSession.ended_at.is_(None))).first()
            if sess is None or req.state != "in_call":
                raise conflict("no_active_session", state=req.state)
            return self.approval_missing(s, req, sess, rules)

    def decide(self, decision_id: str, req_id: str, op: Operator, decision: str,
               reason_code: str, note: str, now: datetime, may_override: bool,
               rules: ApprovalRules | None = None) -> tuple[Decision, bool]:
        """Record a decision; returns (decision, created). Same decision_id → same answer."""
        with self.tx() as s:
            existing = s.get(Decision, decision_id)
            if existing is not None:
                if existing.request_id != req_id:
                    raise conflict("decision_id_reused")
                return existing, False
            req = s.get(IdRequest, req_id)
            if req is None:
                raise not_found("request_not_found")
            sess = s.scalars(select(CallSession).where(CallSession.request_id == req_id,
                                                       CallSession.ended_at.is_(None))).first()
            if sess is None or req.state != "in_call":
                if req.state in ("approved", "rejected", "suspended"):
                    raise conflict("already_decided", state=req.state)
                raise conflict("no_active_session", state=req.state)
            if sess.operator_id != op.id and not may_override:
                raise ApiError(403, "not_your_session")
            if decision == "approved" and rules is not None:
                missing = self.approval_missing(s, req, sess, rules)
                if missing:
                    raise ApiError(409, "approval_refused", "the service has not recorded "
                                   "everything an approval needs", missing=missing)
            self._transition(s, req, decision, f"operator:{op.username}",
                             f"{reason_code}", now)
            sess.ended_at = now
            row = Decision(decision_id=decision_id, request_id=req_id, session_id=sess.id,
                           operator_id=op.id, decision=decision, reason_code=reason_code,
                           note=note, decided_at=now)
            s.add(row)
            if decision in TERMINAL_STATES:
                s.execute(update(JoinLink).where(JoinLink.request_id == req_id,
                                                 JoinLink.revoked_at.is_(None))
                          .values(revoked_at=now))
            return row, True

    # --- OTP and e-mail ----------------------------------------------------------------

    def reserve_otp(self, req_id: str, session_id: str, code_hash: str, salt_hex: str,
                    now: datetime, ttl: timedelta, resend_after: timedelta,
                    max_codes: int) -> Otp:
        """Count one more code for the request (atomically, at most ``max_codes``) and store it
        as *pending*: the current code stays valid until this one has really been sent."""
        with self.tx() as s:
            res = s.execute(update(IdRequest)
                            .where(IdRequest.id == req_id, IdRequest.state == "in_call",
                                   IdRequest.otp_codes < max_codes)
                            .values(otp_codes=IdRequest.otp_codes + 1))
            if not res.rowcount:  # type: ignore[attr-defined]
                req = s.get(IdRequest, req_id)
                if req is None:
                    raise not_found("request_not_found")
                if req.state != "in_call":
                    raise conflict("not_in_call", "codes are sent during the call",
                                   state=req.state)
                raise ApiError(429, "otp_codes_exhausted",
                               f"no more than {max_codes} codes per request")
            verified = s.scalars(select(Otp.id).where(Otp.session_id == session_id,
                                                      Otp.verified_at.is_not(None))).first()
            if verified is not None:
                raise conflict("otp_already_verified", "a code was already verified")
            last = s.scalars(select(Otp).where(Otp.request_id == req_id,
                                               Otp.status.in_(("pending", "active")))
                             .order_by(Otp.created_at.desc())).first()
            if last is not None and last.created_at + resend_after > now:
                wait = (last.created_at + resend_after - now).total_seconds()
                raise ApiError(429, "resend_too_soon", retry_after=max(1, int(wait + 0.999)))
            otp = Otp(id=_uuid(), request_id=req_id, session_id=session_id, status="pending",
                      code_hash=code_hash, salt=salt_hex, created_at=now, expires_at=now + ttl,
                      attempts_used=0)
            s.add(otp)
            return otp

    def activate_otp(self, otp_id: str, now: datetime) -> None:
        """The SMS left: this code becomes the current one, an unverified older one lapses."""
        with self.tx() as s:
            otp = s.get(Otp, otp_id)
            if otp is None:
                raise not_found("otp_not_found")
            s.execute(update(Otp).where(Otp.request_id == otp.request_id, Otp.id != otp_id,
                                        Otp.status == "active", Otp.verified_at.is_(None))
                      .values(status="superseded"))
            otp.status = "active"
            s.add(RequestEvent(request_id=otp.request_id, kind="otp_sent",
                               data={"otp_id": otp_id, "session_id": otp.session_id}, at=now))

    def otp_send_failed(self, otp_id: str, reason: str, now: datetime) -> None:
        """The SMS could not be sent: the code is void, the earlier one stays; history grows."""
        with self.tx() as s:
            otp = s.get(Otp, otp_id)
            if otp is None:
                return
            otp.status = "failed"
            s.add(RequestEvent(request_id=otp.request_id, kind="otp_send_failed",
                               data={"otp_id": otp_id, "reason": reason[:64]}, at=now))

    def current_otp(self, req_id: str) -> Otp | None:
        with self.tx() as s:
            return s.scalars(select(Otp).where(Otp.request_id == req_id,
                                               Otp.status == "active")
                             .order_by(Otp.created_at.desc())).first()

    def otp_attempt(self, otp_id: str, ok: bool, max_attempts: int, max_wrong: int,
                    now: datetime) -> tuple[Otp, int, bool] | None:
        """Count one guess atomically: (code, wrong guesses on the request, suspended now).

        None when no guess is left (on this code or on the request) or the code is no longer
        the current one. The last allowed wrong guess suspends the request and ends its session.
        """
        class _NoGuess(Exception):
            pass

        try:
            with self.tx() as s:
                room = select(IdRequest.id).where(IdRequest.otp_wrong < max_wrong,
                                                  IdRequest.state == "in_call")
                res = s.execute(update(Otp).where(Otp.id == otp_id, Otp.status == "active",
                                                  Otp.verified_at.is_(None),
                                                  Otp.attempts_used < max_attempts,
                                                  Otp.request_id.in_(room))
                                .values(attempts_used=Otp.attempts_used + 1,
                                        verified_at=now if ok else None))
                if not res.rowcount:  # type: ignore[attr-defined]
                    raise _NoGuess
                otp = s.get(Otp, otp_id)
                req = s.get(IdRequest, otp.request_id) if otp is not None else None
                if otp is None or req is None:
                    raise _NoGuess
                suspended = False
                if not ok:
                    s.execute(update(IdRequest).where(IdRequest.id == req.id)
                              .values(otp_wrong=IdRequest.otp_wrong + 1))
                    s.refresh(req)
                    if req.otp_wrong >= max_wrong:
                        self._transition(s, req, "suspended", "system", "otp_failed", now)
                        s.execute(update(CallSession)
                                  .where(CallSession.request_id == req.id,
                                         CallSession.ended_at.is_(None))
                                  .values(ended_at=now))
                        s.add(RequestEvent(request_id=req.id, kind="otp_locked",
                                           data={"wrong_guesses": req.otp_wrong}, at=now))
                        suspended = True
                s.add(RequestEvent(request_id=otp.request_id,
                                   kind="otp_verified" if ok else "otp_wrong",
                                   data={"otp_id": otp_id, "session_id": otp.session_id},
                                   at=now))
                return otp, req.otp_wrong, suspended
        except _NoGuess:
            return None

    # --- what the service itself recorded during a session ------------------------------

    def record_session_fact(self, req_id: str, kind: str, data: dict[str, Any],
                            now: datetime) -> CallSession:
        """An event of the request's open session (a capture, an in-person check)."""
        with self.tx() as s:
            sess = s.scalars(select(CallSession).where(CallSession.request_id == req_id,
                                                       CallSession.ended_at.is_(None))).first()
            if sess is None:
                raise conflict("no_active_session", "no session is open on this request")
            s.add(RequestEvent(request_id=req_id, kind=kind,
                               data={**data, "session_id": sess.id}, at=now))
            return sess

    def _session_facts(self, s: Session, req_id: str, session_id: str) -> list[RequestEvent]:
        rows = s.scalars(select(RequestEvent).where(RequestEvent.request_id == req_id)
                         .order_by(RequestEvent.id))
        return [e for e in rows if (e.data or {}).get("session_id") == session_id
                or e.kind == "consent"]

    def approval_missing(self, s: Session, req: IdRequest, sess: CallSession,
                         rules: ApprovalRules) -> list[str]:
        """What the service has not recorded that approving this session needs."""
        facts = self._session_facts(s, req.id, sess.id)
        kinds = {e.kind for e in facts}
        captured = {str(e.data.get("target")) for e in facts if e.kind == "capture"}
        missing: list[str] = []
        if sess.channel == "in_person":
            checks = {str(e.data.get("check")) for e in facts
                      if e.kind == "inperson_check" and e.data.get("result") == "ok"}
            if not checks & {"card_read", "document_check"}:
                missing.append("card_read_or_document_check")
            if "signed_form" not in checks and "signed_form" not in captured:
                missing.append("signed_form")
            return missing
        if "consent" not in kinds:
            missing.append("consent")
        verified = s.scalars(select(Otp.id).where(Otp.session_id == sess.id,
                                                  Otp.verified_at.is_not(None))).first()
        if verified is None:
            missing.append("otp_verified")
        if req.product in rules.email_products and req.email_confirmed_at is None:
            missing.append("email_confirmed")
        for target in rules.captures.get(req.product, ()):
            if target not in captured:
                missing.append(f"capture:{target}")
        if rules.liveness:
            missing += _liveness_missing(facts)
        recording = s.scalars(select(Upload.id).where(Upload.session_id == sess.id,
                                                      Upload.kind == "recording",
                                                      Upload.package_id.is_not(None))).first()
        if recording is None:
            missing.append("recording_uploaded")
        return missing

    def create_email_verification(self, req_id: str, token_hash_: str, now: datetime,
                                  ttl: timedelta) -> EmailVerification:
        with self.tx() as s:
            ev = EmailVerification(request_id=req_id, token_hash=token_hash_, sent_at=now,
                                   expires_at=now + ttl)
            s.add(ev)
            s.flush()
            return ev

    def confirm_email(self, token_hash_: str, now: datetime) -> bool:
        with self.tx() as s:
            ev = s.scalars(select(EmailVerification)
                           .where(EmailVerification.token_hash == token_hash_)).first()
            if ev is None or ev.expires_at <= now:
                return False
            if ev.confirmed_at is None:
                ev.confirmed_at = now
                req = s.get(IdRequest, ev.request_id)
                if req is not None and req.email_confirmed_at is None:
                    req.email_confirmed_at = now
            return True

    def email_verification(self, req_id: str) -> EmailVerification | None:
        with self.tx() as s:
            return s.scalars(select(EmailVerification)
                             .where(EmailVerification.request_id == req_id)
                             .order_by(EmailVerification.sent_at.desc(),
                                       EmailVerification.id.desc())).first()

    # --- evidence ----------------------------------------------------------------------

    def open_upload(self, upload_key: str, req_id: str, op_id: int, filename: str, size: int,
                    sha256: str, now: datetime, kind: str = "package",
                    session_id: str | None = None) -> tuple[Upload, bool]:
        with self.tx() as s:
            up = s.scalars(select(Upload).where(Upload.upload_key == upload_key)).first()
            if up is not None:
                if (up.request_id, up.size, up.sha256) != (req_id, size, sha256):
                    raise conflict("upload_key_reused",
                                   "the same upload_key was used for different content")
                return up, False
            if s.get(IdRequest, req_id) is None:
                raise not_found("request_not_found")
            up = Upload(id=_uuid(), upload_key=upload_key, request_id=req_id, operator_id=op_id,
                        filename=filename, size=size, sha256=sha256, received=0, created_at=now,
                        kind=kind, session_id=session_id)
            s.add(up)
            s.flush()
            return up, True

    def upload(self, upload_id: str) -> Upload | None:
        with self.tx() as s:
            return s.get(Upload, upload_id)

    def advance_upload(self, upload_id: str, offset: int, new_received: int) -> bool:
        with self.tx() as s:
            res = s.execute(update(Upload).where(Upload.id == upload_id,
                                                 Upload.received == offset,
                                                 Upload.package_id.is_(None))
                            .values(received=new_received))
            return bool(res.rowcount)  # type: ignore[attr-defined]

    def finish_upload(self, upload_id: str, stored_path: Callable[[str], str], now: datetime,
                      retention_until: datetime) -> tuple[EvidencePackage, bool]:
        """Attach the upload to a package; (package, created). Same content → same package."""
        with self.tx() as s:
            up = s.get(Upload, upload_id)
            if up is None:
                raise not_found("upload_not_found")
            if up.package_id is not None:
                pkg = s.get(EvidencePackage, up.package_id)
                if pkg is not None:
                    return pkg, False
            pkg = s.scalars(select(EvidencePackage)
                            .where(EvidencePackage.request_id == up.request_id,
                                   EvidencePackage.sha256 == up.sha256,
                                   EvidencePackage.deleted_at.is_(None))).first()
            created = pkg is None
            if pkg is None:
                pkg_id = _uuid()
                pkg = EvidencePackage(id=pkg_id, request_id=up.request_id,
                                      operator_id=up.operator_id, filename=up.filename,
                                      size=up.size, sha256=up.sha256,
                                      stored_path=stored_path(pkg_id), stored_at=now,
                                      retention_until=retention_until)
                s.add(pkg)
                s.flush()
            up.package_id = pkg.id
            return pkg, created

    def package(self, package_id: str) -> EvidencePackage | None:
        with self.tx() as s:
            return s.get(EvidencePackage, package_id)

    def search_packages(self, request_id: str | None, codice_fiscale: str | None,
                        operator: str | None, date_from: datetime | None,
                        date_to: datetime | None, limit: int = 500
                        ) -> list[tuple[EvidencePackage, IdRequest, Operator]]:
        with self.tx() as s:
            q = (select(EvidencePackage, IdRequest, Operator)
                 .join(IdRequest, IdRequest.id == EvidencePackage.request_id)
                 .join(Operator, Operator.id == EvidencePackage.operator_id)
                 .where(EvidencePackage.deleted_at.is_(None)))
            if request_id:
                q = q.where(EvidencePackage.request_id == request_id)
            if codice_fiscale:
                q = q.where(IdRequest.codice_fiscale == codice_fiscale)
            if operator:
                q = q.where(Operator.username == operator)
            if date_from:
                q = q.where(EvidencePackage.stored_at >= date_from)
            if date_to:
                q = q.where(EvidencePackage.stored_at < date_to)
            rows = s.execute(q.order_by(EvidencePackage.stored_at).limit(limit)).all()
            return [(r[0], r[1], r[2]) for r in rows]

    def log_access(self, package_id: str, op_id: int, action: str, reason: str,
                   now: datetime) -> EvidenceAccess:
        with self.tx() as s:
            if s.get(EvidencePackage, package_id) is None:
                raise not_found("package_not_found")
            row = EvidenceAccess(package_id=package_id, operator_id=op_id, action=action,
                                 reason=reason, at=now)
            s.add(row)
            s.flush()
            return row

    def access_log(self, package_id: str) -> list[tuple[EvidenceAccess, str]]:
        with self.tx() as s:
            rows = s.execute(select(EvidenceAccess, Operator.username)
                             .join(Operator, Operator.id == EvidenceAccess.operator_id)
                             .where(EvidenceAccess.package_id == package_id)
                             .order_by(EvidenceAccess.id)).all()
            return [(r[0], r[1]) for r in rows]

    def delete_package(self, package_id: str, op_id: int, reason: str, now: datetime
                       ) -> EvidencePackage:
        with self.tx() as s:
            pkg = s.get(EvidencePackage, package_id)
            if pkg is None or pkg.deleted_at is not None:
                raise not_found("package_not_found")
            if pkg.retention_until > now:
                raise conflict("retention_not_expired", retention_until=pkg.retention_until
                               .strftime("%Y-%m-%dT%H:%M:%SZ"))
            pkg.deleted_at = now
            s.add(EvidenceAccess(package_id=package_id, operator_id=op_id, action="delete",
                                 reason=reason, at=now))
            return pkg

    def counts(self) -> dict[str, int]:
        with self.tx() as s:
            return {
                "requests": s.scalar(select(func.count()).select_from(IdRequest)) or 0,
                "operators": s.scalar(select(func.count()).select_from(Operator)) or 0,
                "packages": s.scalar(select(func.count()).select_from(EvidencePackage)) or 0,
            }

    def discard_email_verification(self, ev_id: int) -> None:
        with self.tx() as s:
            ev = s.get(EmailVerification, ev_id)
            if ev is not None:
                s.delete(ev)

    # --- workstation keys (who may sign evidence packages) -----------------------------

    def enrol_workstation_key(self, key_id: str, public_key: str, workstation: str,
                              not_before: datetime | None, not_after: datetime | None,
                              now: datetime, op_id: int | None) -> WorkstationKey:
        """Enrol a key; 409 ``key_already_enrolled`` when the same key is enrolled already."""
        try:
            with self.tx() as s:
                if s.get(WorkstationKey, key_id) is not None:
                    raise conflict("key_already_enrolled")
                row = WorkstationKey(key_id=key_id, public_key=public_key,
                                     workstation=workstation, not_before=not_before,
                                     not_after=not_after, revoked_at=None, enrolled_at=now,
                                     enrolled_by=op_id)
                s.add(row)
                s.flush()
                return row
        except IntegrityError:
            raise conflict("key_already_enrolled") from None

    def workstation_keys(self) -> list[WorkstationKey]:
        """Every enrolled key, revoked ones included (old packages are judged by them)."""
        with self.tx() as s:
            return list(s.scalars(select(WorkstationKey)
                                  .order_by(WorkstationKey.enrolled_at, WorkstationKey.key_id)))

    def revoke_workstation_key(self, key_id: str, at: datetime, op_id: int | None
                               ) -> WorkstationKey:
        """Revoke from ``at`` on; a revocation is never undone, only moved earlier. 404 if
        unknown."""
        with self.tx() as s:
            row = s.get(WorkstationKey, key_id)
            if row is None:
                raise not_found("key_not_found")
            if row.revoked_at is None or at < row.revoked_at:
                row.revoked_at = at
                row.revoked_by = op_id
            return row

    # --- presence and the event bus (server/bus.py) --------------------------------------

    def presence_add(self, conn_id: str, kind: str, key: str, role: str | None,
                     instance: str, now: datetime) -> None:
        with self.tx() as s:
            s.merge(Presence(conn_id=conn_id, kind=kind, key=key, role=role,
                             instance=instance, seen_at=now))

    def presence_remove(self, conn_id: str) -> None:
        with self.tx() as s:
            s.execute(delete(Presence).where(Presence.conn_id == conn_id))

    def presence_beat(self, instance: str, now: datetime, expired_before: datetime) -> int:
        """Renew this instance's rows; drop every row not renewed since ``expired_before`` (an
        instance that died). Returns how many rows were dropped."""
        with self.tx() as s:
            s.execute(update(Presence).where(Presence.instance == instance)
                      .values(seen_at=now))
            gone = s.execute(delete(Presence).where(Presence.seen_at < expired_before))
            return int(getattr(gone, "rowcount", 0) or 0)

    def presence_clear(self, instance: str | None = None) -> None:
        """Drop this instance's rows (its shutdown), or every row (``None``)."""
        with self.tx() as s:
            q = delete(Presence)
            if instance is not None:
                q = q.where(Presence.instance == instance)
            s.execute(q)

    def presence_online(self, since: datetime, exclude_instance: str
                        ) -> tuple[set[str], dict[int, str]]:
        """(request ids with an applicant connected, operator id -> role) on the *other*
        instances, from rows renewed since ``since``."""
        applicants: set[str] = set()
        operators: dict[int, str] = {}
        with self.tx() as s:
            rows = s.execute(select(Presence.kind, Presence.key, Presence.role)
                             .where(Presence.seen_at >= since,
                                    Presence.instance != exclude_instance))
            for kind, key, role in rows:
                if kind == "applicant":
                    applicants.add(key)
                elif kind == "operator" and key.isdigit():
                    operators[int(key)] = role or ""
        return applicants, operators

    def bus_put(self, body: str, now: datetime) -> str:
        with self.tx() as s:
            row = BusMessage(id=_uuid(), body=body, created_at=now)
            s.add(row)
            s.flush()
            return row.id

    def bus_get(self, msg_id: str) -> str | None:
        with self.tx() as s:
            row = s.get(BusMessage, msg_id)
            return row.body if row is not None else None

    def bus_prune(self, before: datetime) -> None:
        with self.tx() as s:
            s.execute(delete(BusMessage).where(BusMessage.created_at < before))


def _liveness_missing(facts: list[RequestEvent]) -> list[str]:
    """The liveness rule over a session's facts in order: the latest check must have passed,
    or a supervisor's second look on liveness must have come after it."""
    last: int | None = None
    for i, e in enumerate(facts):
        if e.kind == "liveness":
            last = i
    if last is None:
        return ["liveness_check"]
    if facts[last].data.get("verdict") == "pass":
        return []
    looked = any(e.kind == "second_look" and e.data.get("subject") == "liveness"
                 for e in facts[last + 1:])
    return [] if looked else ["liveness_passed_or_second_look"]
