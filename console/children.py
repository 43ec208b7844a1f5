"""Child processes that die with the console, however it ends (no Qt here).

Everything the console or the demo starts (the desk service, the synthetic applicant, the
Chromium driver, the training peer, pcscd) goes through :func:`spawn`. The program does not run
as the console's direct child but under a tiny **guard** (this file run as a script:
``python -I console/children.py --parent-fd N -- PROGRAM ARGS``; in a frozen build, which has no
interpreter, the app's internal program ``guard``: :mod:`console.programs`), in a session and
process group of its own, so a Ctrl+C in the terminal reaches the console alone and the console
decides.

The guard
    - holds the read end of a pipe whose write end only the console holds (close-on-exec, never
      inherited by anything the console starts): when the console ends in any way — a normal
      exit, SIGTERM, SIGINT, SIGKILL, a crash, the X connection lost — the kernel closes the
      write end and the guard reads EOF;
    - is a child subreaper (``PR_SET_CHILD_SUBREAPER``): what its program starts and leaves
      behind (Playwright's Chromium runs in a process group of its own, its zygotes) is
      re-parented to the guard, so the whole tree stays within reach;
    - on EOF, SIGTERM, SIGINT or SIGHUP, ends the tree: SIGTERM to the program, up to ``grace``
      seconds for it to end, SIGTERM to whatever is left under the guard, one more second, then
      SIGKILL; it also sweeps the tree when the program ends on its own; it exits with the
      program's status (128 + N when a signal N ended it);
    - starts its program with ``PR_SET_PDEATHSIG`` (SIGTERM), set between fork and exec. That is
      safe here because the guard is single-threaded (running Python between fork and exec in
      a *threaded* process — the console, pytest — can deadlock: never do it there). Should the
      guard itself be killed, its program still gets SIGTERM.

A program that many processes share (pcscd) is spawned with ``shared_lock``: the file every
user holds a shared ``flock`` on. When the console is gone the guard waits until nobody holds
it any more (an exclusive lock succeeds), then ends the program while it holds that lock.

In the console, :func:`spawn` returns the guard's ``subprocess.Popen``: ``terminate()`` ends the
tree, ``poll()``/``wait()`` see the program's status, stdin/stdout/stderr are the program's.
:func:`stop` ends one child (terminate, wait, and kill the guard's group as a last resort);
:func:`stop_all` ends every child still running, and runs at interpreter exit (``atexit``).
:func:`install_exit_handlers` turns SIGTERM and SIGHUP into ``SystemExit`` so that ``finally``
blocks and ``atexit`` run, and a second stop signal into an immediate exit (Qt's event loop has
its own handlers, sharing :func:`stop_requested`: ``ui.app.exec_app``).
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)

GRACE_S = 5.0  #: how long the guard waits for its program to end on SIGTERM before killing it
SWEEP_S = 1.0  #: how long leftovers of the tree get after their SIGTERM, before SIGKILL
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
GUARD_SCRIPT = Path(__file__).resolve()
_RESERVED = ("start_new_session", "process_group", "preexec_fn", "pass_fds")
#: what asks the console to stop (SIGHUP: its terminal closed; not on every system)
STOP_SIGNALS = tuple(
    getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)
)


# --- in the console ---------------------------------------------------------------------------
@dataclass
class _Child:
    name: str
    proc: subprocess.Popen[Any]
    grace_s: float
    shared: bool


_lock = threading.Lock()
_children: dict[int, _Child] = {}
_pipe: tuple[int, int] | None = None  # (read, write): the write end is held by this process only
_pipe_owner = 0  # the pid that made the pipe (a forked child makes its own)
_atexit_done = False


def _parent_fd() -> int:
    """The read end handed to every guard (made once per process; both ends close-on-exec)."""
    global _pipe, _pipe_owner, _atexit_done
    with _lock:
        if _pipe is None or _pipe_owner != os.getpid():
            _pipe = os.pipe()
            _pipe_owner = os.getpid()
            _children.clear()
        if not _atexit_done:
            atexit.register(stop_all)
            _atexit_done = True
        return _pipe[0]


def _guarded() -> bool:
    """The guard relies on Linux (prctl, /proc)."""
    return sys.platform.startswith("linux")


def _guard_command() -> list[str]:
    """This file run as the guard: ``python -I console/children.py``, or in a frozen build
    (no interpreter) the app's internal program ``guard`` (:mod:`console.programs`)."""
    if getattr(sys, "frozen", False):
        from console import programs

        return programs.argv("guard")
    return [sys.executable, "-I", str(GUARD_SCRIPT)]


def spawn(
    argv: Sequence[str],
    *,
    name: str,
    grace_s: float = GRACE_S,
    shared_lock: Path | None = None,
    **popen_kwargs: Any,
) -> subprocess.Popen[Any]:
    """Start ``argv`` under a guard, in its own process group; it ends when the console ends.

    ``popen_kwargs`` go to ``subprocess.Popen`` (stdin/stdout/stderr, env, cwd, text…), except
    the ones that decide about sessions and inherited descriptors, which are the guard's."""
    for key in _RESERVED:
        if key in popen_kwargs:
            raise TypeError(f"children.spawn sets {key} itself")
    parent_fd = _parent_fd()
    if _guarded():
        cmd = [*_guard_command(), "--parent-fd", str(parent_fd),
               "--grace", f"{grace_s:g}", "--name", name]
        if shared_lock is not None:
            cmd += ["--shared-lock", str(shared_lock)]
        cmd += ["--", *argv]
        proc: subprocess.Popen[Any] = subprocess.Popen(
            cmd, start_new_session=True, pass_fds=(parent_fd,), **popen_kwargs
        )
    else:
        proc = subprocess.Popen(list(argv), start_new_session=True, **popen_kwargs)
    with _lock:
        _children[proc.pid] = _Child(name, proc, grace_s, shared_lock is not None)
    log.debug("started %s (pid %d)", name, proc.pid)
    return proc


def run(
    argv: Sequence[str], *, name: str, timeout: float, **popen_kwargs: Any
) -> subprocess.CompletedProcess[Any]:
    """Like ``subprocess.run(argv, capture_output=True)`` for a one-shot helper, guarded too."""
    proc = spawn(argv, name=name, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen_kwargs)
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        stop(proc)
        raise
    finally:
        _forget(proc)
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)


def _forget(proc: subprocess.Popen[Any]) -> None:
    with _lock:
        _children.pop(proc.pid, None)


def running() -> list[tuple[str, int]]:
    """(name, pid) of the children started here that are still running."""
    with _lock:
        return [(c.name, c.proc.pid) for c in _children.values() if c.proc.poll() is None]


def _kill_group(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:  # not reaped yet: the group id (the guard's pid) is still ours
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def stop(proc: subprocess.Popen[Any], timeout: float | None = None) -> int | None:
    """End one child and its tree: SIGTERM (the guard passes it on), wait, then SIGKILL the
    guard's process group. Returns the exit status (None if it could not be reaped)."""
    with _lock:
        child = _children.get(proc.pid)
    grace = child.grace_s if child is not None else GRACE_S
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            proc.wait(grace + SWEEP_S + 2.0 if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5.0)
    _forget(proc)
    return proc.returncode


def stop_all() -> None:
    """End every child still running (all at once), except shared ones (pcscd): their guards
    end them once the console is gone and nobody else uses them."""
    with _lock:
        if _pipe_owner != os.getpid():
            return  # a forked copy: the children are the parent's
        todo = [c for c in _children.values() if not c.shared]
    todo = [c for c in todo if c.proc.poll() is None]
    for c in todo:
        log.info("stopping %s (pid %d)", c.name, c.proc.pid)
        with contextlib.suppress(ProcessLookupError):
            c.proc.terminate()
    deadline = time.monotonic() + max((c.grace_s for c in todo), default=0.0) + SWEEP_S + 2.0
    for c in todo:
        try:
            c.proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_group(c.proc)
            with contextlib.suppress(subprocess.TimeoutExpired):
                c.proc.wait(2.0)
        _forget(c.proc)


_stop_signals: list[int] = []  # the stop signals this process received (SIGINT, SIGTERM…)


#: how long a clean quit after a stop signal may take before the console leaves anyway
STOP_DEADLINE_S = 12.0


def stop_requested(signum: int) -> bool:
    """Note a stop signal; True when one came before (the user insists: :func:`leave_now`).

    The first one also arms a deadline: if the clean quit has not ended the process within
    :data:`STOP_DEADLINE_S` (the exception raised for the signal swallowed by a toolkit's
    callback, a shutdown step that hangs), it leaves anyway and the guards end the children."""
    again = bool(_stop_signals)
    _stop_signals.append(signum)
    if not again:
        timer = threading.Timer(STOP_DEADLINE_S, _deadline_passed, args=(signum,))
        timer.daemon = True
        timer.name = "stop-deadline"
        timer.start()
    return again


def _deadline_passed(signum: int) -> None:
    log.warning("%s: the clean quit took over %.0f s", signal.Signals(signum).name,
                STOP_DEADLINE_S)
    leave_now(signum)


def stop_pending() -> bool:
    """Whether a stop signal came (an event loop started later quits at once: the exception
    raised for it may have been swallowed by a GUI toolkit's callback)."""
    return bool(_stop_signals)


def leave_now(signum: int) -> None:
    """Exit at once, without cleaning up: the guards see the console gone and end the
    children (within their grace), so nothing is left behind."""
    log.warning("%s again: leaving now (the child processes end on their own)",
                signal.Signals(signum).name)
    logging.shutdown()
    os._exit(128 + signum)


def install_exit_handlers() -> None:
    """Outside an event loop: the first SIGINT raises KeyboardInterrupt, the first SIGTERM or
    SIGHUP ``SystemExit(128 + N)``, so ``finally`` blocks and :func:`stop_all` run; a second
    stop signal (Ctrl+C pressed twice) leaves at once (:func:`leave_now`). Only where the
    signal still has Python's default handling."""

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if stop_requested(signum):
            leave_now(signum)
        log.info("%s: stopping", signal.Signals(signum).name)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)

    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) in (signal.SIG_DFL, signal.default_int_handler):
            signal.signal(sig, on_signal)


def _libc() -> Any:
    import ctypes

    return ctypes.CDLL("libc.so.6", use_errno=True)


# --- the guard (this file run as a script) ----------------------------------------------------
def _stat(pid: str) -> tuple[str, int] | None:
    """(state, ppid) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[-1].split()
    if len(fields) < 2:
        return None
    return fields[0], int(fields[1])


def _descendants(root: int) -> list[int]:
    """Live (not zombie) processes under ``root``, found through /proc."""
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = _stat(entry)
        if st is None or st[0] in ("Z", "X"):
            continue
        kids.setdefault(st[1], []).append(int(entry))
    out: list[int] = []
    todo = list(kids.get(root, []))
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def _program_env(argv: Sequence[str]) -> dict[str, str]:
    """The environment the guard's program gets: the guard's own, except that a frozen app's
    bootloader points ``LD_LIBRARY_PATH`` at the app's libraries; a program that is not the
    app (pcscd, say) gets the value from before it (``LD_LIBRARY_PATH_ORIG``), or none."""
    env = dict(os.environ)
    if not getattr(sys, "frozen", False):
        return env
    if os.path.realpath(argv[0]) == os.path.realpath(sys.executable):
        return env  # the app itself (an internal program): its bootloader sees to it
    original = env.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is None:
        env.pop("LD_LIBRARY_PATH", None)
    else:
        env["LD_LIBRARY_PATH"] = original
    return env


class _Guard:
    def __init__(self, argv: list[str], parent_fd: int, grace_s: float,
                 shared_lock: str | None, name: str) -> None:
        self.argv = argv
        self.parent_fd: int | None = parent_fd
        self.grace_s = grace_s
        self.shared_lock = shared_lock
        self.name = name
        self.me = os.getpid()
        self.main = 0
        self.status: int | None = None
        self.stop_signal: int | None = None
        self.wake_r, wake_w = os.pipe()
        for fd in (self.wake_r, wake_w):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_stop)
        signal.signal(signal.SIGCHLD, lambda *_: None)

    def _on_stop(self, signum: int, _frame: FrameType | None) -> None:
        if self.stop_signal is None:
            self.stop_signal = signum

    def start(self) -> None:
        try:
            libc = _libc()
            libc.prctl(PR_SET_CHILD_SUBREAPER, 1)
        except (OSError, AttributeError):
            libc = None
        env = _program_env(self.argv)
        pid = os.fork()  # the guard is single-threaded: Python between fork and exec is safe
        if pid == 0:
            try:
                if libc is not None:
                    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
                if os.getppid() != self.me:  # the guard died before the prctl took effect
                    os._exit(1)
                for sig in (signal.SIGPIPE, signal.SIGXFSZ):  # as subprocess restore_signals
                    signal.signal(sig, signal.SIG_DFL)
                os.execvpe(self.argv[0], self.argv, env)  # noqa: S606 - argv as given, no shell
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    why = exc.strerror if isinstance(exc, OSError) else type(exc).__name__
                    os.write(2, f"cannot start {self.name}: {why}\n".encode())
            os._exit(127)
        self.main = pid

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.main:
                code = os.waitstatus_to_exitcode(status)
                self.status = 128 - code if code < 0 else code

    def wait_events(self, timeout: float | None) -> None:
        fds = [self.wake_r] + ([self.parent_fd] if self.parent_fd is not None else [])
        try:
            ready, _, _ = select.select(fds, [], [], timeout)
        except InterruptedError:
            return
        if self.wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(self.wake_r, 512)
        if self.parent_fd is not None and self.parent_fd in ready:
            try:
                data = os.read(self.parent_fd, 512)
            except OSError:
                data = b""
            if not data:  # the console is gone
                os.close(self.parent_fd)
                self.parent_fd = None

    def run(self) -> int:
        self.start()
        lock_fd: int | None = None
        while True:
            self.reap()
            if self.status is not None or self.stop_signal is not None:
                break
            if self.parent_fd is None:  # the console is gone
                if self.shared_lock is None:
                    break
                alone, lock_fd = self._lock_if_alone()
                if alone:
                    break
                self.wait_events(0.5)
                continue
            self.wait_events(None)
        try:
            self.end_tree()
        finally:
            if lock_fd is not None:
                os.close(lock_fd)
        if self.status is None:
            return 128 + (self.stop_signal or signal.SIGTERM)
        return self.status

    def _lock_if_alone(self) -> tuple[bool, int | None]:
        """Whether no other process holds the shared-use lock; if so, the exclusive lock's fd
        (held while the tree ends, so that no new user finds a dying daemon)."""
        import fcntl

        assert self.shared_lock is not None
        try:
            fd = os.open(self.shared_lock, os.O_CREAT | os.O_RDWR, 0o666)
        except OSError:
            return True, None  # no lock file to be had: nobody uses the program through it
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return False, None
            return True, None
        return True, fd

    def _signal_all(self, sig: int, done: set[int] | None = None) -> None:
        for pid in _descendants(self.me):
            if done is not None:
                if pid in done:
                    continue
                done.add(pid)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)

    def _wait_until(self, deadline: float, gone: Any) -> None:
        while time.monotonic() < deadline:
            self.reap()
            if gone():
                return
            self.wait_events(min(0.05, max(0.0, deadline - time.monotonic())))

    def end_tree(self) -> None:
        if self.status is None:  # the program first, alone: it may close what it started
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.main, signal.SIGTERM)
            self._wait_until(time.monotonic() + self.grace_s, lambda: self.status is not None)
        signalled: set[int] = set()
        deadline = time.monotonic() + SWEEP_S
        while time.monotonic() < deadline:
            self._signal_all(signal.SIGTERM, signalled)  # leftovers, and what appears meanwhile
            self.reap()
            if not _descendants(self.me):
                break
            self.wait_events(0.05)
        for _ in range(100):
            left = _descendants(self.me)
            if not left:
                break
            self._signal_all(signal.SIGKILL)
            self.wait_events(0.02)
            self.reap()
        self.reap()


def _guard_main(args: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="console/children.py")
    parser.add_argument("--parent-fd", type=int, required=True)
    parser.add_argument("--grace", type=float, default=GRACE_S)
    parser.add_argument("--shared-lock")
    parser.add_argument("--name", default="child")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    ns = parser.parse_args(args)
    command = ns.command[1:] if ns.command[:1] == ["--"] else ns.command
    if not command:
        parser.error("no command")
    os.set_inheritable(ns.parent_fd, False)
    guard = _Guard(command, ns.parent_fd, ns.grace, ns.shared_lock, ns.name)
    return guard.run()


if __name__ == "__main__":
    sys.exit(_guard_main(sys.argv[1:]))
