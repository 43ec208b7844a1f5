"""``recognition-console evidence verify|open``.

* ``evidence verify PATH [--key FILE] [--trusted-key B64]`` -- a package folder, its archive, or
  a sealed file (with the archive key). Exit 0 when hashes, audit chain and signature all hold;
  exit 1 naming each problem; exit 2 when the input cannot be read at all.
* ``evidence open SEALED --key FILE [--out DIR] [--desk URL --token T] [--reason TEXT]`` --
  decrypts for an authorised reviewer, verifies what it opened, and (with ``--desk``) logs the
  access at the desk service first (``POST /evidence/{id}/access``): if the service cannot log
  it, nothing is opened.
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
from typing import Any

import requests

from console.errors import (
    Conflict,
    ConsoleError,
    DeskError,
    Forbidden,
    NotAuthenticated,
    NotFound,
    ProtocolError,
    RateLimited,
    ServerError,
    ServerUnreachable,
    ValidationError,
)

log = logging.getLogger(__name__)

EXIT_OK, EXIT_PROBLEMS, EXIT_ERROR = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="evidence_command", metavar="ACTION")
    v = sub.add_parser("verify", help="re-check hashes, audit chain and signature")
    v.add_argument("path", help="package folder, .tar archive or sealed file")
    v.add_argument("--key", help="archive private key file (for a sealed file)")
    v.add_argument("--trusted-key", action="append", default=None, metavar="B64",
                   help="accept only manifests signed by this workstation key (repeatable)")
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


def run(args: argparse.Namespace) -> int:
    try:
        if args.evidence_command == "verify":
            return _verify(args)
        if args.evidence_command == "open":
            return _open(args)
    except ConsoleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return EXIT_ERROR
    print("usage: recognition-console evidence {verify,open} ...", file=sys.stderr)
    return EXIT_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="recognition-console evidence")
    add_arguments(parser)
    return run(parser.parse_args(argv))


def _verify(args: argparse.Namespace) -> int:
    from console.evidence.verify import verify

    trusted = set(args.trusted_key) if args.trusted_key else None
    result = verify(args.path, key_file=args.key, trusted_keys=trusted)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    elif result.ok:
        print(f"OK: package {result.package_id} ({result.files_checked} files): hashes, audit "
              f"chain and signature hold" + (" [partial package]" if result.partial else ""))
    else:
        print(f"FAILED: {args.path}: {len(result.problems)} problem(s)")
        for p in result.problems:
            print(f"  {p}")
    return EXIT_OK if result.ok else EXIT_PROBLEMS


class TokenApi:
    """Minimal bearer-token client of the desk service (same ``call`` shape as DeskClient)."""

    def __init__(self, base_url: str, token: str, ca: str | None = None) -> None:
        url = base_url.rstrip("/")
        self.api = url if url.endswith("/api/v1") else url + "/api/v1"
        self.http = requests.Session()
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
    from console.evidence.verify import verify

    sealed = Path(args.package)
    header = sealed_header(sealed)
    key = load_archive_private_key(args.key)  # fail on a bad key before logging anything
    if args.desk:
        if not args.token:
            print("error: --desk needs --token (or $RC_DESK_TOKEN)", file=sys.stderr)
            return EXIT_ERROR
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
    result = verify(folder)
    print(f"opened {folder}")
    if result.ok:
        print("verify: OK")
        return EXIT_OK
    for p in result.problems:
        print(f"  {p}")
    return EXIT_PROBLEMS
