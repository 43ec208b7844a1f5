"""The desktop build's stand-ins for PyAV's unused encoders and filter (console.spec,
scripts/packaging/*_stub.c) refuse cleanly: opening libx265 or libsvtav1 raises, the libvmaf
filter is refused, and libx264 (the recorder's) still opens. Run with the stand-ins preloaded
(same sonames as PyAV's libraries, so PyAV's libavcodec binds to them):

    LD_PRELOAD=$APP/_internal/av.libs/libx265-….so.217:… .venv/bin/python \\
        scripts/packaging/check_codec_stubs.py
"""

from __future__ import annotations

import sys
from fractions import Fraction

import av


def opens(name: str) -> bool:
    ctx = av.CodecContext.create(name, "w")
    ctx.width, ctx.height, ctx.pix_fmt = 64, 64, "yuv420p"
    ctx.time_base = Fraction(1, 25)
    try:
        ctx.open()
    except (av.FFmpegError, MemoryError) as exc:
        print(f"{name}: refused ({exc})")
        return False
    print(f"{name}: opened")
    return True


def main() -> int:
    graph = av.filter.Graph()
    try:
        graph.add("libvmaf")
        vmaf = True
    except (av.FFmpegError, ValueError) as exc:
        print(f"libvmaf: refused ({exc})")
        vmaf = False
    ok = opens("libx264") and not opens("libx265") and not opens("libsvtav1") and not vmaf
    print("codec stand-ins: " + ("refuse cleanly" if ok else "NOT as expected"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
