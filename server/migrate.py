"""The schema of the desk service's database: Alembic migrations (``server/migrations``).

``recognition-desk migrate`` runs them once, under a lock, so two instances migrating the same
database at once never race: on PostgreSQL a transaction-level advisory lock
(``pg_advisory_xact_lock``) around the whole upgrade, which is one transaction (PostgreSQL's DDL
is transactional); on SQLite the upgrade is one ``BEGIN EXCLUSIVE`` transaction. The second
instance waits, then finds the schema current and does nothing.

``serve`` only checks (:func:`check_schema`) and refuses an outdated or missing schema, except
in demo mode and on the embedded SQLite default, where it migrates itself
(:func:`upgrade`, same lock) — see ``docs/DATABASE.md``.

A database made before migrations existed (tables from ``create_all``, no ``alembic_version``)
is adopted: when it holds every table and column of the baseline revision it is stamped with it,
then upgraded as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from server.config import ConfigError

logger = logging.getLogger(__name__)
logging.getLogger("alembic").setLevel(logging.WARNING)  # its INFO lines: one per plugin loaded

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: the revision a database made by ``create_all`` (before migrations) corresponds to
BASELINE_REVISION = "0001"
#: pg_advisory_xact_lock key of the migration (any constant 64-bit number: "recogdsk")
PG_LOCK_KEY = 0x7265636F6764736B
#: how long a second migrator waits for the first one (SQLite busy timeout, PostgreSQL lock)
LOCK_WAIT_S = 300


class SchemaError(ConfigError):
    """The database schema is not the one this version needs (the message says what to do)."""


@dataclass(frozen=True)
class SchemaState:
    current: str | None
    head: str
    #: tables but no alembic_version: made by create_all before migrations existed
    legacy: bool

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations in {MIGRATIONS_DIR}")
    return head


def schema_state(conn: Connection) -> SchemaState:
    current = MigrationContext.configure(conn).get_current_revision()
    legacy = current is None and inspect(conn).has_table("operators")
    return SchemaState(current, head_revision(), legacy)


def _known(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an unknown revision
        return False


def check_schema(engine: Engine) -> SchemaState:
    """The schema state; :class:`SchemaError` unless it is the one this version needs."""
    with engine.connect() as conn:
        state = schema_state(conn)
    if state.up_to_date:
        return state
    if state.current is None:
        what = ("the database predates schema migrations" if state.legacy
                else "the database has no schema yet")
    elif not _known(state.current):
        raise SchemaError(f"the database schema ({state.current}) is newer than this version "
                          f"of the service ({state.head}): upgrade the service")
    else:
        what = f"the database schema is at revision {state.current}, this version needs " \
               f"{state.head}"
    raise SchemaError(f"{what}: run `recognition-desk migrate` with the same --db first")


def _migration_engine(url: str) -> Engine:
    """An engine whose one connection holds the migration lock for the whole upgrade."""
    if url.startswith("sqlite"):
        engine = create_engine(url, poolclass=NullPool,
                               connect_args={"timeout": LOCK_WAIT_S, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _autocommit(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we say BEGIN ourselves (pysqlite would not)
            dbapi_conn.execute("PRAGMA foreign_keys=ON")

        @event.listens_for(engine, "begin")
        def _exclusive(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN EXCLUSIVE")

        return engine
    return create_engine(url, poolclass=NullPool)


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that holds the migration lock; committed at the end."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT_S}s'"))
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
            conn.execute(text("SET LOCAL lock_timeout = 0"))
        else:
            conn.execute(text("SELECT 1"))  # BEGIN EXCLUSIVE (the "begin" event) happens here
        yield conn
        conn.commit()


def _baseline_columns() -> dict[str, set[str]]:
    """Tables and columns of the baseline revision (built in an in-memory SQLite database)."""
    engine = create_engine("sqlite://", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            command.upgrade(_config(conn), BASELINE_REVISION)
            insp = inspect(conn)
            return {t: {c["name"] for c in insp.get_columns(t)} for t in insp.get_table_names()
                    if t != "alembic_version"}
    finally:
        engine.dispose()


def _adopt(conn: Connection) -> None:
    insp = inspect(conn)
    have = set(insp.get_table_names())
    missing: list[str] = []
    for table, columns in sorted(_baseline_columns().items()):
        if table not in have:
            missing.append(table)
            continue
        found = {c["name"] for c in insp.get_columns(table)}
        missing += [f"{table}.{c}" for c in sorted(columns - found)]
    if missing:
        raise SchemaError("the database has tables from an older version that differ from "
                          f"schema revision {BASELINE_REVISION} (missing: "
                          f"{', '.join(missing[:8])}); it cannot be migrated automatically")
    command.stamp(_config(conn), BASELINE_REVISION)
    logger.warning("database made before schema migrations: adopted as revision %s",
                   BASELINE_REVISION)


def upgrade(url: str) -> tuple[str | None, str]:
    """Bring the database at ``url`` to the latest revision, under the migration lock.

    Returns (revision before, revision after); a current schema is left as it is."""
    engine = _migration_engine(url)
    try:
        with _locked(engine) as conn:
            state = schema_state(conn)
            if state.current is not None and not _known(state.current):
                raise SchemaError(f"the database schema ({state.current}) is newer than this "
                                  f"version of the service ({state.head}): upgrade the service")
            if state.up_to_date:
                return state.current, state.head
            if state.legacy:
                _adopt(conn)
            command.upgrade(_config(conn), "head")
            logger.info("database schema migrated from %s to %s", state.current or "nothing",
                        state.head)
            return state.current, state.head
    finally:
        engine.dispose()
