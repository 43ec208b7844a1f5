"""A scenario pack playing the remote applicant (DEMO/TEST PEER, no Qt here).

    python -m demo.training_peer --desk URL --pack PACK_FOLDER   (join token: env
    TRAINING_JOIN_TOKEN)

The synthetic applicant of ``demo.applicant`` on the real protocol, but showing what the pack
says: the documents of ``applicant.person`` (``console.specimens`` renders them, so a scenario's
expired card or different surname is really printed on it, MRZ included), the live face
``applicant.live_face``, and from the still requests of ``third_person.from_step`` on a second
person in the frame.

A pack with recorded clips plays them instead: ``clips.applicant`` (a whole recorded applicant)
and/or a clip per scene, named by the still target or instruction it answers (``face``,
``document_front``, ``document_back``, ``health_card``...). The clip of the scene being shown
loops as the camera; a still is the clip's current frame at full size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from demo.applicant.applicant import ApplicantConfig, SyntheticApplicant
from demo.applicant.scene import SceneRenderer, Step

log = logging.getLogger(__name__)

CARD_KINDS = {Step.ID_FRONT: "cie_front", Step.ID_BACK: "cie_back", Step.TS_FRONT: "ts_front",
              Step.TS_BACK: "ts_back"}


class ClipLoop:
    """A recorded clip decoded frame by frame (I420 at the scene's size), looping."""

    def __init__(self, path: Path, width: int, height: int) -> None:
        import av

        self.path = path
        self.size = (width, height)
        self._av = av
        self._frames: Any = None
        self._container: Any = None
        self.last: np.ndarray | None = None

    def _open(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container = self._av.open(str(self.path))
        self._frames = self._container.decode(video=0)

    def next(self) -> np.ndarray:
        for _ in range(2):
            if self._frames is None:
                self._open()
            try:
                frame = next(self._frames)
            except StopIteration:
                self._frames = None  # loop
                continue
            w, h = self.size
            self.last = np.ascontiguousarray(
                frame.reformat(width=w, height=h, format="yuv420p").to_ndarray())
            return self.last
        raise ValueError(f"{self.path.name}: the clip has no video frame")

    def bgr(self) -> np.ndarray:
        buf = self.last if self.last is not None else self.next()
        return cv2.cvtColor(buf, cv2.COLOR_YUV2BGR_I420)

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


def clip_scenes(clips: dict[str, Path], width: int, height: int) -> dict[Step | None, ClipLoop]:
    """Clips by the scene they show (``None``: the whole applicant, for every scene)."""
    from demo.applicant.scene import step_for

    out: dict[Step | None, ClipLoop] = {}
    for name, path in clips.items():
        step = None if name == "applicant" else step_for(name)
        if step is None and name != "applicant":
            log.warning("clip %s: not a scene name, ignored", name)
            continue
        out[step] = ClipLoop(Path(path), width, height)
    return out


class ScenarioRenderer(SceneRenderer):
    """The scene of a scenario: specimen documents of the pack's person, its live face, and
    (when ``third_person`` is set) a second face beside the applicant -- or the pack's clips."""

    def __init__(self, width: int, height: int, applicant: dict[str, Any],
                 clips: dict[str, Path] | None = None) -> None:
        super().__init__(width, height)
        self.clips = clip_scenes(clips or {}, width, height)
        from console.training.scenarios import person_from_json

        self.person = person_from_json(dict(applicant["person"]))
        self.live_face = str(applicant.get("live_face", "astronaut"))
        self.third_person = False
        self.has_third_person = bool(applicant.get("third_person"))
        self._pictures: dict[tuple[Step, bool], np.ndarray] = {}

    def prepare_scenario(self) -> None:
        """Compose every picture before the call (a specimen scene takes a second or more:
        never on the event loop, where it would stall the heartbeat)."""
        for step in Step:
            for third in ((False, True) if self.has_third_person else (False,)):
                self._picture(step, third)

    def _picture(self, step: Step, third: bool) -> np.ndarray:
        key = (step, third)
        if key not in self._pictures:
            saved, self.third_person = self.third_person, third
            try:
                self._pictures[key] = self._compose(step, None)
            finally:
                self.third_person = saved
        return self._pictures[key]

    def bgr(self, step: Step = Step.FACE, hand: Any = None) -> np.ndarray:
        return self._picture(step, self.third_person).copy()

    def i420(self, step: Step = Step.FACE, hand: Any = None) -> np.ndarray:
        key = (step, self.third_person)
        if key not in self._i420:  # type: ignore[comparison-overlap]
            self._i420[key] = np.ascontiguousarray(  # type: ignore[index]
                cv2.cvtColor(self._picture(step, self.third_person), cv2.COLOR_BGR2YUV_I420))
        return self._i420[key]  # type: ignore[index]

    def _compose(self, step: Step, hand: Any) -> np.ndarray:
        from console import specimens

        w, h = self.width, self.height
        if step in CARD_KINDS:
            doc, _zones = specimens.render(CARD_KINDS[step], self.person)  # type: ignore[arg-type]
            img, _corners = specimens.place_in_scene(
                doc, specimens.SceneParams(size=(w, h), scale=0.62, noise=0.0, seed=3))
            return img
        img = self._background()
        portrait = specimens.face_portrait(self.live_face)  # type: ignore[arg-type]
        ph = int(h * 0.85)
        pw = ph * portrait.shape[1] // portrait.shape[0]
        x0 = int(w * 0.12)
        img[h - ph:h, x0:x0 + pw] = cv2.resize(portrait, (pw, ph), interpolation=cv2.INTER_AREA)
        if self.third_person:
            # public-domain frontal faces are scarce offline: the second person is the
            # astronaut mirrored, in grey (the cameraman is in profile, no detector sees him)
            other = cv2.cvtColor(cv2.cvtColor(specimens.face_portrait("astronaut")[:, ::-1],
                                              cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
            oh = int(h * 0.6)
            ow = oh * other.shape[1] // other.shape[0]
            ox = w - ow - int(w * 0.08)
            img[h - oh:h, ox:ox + ow] = cv2.resize(other, (ow, oh), interpolation=cv2.INTER_AREA)
        return img

    def set_third_person(self, present: bool) -> None:
        self.third_person = present

    def clip_for(self, step: Step) -> ClipLoop | None:
        return self.clips.get(step) or self.clips.get(None)

    def video_frame(self, step: Step, hand: Any, frame_no: int, flash: bool,
                    sway: tuple[int, int] = (0, 0)) -> np.ndarray:
        clip = self.clip_for(step)
        if clip is not None:
            return clip.next().copy()
        return super().video_frame(step, hand, frame_no, flash, sway)

    def png(self, step: Step = Step.FACE, hand: Any = None) -> bytes:
        clip = self.clip_for(step)
        if clip is None:
            return super().png(step, hand)
        ok, encoded = cv2.imencode(".png", clip.bgr(), [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if not ok:
            raise RuntimeError("PNG encoding failed")
        return bytes(encoded.tobytes())


def third_person_targets(pack_applicant: dict[str, Any], script: dict[str, Any]) -> set[str]:
    """The still targets of the script step from which the third person is in the frame, and of
    every later step."""
    third = pack_applicant.get("third_person")
    if not isinstance(third, dict) or not third.get("from_step"):
        return set()
    steps = script.get("steps", [])
    ids = [s.get("id") for s in steps]
    if third["from_step"] not in ids:
        return set()
    start = ids.index(third["from_step"])
    return {t for s in steps[start:] for t in (s.get("targets") or [])}


class ScenarioApplicant(SyntheticApplicant):
    def __init__(self, config: ApplicantConfig, applicant: dict[str, Any],
                 third_targets: set[str], clips: dict[str, Path] | None = None) -> None:
        super().__init__(config)
        self.renderer = ScenarioRenderer(config.width, config.height, applicant, clips)
        self._third_targets = third_targets

    def _on_dc_message(self, channel: Any, message: str | bytes) -> None:
        if isinstance(message, str) and self._third_targets:
            try:
                msg = json.loads(message)
            except ValueError:
                msg = None
            if isinstance(msg, dict) and msg.get("type") == "still_request" \
                    and msg.get("step") in self._third_targets:
                self.renderer.set_third_person(True)  # type: ignore[attr-defined]
        super()._on_dc_message(channel, message)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m demo.training_peer")
    ap.add_argument("--desk", required=True)
    ap.add_argument("--pack", required=True, type=Path)
    ap.add_argument("--script", type=Path, help="the script JSON (for third_person.from_step)")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--fps", type=int, default=10)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("aioice", "aiortc"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    token = os.environ.get("TRAINING_JOIN_TOKEN", "")
    if not token:
        print("TRAINING_JOIN_TOKEN is not set", file=sys.stderr)
        return 2
    from console.training.pack import PackError, load_pack

    try:
        pack = load_pack(args.pack)
        script = json.loads(args.script.read_text(encoding="utf-8")) if args.script else {}
    except (PackError, OSError, ValueError) as exc:
        print(f"training peer: {exc}", file=sys.stderr)
        return 2
    config = ApplicantConfig(desk_url=args.desk, join_token=token, width=args.width,
                             height=args.height, fps=args.fps, motion=False,
                             mobile=str(pack.request["applicant"].get("mobile", "")))
    applicant = ScenarioApplicant(config, pack.applicant,
                                  third_person_targets(pack.applicant, script),
                                  dict(pack.clips))
    applicant.renderer.prepare_scenario()  # type: ignore[attr-defined]
    for step in Step:  # the video track's I420 pictures too
        applicant.renderer.i420(step)
        if applicant.renderer.has_third_person:  # type: ignore[attr-defined]
            applicant.renderer.set_third_person(True)  # type: ignore[attr-defined]
            applicant.renderer.i420(step)
            applicant.renderer.set_third_person(False)  # type: ignore[attr-defined]
    return asyncio.run(_run(applicant))


async def _run(applicant: ScenarioApplicant) -> int:
    task = asyncio.ensure_future(applicant.run())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        reason = await task
    except asyncio.CancelledError:
        reason = "cancelled"
    log.info("training peer finished: %s", reason)
    return {"ended": 0, "cancelled": 0, "auth": 3}.get(reason, 4)


if __name__ == "__main__":
    sys.exit(main())
