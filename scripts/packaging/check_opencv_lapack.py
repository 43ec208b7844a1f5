"""OpenCV's LAPACK and CBLAS calls, on matrices large enough for its HAL to make them, checked
against NumPy: run on a desktop build's cv2 (whose OpenBLAS is console.spec's shim onto NumPy's,
scripts/packaging/openblas_shim.c) to show the shim passes every argument right.

    .venv/bin/python scripts/packaging/check_opencv_lapack.py \
        dist/recognition-console/_internal/cv2/cv2.abi3.so
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from typing import Any

import numpy as np


def load_cv2(path: str) -> Any:
    loader = importlib.machinery.ExtensionFileLoader("cv2", path)
    spec = importlib.util.spec_from_file_location("cv2", path, loader=loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def close(label: str, got: Any, want: Any, tol: float) -> None:
    err = float(np.max(np.abs(np.asarray(got) - np.asarray(want))))
    print(f"{label}: max error {err:.2e}")
    if not err < tol:
        raise SystemExit(f"{label}: error {err} over {tol}")


def main(path: str) -> None:
    cv2 = load_cv2(path)
    rng = np.random.default_rng(1)
    n = 300  # over the HAL's thresholds (GEMM, LU and Cholesky 100, SVD 25, QR 20)
    for dt, tol in ((np.float32, 1e-2), (np.float64, 1e-8)):
        t = dt.__name__
        a = rng.standard_normal((n, n)).astype(dt)
        b = rng.standard_normal((n, n)).astype(dt)
        rhs = rng.standard_normal((n, 3)).astype(dt)
        exact = np.linalg.solve(a.astype(np.float64), rhs)
        close(f"{t} gemm", cv2.gemm(a, b, 1.0, None, 0.0), a @ b, tol)
        close(f"{t} gemm A^T", cv2.gemm(a, b, 1.0, None, 0.0, flags=cv2.GEMM_1_T), a.T @ b, tol)
        for flag, name in ((cv2.DECOMP_LU, "LU"), (cv2.DECOMP_SVD, "SVD"),
                           (cv2.DECOMP_QR, "QR")):
            ok, x = cv2.solve(a, rhs, flags=flag)
            assert ok, name
            close(f"{t} solve {name}", x, exact, tol * 10)
        spd = a @ a.T + n * np.eye(n, dtype=dt)
        ok, x = cv2.solve(spd, rhs, flags=cv2.DECOMP_CHOLESKY)
        assert ok
        close(f"{t} solve Cholesky", x, np.linalg.solve(spd.astype(np.float64), rhs), tol)
        tall = rng.standard_normal((400, n)).astype(dt)
        y = rng.standard_normal((400, 2)).astype(dt)
        ok, x = cv2.solve(tall, y, flags=cv2.DECOMP_QR)
        assert ok
        close(f"{t} least squares QR", x,
              np.linalg.lstsq(tall.astype(np.float64), y, rcond=None)[0], tol * 10)
        w, u, vt = cv2.SVDecomp(a)
        close(f"{t} SVD values", w.ravel(),
              np.linalg.svd(a.astype(np.float64), compute_uv=False), tol)
        close(f"{t} SVD product", (u * w.ravel()) @ vt, a, tol * 10)
        close(f"{t} invert LU", cv2.invert(a, flags=cv2.DECOMP_LU)[1] @ a, np.eye(n), tol * 10)
        close(f"{t} invert Cholesky", cv2.invert(spd, flags=cv2.DECOMP_CHOLESKY)[1] @ spd,
              np.eye(n), tol)
    m = rng.standard_normal((120, 120))
    close("float64 determinant", cv2.determinant(m) / np.linalg.det(m), 1.0, 1e-8)
    c = rng.standard_normal((n, n, 2))
    d = rng.standard_normal((n, n, 2))
    want = (c[..., 0] + 1j * c[..., 1]) @ (d[..., 0] + 1j * d[..., 1])
    for dt, tol in ((np.float32, 1e-2), (np.float64, 1e-8)):
        r = cv2.gemm(c.astype(dt), d.astype(dt), 1.0, None, 0.0)
        close(f"complex {dt.__name__} gemm", r[..., 0] + 1j * r[..., 1], want, tol)
    print("opencv lapack: all match numpy")


if __name__ == "__main__":
    main(sys.argv[1])
