"""`recognition-desk`: run the desk service, seed demo data, manage operator accounts.

stdout carries only machine-readable lines (``listening on URL``, seed output); logs go to
stderr and never contain personal data, codes or tokens.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import secrets
import signal
import ssl
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from server.config import (
    PRODUCTS,
    ConfigError,
    DeskConfig,
    db_url_from_arg,
    default_data_dir,
    parse_rate_limits,
)
from server.files import make_private_dir, restrict_umask, secure_data_dir, write_private
from server.public_url import ENV_PUBLIC_URL, parse_origin, parse_public_url

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "Demo-Operatore-2026!"  # noqa: S105 - published demo credential (PROTOCOL.md)
#: (username, display name, role, InfoCert Point of a partner)
DEMO_OPERATORS: tuple[tuple[str, str, str, str | None], ...] = (
    ("operatore1", "Operatore Uno", "operator", None),
    ("supervisore1", "Supervisore Uno", "supervisor", None),
    ("partner1", "Partner Uno", "partner", "IC-ROMA-0001"),
    ("formatore1", "Formatore Uno", "trainer", None),
    ("operatore2", "Operatore Due", "operator", None),
    ("partner2", "Partner Due", "partner", "IC-MILANO-0002"),
    ("admin1", "Amministratore Uno", "admin", None),
)
LOOPBACK_NAMES = ("localhost",)


def demo_applicants(now: datetime) -> list[dict[str, Any]]:
    """The PROTOCOL.md demo identity first, then a few more (one by appointment today)."""
    # on the hour, 1 to 2 hours from now (later today: not due yet, listed among today's)
    appt = (now + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    if appt.date() != now.date():
        appt = (now + timedelta(minutes=30)).replace(second=0, microsecond=0)
    exp = date(now.year + 5, 6, 30)
    return [
        {"surname": "ROSSI", "given_names": "MARIA", "codice_fiscale": "RSSMRA85D52H501P",
         "birth_date": date(1985, 4, 12), "birth_place": "ROMA (H501)", "sex": "F",
         "email": "maria.rossi@example.test", "mobile": "+393331234567",
         "doc_type": "identity_card", "doc_number": "CA00000AA", "doc_issuer": "COMUNE DI ROMA",
         "doc_expiry": date(2031, 4, 12), "product": "spid_personal", "appointment_at": None},
        {"surname": "BIANCHI", "given_names": "LUCA", "codice_fiscale": "BNCLCU90L03F205",
         "birth_date": date(1990, 7, 3), "birth_place": "MILANO (F205)", "sex": "M",
         "email": "luca.bianchi@example.test", "mobile": "+393471112233",
         "doc_type": "driving_licence", "doc_number": "MI1234567X",
         "doc_issuer": "MIT-UCO", "doc_expiry": exp, "product": "digital_signature",
         "appointment_at": None},
        {"surname": "ESPOSITO", "given_names": "GIULIA", "codice_fiscale": "SPSGLI78S65F839",
         "birth_date": date(1978, 11, 25), "birth_place": "NAPOLI (F839)", "sex": "F",
         "email": "giulia.esposito@example.test", "mobile": "+393389876543",
         "doc_type": "passport", "doc_number": "YA1234567", "doc_issuer": "QUESTURA DI NAPOLI",
         "doc_expiry": exp, "product": "spid_professional", "appointment_at": None},
        {"surname": "FERRARI", "given_names": "MARCO", "codice_fiscale": "FRRMRC82B14L219",
         "birth_date": date(1982, 2, 14), "birth_place": "TORINO (L219)", "sex": "M",
         "email": "marco.ferrari@example.test", "mobile": "+393405556677",
         "doc_type": "identity_card", "doc_number": "CA11111BB",
         "doc_issuer": "COMUNE DI TORINO", "doc_expiry": exp, "product": "digital_signature",
         "appointment_at": appt},
        {"surname": "ROMANO", "given_names": "ANNA", "codice_fiscale": "RMNNNA95P70A944",
         "birth_date": date(1995, 9, 30), "birth_place": "BOLOGNA (A944)", "sex": "F",
         "email": "anna.romano@example.test", "mobile": "+393209998877",
         "doc_type": "paper_identity_card", "doc_number": "AB1234567",
         "doc_issuer": "COMUNE DI BOLOGNA", "doc_expiry": exp, "product": "cns",
         "appointment_at": None},
    ]


def _fix_cf(values: dict[str, Any]) -> dict[str, Any]:
    from server.validation import cf_check_char
    cf = values["codice_fiscale"]
    if len(cf) == 15:
        values["codice_fiscale"] = cf + cf_check_char(cf)
    return values


# --- config ----------------------------------------------------------------------------------

def _config(args: argparse.Namespace) -> DeskConfig:
    data_dir = Path(args.data_dir).expanduser().resolve() if args.data_dir else default_data_dir()
    cfg = DeskConfig(data_dir=data_dir, db_url=db_url_from_arg(args.db),
                     demo=bool(getattr(args, "demo", False)))
    for item in getattr(args, "retention", None) or []:
        product, _, years = item.partition("=")
        if product not in PRODUCTS or not years.isdigit():
            raise SystemExit(f"recognition-desk: bad --retention {item!r} (PRODUCT=YEARS)")
        cfg.retention_years[product] = int(years)
    required = getattr(args, "require_email", None) or []
    unknown = [p for p in required if p not in PRODUCTS]
    if unknown:
        raise SystemExit(f"recognition-desk: bad --require-email {unknown[0]!r} "
                         f"(one of {', '.join(PRODUCTS)})")
    cfg.email_required_products = tuple(required)
    cfg.allowed_origins = tuple(getattr(args, "allow_origin", None) or ())
    public_url = getattr(args, "public_url", None) or os.environ.get(ENV_PUBLIC_URL)
    if public_url:
        cfg.public_base_url = public_url
    if getattr(args, "sms_gateway_url", None):
        cfg.sms_sender = "http"
        cfg.sms_gateway_url = args.sms_gateway_url
        cfg.sms_gateway_user = os.environ.get("RECOGNITION_DESK_SMS_USER")
        cfg.sms_gateway_password = os.environ.get("RECOGNITION_DESK_SMS_PASSWORD")
        cfg.sms_gateway_token = os.environ.get("RECOGNITION_DESK_SMS_TOKEN")
    if getattr(args, "smtp_host", None):
        cfg.email_sender = "smtp"
        cfg.smtp_host = args.smtp_host
        cfg.smtp_port = args.smtp_port
        cfg.smtp_user = os.environ.get("RECOGNITION_DESK_SMTP_USER")
        cfg.smtp_password = os.environ.get("RECOGNITION_DESK_SMTP_PASSWORD")
        if args.mail_from:
            cfg.mail_from = args.mail_from
    for opt, attr in (("storage", "storage_url"), ("s3_endpoint", "s3_endpoint_url"),
                      ("s3_region", "s3_region")):  # evidence storage (server/storage.py)
        if getattr(args, opt, None):
            setattr(cfg, attr, getattr(args, opt))
    _accounts_config(cfg, args)
    return cfg


ENV_TOTP_KEY = "RECOGNITION_DESK_TOTP_KEY"
ENV_RATE_LIMITS = "RECOGNITION_DESK_RATE_LIMITS"


def _accounts_config(cfg: DeskConfig, args: argparse.Namespace) -> None:
    """TOTP key, sign-in age, rate limits, trusted proxies (docs/SECURITY.md)."""
    from server.security import parse_totp_key

    key_file = getattr(args, "totp_key_file", None)
    try:
        text = Path(key_file).read_text(encoding="ascii") if key_file \
            else os.environ.get(ENV_TOTP_KEY)
        if text:
            cfg.totp_key = parse_totp_key(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        where = "--totp-key-file" if key_file else ENV_TOTP_KEY
        raise SystemExit(f"recognition-desk: {where}: {exc}") from None
    hours = getattr(args, "session_max_age", None)
    if hours is not None:
        if not hours > 0:
            raise SystemExit("recognition-desk: --session-max-age takes a positive number of "
                             "hours")
        cfg.session_max_age = timedelta(hours=hours)
    try:
        parse_rate_limits(os.environ.get(ENV_RATE_LIMITS, ""), cfg.rate_limits)
        parse_rate_limits(getattr(args, "rate_limit", None) or [], cfg.rate_limits)
    except ConfigError as exc:
        raise SystemExit(f"recognition-desk: {exc}") from None
    proxies = tuple(getattr(args, "trusted_proxy", None) or ())
    for item in proxies:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise SystemExit(f"recognition-desk: bad --trusted-proxy {item!r} (an address or a "
                             "network such as 10.0.0.0/8)") from None
    cfg.trusted_proxies = proxies


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _self_signed(data_dir: Path, host: str) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    tls = data_dir / "tls"
    make_private_dir(tls)
    cert_path, key_path = tls / "self-signed.crt", tls / "self-signed.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost"),
                                     x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    try:
        names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        if host != "localhost":
            names.append(x509.DNSName(host))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "recognition-desk")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName(list(dict.fromkeys(names))), critical=False)
            .sign(key, hashes.SHA256()))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


# --- serve -----------------------------------------------------------------------------------

async def _serve(cfg: DeskConfig, host: str, port: int, ssl_ctx: ssl.SSLContext | None,
                 seed_json: Path | None = None) -> None:
    from aiohttp import web

    from server.app import create_app
    from server.web_util import AccessLogger

    app = create_app(cfg)
    runner = web.AppRunner(app, access_log_class=AccessLogger, handle_signals=False,
                           shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_ctx)
    await site.start()
    bound = port
    for addr in runner.addresses:  # the bound socket tells the real port when --port 0
        if isinstance(addr, tuple) and len(addr) >= 2:
            bound = int(addr[1])
            break
    scheme = "https" if ssl_ctx else "http"
    shown = "127.0.0.1" if host == "localhost" else host
    if ":" in shown:
        shown = f"[{shown}]"
    if not cfg.public_base_url:  # demo mode (serve requires it otherwise): this address
        cfg.public_base_url = f"{scheme}://{shown}:{bound}"
    if seed_json is not None:  # passwords and TOTP secrets: written 0600
        from server.context import DESK

        data = seed_data(app[DESK], cfg.public_base_url)
        write_private(seed_json, json.dumps(data, ensure_ascii=False).encode("utf-8"))
    print(f"listening on {scheme}://{shown}:{bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    logger.info("shutting down")
    await runner.cleanup()


def _exit_with_parent() -> None:
    """Linux: get SIGTERM when the process that started us dies (an embedding console, a test
    run), so no service is left behind. Set here, after exec, never in a pre-exec hook: running
    Python between fork and exec in a threaded parent can deadlock."""
    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        logger.warning("--exit-with-parent is not supported on this system")
        return
    if os.getppid() != parent:  # the parent died before the prctl took effect
        sys.exit(0)


def _refusal(cfg: DeskConfig) -> str | None:
    """Why ``serve`` must not start with this configuration (None: it may)."""
    from server.context import load_totp_key

    if not cfg.demo:
        try:
            load_totp_key(cfg)  # outside demo mode only a configured key
        except ConfigError as exc:
            return str(exc)
        if cfg.sms_sender == "outbox":
            return ("no SMS gateway configured: the local SMS outbox is for --demo only. "
                    "Use --sms-gateway-url URL.")
        if cfg.email_sender == "outbox":
            return ("no SMTP relay configured: the local e-mail outbox is for --demo only. "
                    "Use --smtp-host HOST.")
        if not cfg.public_base_url:
            return (f"no public URL: give --public-url https://HOST (or {ENV_PUBLIC_URL}). "
                    "Links sent to applicants are built from it, never from the Host header.")
    gateway = urlsplit(cfg.sms_gateway_url or "")
    if cfg.sms_sender == "http" and gateway.scheme != "https" and not _is_loopback(
            gateway.hostname or ""):
        return "the SMS gateway URL must be https:// (its credentials and the codes travel)"
    if cfg.public_base_url:
        try:
            cfg.public_base_url = parse_public_url(cfg.public_base_url,
                                                   require_https=not cfg.demo)
        except ValueError as exc:
            return f"bad public URL: {exc}"
    try:
        cfg.allowed_origins = tuple(parse_origin(o) for o in cfg.allowed_origins)
    except ValueError as exc:
        return f"bad --allow-origin: {exc}"
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    if args.exit_with_parent:
        _exit_with_parent()
    cfg = _config(args)
    host = args.host
    if cfg.demo and not _is_loopback(host):
        print(f"recognition-desk: refusing --demo on {host}: demo mode exposes the outboxes "
              "(real codes) and the clock under /api/v1/dev and is allowed on loopback only "
              "(127.0.0.1, ::1, localhost).", file=sys.stderr)
        return 2
    ssl_ctx: ssl.SSLContext | None = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            print("recognition-desk: --tls-cert and --tls-key go together", file=sys.stderr)
            return 2
        cert, key = Path(args.tls_cert), Path(args.tls_key)
    elif args.self_signed:
        cfg.ensure_dirs()
        cert, key = _self_signed(cfg.data_dir, host)
    else:
        cert = key = None  # type: ignore[assignment]
    if cert is not None:
        ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            ssl_ctx.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as exc:
            print(f"recognition-desk: cannot load TLS certificate/key: {exc}", file=sys.stderr)
            return 2
    elif not _is_loopback(host):
        print(f"recognition-desk: refusing plain HTTP on {host}: it is allowed on loopback only "
              "(127.0.0.1, ::1, localhost). Use --tls-cert/--tls-key or --self-signed.",
              file=sys.stderr)
        return 2
    refusal = _refusal(cfg)
    if refusal is not None:
        print(f"recognition-desk: refusing to start: {refusal}", file=sys.stderr)
        return 2
    port = args.port if args.port is not None else (8443 if ssl_ctx else 8080)
    if cfg.demo:
        logger.warning("demo mode: outboxes and the clock are exposed under /api/v1/dev")
    try:
        asyncio.run(_serve(cfg, host, port, ssl_ctx,
                           Path(args.seed_json) if args.seed_json else None))
    except ConfigError as exc:  # e.g. a TOTP key that does not open the database's secrets
        print(f"recognition-desk: refusing to start: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"recognition-desk: cannot listen on {host}:{port}: {exc.strerror}",
              file=sys.stderr)
        return 1
    return 0


# --- seed and operators ------------------------------------------------------------------------

def seed_data(desk: Any, base_url: str) -> dict[str, Any]:
    """Create (or refresh) the demo operators and requests; returns the ``seed --json`` object."""
    from server import security
    from server.api_requests import create_request_record, join_expiry, request_json
    from server.validation import iso

    store = desk.store
    now = desk.config.clock.now()
    base = base_url.rstrip("/")
    ops_out: list[dict[str, Any]] = []
    pw_hash = security.hash_password(DEMO_PASSWORD)
    for username, display, role, point in DEMO_OPERATORS:
        op = store.operator_by_username(username)
        if op is None:
            sealed = security.seal_totp_secret(desk.totp_key, security.new_totp_secret(),
                                               username)
            op = store.create_operator(username, display, role, pw_hash, now,
                                       totp_secret=sealed, point_id=point)
        if op.totp_secret is None:
            store.set_totp_secret(op.id, security.seal_totp_secret(
                desk.totp_key, security.new_totp_secret(), op.username))
            op = store.operator(op.id) or op
        assert op.totp_secret is not None
        ops_out.append({"id": op.id, "username": op.username, "password": DEMO_PASSWORD,
                        "role": op.role, "display_name": op.display_name,
                        "point_id": op.point_id,
                        "totp_secret": security.open_totp_secret(desk.totp_key, op.totp_secret,
                                                                 op.username)})
    reqs_out: list[dict[str, Any]] = []
    for values in demo_applicants(now):
        values = _fix_cf(values)
        existing = [r for r in store.find_requests(codice_fiscale=values["codice_fiscale"])
                    if r.state not in ("approved", "rejected")]
        if existing:
            req = existing[0]
            token = security.new_token()
            expires = join_expiry(desk, req.appointment_at)
            store.new_join_link(req.id, security.token_hash(token), now, expires)
        else:
            req, token, expires = create_request_record(desk, values)
        full = request_json(req)
        reqs_out.append({"id": req.id, "state": req.state, "product": req.product,
                         "booking_code": req.booking_code, "join_token": token,
                         "join_path": f"/join/{token}", "join_url": f"{base}/join/{token}",
                         "join_expires_at": iso(expires),
                         "appointment_at": iso(req.appointment_at),
                         "applicant": full["applicant"], "document": full["document"]})
    return {"operators": ops_out, "requests": reqs_out}


def cmd_seed(args: argparse.Namespace) -> int:
    from server.app import build_desk
    from server.context import load_totp_key

    cfg = _config(args)
    cfg.ensure_dirs()
    if cfg.totp_key is None:  # the published demo accounts: the demo rule (key in the data dir)
        cfg.totp_key = load_totp_key(cfg, demo=True)
    desk = build_desk(cfg, migrate=True)  # demo data: demo rule, the schema migrates itself
    data = seed_data(desk, args.base_url)
    desk.store.close()
    ops_out, reqs_out = data["operators"], data["requests"]
    if args.json:
        print(json.dumps({"operators": ops_out, "requests": reqs_out}, ensure_ascii=False),
              flush=True)
        return 0
    for o in ops_out:
        print(f"operator {o['username']} role={o['role']} password={o['password']} "
              f"totp_secret={o['totp_secret']}")
    for r in reqs_out:
        a = r["applicant"]
        print(f"request {r['id']} {a['surname']} {a['given_names']} product={r['product']} "
              f"state={r['state']} booking_code={r['booking_code']} "
              f"appointment_at={r['appointment_at'] or '-'} join_url={r['join_url']}")
    sys.stdout.flush()
    return 0


def _operator_totp_key(cfg: DeskConfig, store: Any) -> bytes:
    """The configured TOTP key, or the data dir's one where ``serve --demo`` or ``seed`` made
    it; checked against the secrets already stored (ConfigError)."""
    from server.context import DEMO_TOTP_KEY_FILE, load_totp_key, seal_totp_secrets

    key = load_totp_key(cfg, demo=(cfg.data_dir / DEMO_TOTP_KEY_FILE).exists())
    seal_totp_secrets(store, key)
    return key


def cmd_operator(args: argparse.Namespace) -> int:
    from server import security
    from server.errors import ApiError
    from server.store import Store
    from server.validation import ROLES

    cfg = _config(args)
    cfg.ensure_dirs()
    secure_data_dir(cfg.data_dir, cfg.database_url)
    try:  # no web stack needed: a quick command; the embedded default migrates itself
        store = Store(cfg.database_url, migrate=cfg.db_url is None)
    except ConfigError as exc:  # SchemaError: run `recognition-desk migrate` first
        print(f"recognition-desk: {exc}", file=sys.stderr)
        return 2
    now = cfg.clock.now()
    try:
        if args.action == "add":
            if args.role not in ROLES:
                print(f"recognition-desk: role must be one of {', '.join(ROLES)}",
                      file=sys.stderr)
                return 2
            if (args.role == "partner") != bool(args.point):
                print("recognition-desk: a partner needs --point (the InfoCert Point), "
                      "other roles take none", file=sys.stderr)
                return 2
            password = sys.stdin.readline().rstrip("\n") if args.password_stdin \
                else secrets.token_urlsafe(12)
            if len(password) < 12:
                print("recognition-desk: password must have at least 12 characters",
                      file=sys.stderr)
                return 2
            key = _operator_totp_key(cfg, store)
            secret = security.new_totp_secret()
            op = store.create_operator(args.username, args.display_name or args.username,
                                       args.role, security.hash_password(password), now,
                                       totp_secret=security.seal_totp_secret(key, secret,
                                                                             args.username),
                                       point_id=args.point)
            out = {"id": op.id, "username": op.username, "role": op.role, "point_id": op.point_id,
                   "totp_secret": secret, "otpauth_uri": security.totp_uri(secret, op.username)}
            if not args.password_stdin:
                out["password"] = password
            if args.json:
                print(json.dumps(out))
            else:
                print(" ".join(f"{k}={v}" for k, v in out.items()))
            return 0
        found = store.operator_by_username(args.username)
        if found is None:
            print(f"recognition-desk: no operator {args.username!r}", file=sys.stderr)
            return 1
        store.set_disabled(found.id, args.action == "disable", now)
        print(f"operator {found.username} {'disabled' if args.action == 'disable' else 'enabled'}")
        return 0
    except ApiError as exc:
        print(f"recognition-desk: {exc.code}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"recognition-desk: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring the schema to the latest revision once, under a lock (server.migrate); stdout: one
    line ``schema REVISION`` (``--check``: exit 1 when it is not current, migrating nothing)."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from server import migrate as schema

    cfg = _config(args)
    cfg.ensure_dirs()
    secure_data_dir(cfg.data_dir, cfg.database_url)
    try:
        if args.check:
            engine = create_engine(cfg.database_url, poolclass=NullPool)
            try:
                state = schema.check_schema(engine)
            finally:
                engine.dispose()
            print(f"schema {state.current}", flush=True)
            return 0
        before, after = schema.upgrade(cfg.database_url)
    except ConfigError as exc:
        print(f"recognition-desk: {exc}", file=sys.stderr)
        return 2 if not args.check else 1
    print(f"schema {after}" + ("" if before == after else f" (was {before or 'empty'})"),
          flush=True)
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="SQLite file or SQLAlchemy URL (default: <data dir>/desk.sqlite3)")
    p.add_argument("--data-dir", help=f"data directory (default: {default_data_dir()})")
    p.add_argument("--totp-key-file", metavar="FILE",
                   help=f"key of the TOTP secrets at rest: base64 of 32 random bytes (or "
                        f"{ENV_TOTP_KEY}); keep it off the data dir and its backups")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recognition-desk", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the desk service")
    _common(s)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=None, help="0 picks a free port")
    s.add_argument("--tls-cert")
    s.add_argument("--tls-key")
    s.add_argument("--self-signed", action="store_true",
                   help="HTTPS with a self-signed certificate kept in the data dir")
    s.add_argument("--demo", action="store_true",
                   help="expose /api/v1/dev (outboxes, clock) for demos and tests")
    s.add_argument("--exit-with-parent", action="store_true",
                   help="stop when the process that started the service dies (Linux)")
    s.add_argument("--allow-origin", action="append", help="extra WebSocket origin")
    s.add_argument("--public-url",
                   help="https base of the links sent to applicants and the origin of their "
                        f"WebSockets (default: ${ENV_PUBLIC_URL}; required without --demo, "
                        "which defaults to the listening address)")
    s.add_argument("--seed-json", metavar="FILE",
                   help="seed the demo data once listening and write `seed --json` to FILE "
                        "(join links use the real address)")
    s.add_argument("--retention", action="append", metavar="PRODUCT=YEARS")
    s.add_argument("--session-max-age", type=float, metavar="HOURS",
                   help="absolute lifetime of a sign-in, refreshes included (default 12)")
    s.add_argument("--rate-limit", action="append", metavar="RULE=COUNT/SECONDS",
                   help="change a rate limit (login.ip, login.account, register.ip, otp.ip, "
                        f"otp.request, join.ip, join.link; * for all); also {ENV_RATE_LIMITS}")
    s.add_argument("--trusted-proxy", action="append", metavar="ADDRESS[/PREFIX]",
                   help="a reverse proxy whose X-Forwarded-For names the client")
    s.add_argument("--require-email", action="append", metavar="PRODUCT",
                   help="approvals of PRODUCT need the applicant's e-mail address confirmed")
    s.add_argument("--sms-gateway-url", help="send SMS through this HTTP gateway; credentials "
                   "from RECOGNITION_DESK_SMS_USER/_PASSWORD or _TOKEN")
    s.add_argument("--smtp-host", help="send e-mail through this SMTP relay; credentials from "
                   "RECOGNITION_DESK_SMTP_USER/_PASSWORD")
    s.add_argument("--smtp-port", type=int, default=587)
    s.add_argument("--mail-from")
    s.add_argument("--storage", metavar="URL",
                   help="evidence storage every instance reaches: file:///PATH or "
                        "s3://BUCKET/PREFIX (default: the data dir)")
    s.add_argument("--s3-endpoint", metavar="URL",
                   help="S3-compatible endpoint (MinIO, Ceph...); keys from the boto3 chain")
    s.add_argument("--s3-region", metavar="REGION")
    s.set_defaults(func=cmd_serve)
    sd = sub.add_parser("seed", help="create the demo operators and requests")
    _common(sd)
    sd.add_argument("--json", action="store_true")
    sd.add_argument("--base-url", default="http://127.0.0.1:8080",
                    help="base of the printed join links")
    sd.set_defaults(func=cmd_seed)
    o = sub.add_parser("operator", help="add, disable or enable an operator account")
    _common(o)
    o.add_argument("action", choices=("add", "disable", "enable"))
    o.add_argument("username")
    o.add_argument("--role", default="operator")
    o.add_argument("--point", help="the InfoCert Point of a partner (e.g. IC-ROMA-0001)")
    o.add_argument("--display-name")
    o.add_argument("--password-stdin", action="store_true")
    o.add_argument("--json", action="store_true")
    o.set_defaults(func=cmd_operator)
    m = sub.add_parser("migrate", help="create or upgrade the database schema (once, locked)")
    m.add_argument("--db", help="SQLite file or SQLAlchemy URL (default: <data dir>/desk.sqlite3)")
    m.add_argument("--data-dir", help=f"data directory (default: {default_data_dir()})")
    m.add_argument("--check", action="store_true",
                   help="only tell whether the schema is current (exit 1 when not)")
    m.set_defaults(func=cmd_migrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    restrict_umask()  # everything the service creates (SQLite's -wal/-shm too) is 0600/0700
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.INFO),
                        stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
