"""Children die with their parent: nothing the console starts outlives it, however it ends.

The real ``recognition-console demo`` runs as a subprocess (offscreen, no autopilot: it sits
signed in, as a person would leave it); once its desk service and applicant (the synthetic
peer, or headless Chromium with Playwright's driver, or for ``--in-person`` pcscd) run, the
console is ended with SIGKILL, SIGTERM, SIGHUP or Ctrl+C pressed twice, and every process it had
started must be gone within a few seconds (so must a training run's peer, after a SIGKILL).
The processes are found through /proc: the console's descendants (parent chain) seen while it
ran, plus any live process whose environment carries this test's marker (what was re-parented
or started later). Zombies count as gone (nobody may
reap them once their parent is dead). Whatever is found left over is killed at the end.

The guard of :mod:`console.children` is tested on its own too: a program's double-forked and
``setsid`` descendants end with it, a shared daemon waits for its last user.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARK = "RECOGNITION_ORPHAN_TEST"
START_S = 60.0  # the demo's children up (Chromium's first renderer on a busy machine)
GONE_S = 15.0  # every child gone after the console ended (the guard's grace is 5 s)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")

Key = tuple[int, int]  # (pid, start time in clock ticks): a pid reused later is another process


# --- /proc ------------------------------------------------------------------------------------
def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, start time) or None when the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes().decode("ascii", "replace")
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[-1].split()
    return fields[0], int(fields[1]), int(fields[19])


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()


def _alive(key: Key) -> bool:
    st = _stat(key[0])
    return st is not None and st[2] == key[1] and st[0] not in ("Z", "X")


def _descendants(root: int) -> dict[Key, str]:
    kids: dict[int, list[tuple[int, int]]] = {}
    for pid in _pids():
        st = _stat(pid)
        if st is not None and st[0] not in ("Z", "X"):
            kids.setdefault(st[1], []).append((pid, st[2]))
    out: dict[Key, str] = {}
    todo = list(kids.get(root, []))
    while todo:
        key = todo.pop()
        out[key] = _cmdline(key[0])
        todo.extend(kids.get(key[0], []))
    return out


def _marked(marker: str, exclude: int) -> dict[Key, str]:
    needle = f"{MARK}={marker}".encode()
    out: dict[Key, str] = {}
    for pid in _pids():
        if pid in (exclude, os.getpid()):
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        st = _stat(pid)
        if needle in environ.split(b"\0") and st is not None and st[0] not in ("Z", "X"):
            out[(pid, st[2])] = _cmdline(pid)
    return out


def _short(cmd: str) -> str:
    """A process for a failure message: the program and its first words (no tokens)."""
    words = cmd.split()
    return " ".join(w for w in words[:4] if "token" not in w and "/join/" not in w)[:120]


# --- the console under test -------------------------------------------------------------------
@dataclass
class Demo:
    proc: subprocess.Popen[Any]
    marker: str
    log: Path
    seen: dict[Key, str] = field(default_factory=dict)

    def look(self) -> dict[Key, str]:
        now = _descendants(self.proc.pid) | _marked(self.marker, self.proc.pid)
        self.seen.update(now)
        return now

    def wait_for(self, ready: Callable[[list[str]], bool], what: str) -> None:
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the demo ended before {what} (exit {self.proc.returncode}): "
                            + self.log.read_text(errors="replace")[-2000:])
            if ready(list(self.look().values())):
                return
            time.sleep(0.2)
        pytest.fail(f"{what} not seen within {START_S:.0f} s: "
                    + self.log.read_text(errors="replace")[-2000:])

    def end(self, how: str) -> None:
        self.look()
        if how == "SIGINT-twice":  # Ctrl+C, then Ctrl+C again while it shuts down
            self.proc.send_signal(signal.SIGINT)
            time.sleep(0.3)
            self.look()
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGINT)
        else:
            self.proc.send_signal(getattr(signal, how))
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            pytest.fail(f"the console did not end on {how}")

    def left_over(self, within: float = GONE_S) -> dict[Key, str]:
        deadline = time.monotonic() + within
        while True:
            self.seen.update(_marked(self.marker, self.proc.pid))
            left = {k: c for k, c in self.seen.items() if _alive(k)}
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.1)

    def kill_all(self) -> None:
        """Test hygiene: nothing of this run survives the test, whatever the code did."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        for _ in range(3):
            self.seen.update(_marked(self.marker, self.proc.pid))
            left = [k for k in self.seen if _alive(k)]
            if not left:
                return
            for pid, _start in left:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.3)


@contextlib.contextmanager
def running_demo(tmp_path: Path, *args: str, private_tmp: bool = True,
                 command: tuple[str, ...] = ("demo", "--language", "en")) -> Iterator[Demo]:
    marker = uuid.uuid4().hex
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", **{MARK: marker})
    if private_tmp:  # the demo's temporary folder inside the test's (pcscd's locks are shared)
        env["TMPDIR"] = str(tmp_path)
    log = tmp_path / "console.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "console", *command, *args],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
        )
    demo = Demo(proc, marker, log)
    try:
        yield demo
    finally:
        demo.kill_all()
        for cmd in demo.seen.values():  # the demo folder (it cannot remove it after SIGKILL)
            if "server.cli" in cmd and "--data-dir " in cmd:
                folder = Path(cmd.split("--data-dir ", 1)[1].split()[0]).parent
                if folder.name.startswith("recognition-demo-"):
                    shutil.rmtree(folder, ignore_errors=True)


def _has(*needles: str) -> Callable[[list[str]], bool]:
    return lambda cmds: all(any(n in c for c in cmds) for n in needles)


def _assert_all_gone(demo: Demo, how: str, spare: Callable[[str], bool] | None = None) -> None:
    left = demo.left_over()
    if spare is not None:
        left = {k: c for k, c in left.items() if not spare(c)}
    assert not left, (
        f"after {how}, {len(left)} of the console's processes still run: "
        + "; ".join(f"{pid} {_short(c)}" for (pid, _), c in sorted(left.items()))
    )


ENDINGS = ("SIGKILL", "SIGTERM", "SIGHUP", "SIGINT-twice")
DESK = " serve --data-dir "  # the desk service (not its one-shot `seed`)


@pytest.mark.parametrize("how", ENDINGS)
def test_synthetic_demo_leaves_nothing_behind(how: str, tmp_path: Path) -> None:
    with running_demo(tmp_path) as demo:
        demo.wait_for(_has(DESK, "demo.applicant"), "the desk and the applicant")
        time.sleep(1.0)  # the applicant in the queue, the console signed in
        demo.end(how)
        _assert_all_gone(demo, how)


@pytest.mark.parametrize("delay", (0.0, 0.3))
def test_demo_stopped_while_starting_leaves_nothing_behind(delay: float, tmp_path: Path) -> None:
    """SIGTERM while the console is still starting (the applicant just started, the windows
    being built, no event loop yet: the exception raised for it may be swallowed by a Qt slot):
    it still quits, and its children end."""
    with running_demo(tmp_path) as demo:
        demo.wait_for(_has(DESK, "demo.applicant"), "the desk and the applicant")
        time.sleep(delay)
        demo.end("SIGTERM")
        _assert_all_gone(demo, "SIGTERM while starting")


@pytest.mark.chromium
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed")
@pytest.mark.parametrize("how", ("SIGKILL", "SIGTERM"))
def test_chromium_demo_leaves_no_browser_behind(how: str, tmp_path: Path) -> None:
    with running_demo(tmp_path, "--applicant", "chromium") as demo:
        # Playwright's driver, Chromium (a process group of its own), its zygotes and renderers
        demo.wait_for(_has(DESK, "demo.browser", "run-driver", "--type=renderer"),
                      "Chromium's renderer")
        assert sum("chromium" in c for c in demo.seen.values()) >= 3
        demo.end(how)
        _assert_all_gone(demo, how)


def test_training_run_leaves_no_peer_behind(tmp_path: Path) -> None:
    report = tmp_path / "out" / "clean.json"
    command = ("training", "run", "clean", "--autopilot", "--report", str(report))
    with running_demo(tmp_path, command=command) as demo:
        demo.wait_for(_has(DESK, "demo.training_peer"), "the desk and the training peer")
        time.sleep(1.0)
        demo.end("SIGKILL")
        _assert_all_gone(demo, "SIGKILL")


def _pcscd_ready() -> str | None:
    """Why the in-person demo cannot run here, or None."""
    from demo import pcscd

    try:
        import smartcard  # noqa: F401 - presence check
    except ImportError:
        return "pyscard is not installed"
    if pcscd.find_pcscd() is None or not pcscd.vpcd_installed():
        return "pcscd or the vpcd driver is not installed"
    if os.geteuid() != 0 and pcscd.readers() is None:
        return "pcscd is not running and only root may start it"
    return None


def _pcscd_shared() -> bool:
    """Another process (a test run, a demo) holds the pcscd users' lock: pcscd must stay."""
    from demo import pcscd

    path = pcscd.LOCK_DIR / pcscd.USERS_LOCK
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@pytest.mark.pcsc
@pytest.mark.parametrize("how", ("SIGKILL", "SIGTERM"))
def test_in_person_demo_leaves_nothing_behind(how: str, tmp_path: Path) -> None:
    why = _pcscd_ready()
    if why:
        pytest.skip(why)
    # pcscd's locks and the vpcd slots are shared with other runs: the machine's TMPDIR;
    # slot 1, off the one the other tests use
    with running_demo(tmp_path, "--in-person", "--card-slot", "1", private_tmp=False) as demo:
        demo.wait_for(_has(DESK), "the desk service (after pcscd)")
        time.sleep(1.5)  # the partner signed in, the window open, the virtual card inserted
        started_pcscd = any("pcscd" in c and "--foreground" in c for c in demo.seen.values())
        demo.end(how)

        def spare(cmd: str) -> bool:  # pcscd stays while another run still uses it
            return "pcscd" in cmd and _pcscd_shared()

        _assert_all_gone(demo, how, spare)
        from demo import pcscd

        # pcscd's log, named after the console (removed by its close, which a SIGKILL skips)
        (pcscd.LOCK_DIR / f"pcscd-recognition-{demo.proc.pid}.log").unlink(missing_ok=True)
    if not started_pcscd:
        pytest.skip("pcscd was already running (not the console's to end); the rest ended")


# --- the guard on its own ---------------------------------------------------------------------
PARENT = """
import sys, time
sys.path.insert(0, {root!r})
from console import children
p = children.spawn(sys.argv[1:], name="t", grace_s=2)
print(p.pid, flush=True)
time.sleep(60)
"""


def test_guard_ends_the_whole_tree_when_its_parent_is_killed(tmp_path: Path) -> None:
    marker = uuid.uuid4().hex
    env = dict(os.environ, **{MARK: marker})
    # a program that leaves a background child, one in a session of its own, one double-forked
    script = "sleep 60 & setsid sleep 61 & (sleep 62 &); exec sleep 63"
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT.format(root=str(ROOT)), "sh", "-c", script],
        env=env, stdout=subprocess.PIPE, text=True,
    )
    demo = Demo(parent, marker, tmp_path / "none.log")
    try:
        assert parent.stdout is not None
        guard = int(parent.stdout.readline())
        deadline = time.monotonic() + 10
        while len([c for c in _descendants(guard).values() if c.startswith("sleep")]) < 4:
            assert time.monotonic() < deadline, _descendants(guard)
            time.sleep(0.05)
        demo.look()
        parent.kill()
        parent.wait(5)
        left = demo.left_over(5.0)
        assert not left, left
    finally:
        demo.kill_all()


def test_stop_ends_the_tree_and_gives_the_status() -> None:
    from console import children

    proc = children.spawn(["sh", "-c", "(sleep 60 &); trap 'exit 7' TERM; sleep 60 & wait"],
                          name="t")
    deadline = time.monotonic() + 10
    while len(_descendants(proc.pid)) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    tree = _descendants(proc.pid)
    t0 = time.monotonic()
    assert children.stop(proc) == 7
    assert time.monotonic() - t0 < 4.0
    assert not [k for k in tree if _alive(k)]
    assert ("t", proc.pid) not in children.running()
    # a program that cannot be started: status 127 and one line saying so
    proc = children.spawn(["/nonexistent/program"], name="missing", stderr=subprocess.PIPE)
    assert proc.wait(10) == 127
    assert proc.stderr is not None and b"cannot start missing" in proc.stderr.read()


def test_shared_program_waits_for_its_last_user(tmp_path: Path) -> None:
    marker = uuid.uuid4().hex
    lock = tmp_path / "users.lock"
    env = dict(os.environ, **{MARK: marker})
    shared = f'shared_lock=__import__("pathlib").Path({str(lock)!r})'
    code = PARENT.format(root=str(ROOT)).replace("grace_s=2", f"grace_s=2, {shared}")
    parent = subprocess.Popen([sys.executable, "-c", code, "sleep", "60"], env=env,
                              stdout=subprocess.PIPE, text=True)
    demo = Demo(parent, marker, tmp_path / "none.log")
    other = os.open(lock, os.O_CREAT | os.O_RDWR, 0o666)
    try:
        fcntl.flock(other, fcntl.LOCK_SH)  # another user of the daemon
        assert parent.stdout is not None
        guard = int(parent.stdout.readline())
        deadline = time.monotonic() + 10
        while not _descendants(guard):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        demo.look()
        parent.kill()
        parent.wait(5)
        time.sleep(1.5)
        assert len([k for k in demo.seen if _alive(k)]) == 2  # still needed: guard and program
        fcntl.flock(other, fcntl.LOCK_UN)  # the last user is done
        left = demo.left_over(5.0)
        assert not left, left
    finally:
        os.close(other)
        demo.kill_all()


def test_a_clean_quit_that_hangs_still_ends_by_the_deadline() -> None:
    """After a stop signal, a clean quit that never finishes (a swallowed exception, a hung
    shutdown step) is cut short at the deadline: the console leaves, its guards end the rest."""
    code = ("import signal, time\n"
            "from console import children\n"
            "children.STOP_DEADLINE_S = 0.5\n"
            "children.stop_requested(signal.SIGTERM)\n"
            "time.sleep(30)\n")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=20,
                          capture_output=True, text=True)
    assert proc.returncode == 128 + signal.SIGTERM, proc.stderr
    assert time.monotonic() - started < 10
    assert "the clean quit took over" in proc.stderr
