"""The schema comes from the Alembic migrations, on SQLite and PostgreSQL alike: they create
exactly what the models say, run once under a lock (two instances at once never race), and
``serve`` refuses a missing schema outside demo mode ("run recognition-desk migrate")."""

from __future__ import annotations

import base64
import os
import selectors
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from server import migrate
from server.store import Base
from tests.fixtures.desk import _desk_command

pytestmark = pytest.mark.timeout(180)

PRODUCTION = ("--sms-gateway-url", "https://sms.example.test/send", "--smtp-host",
              "smtp.example.test", "--public-url", "https://desk.example")
PRODUCTION_ENV = {"RECOGNITION_DESK_TOTP_KEY": base64.b64encode(bytes(range(32))).decode()}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def _engine(url: str) -> Engine:
    return create_engine(url, poolclass=NullPool)


def _schema(engine: Engine) -> dict[str, Any]:
    """Tables, columns (type, nullable), primary keys, foreign keys, indexes, unique constraints."""
    insp = inspect(engine)
    out: dict[str, Any] = {}
    for t in sorted(set(insp.get_table_names()) - {"alembic_version"}):
        out[t] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(t)],
            "pk": insp.get_pk_constraint(t)["constrained_columns"],
            "fks": sorted((tuple(f["constrained_columns"]), f["referred_table"],
                           tuple(f["referred_columns"])) for f in insp.get_foreign_keys(t)),
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in insp.get_indexes(t)),
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(t)),
        }
    return out


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_desk_command(), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_the_migrations_create_what_the_models_describe(empty_db: str, tmp_path: Path,
                                                        request: pytest.FixtureRequest) -> None:
    assert migrate.upgrade(empty_db) == (None, migrate.head_revision())
    engine = _engine(empty_db)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        migrated = _schema(engine)
    finally:
        engine.dispose()
    # the same as create_all (what the service did before migrations), on the same backend
    if empty_db.startswith("sqlite"):
        other = f"sqlite:///{tmp_path / 'create_all.sqlite3'}"
    else:
        other = request.getfixturevalue("postgres_cluster").new_database(migrated=False)
    engine = _engine(other)
    try:
        Base.metadata.create_all(engine)
        try:
            assert _schema(engine) == migrated
        finally:
            Base.metadata.drop_all(engine)
    finally:
        engine.dispose()


def test_a_second_upgrade_does_nothing_and_downgrade_round_trips(empty_db: str) -> None:
    head = migrate.head_revision()
    migrate.upgrade(empty_db)
    assert migrate.upgrade(empty_db) == (head, head)
    engine = _engine(empty_db)
    try:
        with engine.begin() as conn:
            command.downgrade(migrate._config(conn), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        with pytest.raises(migrate.SchemaError, match="run `recognition-desk migrate`"):
            migrate.check_schema(engine)
    finally:
        engine.dispose()
    migrate.upgrade(empty_db)


def test_two_migrators_at_once_never_race(empty_db: str, tmp_path: Path) -> None:
    procs = [subprocess.Popen([*_desk_command(), "migrate", "--db", empty_db, "--data-dir",
                               str(tmp_path / f"d{i}")], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1][-2000:] for o in outs]
    head = migrate.head_revision()
    lines = sorted(o[0].strip() for o in outs)
    assert lines == sorted([f"schema {head} (was empty)", f"schema {head}", f"schema {head}"])
    assert "Traceback" not in "".join(o[1] for o in outs)


def _wait_listening(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sel.select(0.5):
                return proc.stdout.readline()
            if proc.poll() is not None:
                return ""
        return ""
    finally:
        sel.close()


def test_two_demo_instances_start_together_on_an_empty_database(empty_db: str,
                                                                tmp_path: Path) -> None:
    procs = [subprocess.Popen([*_desk_command(), "serve", "--demo", "--port", "0", "--db",
                               empty_db, "--data-dir", str(tmp_path / f"d{i}"),
                               "--exit-with-parent"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    try:
        lines = [_wait_listening(p, 60) for p in procs]
        assert all(line.startswith("listening on ") for line in lines), \
            [p.stderr.read()[-2000:] if p.poll() is not None and p.stderr else "" for p in procs]
    finally:
        for p in procs:
            p.terminate()
            p.communicate(timeout=20)
    engine = _engine(empty_db)
    try:
        assert migrate.check_schema(engine).up_to_date
    finally:
        engine.dispose()


def test_production_refuses_a_missing_schema_until_migrate(empty_db: str,
                                                          tmp_path: Path) -> None:
    d = str(tmp_path / "data")
    r = _run("serve", "--port", "0", "--db", empty_db, "--data-dir", d, *PRODUCTION,
             env=PRODUCTION_ENV)
    assert r.returncode == 2, r.stderr
    assert "no schema yet" in r.stderr and "run `recognition-desk migrate`" in r.stderr
    assert r.stdout == "" and "Traceback" not in r.stderr
    r = _run("operator", "add", "someone", "--db", empty_db, "--data-dir", d, env=PRODUCTION_ENV)
    assert r.returncode == 2 and "recognition-desk migrate" in r.stderr
    assert _run("migrate", "--check", "--db", empty_db, "--data-dir", d).returncode == 1
    r = _run("migrate", "--db", empty_db, "--data-dir", d)
    assert r.returncode == 0 and r.stdout.strip().startswith("schema "), r.stderr
    assert _run("migrate", "--check", "--db", empty_db, "--data-dir", d).returncode == 0
    r = _run("operator", "add", "someone", "--db", empty_db, "--data-dir", d, env=PRODUCTION_ENV)
    assert r.returncode == 0, r.stderr
    if empty_db.startswith("postgresql"):  # the URL's password never reaches the output
        password = empty_db.split("@", 1)[0].rsplit(":", 1)[1]
        assert password not in r.stdout + r.stderr


def test_a_database_from_before_migrations_is_adopted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = _engine(url)
    try:
        # what every earlier version did at start-up (their models: the tables of 0001)
        Base.metadata.create_all(engine, tables=[
            t for name, t in Base.metadata.tables.items()
            if name not in ("presence", "bus_messages")])
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO transitions (request_id, from_state, to_state, actor, "
                              "reason, at) VALUES ('r', 'new', 'registered', 'system', 'x', "
                              "'2026-01-01 00:00:00')"))
        with pytest.raises(migrate.SchemaError, match="predates schema migrations"):
            migrate.check_schema(engine)
        assert migrate.upgrade(url) == (None, migrate.head_revision())
        assert migrate.check_schema(engine).up_to_date
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM transitions")).scalar() == 1
        # tables that differ from the baseline are never adopted blindly
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE alembic_version"))
            conn.execute(text("DROP TABLE otps"))
        with pytest.raises(migrate.SchemaError, match="missing: otps"):
            migrate.upgrade(url)
    finally:
        engine.dispose()


def test_the_migrations_ship_with_the_package() -> None:
    files = {p.name for p in migrate.MIGRATIONS_DIR.rglob("*") if p.is_file()}
    assert {"env.py", "script.py.mako", "0001_initial.py"} <= files
    text_ = Path(__file__).resolve().parents[1].joinpath("pyproject.toml").read_text()
    assert '"migrations/versions/*.py"' in text_ and '"migrations/*.mako"' in text_
