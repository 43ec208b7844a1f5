"""`recognition-console gui` (the default): the operator console application.

Shutdown order (STACK.md): close the peer connections, stop the media loop, wait for the
worker pool, then quit Qt — so the process exits with status 0 and no thread left.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from typing import Any

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", help="desk service URL (overrides the settings)")
    parser.add_argument("--user", help="user name to prefill")
    parser.add_argument("--language", choices=("it", "en"), help="interface language")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING…")
    parser.add_argument(
        "--quit-after-shown",
        action="store_true",
        help="exit as soon as the sign-in window is on screen (start-up benchmark)",
    )


def create_qapp(argv: list[str] | None = None) -> Any:
    """The QApplication (or the existing one), styled, with the console's identity."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from console import __version__
    from ui.resources import stylesheet

    app = QApplication.instance()
    if app is None:
        QCoreApplication.setOrganizationName("InfoCert")
        QCoreApplication.setApplicationName("recognition-console")
        QCoreApplication.setApplicationVersion(__version__)
        app = QApplication(argv or [sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    app.setStyleSheet(stylesheet())
    return app


def setup_logging(level: str = "INFO") -> None:
    from ui.logview import install_log_handler

    numeric = getattr(logging, str(level).upper(), logging.INFO)
    root = logging.getLogger()
    if not any(
        isinstance(h, logging.StreamHandler) and h.stream is sys.stderr for h in root.handlers
    ):
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(stream)
    root.setLevel(numeric)
    install_log_handler(numeric)


def run(args: argparse.Namespace) -> int:
    from console import children

    setup_logging(args.log_level)
    children.install_exit_handlers()  # SIGTERM/SIGHUP before the event loop: exit through atexit
    app = create_qapp()
    from console.settings_store import SettingsStore
    from ui.i18n import install_language
    from ui.shell import ConsoleShell

    settings = SettingsStore()
    install_language(args.language or settings.get("language") or "it")
    shell = ConsoleShell(settings)
    shell.show_sign_in(server=args.server, user=args.user)
    if not args.quit_after_shown:
        shell.warm_up()
    if args.quit_after_shown:
        from PySide6.QtCore import QTimer

        def shown() -> None:
            # first event-loop turn after show(): the window is mapped and painted
            print(f"sign-in shown at {time.time():.6f}", flush=True)
            shell.quit()

        QTimer.singleShot(0, shown)
    status = exec_app(app, shell)
    report_threads()
    return status


def exec_app(app: Any, shell: Any) -> int:
    """Run the event loop; shut down in order; return the exit status.

    SIGINT (Ctrl+C), SIGTERM and SIGHUP quit cleanly: the shell shuts down, Qt leaves its loop
    and the caller's ``finally`` stops the child processes. A second one while that runs (Ctrl+C
    pressed twice) leaves at once: the child processes' guards (:mod:`console.children`) see the
    console gone and end them."""
    from PySide6.QtCore import QTimer

    from console import children

    def on_signal(signum: int, _frame: object) -> None:
        if children.stop_requested(signum):
            children.leave_now(signum)
        log.info("%s: shutting down", signal.Signals(signum).name)
        shell.quit()

    def quit_if_asked() -> None:
        # a signal before the loop ran (its SystemExit may have been swallowed by a Qt slot,
        # or quit() came before exec()): quit now that the loop runs
        if children.stop_pending():
            shell.quit()

    previous = {sig: signal.signal(sig, on_signal) for sig in children.STOP_SIGNALS}
    keepalive = QTimer()  # lets Python see the signal while Qt runs
    keepalive.start(250)
    keepalive.timeout.connect(lambda: None)
    QTimer.singleShot(0, quit_if_asked)
    try:
        status = int(app.exec())
    finally:
        keepalive.stop()
        try:
            shell.shutdown()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, signal.SIG_DFL if handler is None else handler)
    return status


def report_threads() -> None:
    """With RECOGNITION_CONSOLE_THREAD_REPORT set, print the threads still alive (tests)."""
    if os.environ.get("RECOGNITION_CONSOLE_THREAD_REPORT"):
        import threading

        alive = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
        print("threads alive at exit: " + (", ".join(alive) or "none"), file=sys.stderr)
