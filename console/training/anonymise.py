"""Anonymised export: a clip of a recording with faces and identity documents blurred (no Qt).

For classes that must not see the applicant's data. The clip is one video stream (the applicant's
by default) re-encoded to H.264 in Matroska, without audio (a voice identifies a person too).

What is blurred, generously ("when unsure, blur more"):

* faces: ``console.checks.faces.detect_faces`` (dlib HOG) on a downscaled copy with upsampling,
  every ``detect_every`` frames; each box is grown (hair, ears, chin) and kept for ``hold_s``
  after the last detection. Between two detections a frame gets the union of the boxes found
  before *and* after it (the clip is processed in chunks), so a moving face never slips out;
* documents: ``console.checks.card.find_document``: the whole card/passport page (its
  personal-data zones, photo, MRZ) plus a margin, held the same way;
* a check before encoding: each detection frame is searched again *after* blurring; any face
  still found there is blurred as well (and counted in ``residual``);
* a check of what was written: every frame of the encoded clip is decoded and searched once
  more (the encoder's smoothing can give a pixelated face back its shape); one face found and
  the export fails with :class:`AnonymiseError`, its file removed: a clip leaves only verified.

The blur is a coarse pixelation followed by a strong Gaussian: no identity survives it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]  # x0, y0, x1, y1


class AnonymiseError(RuntimeError):
    """The clip could not be exported (unreadable input, no such stream, bad range)."""


@dataclass
class AnonymiseResult:
    path: Path
    frames: int = 0
    detections: int = 0  # faces found (before blurring) on detection frames
    document_hits: int = 0  # frames where a document was found
    residual: int = 0  # faces still found after blurring (then blurred again)
    verified_frames: int = 0  # frames of the encoded clip searched again, none with a face
    boxes_per_frame: list[int] = field(default_factory=list)


def grow(box: Box, fx: float, fy_up: float, fy_down: float, w: int, h: int) -> Box:
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    return (max(0, int(x0 - bw * fx)), max(0, int(y0 - bh * fy_up)),
            min(w, int(x1 + bw * fx)), min(h, int(y1 + bh * fy_down)))


def blur_box(img: np.ndarray, box: Box) -> None:
    """Pixelate (cells of 1/40 of the box: no eye, nose or mouth survives, even after the
    export is encoded again) then blur ``box`` of a BGR image in place."""
    x0, y0, x1, y1 = box
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    roi = img[y0:y1, x0:x1]
    rh, rw = roi.shape[:2]
    small = cv2.resize(roi, (max(1, rw // 40), max(1, rh // 40)), interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(small, (rw, rh), interpolation=cv2.INTER_NEAREST)
    k = max(3, (min(rw, rh) // 4) | 1)
    img[y0:y1, x0:x1] = cv2.GaussianBlur(coarse, (k, k), 0)


class _Detector:
    """Faces and documents in one BGR frame, as generously grown boxes."""

    def __init__(self, work_width: int = 640) -> None:
        self.work_width = work_width

    def faces(self, img: np.ndarray, upsample: int = 1) -> list[Box]:
        from console.checks import faces

        h, w = img.shape[:2]
        scale = min(1.0, self.work_width / w)
        work = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) \
            if scale < 1.0 else img
        found = faces.detect_faces(work, upsample=upsample)
        out = []
        for f in found:
            x0, y0, x1, y1 = (int(v / scale) for v in f.box)
            out.append(grow((x0, y0, x1, y1), 0.45, 0.8, 0.6, w, h))
        return out

    def documents(self, img: np.ndarray) -> list[Box]:
        """The card found by the card finder, and every cluster of printed lines (a card
        held at an angle or half covered by fingers is still text: blur it)."""
        from console.checks import card

        h, w = img.shape[:2]
        out = []
        det = card.find_document(img, refine=False)
        if det is not None:
            xs, ys = det.corners[:, 0], det.corners[:, 1]
            box = (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max()))
            out.append(grow(box, 0.08, 0.08, 0.08, w, h))
        out += self.text_zones(img)
        return out

    def text_zones(self, img: np.ndarray) -> list[Box]:
        h, w = img.shape[:2]
        scale = min(1.0, self.work_width / w)
        small = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) \
            if scale < 1.0 else img
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
        grad = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT,
                                cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
        otsu, _ = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        _, bw = cv2.threshold(grad, max(float(otsu), 40.0), 255, cv2.THRESH_BINARY)
        lines = cv2.morphologyEx(bw, cv2.MORPH_CLOSE,
                                 cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1)))
        contours, _ = cv2.findContours(lines, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        mask = np.zeros_like(gray)
        n_lines = 0
        for c in contours:
            x, y, cw, ch = cv2.boundingRect(c)
            if 3 <= ch <= 40 and cw >= 12 and cw >= 1.5 * ch:
                cv2.rectangle(mask, (x, y), (x + cw, y + ch), 255, -1)
                n_lines += 1
        if n_lines == 0:
            return []
        grown = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (25, 19)))
        clusters, _ = cv2.findContours(grown, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        out = []
        for c in clusters:
            x, y, cw, ch = cv2.boundingRect(c)
            box = (int(x / scale), int(y / scale), int((x + cw) / scale), int((y + ch) / scale))
            out.append(grow(box, 0.05, 0.05, 0.05, w, h))
        return out


def export_anonymised(
    recording: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    start_s: float = 0.0,
    end_s: float | None = None,
    stream: str = "applicant_video",
    detect_every: int = 3,
    hold_s: float = 1.0,
    crf: int = 26,
) -> AnonymiseResult:
    """Write the anonymised clip [start_s, end_s) of ``stream`` to ``out`` (Matroska)."""
    src_path = Path(recording)
    out_path = Path(out)
    if end_s is not None and end_s <= start_s:
        raise AnonymiseError("the clip's end must come after its start")
    try:
        src = av.open(str(src_path), mode="r")
    except (av.FFmpegError, OSError) as exc:
        raise AnonymiseError(f"{src_path.name}: not a readable recording") from exc
    try:
        videos = list(src.streams.video)
        chosen = next((s for s in videos if s.metadata.get("title") == stream), None)
        if chosen is None:
            order = ("applicant_video", "operator_video")
            n = order.index(stream) if stream in order else -1
            if 0 <= n < len(videos):
                chosen = videos[n]
        if chosen is None:
            raise AnonymiseError(f"the recording has no {stream} stream")
        return _export(src, chosen, out_path, start_s, end_s, detect_every, hold_s, crf)
    finally:
        src.close()


def _export(src: Any, stream: Any, out_path: Path, start_s: float, end_s: float | None,
            detect_every: int, hold_s: float, crf: int) -> AnonymiseResult:
    result = AnonymiseResult(out_path)
    detector = _Detector()
    if start_s > 0:
        with contextlib.suppress(av.FFmpegError):
            src.seek(int(start_s / stream.time_base), stream=stream, backward=True)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".part")
    dst = av.open(str(tmp), mode="w", format="matroska")
    ostream: Any = None
    chunk: list[tuple[float, np.ndarray]] = []
    prev_boxes: list[Box] = []
    held: list[tuple[float, Box]] = []  # (last seen at, box)
    ms = Fraction(1, 1000)

    def encode(t: float, img: np.ndarray) -> None:
        nonlocal ostream
        if ostream is None:
            h, w = img.shape[:2]
            ostream = dst.add_stream("libx264", rate=25, options={
                "preset": "veryfast", "crf": str(crf), "g": "50", "bf": "0"})
            ostream.width, ostream.height = w - w % 2, h - h % 2
            ostream.pix_fmt = "yuv420p"
            ostream.time_base = ms
            ostream.codec_context.time_base = ms
            ostream.metadata["title"] = "anonymised"
        vf = av.VideoFrame.from_ndarray(img[: ostream.height, : ostream.width], format="bgr24")
        vf = vf.reformat(format="yuv420p")
        vf.pts = round((t - start_s) * 1000)
        vf.time_base = ms
        for packet in ostream.encode(vf):
            dst.mux(packet)

    def flush_chunk(next_boxes: list[Box], now_t: float) -> None:
        nonlocal prev_boxes
        # boxes seen within hold_s before this chunk stay blurred
        live_held = [b for seen, b in held if now_t - seen <= hold_s]
        for t, img in chunk:
            for box in prev_boxes + next_boxes + live_held:
                blur_box(img, box)
            result.boxes_per_frame.append(len(prev_boxes) + len(next_boxes) + len(live_held))
            encode(t, img)
            result.frames += 1
        chunk.clear()
        prev_boxes = next_boxes

    size: tuple[int, int] | None = None
    try:
        index = 0
        for frame in _frames(src, stream):
            if frame.pts is None:
                continue
            t = float(frame.pts * frame.time_base)
            if t < start_s - 1e-6:
                continue
            if end_s is not None and t >= end_s:
                break
            # the applicant's stream keeps the size the browser sent, which can change during
            # a call (media.recorder): every frame is brought to the first one's size before
            # the boxes (held across frames) are found and applied
            size = size or (int(frame.width), int(frame.height))
            img = frame.to_ndarray(format="bgr24", width=size[0], height=size[1])
            chunk.append((t, img))
            if index % detect_every == 0:
                boxes = _detect(detector, img, result)
                for b in boxes:
                    held.append((t, b))
                held[:] = [(s, b) for s, b in held if t - s <= hold_s]
                flush_chunk(boxes, t)
            index += 1
        flush_chunk(prev_boxes, chunk[-1][0] if chunk else 0.0)
        if ostream is None:
            raise AnonymiseError("no frame in the requested range")
        for packet in ostream.encode(None):
            dst.mux(packet)
        dst.close()
        result.verified_frames = _verify_written(tmp, detector, start_s)
        os.replace(tmp, out_path)
    except BaseException:
        with contextlib.suppress(Exception):
            dst.close()
        tmp.unlink(missing_ok=True)
        raise
    log.info("anonymised clip: %d frames, %d faces, %d document frames, %d residual, "
             "%d written frames verified", result.frames, result.detections,
             result.document_hits, result.residual, result.verified_frames)
    return result


def _detect(detector: _Detector, img: np.ndarray, result: AnonymiseResult) -> list[Box]:
    """Boxes to blur on this frame; checks the blurred result and adds what is still found."""
    boxes = detector.faces(img)
    result.detections += len(boxes)
    docs = detector.documents(img)
    if docs:
        result.document_hits += 1
    boxes += docs
    probe = img.copy()
    for b in boxes:
        blur_box(probe, b)
    for _ in range(3):  # when unsure, blur more
        left = detector.faces(probe)
        if not left:
            break
        result.residual += len(left)
        h, w = img.shape[:2]
        for b in left:
            big = grow(b, 0.3, 0.3, 0.3, w, h)
            boxes.append(big)
            blur_box(probe, big)
    return boxes


def _verify_written(path: Path, detector: _Detector, start_s: float) -> int:
    """Every frame of the encoded clip searched for a face; the count of frames searched.
    :class:`AnonymiseError` at the first face found."""
    checked = 0
    with av.open(str(path), mode="r") as written:
        for frame in _frames(written, written.streams.video[0]):
            if detector.faces(frame.to_ndarray(format="bgr24")):
                at = start_s + float(frame.pts * frame.time_base) if frame.pts is not None \
                    else start_s
                raise AnonymiseError(
                    f"a face is still recognisable in the encoded clip at {at:.2f} s: "
                    "nothing was exported")
            checked += 1
    return checked


def _frames(src: Any, stream: Any) -> Any:
    for packet in src.demux(stream):
        try:
            yield from packet.decode()
        except av.FFmpegError:
            log.debug("undecodable packet skipped")
