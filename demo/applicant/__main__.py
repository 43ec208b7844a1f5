"""CLI of the synthetic applicant (DEMO/TEST PEER).

    python -m demo.applicant --desk URL --join-token TOKEN [--width 1280 --height 720 --fps 30]
    python -m demo.applicant --write-y4m clip.y4m [--width ... --fps 5 --seconds-per-step 2]
    python -m demo.applicant --desk URL --join-token TOKEN --camera-clip FILE   (a replay/photo)

The join token may also come from the SYNTHETIC_JOIN_TOKEN environment variable (keeps it out
of the process list). Exit status: 0 when the call ended normally, 2 on bad arguments, 3 when
the desk refused the join link, 4 when the desk could not be reached or the socket dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import logging
import os
import signal
import sys

from demo.applicant.applicant import ApplicantConfig, SyntheticApplicant
from demo.applicant.scene import write_y4m

logger = logging.getLogger("demo.applicant")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m demo.applicant",
        description="Synthetic applicant (DEMO/TEST PEER): joins a desk call like the browser.",
    )
    p.add_argument("--desk", help="desk base URL, e.g. http://127.0.0.1:8080")
    p.add_argument("--join-token", help="join token (or env SYNTHETIC_JOIN_TOKEN)")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=720)
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--audio", choices=("speech", "tone", "silence"), default="speech")
    p.add_argument("--flash-period", type=float, default=4.0,
                   help="seconds between white flash + beep (A/V sync); 0 disables")
    p.add_argument("--flash-duration", type=float, default=0.1)
    p.add_argument("--no-stamp", action="store_true", help="do not paint the frame stamp")
    p.add_argument("--no-motion", action="store_true", help="a still camera (no sway)")
    p.add_argument("--script", choices=("follow", "auto"), default="follow",
                   help="follow: the operator's requests drive the scene; auto: cycle the steps")
    p.add_argument("--auto-step", type=float, default=6.0, help="seconds per step in auto mode")
    p.add_argument("--mobile", default="+393331234567", help="number whose demo SMS to read")
    p.add_argument("--no-otp", action="store_true", help="do not read OTPs from the outbox")
    p.add_argument("--ice-server", action="append", default=[], metavar="URL",
                   help="STUN/TURN URL (repeatable); none by default (loopback)")
    p.add_argument("--camera-clip", metavar="FILE",
                   help="play this video (y4m, mp4…) or picture as the camera instead of the live"
                        " scene: a replay or a photo, which cannot answer liveness challenges")
    p.add_argument("--no-challenges", action="store_true",
                   help="acknowledge liveness challenges but do not answer them")
    p.add_argument("--write-y4m", metavar="PATH",
                   help="write the scene as a .y4m clip for Chromium's fake camera and exit")
    p.add_argument("--seconds-per-step", type=float, default=2.0)
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` dumps the threads' stacks
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        for noisy in ("aioice", "aiortc"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.write_y4m:
        try:
            path = write_y4m(args.write_y4m, args.width, args.height, args.fps,
                             args.seconds_per_step, flash_period=args.flash_period,
                             flash_duration=args.flash_duration)
        except (OSError, ValueError) as exc:
            print(f"cannot write the clip: {exc}", file=sys.stderr)
            return 2
        print(path)
        return 0
    token = args.join_token or os.environ.get("SYNTHETIC_JOIN_TOKEN")
    if not args.desk or not token:
        print("--desk and --join-token (or SYNTHETIC_JOIN_TOKEN) are required", file=sys.stderr)
        return 2
    config = ApplicantConfig(
        desk_url=args.desk,
        join_token=token,
        width=args.width,
        height=args.height,
        fps=args.fps,
        audio=args.audio,
        flash_period=args.flash_period,
        flash_duration=args.flash_duration,
        stamp=not args.no_stamp,
        motion=not args.no_motion,
        script=args.script,
        auto_step_s=args.auto_step,
        mobile=args.mobile,
        poll_otp=not args.no_otp,
        ice_servers=list(args.ice_server),
        answer_challenges=not args.no_challenges,
        camera_clip=args.camera_clip,
    )
    if args.camera_clip and not os.path.isfile(args.camera_clip):
        print(f"no such clip: {args.camera_clip}", file=sys.stderr)
        return 2
    try:
        applicant = SyntheticApplicant(config)
    except ValueError as exc:
        print(f"bad arguments: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_run(applicant))


async def _run(applicant: SyntheticApplicant) -> int:
    task = asyncio.ensure_future(applicant.run())
    loop = asyncio.get_running_loop()

    def recancel() -> None:
        # a cancellation delivered while aiortc is closing a transport can be swallowed there
        # (the task then goes on waiting on the desk socket): cancel again until it ends
        if not task.done():
            task.cancel()
            loop.call_later(0.5, recancel)

    def terminate() -> None:
        recancel()
        # a graceful end normally takes well under a second; should some await inside aiortc
        # never return, log what is stuck and leave anyway: a terminated peer must go
        loop.call_later(EXIT_DEADLINE_S, _force_exit)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, terminate)
    try:
        reason = await task
    except asyncio.CancelledError:
        reason = "cancelled"
    except ValueError as exc:
        print(f"bad arguments: {exc}", file=sys.stderr)
        return 2
    logger.info("synthetic applicant finished: %s", reason)
    return {"ended": 0, "cancelled": 0, "auth": 3}.get(reason, 4)


EXIT_DEADLINE_S = 8.0


def _force_exit() -> None:
    stuck = [t for t in asyncio.all_tasks() if not t.done()]
    logger.warning("shutdown still waiting after %.0f s on %d task(s); leaving anyway",
                   EXIT_DEADLINE_S, len(stuck))
    for t in stuck:
        frames = t.get_stack(limit=3)
        where = ", ".join(f"{f.f_code.co_filename.rsplit('/', 1)[-1]}:{f.f_lineno}"
                          for f in frames)
        logger.warning("  stuck task %s at %s", t.get_coro(), where or "?")
    logging.shutdown()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
