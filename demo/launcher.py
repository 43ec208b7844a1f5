"""`recognition-console demo`: a local desk service, a demo applicant, the console signed in.

- the desk service runs as a subprocess (``server.cli serve --port 0 --demo``) on SQLite in a
  temporary folder, seeded with the demo operators and requests (``seed --json``);
- the applicant is the synthetic aiortc peer (``demo.applicant``) joining with the seeded join
  token of the PROTOCOL.md demo identity, or ``--applicant chromium``: headless Chromium running
  the real applicant page with a camera drawing the same scene live on a canvas that answers the
  liveness challenges (demo.canvas_camera; ``--camera-size WxH``), or with ``--camera-clip
  FILE.y4m`` Chromium's fake camera playing FILE;
- the console opens signed in as ``operatore1`` (TOTP computed from the seeded secret).

``--autopilot --report FILE`` then runs the whole SPID session unattended (demo.autopilot).
``--in-person`` runs the partner's in-person check instead (demo.inperson): pcscd + vpcd with
the virtual CNS, the synthetic camera, signed in as ``partner1``; ``--autopilot`` works there too.
These peers are demo/test programs on the real protocol; nothing here is used outside the demo.

Every process started here goes through :mod:`console.children`: it ends with the console,
however the console ends (a normal exit, Ctrl+C, SIGTERM, SIGKILL, a crash).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import logging
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from console import children, programs

log = logging.getLogger(__name__)

DEMO_OPERATOR = "operatore1"
DEMO_PASSWORD = "Demo-Operatore-2026!"  # noqa: S105 - the published demo credential
DEMO_CODICE_FISCALE = "RSSMRA85D52H501P"
START_TIMEOUT_S = 30.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--autopilot", action="store_true",
                        help="run the whole SPID session unattended, then exit")
    parser.add_argument("--report", type=Path, help="autopilot: write the JSON report here")
    parser.add_argument("--applicant", choices=("synthetic", "chromium"), default="synthetic",
                        help="who plays the applicant (default: the synthetic aiortc peer)")
    parser.add_argument("--camera-clip", type=Path, metavar="FILE.y4m",
                        help="--applicant chromium: Chromium's fake camera plays this clip "
                             "(default: a canvas drawing the synthetic scene live)")
    parser.add_argument("--camera-size", default="1280x720", metavar="WxH",
                        help="--applicant chromium: the camera's size (default 1280x720)")
    parser.add_argument("--operator-camera", metavar="DEVICE",
                        help="the console's own camera: a device (/dev/video0) or 'synthetic' "
                             "(a moving test picture, media.local.SYNTHETIC_CAMERA; "
                             "'synthetic:640x360@15' fixes its mode); default: the settings' "
                             "(auto: the first camera, else a placeholder card)")
    parser.add_argument("--language", choices=("it", "en"), help="interface language")
    parser.add_argument("--timeout", type=float, default=240.0,
                        help="autopilot: give up after this many seconds")
    parser.add_argument("--hold", type=float, default=0.0,
                        help="autopilot: stay this many seconds in the call before the script "
                             "and report the console's CPU use (benchmark)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--desk", metavar="URL",
                        help="use this running demo-mode desk service (several instances "
                             "behind a proxy, say) instead of starting one; needs --seed-json")
    parser.add_argument("--seed-json", type=Path, metavar="FILE",
                        help="with --desk: the service's `seed --json` (accounts, join links)")
    parser.add_argument("--role", choices=("operator", "partner", "trainer", "supervisor"),
                        default="operator",
                        help="whose workspace the demo signs in to (default operator; "
                             "--in-person is --role partner)")
    parser.add_argument("--in-person", action="store_true",
                        help="the partner's in-person check (virtual CNS in pcscd + vpcd, "
                             "synthetic camera) instead of the video session")
    parser.add_argument("--card-slot", type=int, choices=(0, 1), default=0,
                        help="--in-person: the vpcd slot for the virtual card (default 0)")
    parser.add_argument("--log-level", default="INFO")


def _pump(stream: IO[str], sink: queue.Queue[str], name: str, echo: bool) -> None:
    for line in stream:
        sink.put(line.rstrip("\n"))
        if echo:
            sys.stderr.write(f"[{name}] {line}")
    sink.put("")


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def spawn(cls, name: str, argv: list[str], env: dict[str, str] | None = None,
              echo_stderr: bool = False) -> Child:
        proc = children.spawn(argv, name=name, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env)
        child = cls(name, proc)
        assert proc.stdout is not None and proc.stderr is not None
        for stream, echo in ((proc.stdout, False), (proc.stderr, echo_stderr)):
            t = threading.Thread(target=_pump, args=(stream, child.lines, name, echo),
                                 name=f"{name}-output", daemon=True)
            t.start()
            child.threads.append(t)
        return child

    def wait_line(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if line.startswith(prefix):
                return line
        raise RuntimeError(f"{self.name} did not print {prefix!r} (exit {self.proc.poll()})")

    def tail(self, n: int) -> list[str]:
        """The last ``n`` lines it printed that nobody read (they are used up)."""
        last: deque[str] = deque(maxlen=n)
        with contextlib.suppress(queue.Empty):
            while True:
                line = self.lines.get_nowait()
                if line:
                    last.append(line)
        return list(last)

    def stop(self) -> None:
        children.stop(self.proc)  # SIGTERM to its tree, a grace, then SIGKILL
        for t in self.threads:
            t.join(2)


class DemoEnvironment:
    """The desk service and the applicant, in a temporary folder; ``close()`` ends them."""

    def __init__(self, applicant: str = "synthetic", keep: bool = False,
                 desk: str | None = None, seed_json: Path | None = None,
                 camera_clip: Path | None = None, camera_size: str = "1280x720") -> None:
        self.applicant_kind = applicant
        #: --applicant chromium: a clip for the fake camera (else the live canvas) and its size
        self.camera_clip = camera_clip
        self.camera_size = camera_size
        #: a running demo-mode desk service to use instead of starting one (``--desk``)
        self.external = (desk.rstrip("/"), seed_json) if desk and seed_json else None
        self.keep = keep
        self.folder = Path(tempfile.mkdtemp(prefix="recognition-demo-"))
        self.children: list[Child] = []
        self.url = ""
        self.seed: dict[str, Any] = {}
        self.echo = bool(os.environ.get("RECOGNITION_DEMO_VERBOSE"))
        # also at interpreter exit: a stop signal's SystemExit inside a Qt slot ends Python
        # without unwinding to the caller's `finally`
        atexit.register(self.close)

    # --- desk ---------------------------------------------------------------------------------
    def start_desk(self) -> str:
        if self.external is not None:
            self.url, seed_path = self.external
            self.seed = json.loads(Path(seed_path).read_text(encoding="utf-8"))
            log.info("demo desk service (running) at %s", self.url)
            return self.url
        data = self.folder / "desk"
        data.mkdir()
        seeded = children.run(
            programs.argv("desk", "--log-level", "WARNING", "seed", "--data-dir", str(data),
                          "--json"),
            name="desk-seed", text=True, timeout=120,
        )
        if seeded.returncode != 0:
            raise RuntimeError("desk seed failed: " + seeded.stderr.strip()[-400:])
        self.seed = json.loads(seeded.stdout.strip().splitlines()[-1])
        desk = Child.spawn(
            "desk",
            programs.argv("desk", "--log-level", "WARNING", "serve", "--data-dir", str(data),
                          "--port", "0", "--demo"),
            echo_stderr=self.echo,
        )
        self.children.append(desk)
        line = desk.wait_line("listening on ", START_TIMEOUT_S)
        self.url = line.split("listening on ", 1)[1].strip().rstrip("/")
        log.info("demo desk service at %s", self.url)
        return self.url

    def operator(self, username: str = DEMO_OPERATOR) -> dict[str, Any]:
        for op in self.seed.get("operators", []):
            if op.get("username") == username:
                return dict(op)
        raise RuntimeError(f"seed has no operator {username}")

    def demo_request(self) -> dict[str, Any]:
        for req in self.seed.get("requests", []):
            if req.get("applicant", {}).get("codice_fiscale") == DEMO_CODICE_FISCALE:
                return dict(req)
        raise RuntimeError("seed has no demo request")

    def totp_now(self, username: str = DEMO_OPERATOR) -> str:
        import pyotp

        return str(pyotp.TOTP(self.operator(username)["totp_secret"]).now())

    # --- applicant ----------------------------------------------------------------------------
    def start_applicant(self) -> None:
        token = str(self.demo_request()["join_token"])
        if self.applicant_kind == "chromium":
            self._start_chromium(token)
        else:
            child = Child.spawn(
                "applicant",
                programs.argv("applicant", "--desk", self.url, "--join-token", token),
                echo_stderr=self.echo,
            )
            self.children.append(child)

    def _start_chromium(self, token: str) -> None:
        browser = shutil.which("chromium") or "/usr/bin/chromium"
        profile = self.folder / "chromium-profile"
        profile.mkdir()
        join_path = str(self.demo_request().get("join_path") or f"/join/{token}")
        mobile = str(self.demo_request().get("applicant", {}).get("mobile") or "")
        if self.camera_clip is not None:
            camera = ["--y4m", str(Path(self.camera_clip).resolve())]
        else:  # pictures pre-rendered by the driver, next to the run
            camera = ["--canvas-camera", str(self.folder / "canvas-camera"),
                      "--camera-size", self.camera_size]
        argv = programs.argv("browser", "--url", self.url + join_path, *camera,
                             "--desk", self.url, "--chromium", browser,
                             "--profile", str(profile))
        if mobile:
            argv += ["--mobile", mobile]
        self.browser = Child.spawn("chromium", argv, echo_stderr=self.echo)
        self.children.append(self.browser)

    def heard(self) -> str | None:
        """What the Chromium applicant "said" (its driver reads the demo SMS outbox)."""
        child = getattr(self, "browser", None)
        if child is None:
            return None
        latest = None
        while True:
            try:
                line = child.lines.get_nowait()
            except queue.Empty:
                break
            if line.startswith("utterance "):
                latest = line.split(" ", 1)[1]
        if latest is not None:
            self._heard = latest
        return getattr(self, "_heard", None)

    def log_children(self, lines: int = 8) -> None:
        """After a failure: what each child printed last, and whether it still runs (their
        output is not echoed unless RECOGNITION_DEMO_VERBOSE is set; no child logs personal
        data or tokens)."""
        for child in self.children:
            tail = child.tail(lines)
            log.warning("%s (%s): %s", child.name,
                        "running" if child.proc.poll() is None else f"exit {child.proc.poll()}",
                        "".join(f"\n  | {line}" for line in tail) or "no output")

    def close(self) -> None:
        for child in reversed(self.children):
            with contextlib.suppress(Exception):
                child.stop()
        self.children.clear()
        if not self.keep:
            shutil.rmtree(self.folder, ignore_errors=True)


def write_scene_y4m(path: Path, size: str = "1280x720") -> Path:
    """The synthetic applicant's scene as a .y4m for Chromium's fake camera (``--camera-clip``)."""
    from demo.applicant.scene import write_y4m
    from demo.canvas_camera import parse_size

    width, height = parse_size(size)
    return Path(write_y4m(path, width, height))


def _sign_in_form(env: DemoEnvironment, username: str, args: argparse.Namespace) -> Any:
    """The console's shell with the sign-in window filled in for ``username`` (a seeded demo
    account): the demo signs in through the same window a person uses."""
    from console.settings_store import SettingsStore
    from ui.i18n import install_language
    from ui.shell import ConsoleShell

    settings = SettingsStore()
    language = args.language or ("en" if args.autopilot else "it")
    install_language(language)
    settings.update(server_url=env.url, last_user=username, language=language)
    if getattr(args, "operator_camera", None):
        settings.update(camera=args.operator_camera)
    shell = ConsoleShell(settings)
    shell.show_sign_in(server=env.url, user=username)
    shell.sign_in.password.setText(DEMO_PASSWORD)
    shell.sign_in.totp.setText(env.totp_now(username))
    return shell


def _run_signed_in_as(role: str, args: argparse.Namespace, env: DemoEnvironment,
                      app: Any) -> int:
    """The demo for a role without an applicant: the desk service, then the sign-in window
    filled with that role's seeded account; the shell opens the role's workspace
    (console.workspaces). ``--autopilot`` signs in, checks the window and reports."""
    from console.workspaces import DEMO_ACCOUNTS
    from ui.app import exec_app

    username = DEMO_ACCOUNTS[role]
    try:
        env.start_desk()
    except Exception as exc:
        log.error("demo could not start: %s", exc)
        print(f"recognition-console demo: {exc}", file=sys.stderr)
        return 1
    shell = _sign_in_form(env, username, args)
    if not args.autopilot:
        shell.sign_in.sign_in_button.click()
        return exec_app(app, shell)
    from demo.autopilot import WorkspaceAutopilot

    pilot = WorkspaceAutopilot(shell, role, args.report, timeout_s=args.timeout)
    pilot.start()
    exec_app(app, shell)
    return pilot.exit_status


def run(args: argparse.Namespace) -> int:
    from ui.app import create_qapp, exec_app, report_threads, setup_logging

    setup_logging(args.log_level)
    children.install_exit_handlers()  # SIGTERM/SIGHUP unwind through the `finally` below
    if args.autopilot and args.report is None:
        print("recognition-console demo: --autopilot needs --report FILE", file=sys.stderr)
        return 2
    if bool(getattr(args, "desk", None)) != bool(getattr(args, "seed_json", None)):
        print("recognition-console demo: --desk and --seed-json go together", file=sys.stderr)
        return 2
    camera_size = getattr(args, "camera_size", "1280x720")
    if getattr(args, "applicant", "synthetic") == "chromium":
        try:
            from demo.canvas_camera import parse_size

            parse_size(camera_size)
        except ValueError as exc:
            print(f"recognition-console demo: --camera-size: {exc}", file=sys.stderr)
            return 2
    camera_clip = getattr(args, "camera_clip", None)
    if camera_clip is not None and not Path(camera_clip).is_file():
        print(f"recognition-console demo: --camera-clip {camera_clip}: no such file",
              file=sys.stderr)
        return 2
    env = DemoEnvironment(args.applicant, keep=args.keep, desk=getattr(args, "desk", None),
                          seed_json=getattr(args, "seed_json", None),
                          camera_clip=camera_clip, camera_size=camera_size)
    # the demo keeps its console settings and data inside its temporary folder
    os.environ["RECOGNITION_CONSOLE_CONFIG_DIR"] = str(env.folder / "console-config")
    os.environ["RECOGNITION_CONSOLE_DATA_DIR"] = str(env.folder / "console-data")
    app = create_qapp()
    role = "partner" if getattr(args, "in_person", False) else getattr(args, "role", "operator")
    try:
        if role == "partner":
            from demo.inperson import run_in_person

            return run_in_person(args, env, app)
        if role in ("trainer", "supervisor"):
            return _run_signed_in_as(role, args, env, app)
        try:
            env.start_desk()
            env.start_applicant()
        except Exception as exc:
            log.error("demo could not start: %s", exc)
            print(f"recognition-console demo: {exc}", file=sys.stderr)
            return 1
        shell = _sign_in_form(env, DEMO_OPERATOR, args)
        if args.autopilot:
            from demo.autopilot import Autopilot

            pilot = Autopilot(shell, env, args.report, timeout_s=args.timeout + args.hold,
                              hold_s=args.hold)
            pilot.start()
            exec_app(app, shell)
            return pilot.exit_status
        shell.sign_in.sign_in_button.click()  # opens already signed in
        return exec_app(app, shell)
    finally:
        env.close()
        report_threads()
