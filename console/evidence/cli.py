"""``recognition-console evidence verify|open|key|archive-key``.

* ``evidence verify PATH [--key FILE] (--trust FILE | --desk URL [--token T] [--save-trust FILE]
  | --trusted-key B64...)`` -- a package folder, its archive, or a sealed file (``--key``: the
  archive private key that decrypts it). The signature counts only when its workstation key is
  in the trust store given: a JSON file (``--trust``, format in ``console.evidence.trust``), the
  desk service's key registry (``--desk``: ``GET /api/v1/workstation-keys``, pinned to a file
  with ``--save-trust``), or single keys (``--trusted-key``, no validity limits). Without one
  the package is refused ("signed by unknown key <key id>"). Exit 0 when hashes, audit chain,
  signature and signer all hold; exit 1 naming each problem; exit 2 when the input or the trust
  store cannot be read at all.
* ``evidence open SEALED --key FILE [--out DIR] [--desk URL --token T] [--trust FILE]
  [--reason TEXT]`` -- decrypts for an authorised reviewer, verifies what it opened (against
  ``--trust``, else the registry of ``--desk``), and (with ``--desk``) logs the access at the
  desk service first (``POST /evidence/{id}/access``): if the service cannot log it, nothing is
  opened.
* ``evidence key --public [--json] [--workstation NAME] [--data-dir DIR]`` -- prints this
  workstation's signing key (public half, base64 of the 32 raw bytes; ``--json``: the body of
  ``POST /api/v1/workstation-keys``) so an administrator can enrol it. Created if absent.
* ``evidence archive-key [--desk URL [--repin]] [--ca FILE] [--data-dir DIR]`` -- the archive
  key evidence is sealed to (``console.evidence.pin``): shows the pin; with ``--desk`` pins the
  service's key if none is pinned, else exit 1 when it differs; ``--repin`` replaces the pin
  after an intended key rotation.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from console.errors import (
    Conflict,
    ConsoleError,
    DeskError,
    Forbidden,
    InsufficientStorage,
    NotAuthenticated,
    NotFound,
    ProtocolError,
    RateLimited,
    ServerError,
    ServerUnreachable,
    ValidationError,
)

if TYPE_CHECKING:
    from console.evidence.trust import TrustStore

log = logging.getLogger(__name__)

EXIT_OK, EXIT_PROBLEMS, EXIT_ERROR = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="evidence_command", metavar="ACTION")
    v = sub.add_parser("verify", help="re-check hashes, audit chain, signature and signer")
    v.add_argument("path", help="package folder, .tar archive or sealed file")
    v.add_argument("--key", help="archive private key file (for a sealed file)")
    src = v.add_mutually_exclusive_group()
    src.add_argument("--trust", metavar="FILE",
                     help="trust store (JSON list of workstation keys): only signatures by "
                          "these keys, within their validity, count")
    src.add_argument("--desk", metavar="URL",
                     help="fetch the trust store from this desk service's key registry")
    src.add_argument("--trusted-key", action="append", default=None, metavar="B64",
                     help="trust this workstation public key (base64 of 32 bytes; repeatable)")
    v.add_argument("--token", default=os.environ.get("RC_DESK_TOKEN"),
                   help="access token for --desk (default: $RC_DESK_TOKEN)")
    v.add_argument("--ca", help="CA bundle for the desk service's TLS certificate")
    v.add_argument("--save-trust", metavar="FILE",
                   help="with --desk: pin the fetched trust store to FILE (for --trust later)")
    v.add_argument("--json", action="store_true", help="print the result as JSON")
    o = sub.add_parser("open", help="decrypt a sealed package (the access is logged)")
    o.add_argument("package", help="sealed package file")
    o.add_argument("--key", required=True, help="archive private key file")
    o.add_argument("--out", default=".", help="folder to open it into (default: current)")
    o.add_argument("--desk", help="desk service URL: log the access there first")
    o.add_argument("--token", default=os.environ.get("RC_DESK_TOKEN"),
                   help="access token for --desk (default: $RC_DESK_TOKEN)")
    o.add_argument("--package-id", help="package id at the service (default: looked up)")
    o.add_argument("--reason", default="review", help="why it is opened (logged)")
    o.add_argument("--ca", help="CA bundle for the desk service's TLS certificate")
    o.add_argument("--trust", metavar="FILE",
                   help="trust store to verify the opened package against (default: the key "
                        "registry of --desk)")
    k = sub.add_parser("key", help="show this workstation's signing key (to enrol it)")
    k.add_argument("--public", action="store_true",
                   help="print the public key (base64 of the 32 raw Ed25519 bytes)")
    k.add_argument("--json", action="store_true",
                   help="print the enrolment body of POST /api/v1/workstation-keys")
    k.add_argument("--workstation", metavar="NAME",
                   help="workstation name for the enrolment (default: the host name)")
    k.add_argument("--data-dir", metavar="DIR",
                   help="the console's data folder (default: from the settings)")
    a = sub.add_parser("archive-key",
                       help="show the pinned archive key, pin it, or re-pin it after a rotation")
    a.add_argument("--desk", metavar="URL",
                   help="fetch the archive key from this desk service and compare it with the pin")
    a.add_argument("--repin", action="store_true",
                   help="with --desk: replace the pin with the key the service offers now")
    a.add_argument("--ca", help="CA bundle for the desk service's TLS certificate")
    a.add_argument("--data-dir", metavar="DIR",
                   help="the console's data folder (default: from the settings)")


def run(args: argparse.Namespace) -> int:
    try:
        if args.evidence_command == "verify":
            return _verify(args)
        if args.evidence_command == "open":
            return _open(args)
        if args.evidence_command == "key":
            return _key(args)
        if args.evidence_command == "archive-key":
            return _archive_key(args)
    except ConsoleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return EXIT_ERROR
    print("usage: recognition-console evidence {verify,open,key,archive-key} ...",
          file=sys.stderr)
    return EXIT_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="recognition-console evidence")
    add_arguments(parser)
    return run(parser.parse_args(argv))


def _desk_trust(url: str, token: str | None, ca: str | None,
                save: str | None = None) -> TrustStore:
    from console.evidence.trust import fetch_trust_store

    if not token:
        raise ConsoleError("--desk needs --token (or $RC_DESK_TOKEN)")
    store = fetch_trust_store(TokenApi(url, token, ca))
    print(f"trust store: {len(store.keys)} workstation key(s) from {store.source}",
          file=sys.stderr)
    if save:
        store.save(save)
        print(f"trust store pinned to {save}", file=sys.stderr)
    return store


def trust_from_args(args: argparse.Namespace) -> TrustStore | None:
    """The trust store named on the command line (``--trust``, ``--desk``, ``--trusted-key``);
    None when none was given (every package is then refused as signed by an unknown key)."""
    import base64
    import binascii

    from console.evidence.trust import TrustStore

    if getattr(args, "save_trust", None) and not args.desk:
        raise ConsoleError("--save-trust needs --desk (it pins the store fetched from there)")
    if args.trust:
        return TrustStore.load(args.trust)
    if args.desk:
        return _desk_trust(args.desk, args.token, args.ca, getattr(args, "save_trust", None))
    if getattr(args, "trusted_key", None):
        raws = []
        for text in args.trusted_key:
            try:
                raw = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raw = b""
            if len(raw) != 32:
                raise ConsoleError("--trusted-key: not the base64 of a 32-byte Ed25519 key")
            raws.append(raw)
        return TrustStore.of_keys(raws, workstation="command-line",
                                  source="the keys given with --trusted-key")
    return None


def _verify(args: argparse.Namespace) -> int:
    from console.evidence.verify import verify

    trust = trust_from_args(args)
    result = verify(args.path, key_file=args.key, trust=trust)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    elif result.ok:
        print(f"OK: package {result.package_id} ({result.files_checked} files): hashes, audit "
              f"chain and signature hold; signed by workstation {result.workstation} "
              f"(key {result.key_id})" + (" [partial package]" if result.partial else ""))
    else:
        print(f"FAILED: {args.path}: {len(result.problems)} problem(s)")
        for p in result.problems:
            print(f"  {p}")
    return EXIT_OK if result.ok else EXIT_PROBLEMS


class TokenApi:
    """Minimal bearer-token client of the desk service (same ``call`` shape as DeskClient)."""

    def __init__(self, base_url: str, token: str, ca: str | None = None) -> None:
        from console.urls import require_secure_url

        url = base_url.rstrip("/")
        require_secure_url(url)  # plain http only to loopback
        self.api = url if url.endswith("/api/v1") else url + "/api/v1"
        self.http = requests.Session()
        if token:  # GET /archive-key needs none
            self.http.headers["Authorization"] = f"Bearer {token}"
        self.verify: bool | str = ca or True

    def call(self, method: str, path: str, *, json: Any = None,
             params: Mapping[str, str] | None = None, data: bytes | None = None,
             expected: tuple[int, ...] = (200, 201, 204),
             timeout: float | tuple[float, float] | None = None) -> tuple[int, Any]:
        try:
            r = self.http.request(method, self.api + path, json=json, params=params, data=data,
                                  timeout=timeout or (5, 30), verify=self.verify)
        except requests.RequestException as exc:
            raise ServerUnreachable(f"desk service unreachable ({type(exc).__name__})") from None
        if r.status_code not in expected:
            raise _error(r)
        try:
            return r.status_code, (r.json() if r.content else None)
        except ValueError:
            raise ProtocolError("the desk service answered something that is not JSON") from None


def _error(r: requests.Response) -> DeskError:
    """The same error classes as console.client.DeskClient, by status."""
    body: Any = None
    try:
        body = r.json()
        code = body.get("error") if isinstance(body, dict) else None
    except ValueError:
        code = None
    text = f"HTTP {r.status_code} {code or ''}".strip()
    status = r.status_code
    if status == 401:
        return NotAuthenticated(text, code=code, status=status)
    if status == 403:
        return Forbidden(text, code=code, status=status)
    if status == 404:
        return NotFound(text, code=code, status=status)
    if status == 409:
        return Conflict(text, code=code, status=status)
    if status in (400, 413, 422):
        return ValidationError(text, code=code, status=status)
    if status == 429:
        return RateLimited(text, code=code, status=status)
    if status == 507:
        retry = body.get("retry_after") if isinstance(body, dict) else None
        return InsufficientStorage(
            text, code=code if code in ("insufficient_storage", "read_only_storage") else None,
            retry_after=float(retry) if isinstance(retry, int) else None, status=status)
    return ServerError(text, code=code, status=status)


def find_service_package_id(api: Any, header: Mapping[str, Any], sha256: str) -> str:
    """The service's id for a sealed file: match by request and SHA-256, else the local id."""
    rid = header.get("request_id")
    if rid:
        try:
            _, data = api.call("GET", "/evidence", params={"request_id": str(rid)})
            for pkg in (data or {}).get("packages", []):
                if isinstance(pkg, Mapping) and pkg.get("sha256") == sha256:
                    return str(pkg.get("package_id") or pkg.get("id"))
        except DeskError as exc:
            log.info("package lookup at the service failed (%s)", exc.code)
    return str(header.get("package_id"))


def _open(args: argparse.Namespace) -> int:
    from console.evidence.keys import load_archive_private_key
    from console.evidence.seal import open_sealed, sealed_header
    from console.evidence.trust import TrustStore
    from console.evidence.verify import verify

    sealed = Path(args.package)
    header = sealed_header(sealed)
    key = load_archive_private_key(args.key)  # fail on a bad key before logging anything
    trust: TrustStore | None = TrustStore.load(args.trust) if args.trust else None
    if args.desk:
        if not args.token:
            print("error: --desk needs --token (or $RC_DESK_TOKEN)", file=sys.stderr)
            return EXIT_ERROR
        if trust is None:  # before logging: a registry that cannot be read opens nothing
            trust = _desk_trust(args.desk, args.token, args.ca)
        api = TokenApi(args.desk, args.token, args.ca)
        h = hashlib.sha256()
        with open(sealed, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
        pid = args.package_id or find_service_package_id(api, header, h.hexdigest())
        api.call("POST", f"/evidence/{pid}/access",
                 json={"action": "open", "reason": args.reason})
        print(f"access logged at the desk service for package {pid}")
    else:
        print("note: no --desk given: this access is not logged at the service", file=sys.stderr)
    folder = open_sealed(sealed, key, args.out)
    result = verify(folder, trust=trust)
    print(f"opened {folder}")
    if result.ok:
        print(f"verify: OK (signed by workstation {result.workstation})")
        return EXIT_OK
    print(f"verify: FAILED: {len(result.problems)} problem(s)")
    for p in result.problems:
        print(f"  {p}")
    return EXIT_PROBLEMS


def _key(args: argparse.Namespace) -> int:
    from console.evidence.keys import WorkstationKey

    if not args.public:
        print("error: only --public is available: the private key never leaves this "
              "workstation", file=sys.stderr)
        return EXIT_ERROR
    if args.data_dir:
        data_dir = Path(args.data_dir)
    else:
        from console.settings import load_settings

        data_dir = load_settings().settings.data_path
    key = WorkstationKey.load_or_create(data_dir)
    body = key.enrolment(args.workstation)
    if args.json:
        print(json.dumps(body, indent=2))
    else:
        print(body["public_key"])
        print(f"key id {body['key_id']} (workstation {body['workstation']}): an administrator "
              "enrols it with POST /api/v1/workstation-keys", file=sys.stderr)
    return EXIT_OK


def _archive_key(args: argparse.Namespace) -> int:
    """Show the pin; with ``--desk``: pin the service's key when none is pinned, say whether it
    is the pinned one, and with ``--repin`` replace the pin (an explicit decision)."""
    from console.evidence.keys import ArchivePublicKey
    from console.evidence.pin import ArchiveKeyChanged, check_pin, fingerprint, load_pin, repin

    if args.repin and not args.desk:
        raise ConsoleError("--repin needs --desk (it pins the key the service offers)")
    if args.data_dir:
        data_dir = Path(args.data_dir)
    else:
        from console.settings import load_settings

        data_dir = load_settings().settings.data_path
    if not args.desk:
        pin = load_pin(data_dir)
        if pin is None:
            print("no archive key pinned yet (the first upload pins it)")
        else:
            print(f"pinned archive key {pin.key_id} fingerprint {pin.fingerprint} "
                  f"(since {pin.pinned_at})")
        return EXIT_OK
    _, data = TokenApi(args.desk, "", args.ca).call("GET", "/archive-key", expected=(200,))
    key = ArchivePublicKey.from_json(data)
    if args.repin:
        pin = repin(data_dir, key)
        print(f"re-pinned archive key {pin.key_id} fingerprint {pin.fingerprint}")
        return EXIT_OK
    try:
        pin = check_pin(data_dir, key)
    except ArchiveKeyChanged as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"archive key {key.key_id} fingerprint {fingerprint(key)}: pinned "
          f"(since {pin.pinned_at})")
    return EXIT_OK
