"""`recognition-console replay PACKAGE`: the session player, and the anonymised export.

    recognition-console replay PACKAGE [--key ARCHIVE_KEY] [--author NAME]
    recognition-console replay PACKAGE --export-anonymised OUT.mkv [--start S] [--end S]

PACKAGE is an evidence package folder, its .tar archive, or a sealed package (with --key, the
reviewer's archive private key; with --desk and --token the access is logged at the desk service
before anything is decrypted, as `evidence open --desk` does). Annotations are saved beside
PACKAGE as ``<PACKAGE>.annotations.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("package", type=Path, help="package folder, .tar or sealed file")
    parser.add_argument("--key", type=Path, help="archive private key (sealed packages)")
    parser.add_argument("--author", default="", help="name recorded with your annotations")
    parser.add_argument("--seek", type=float, default=None, help="start at this second")
    parser.add_argument("--export-anonymised", type=Path, metavar="OUT",
                        help="write an anonymised clip (faces and document data blurred), exit")
    parser.add_argument("--start", type=float, default=0.0, help="export: clip start (s)")
    parser.add_argument("--end", type=float, default=None, help="export: clip end (s)")
    parser.add_argument("--stream", default="applicant_video",
                        choices=("applicant_video", "operator_video"),
                        help="export: which video stream")
    parser.add_argument("--desk", help="sealed package: log this access at the desk service")
    parser.add_argument("--token", default=os.environ.get("RC_DESK_TOKEN"),
                        help="bearer token for --desk (or $RC_DESK_TOKEN)")
    parser.add_argument("--reason", default="training",
                        help="reason recorded with the access (default: training)")
    parser.add_argument("--ca", help="CA bundle for --desk over TLS")
    parser.add_argument("--language", choices=("it", "en"), help="interface language")
    parser.add_argument("--log-level", default="INFO")


def log_access(args: argparse.Namespace, action: str) -> None:
    """Record the access to a sealed package at the desk service (raises ConsoleError)."""
    from console.evidence.cli import TokenApi, find_service_package_id
    from console.evidence.seal import sealed_header

    header = sealed_header(args.package)
    digest = hashlib.sha256()
    with open(args.package, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    api = TokenApi(args.desk, args.token, args.ca)
    pid = find_service_package_id(api, header, digest.hexdigest())
    api.call("POST", f"/evidence/{pid}/access", json={"action": action, "reason": args.reason})
    print(f"access logged at the desk service for package {pid}")


def run(args: argparse.Namespace) -> int:
    from console.errors import ConsoleError
    from console.evidence.seal import is_sealed
    from ui.player.source import SourceError, open_source

    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.package.is_file() and is_sealed(args.package):
        if args.desk:
            if not args.token:
                print("replay: --desk needs --token (or $RC_DESK_TOKEN)", file=sys.stderr)
                return 2
            try:
                log_access(args, "export_anonymised" if args.export_anonymised else "replay")
            except (ConsoleError, OSError) as exc:
                print(f"replay: the access could not be logged: {exc}", file=sys.stderr)
                return 2
        else:
            print("note: no --desk given: this access is not logged at the service",
                  file=sys.stderr)
    if args.export_anonymised is not None:
        from console.training.anonymise import AnonymiseError, export_anonymised

        try:
            source = open_source(args.package, args.key)
        except SourceError as exc:
            print(f"replay: {exc}", file=sys.stderr)
            return 2
        try:
            result = export_anonymised(source.recording, args.export_anonymised,
                                       start_s=args.start, end_s=args.end, stream=args.stream)
        except AnonymiseError as exc:
            print(f"replay: export failed: {exc}", file=sys.stderr)
            return 1
        finally:
            source.close()
        print(f"anonymised clip: {result.path} ({result.frames} frames, "
              f"{result.detections} face detections, {result.document_hits} document hits)")
        return 0

    from ui.app import create_qapp
    from ui.i18n import install_language
    from ui.player.window import open_player

    app = create_qapp()
    install_language(args.language or "it")
    window = open_player(str(args.package), str(args.key) if args.key else None, args.author)
    if window is None:
        return 2
    window.show()
    if args.seek is not None:
        window.seek(args.seek)
    import signal

    from PySide6.QtCore import QTimer

    signal.signal(signal.SIGINT, lambda *_: window.close())
    ticker = QTimer(window)  # lets Python run its signal handler while Qt waits
    ticker.start(250)
    ticker.timeout.connect(lambda: None)
    status = int(app.exec())
    window.shutdown()
    return status
