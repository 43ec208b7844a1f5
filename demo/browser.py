"""DEMO/TEST applicant: headless Debian Chromium running the real applicant page.

    python -m demo.browser --url JOIN_URL --desk DESK_URL --mobile +39... \
        (--canvas-camera DIR [--camera-size 1280x720] | --y4m CLIP)

Playwright drives the page as a person would (start, device check, consent) and leaves it in the
call. The camera: with ``--canvas-camera DIR`` a canvas drawing the synthetic scene live and
answering the liveness challenges (demo.canvas_camera, installed with ``page.add_init_script``;
its pictures are pre-rendered into DIR); with ``--y4m CLIP`` Chromium's fake camera plays CLIP
(a fixed clip cannot answer a challenge). The audio is Chromium's fake device.

A browser cannot speak: when the OTP SMS reaches the desk's demo outbox (``serve --demo`` only),
this driver prints ``utterance <code>`` on stdout, standing for the applicant reading it aloud;
the demo hands that line to the autopilot. Nothing here runs outside the demo.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

log = logging.getLogger(__name__)

OTP_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]


def sms_bodies(desk: str, mobile: str) -> list[str]:
    query = urllib.parse.urlencode({"mobile": mobile})
    url = f"{desk}/api/v1/dev/outbox/sms?{query}"
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback demo desk
        data = json.loads(response.read().decode("utf-8"))
    return [str(m.get("body", "")) for m in data.get("messages", [])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo.browser")
    parser.add_argument("--url", required=True, help="the applicant's join URL")
    camera = parser.add_mutually_exclusive_group(required=True)
    camera.add_argument("--y4m", type=Path, help="Chromium's fake camera plays this clip")
    camera.add_argument("--canvas-camera", type=Path, metavar="DIR",
                        help="the live canvas camera, its pictures pre-rendered into DIR")
    parser.add_argument("--camera-size", default="1280x720", metavar="WxH",
                        help="--canvas-camera: the camera's size (default 1280x720)")
    parser.add_argument("--desk", required=True)
    parser.add_argument("--mobile", default="+393331234567")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--profile", required=True, type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # a frozen build leaves Playwright out (README "Desktop build")
        print("demo.browser: Playwright is not installed here; run `demo --applicant chromium` "
              "from a source checkout (make setup)", file=sys.stderr)
        return 2

    flags = list(FLAGS)
    script = None
    if args.y4m is not None:
        flags.append(f"--use-file-for-fake-video-capture={args.y4m.resolve()}")
    else:
        from demo import canvas_camera

        width, height = canvas_camera.parse_size(args.camera_size)
        manifest = canvas_camera.render_frames(args.canvas_camera, width, height)
        script = canvas_camera.init_script(manifest)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(args.profile), executable_path=args.chromium, headless=True, args=flags,
            viewport={"width": 1280, "height": 800}, locale="it-IT",
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            if script is not None:  # demo only: the page itself is served unchanged
                page.add_init_script(script)
            page.goto(args.url)
            page.wait_for_function("() => window.recognitionPage !== undefined")
            page.click("#btn-start")
            page.click("#btn-check-run")
            page.wait_for_selector("#btn-check-continue:not([disabled])", timeout=30000)
            page.click("#btn-check-continue")
            page.check("#consent-recording")
            page.check("#consent-terms")
            page.click("#btn-consent")
            page.wait_for_selector("#view-waiting:not([hidden])")
            print("waiting", flush=True)
            baseline = set(sms_bodies(args.desk, args.mobile))
            while not stop.is_set():
                for body in sms_bodies(args.desk, args.mobile):
                    if body in baseline:
                        continue
                    baseline.add(body)
                    match = OTP_RE.search(body)
                    if match:
                        log.info("SMS received: the applicant reads the code aloud")
                        print(f"utterance {match.group(1)}", flush=True)
                if page.is_closed():
                    break
                page.wait_for_timeout(500)
                time.sleep(0)
        finally:
            context.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
