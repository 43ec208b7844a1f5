"""pcscd with the vsmartcard vpcd driver, for the tests and the in-person demo (no Qt, no pytest).

:func:`ensure_pcscd` makes sure pcscd answers with the two vpcd readers: it reuses a running
daemon, or starts ``pcscd --foreground --auto-exit`` itself when it may (root: CI, the demo
machine), and otherwise raises :class:`PcscdUnavailable` with a sentence saying how to start it.
Several users on one machine (test runs, a demo) share the one daemon: each holds a shared lock
while it uses it; who starts it does so under an exclusive lock and, at :meth:`PcscdUse.close`,
stops it only when nobody else holds the shared lock (``--auto-exit`` ends it otherwise).
pcscd started here runs under a :mod:`console.children` guard: should this process end without
:meth:`PcscdUse.close` (SIGKILL, a crash), the guard ends pcscd once nobody holds the shared lock.

:class:`VpcdSlotLock` is the cross-process lock on a vpcd slot (its TCP port is fixed, so two
emulators for one slot take turns); :func:`wait_card` waits until pcscd sees a card come or go.
"""

from __future__ import annotations

import fcntl
import glob
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import IO, Any

from console import children

log = logging.getLogger(__name__)

VPCD_DRIVER_GLOBS = (
    "/usr/lib/pcsc/drivers/serial/libifdvpcd.so*",
    "/usr/lib*/pcsc/drivers/*/libifdvpcd.so*",
)
VPCD_READERS = ("Virtual PCD 00 00", "Virtual PCD 00 01")
LOCK_DIR = Path(os.environ.get("TMPDIR", "/tmp"))
USERS_LOCK = "recognition-console-pcscd-users.lock"
HOW_TO_START = (
    "start it as root with `sudo pcscd` (or `sudo systemctl start pcscd`); the vpcd driver "
    "comes with the Debian package vsmartcard-vpcd"
)


class PcscdUnavailable(RuntimeError):
    """pcscd with the vpcd readers cannot be had; the message says why and what to do."""


def find_pcscd() -> str | None:
    return shutil.which("pcscd") or next(
        (p for p in ("/usr/sbin/pcscd", "/sbin/pcscd") if os.access(p, os.X_OK)), None
    )


def vpcd_installed() -> bool:
    return any(glob.glob(g) for g in VPCD_DRIVER_GLOBS)


def readers() -> list[str] | None:
    """Readers pcscd reports, or None when pcscd is not answering."""
    from cardreader.errors import CardError, CardErrorCode
    from cardreader.pcsc import PcscContext

    try:
        with PcscContext() as ctx:
            return ctx.readers()
    except CardError as exc:
        if exc.code == CardErrorCode.NO_SERVICE:
            return None
        raise


def wait_readers(timeout: float, wanted: tuple[str, ...] = VPCD_READERS) -> list[str] | None:
    """Poll until pcscd lists every reader in ``wanted``; returns what it lists at the end."""
    deadline = time.monotonic() + timeout
    found = readers()
    while time.monotonic() < deadline:
        if found is not None and all(r in found for r in wanted):
            return found
        time.sleep(0.1)
        found = readers()
    return found


def _flock(path: Path, mode: int) -> int:
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o666)
    fcntl.flock(fd, mode)
    return fd


def _unlock(fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    except OSError:
        pass


class PcscdUse:
    """This process's use of pcscd (from :func:`ensure_pcscd`); ``close()`` when done."""

    def __init__(
        self,
        users_fd: int,
        proc: subprocess.Popen[bytes] | None,
        log_file: IO[bytes] | None,
        reader_names: tuple[str, ...],
    ) -> None:
        from cardreader.pcsc import PcscContext

        self.readers = reader_names
        self.started = proc is not None
        self._users = users_fd
        self._proc = proc
        self._log_file = log_file
        # a context held all along, so --auto-exit never fires while this process uses pcscd
        self._keeper: Any = PcscContext()

    def close(self) -> None:
        if self._keeper is None:
            return
        self._keeper.close()
        self._keeper = None
        fcntl.flock(self._users, fcntl.LOCK_UN)
        alone = True
        try:
            fcntl.flock(self._users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            alone = False  # another user still needs pcscd: --auto-exit will end it
        _unlock(self._users)
        if self._proc is not None and alone:
            children.stop(self._proc)
        if self._log_file is not None:
            self._log_file.close()
            if alone:
                Path(self._log_file.name).unlink(missing_ok=True)

    def __enter__(self) -> PcscdUse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ensure_pcscd(start_timeout: float = 10.0) -> PcscdUse:
    """pcscd running with the vpcd readers (started here if needed and allowed).

    Raises :class:`PcscdUnavailable` (a one-line reason and how to fix it) when pyscard, pcscd or
    the vpcd driver is missing, when pcscd is not running and cannot be started, or when the
    vpcd readers do not appear."""
    try:
        import smartcard  # noqa: F401 - presence check
    except ImportError:
        raise PcscdUnavailable(
            "pyscard is not installed (it needs swig and libpcsclite-dev to build)"
        ) from None
    pcscd = find_pcscd()
    if pcscd is None:
        raise PcscdUnavailable(
            "pcscd is not installed (Debian package pcscd; scripts/setup.sh installs it)"
        )
    if not vpcd_installed():
        raise PcscdUnavailable(
            "the vpcd driver is not installed (Debian package vsmartcard-vpcd)"
        )
    proc: subprocess.Popen[bytes] | None = None
    log_file: IO[bytes] | None = None
    users_path = LOCK_DIR / USERS_LOCK
    users = _flock(users_path, fcntl.LOCK_SH)
    starting = _flock(LOCK_DIR / "recognition-console-pcscd-start.lock", fcntl.LOCK_EX)
    try:
        found = readers()
        if found is None:
            if os.geteuid() != 0:
                raise PcscdUnavailable(f"pcscd is not running: {HOW_TO_START}")
            log_path = LOCK_DIR / f"pcscd-recognition-{os.getpid()}.log"
            log_file = open(log_path, "wb")  # noqa: SIM115 - closed by PcscdUse.close
            # guarded: should this process die, pcscd is ended once nobody else holds the
            # users' lock (and --auto-exit ends an idle one anyway)
            proc = children.spawn(
                [pcscd, "--foreground", "--auto-exit"],
                name="pcscd",
                shared_lock=users_path,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
            log.info("started pcscd (pid %d)", proc.pid)
            found = wait_readers(start_timeout)
            if proc.poll() is not None:
                log_file.close()
                tail = log_path.read_text(errors="replace")[-400:].strip()
                log_path.unlink(missing_ok=True)
                raise PcscdUnavailable(
                    f"pcscd could not be started (exit {proc.returncode}): {tail}"
                )
        else:
            found = wait_readers(5.0)
        if found is None or not all(r in found for r in VPCD_READERS):
            raise PcscdUnavailable(
                f"pcscd runs but the vpcd readers did not appear (readers: {found}); "
                "is vsmartcard-vpcd installed and pcscd restarted since?"
            )
        return PcscdUse(users, proc, log_file, VPCD_READERS)
    except BaseException:
        if proc is not None and proc.poll() is None:
            children.stop(proc)
        if log_file is not None and not log_file.closed:
            log_file.close()
            Path(log_file.name).unlink(missing_ok=True)
        _unlock(users)
        raise
    finally:
        _unlock(starting)


class VpcdSlotLock:
    """Cross-process lock on one vpcd slot (emulators on one slot take turns)."""

    def __init__(self, slot: int) -> None:
        self.slot = slot
        self.path = LOCK_DIR / f"recognition-console-vpcd-slot{slot}.lock"
        self.fd: int | None = None

    def acquire(self, timeout: float = 120.0) -> None:
        """Raises TimeoutError when another process keeps the slot longer than ``timeout``."""
        self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o666)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(self.fd)
                    self.fd = None
                    raise TimeoutError(
                        f"vpcd slot {self.slot} is in use by another process ({self.path})"
                    ) from None
                time.sleep(0.1)

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def wait_card(reader: str, present: bool, timeout: float = 5.0) -> bytes:
    """Wait until pcscd sees a card in ``reader`` (or none); returns the ATR when present."""
    from smartcard import scard

    from cardreader.pcsc import PcscContext

    deadline = time.monotonic() + timeout
    with PcscContext() as ctx:
        while True:
            state, atr = ctx.states([reader]).get(reader, (0, b""))
            if bool(state & scard.SCARD_STATE_PRESENT) == present:
                return bytes(atr)
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{reader}: card {'not ' if present else 'still '}present")
            time.sleep(0.02)
