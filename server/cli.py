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
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from server.config import (
    ENV_OTP_PEPPER,
    ENV_TOTP_KEY,
    PRODUCTS,
    SETTINGS,
    SETTINGS_BY_KEY,
    ConfigError,
    DeskConfig,
    db_url_from_arg,
    default_data_dir,
    env_settings,
    parse_rate_limits,
    read_config_file,
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
    if appt.date() != now.date():  # after 23:30: the last minute of today (not due before
        appt = now.replace(hour=23, minute=59, second=0, microsecond=0)  # 23:49, the grace)
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

def _apply_settings(args: argparse.Namespace) -> dict[str, str]:
    """Fill in the options this command has (server.config.SETTINGS) that the command line left
    out: from the environment (``RECOGNITION_DESK_<KEY>``), else the configuration file
    (``--config``), else their defaults. Returns where each one set came from ("command line",
    "environment" or the file's path); :class:`ConfigError` for a bad file or variable."""
    done: dict[str, str] | None = getattr(args, "config_sources", None)
    if done is not None:
        return done
    file_arg = getattr(args, "config", None)
    from_file = read_config_file(Path(file_arg).expanduser()) if file_arg else {}
    from_env = env_settings()
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        key = setting.key
        if not hasattr(args, key):
            continue
        given = getattr(args, key)
        layers = [(from_file.get(key), str(file_arg)), (from_env.get(key), "environment"),
                  (given, "command line")]
        if setting.layered:  # later layers win, rule by rule
            value = [item for layer, _ in layers for item in (layer or [])] or None
            where = " + ".join(src for layer, src in layers if layer)
        else:
            value, where = setting.default, ""
            for layer, src in layers:
                if layer is not None:
                    value, where = layer, src
        setattr(args, key, value)
        if where:
            sources[key] = where
    args.config_sources = sources
    return sources


def _secret_text(args: argparse.Namespace, key: str, env_value: str) -> tuple[str | None, str]:
    """(text, where) of a secret: the file given on the command line, else the value in the
    environment (``env_value``), else the file named by the environment or the configuration
    file; (None, "") when none is given."""
    path = getattr(args, key, None)
    source = getattr(args, "config_sources", {}).get(key, "")
    option = "--" + key.replace("_", "-")
    if not (path and source == "command line") and os.environ.get(env_value, "").strip():
        return os.environ[env_value], env_value
    if not path:
        return None, ""
    where = {"command line": option, "environment": SETTINGS_BY_KEY[key].env}.get(
        source, f"{key} in {source}")
    try:
        return Path(path).expanduser().read_text(encoding="ascii"), where
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: {path} is not base64 text") from None


def _config(args: argparse.Namespace) -> DeskConfig:
    """The configuration of a command; a bad one: the message on stderr, exit status 2."""
    try:
        _apply_settings(args)
        return _build_config(args)
    except ConfigError as exc:
        print(f"recognition-desk: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _build_config(args: argparse.Namespace) -> DeskConfig:
    """The DeskConfig of the command line, environment and file (:func:`_apply_settings`
    first); :class:`ConfigError` saying what is wrong (never a secret's value)."""
    from server.context import parse_pepper

    data_dir = Path(args.data_dir).expanduser().resolve() if args.data_dir else default_data_dir()
    cfg = DeskConfig(data_dir=data_dir, db_url=db_url_from_arg(args.db),
                     demo=bool(getattr(args, "demo", False)))
    for item in getattr(args, "retention", None) or []:
        product, _, years = item.partition("=")
        if product not in PRODUCTS or not years.isdigit():
            raise ConfigError(f"bad --retention {item!r} (PRODUCT=YEARS)")
        cfg.retention_years[product] = int(years)
    required = getattr(args, "require_email", None) or []
    unknown = [p for p in required if p not in PRODUCTS]
    if unknown:
        raise ConfigError(f"bad --require-email {unknown[0]!r} (one of {', '.join(PRODUCTS)})")
    cfg.email_required_products = tuple(required)
    cfg.allowed_origins = tuple(getattr(args, "allow_origin", None) or ())
    public_url = getattr(args, "public_url", None)
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
    text, where = _secret_text(args, "otp_pepper_file", ENV_OTP_PEPPER)
    if text is not None:
        try:
            cfg.otp_pepper = parse_pepper(text)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    archive_key = getattr(args, "archive_public_key", None)
    if archive_key:
        cfg.archive_public_key = Path(archive_key).expanduser()
    _accounts_config(cfg, args)
    return cfg


ENV_RATE_LIMITS = "RECOGNITION_DESK_RATE_LIMITS"
ENV_LOG_FORMAT = "RECOGNITION_DESK_LOG_FORMAT"


def _accounts_config(cfg: DeskConfig, args: argparse.Namespace) -> None:
    """TOTP key, sign-in age, rate limits, trusted proxies (docs/SECURITY.md)."""
    from server.security import parse_totp_key

    text, where = _secret_text(args, "totp_key_file", ENV_TOTP_KEY)
    try:
        if text is not None:
            cfg.totp_key = parse_totp_key(text)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    hours = getattr(args, "session_max_age", None)
    if hours is not None:
        if not hours > 0:
            raise ConfigError("--session-max-age takes a positive number of hours")
        cfg.session_max_age = timedelta(hours=hours)
    # file, environment (RECOGNITION_DESK_RATE_LIMITS), command line: the later wins per rule
    parse_rate_limits(getattr(args, "rate_limit", None) or [], cfg.rate_limits)
    proxies = tuple(getattr(args, "trusted_proxy", None) or ())
    for item in proxies:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfigError(f"bad --trusted-proxy {item!r} (an address or a network such as "
                              "10.0.0.0/8)") from None
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
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # before saying so: a SIGTERM right after the
        with contextlib.suppress(NotImplementedError):  # line below still stops cleanly
            loop.add_signal_handler(sig, stop.set)
    print(f"listening on {scheme}://{shown}:{bound}", flush=True)
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


def _listen_checks(cfg: DeskConfig, args: argparse.Namespace, *,
                   create: bool = True) -> tuple[ssl.SSLContext | None, str | None]:
    """The TLS context to listen with, and why ``serve`` must not listen as configured (None:
    it may). ``create=False`` (config check): a self-signed certificate not made yet is not."""
    host = args.host
    if cfg.demo and not _is_loopback(host):
        return None, (f"refusing --demo on {host}: demo mode exposes the outboxes (real codes) "
                      "and the clock under /api/v1/dev and is allowed on loopback only "
                      "(127.0.0.1, ::1, localhost).")
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            return None, "--tls-cert and --tls-key go together"
        cert, key = Path(args.tls_cert), Path(args.tls_key)
    elif args.self_signed:
        if not create and not (cfg.data_dir / "tls" / "self-signed.crt").exists():
            return None, None  # made in the data dir at start-up
        cfg.ensure_dirs()
        cert, key = _self_signed(cfg.data_dir, host)
    elif not _is_loopback(host):
        return None, (f"refusing plain HTTP on {host}: it is allowed on loopback only "
                      "(127.0.0.1, ::1, localhost). Use --tls-cert/--tls-key or --self-signed.")
    else:
        return None, None
    ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ssl_ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        return None, f"cannot load TLS certificate/key: {exc}"
    return ssl_ctx, None


def cmd_serve(args: argparse.Namespace) -> int:
    if args.exit_with_parent:
        _exit_with_parent()
    cfg = _config(args)
    host = args.host
    ssl_ctx, refusal = _listen_checks(cfg, args)
    if refusal is not None:
        print(f"recognition-desk: {refusal}", file=sys.stderr)
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
    except ConfigError as exc:  # a TOTP key that does not open the database's secrets, a schema
        # not current, a shared database without an OTP pepper or archive key (build_desk)
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
    cfg.demo = True  # demo data: the demo rule for the OTP pepper and archive key too (unused)
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


# --- config check ------------------------------------------------------------------------------

#: ``report(what)``: a check passed; ``report(what, why)``: it failed
Report = Callable[..., None]

def _shown_db(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def _db_error(exc: BaseException, url: str) -> str:
    """One line saying why the database failed, without the URL's password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    why = lines[0] if lines else type(cause).__name__
    try:
        password = make_url(url).password
    except ArgumentError:
        password = None
    if password:
        why = why.replace(str(password), "***")
    return why[:300]


def _check_engine(cfg: DeskConfig) -> Any:
    """A NullPool engine on the configured database that changes nothing: SQLite read-only (no
    file is made), PostgreSQL with a connect timeout. None: an SQLite file not there yet."""
    import sqlite3

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    url = make_url(cfg.database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        if not url.database or url.database == ":memory:" or not path.exists():
            return None
        uri = path.resolve().as_uri() + "?mode=ro"
        return create_engine("sqlite://", poolclass=NullPool,
                             creator=lambda: sqlite3.connect(uri, uri=True))
    connect_args = {"connect_timeout": 5} if url.get_backend_name() == "postgresql" else {}
    return create_engine(url, poolclass=NullPool, connect_args=connect_args)


def _check_database(cfg: DeskConfig, report: Report) -> None:
    """Reachable, schema current, and the TOTP key opens the secrets stored there."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from server import migrate as schema
    from server import security
    from server.app import migrates_itself
    from server.context import DEMO_TOTP_KEY_FILE, load_totp_key
    from server.store import Operator

    url = cfg.database_url
    what = f"database {_shown_db(url)}"
    self_migrating = migrates_itself(cfg)
    try:
        engine = _check_engine(cfg)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        report(what, _db_error(exc, url))
        return
    if engine is None:
        if self_migrating:
            report(f"{what} (none yet: made at start-up)")
        else:
            report(what, "no such database file: run `recognition-desk migrate` with the same "
                         "--db first")
        return
    try:
        try:
            state = schema.check_schema(engine)
        except schema.SchemaError as exc:
            if self_migrating:
                report(f"{what} (its schema is migrated at start-up)")
            else:
                report(f"{what} schema", str(exc))
            return
        except (SQLAlchemyError, OSError) as exc:
            report(what, _db_error(exc, url))
            return
        report(f"{what} (schema {state.current}, current)")
        if cfg.totp_key is None and not (cfg.demo and (cfg.data_dir / DEMO_TOTP_KEY_FILE)
                                         .exists()):
            return  # no key yet: the start-up rules said so, or demo mode makes one
        key = load_totp_key(cfg)
        try:
            with engine.connect() as conn:
                rows = conn.execute(select(Operator.username, Operator.totp_secret)
                                    .where(Operator.totp_secret.is_not(None))
                                    .order_by(Operator.id)).all()
        except SQLAlchemyError as exc:
            report("TOTP secrets", _db_error(exc, url))
            return
        sealed = [(u, v) for u, v in rows if v is not None and security.is_sealed(v)]
        if sealed:
            try:
                security.open_totp_secret(key, sealed[0][1], sealed[0][0])
            except ValueError:
                report("TOTP key", "it does not open the TOTP secrets in the database: wrong "
                                   f"{ENV_TOTP_KEY} or --totp-key-file?")
                return
        plain = len(rows) - len(sealed)
        report(f"TOTP key opens the stored secrets ({len(sealed)} sealed"
               + (f", {plain} sealed at start-up)" if plain else ")"))
    except ConfigError as exc:
        report("TOTP key", str(exc))
    finally:
        engine.dispose()


def _check_storage(cfg: DeskConfig, report: Report) -> None:
    import tempfile

    from server.storage import FilesystemStorage, make_storage

    where = cfg.storage_url or f"in the data dir {cfg.data_dir}"
    if not cfg.storage_url and not cfg.data_dir.exists():
        report(f"evidence storage {where} (made at start-up)")
        return
    try:
        storage = make_storage(cfg)
        if isinstance(storage, FilesystemStorage):  # writable, as the service's own user
            with tempfile.TemporaryFile(dir=storage.uploads, prefix=".config-check-"):
                pass
    except ConfigError as exc:
        report(f"evidence storage {where}", str(exc))
    except OSError as exc:
        report(f"evidence storage {where}", f"not writable: {exc.strerror}")
    else:
        report(f"evidence storage {where}")


def _check_data_dir(cfg: DeskConfig, report: Report) -> None:
    path = cfg.data_dir
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        report(f"data dir {path}", f"{existing} is not writable")
    else:
        report(f"data dir {path}" + ("" if path.exists() else " (made at start-up)"))


def cmd_config_check(args: argparse.Namespace) -> int:
    """Build the configuration exactly as ``serve`` would and check it: one line per check,
    ``ok   WHAT`` or ``FAIL WHAT: WHY`` (never a secret); exit 0 when all pass, 1 otherwise,
    2 for a usage error (a bad configuration file or variable)."""
    from server import archive
    from server.context import PEPPER_FILE, load_archive_key, load_pepper

    failures: list[str] = []

    def report(what: str, why: str | None = None) -> None:
        if why is None:
            print(f"ok   {what}", flush=True)
        else:
            print(f"FAIL {what}: {why}", flush=True)
            failures.append(what)

    try:
        sources = _apply_settings(args)
    except ConfigError as exc:
        report("configuration", str(exc))
        return 2
    try:
        cfg = _build_config(args)
    except ConfigError as exc:
        report("configuration", str(exc))
        return 1
    counted: dict[str, int] = {}
    for src in sources.values():
        counted[src] = counted.get(src, 0) + 1
    report("configuration (" + (", ".join(f"{n} from {src}" for src, n in counted.items())
                                or "defaults only") + ")")
    ssl_ctx, refusal = _listen_checks(cfg, args, create=False)
    scheme = "https" if ssl_ctx or args.self_signed else "http"
    port = args.port if args.port is not None else (8443 if scheme == "https" else 8080)
    report(f"listening on {scheme}://{args.host}:{port}", refusal)
    report("start-up rules (TOTP key, gateways, public URL, origins)", _refusal(cfg))
    _check_data_dir(cfg, report)
    try:
        if cfg.otp_pepper is None and cfg.keys_in_data_dir \
                and not (cfg.data_dir / PEPPER_FILE).exists():
            report("OTP pepper (made in the data dir at start-up)")
        else:
            load_pepper(cfg)
            report("OTP pepper" + (" (the data dir's)" if cfg.otp_pepper is None else ""))
    except (ConfigError, OSError) as exc:
        report("OTP pepper", str(exc))
    try:
        if cfg.archive_public_key is None and cfg.keys_in_data_dir \
                and not (cfg.data_dir / archive.PUBLIC_NAME).exists() \
                and not (cfg.data_dir / archive.PRIVATE_NAME).exists():
            report("archive public key (a demo pair made in the data dir at start-up)")
        else:
            key = load_archive_key(cfg)
            report(f"archive public key {key.key_id}"
                   + (" (the data dir's)" if cfg.archive_public_key is None else ""))
    except (ConfigError, OSError) as exc:
        report("archive public key", str(exc))
    _check_database(cfg, report)
    _check_storage(cfg, report)
    return 1 if failures else 0


def _config_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE",
                   help="TOML file whose keys are the long options (db, public_url, "
                        "otp_pepper_file...); the environment (RECOGNITION_DESK_<KEY>) and the "
                        "command line override it (docs/DEPLOY.md)")


def _common(p: argparse.ArgumentParser) -> None:
    _config_option(p)
    p.add_argument("--db", help="SQLite file or SQLAlchemy URL (default: <data dir>/desk.sqlite3)")
    p.add_argument("--data-dir", help=f"data directory (default: {default_data_dir()})")
    p.add_argument("--totp-key-file", metavar="FILE",
                   help=f"key of the TOTP secrets at rest: base64 of 32 random bytes (or "
                        f"{ENV_TOTP_KEY}); keep it off the data dir and its backups")
    p.add_argument("--otp-pepper-file", metavar="FILE",
                   help=f"secret mixed into the SMS codes' hashes: base64 of >= 16 random bytes "
                        f"(or {ENV_OTP_PEPPER}), the same for every instance; required with a "
                        "--db database outside --demo")
    p.add_argument("--archive-public-key", metavar="FILE",
                   help="PEM X25519 public key evidence is sealed to (or "
                        "RECOGNITION_DESK_ARCHIVE_PUBLIC_KEY_FILE); required with a --db "
                        "database outside --demo")


def _serve_options(s: argparse.ArgumentParser) -> None:
    """The options of ``serve`` that ``config check`` takes too. Those a file or the environment
    can set (server.config.SETTINGS) default to None here: _apply_settings fills them in."""
    _common(s)
    s.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=None, help="0 picks a free port")
    s.add_argument("--tls-cert")
    s.add_argument("--tls-key")
    s.add_argument("--self-signed", action="store_true", default=None,
                   help="HTTPS with a self-signed certificate kept in the data dir")
    s.add_argument("--demo", action="store_true",
                   help="expose /api/v1/dev (outboxes, clock) for demos and tests")
    s.add_argument("--allow-origin", action="append", help="extra WebSocket origin")
    s.add_argument("--public-url",
                   help="https base of the links sent to applicants and the origin of their "
                        f"WebSockets (default: ${ENV_PUBLIC_URL}; required without --demo, "
                        "which defaults to the listening address)")
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
    s.add_argument("--smtp-port", type=int, default=None, help="default 587")
    s.add_argument("--mail-from")
    s.add_argument("--storage", metavar="URL",
                   help="evidence storage every instance reaches: file:///PATH or "
                        "s3://BUCKET/PREFIX (default: the data dir)")
    s.add_argument("--s3-endpoint", metavar="URL",
                   help="S3-compatible endpoint (MinIO, Ceph...); keys from the boto3 chain")
    s.add_argument("--s3-region", metavar="REGION")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recognition-desk", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--log-format", choices=("text", "json"),
                        help=f"text (default) or json: one JSON object per line with the "
                             f"request id (or {ENV_LOG_FORMAT})")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the desk service")
    _serve_options(s)
    s.add_argument("--exit-with-parent", action="store_true",
                   help="stop when the process that started the service dies (Linux)")
    s.add_argument("--seed-json", metavar="FILE",
                   help="seed the demo data once listening and write `seed --json` to FILE "
                        "(join links use the real address)")
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
    _config_option(m)
    m.add_argument("--db", help="SQLite file or SQLAlchemy URL (default: <data dir>/desk.sqlite3)")
    m.add_argument("--data-dir", help=f"data directory (default: {default_data_dir()})")
    m.add_argument("--check", action="store_true",
                   help="only tell whether the schema is current (exit 1 when not)")
    m.set_defaults(func=cmd_migrate)
    c = sub.add_parser("config", help="check the configuration of a deployment")
    csub = c.add_subparsers(dest="config_command", required=True)
    ck = csub.add_parser("check", help="build the configuration as serve would and check it: "
                         "refusals, keys, database and schema, evidence storage")
    _serve_options(ck)
    ck.set_defaults(func=cmd_config_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    restrict_umask()  # everything the service creates (SQLite's -wal/-shm too) is 0600/0700
    from server import logs

    fmt = args.log_format or os.environ.get(ENV_LOG_FORMAT) or "text"
    if fmt not in ("text", "json"):
        print(f"recognition-desk: {ENV_LOG_FORMAT} must be text or json", file=sys.stderr)
        return 2
    logs.configure(args.log_level, fmt)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
