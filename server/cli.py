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

from server.config import PRODUCTS, DeskConfig, db_url_from_arg, default_data_dir

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "Demo-Operatore-2026!"  # noqa: S105 - published demo credential (PROTOCOL.md)
DEMO_OPERATORS = (
    ("operatore1", "Operatore Uno", "operator"),
    ("supervisore1", "Supervisore Uno", "supervisor"),
    ("partner1", "Partner Uno", "partner"),
    ("formatore1", "Formatore Uno", "trainer"),
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
    cfg.allowed_origins = tuple(getattr(args, "allow_origin", None) or ())
    if getattr(args, "public_url", None):
        cfg.public_base_url = args.public_url
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
    return cfg


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
    tls.mkdir(parents=True, exist_ok=True)
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
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
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
    if seed_json is not None:
        from server.context import DESK

        data = seed_data(app[DESK], f"{scheme}://{shown}:{bound}")
        tmp = seed_json.with_suffix(seed_json.suffix + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        tmp.replace(seed_json)
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


def cmd_serve(args: argparse.Namespace) -> int:
    if args.exit_with_parent:
        _exit_with_parent()
    cfg = _config(args)
    host = args.host
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
    port = args.port if args.port is not None else (8443 if ssl_ctx else 8080)
    if cfg.demo:
        logger.warning("demo mode: outboxes and the clock are exposed under /api/v1/dev")
    try:
        asyncio.run(_serve(cfg, host, port, ssl_ctx,
                           Path(args.seed_json) if args.seed_json else None))
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
    for username, display, role in DEMO_OPERATORS:
        op = store.operator_by_username(username)
        if op is None:
            op = store.create_operator(username, display, role, pw_hash, now,
                                       totp_secret=security.new_totp_secret())
        if op.totp_secret is None:
            secret = security.new_totp_secret()
            store.set_totp_secret(op.id, secret)
            op = store.operator(op.id) or op
        ops_out.append({"id": op.id, "username": op.username, "password": DEMO_PASSWORD,
                        "role": op.role, "display_name": op.display_name,
                        "totp_secret": op.totp_secret})
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

    cfg = _config(args)
    desk = build_desk(cfg)
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


def cmd_operator(args: argparse.Namespace) -> int:
    from server import security
    from server.errors import ApiError
    from server.store import Store
    from server.validation import ROLES

    cfg = _config(args)
    cfg.ensure_dirs()
    store = Store(cfg.database_url)  # no web stack needed: a quick command
    now = cfg.clock.now()
    try:
        if args.action == "add":
            if args.role not in ROLES:
                print(f"recognition-desk: role must be one of {', '.join(ROLES)}",
                      file=sys.stderr)
                return 2
            password = sys.stdin.readline().rstrip("\n") if args.password_stdin \
                else secrets.token_urlsafe(12)
            if len(password) < 12:
                print("recognition-desk: password must have at least 12 characters",
                      file=sys.stderr)
                return 2
            secret = security.new_totp_secret()
            op = store.create_operator(args.username, args.display_name or args.username,
                                       args.role, security.hash_password(password), now,
                                       totp_secret=secret)
            out = {"id": op.id, "username": op.username, "role": op.role,
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
    finally:
        store.close()


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="SQLite file or SQLAlchemy URL (default: <data dir>/desk.sqlite3)")
    p.add_argument("--data-dir", help=f"data directory (default: {default_data_dir()})")


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
    s.add_argument("--public-url", help="base of the links sent to applicants (behind a proxy)")
    s.add_argument("--seed-json", metavar="FILE",
                   help="seed the demo data once listening and write `seed --json` to FILE "
                        "(join links use the real address)")
    s.add_argument("--retention", action="append", metavar="PRODUCT=YEARS")
    s.add_argument("--sms-gateway-url", help="send SMS through this HTTP gateway; credentials "
                   "from RECOGNITION_DESK_SMS_USER/_PASSWORD or _TOKEN")
    s.add_argument("--smtp-host", help="send e-mail through this SMTP relay; credentials from "
                   "RECOGNITION_DESK_SMTP_USER/_PASSWORD")
    s.add_argument("--smtp-port", type=int, default=587)
    s.add_argument("--mail-from")
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
    o.add_argument("--display-name")
    o.add_argument("--password-stdin", action="store_true")
    o.add_argument("--json", action="store_true")
    o.set_defaults(func=cmd_operator)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.INFO),
                        stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
