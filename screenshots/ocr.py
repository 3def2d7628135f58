"""The OCR engine of one worker process: RapidOCR (PP-OCR models on onnxruntime's CPU build).

Why this package: ``rapidocr`` ships PP-OCRv6 Chinese detection and recognition models inside
its wheel, so nothing is downloaded at run time (docs/screenshots.md compares it with the older
``rapidocr-onnxruntime``). The model paths are passed explicitly, so a change of the package's
defaults can never turn into a download.

Loaded once per process, on first use (the web process never loads it). One recognition runs at
a time per process, on one long-lived thread: the worker's screenshot queue has one consumer
thread anyway, and the single runner keeps it so if anything else calls in, which bounds the
memory to one image's working set.

Time-out: inference cannot be interrupted, so ``read`` stops waiting after ``timeout_s``. The
late run still occupies the runner until it finishes, so the next image waits behind it (or
times out too) instead of piling a second inference onto the CPU.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from screenshots.images import strips
from screenshots.layout import Box, Line, paragraphs, reading_order

log = logging.getLogger(__name__)

# Recognitions below this confidence are mostly noise from icons and avatars.
MIN_SCORE = 0.5


class OcrTimeout(Exception):
    """Recognition did not finish in time (a loaded machine: a later retry may succeed)."""


@dataclass(frozen=True)
class Reading:
    lines: tuple[Line, ...]
    elapsed_ms: int

    @property
    def paragraphs(self) -> list[str]:
        """The messages: wrapped lines of one bubble rejoined (what the scam check reads)."""
        return paragraphs(self.lines)

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


_engine: Any = None
_load_lock = threading.Lock()
# One long-lived thread runs every recognition: one at a time, and always in the same malloc
# arena (a fresh thread per image gets a fresh arena, and memory fragments across them).
_runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ocr")
_libc: Any = None


def _model_dir() -> Path:
    import rapidocr

    return Path(rapidocr.__file__).parent / "models"


def engine(threads: int = 2) -> Any:
    """The process's RapidOCR instance, created on first call."""
    global _engine
    with _load_lock:
        if _engine is None:
            from rapidocr import RapidOCR

            models = _model_dir()
            started = time.monotonic()
            _engine = RapidOCR(params={
                "Global.log_level": "warning",
                # Screenshots are upright: the 180° classifier costs time and finds nothing.
                "Global.use_cls": False,
                # Detection on a copy at most 960 px on its long side, recognition on crops of
                # the full image: phone text stays legible and detection memory stays small.
                "Global.max_side_len": 4000,
                "Det.limit_type": "max",
                "Det.limit_side_len": 960,
                "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
                "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx"),
                "Rec.rec_batch_num": 2,
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            })
            log.info("ocr: engine loaded in %.1f s", time.monotonic() - started)
        return _engine


def _recognise(image: Image.Image, threads: int) -> list[Box]:
    ocr = engine(threads)
    boxes: list[Box] = []
    for top, strip in strips(image):
        result = ocr(strip)
        if result.boxes is None or result.txts is None:
            continue
        for quad, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
            boxes.append(Box.from_quad(quad, str(text), float(score), dy=top))
    return boxes


def _release_memory() -> None:
    """Hand freed heap back to the OS: inference frees ~200 MB of buffers per image, which glibc
    otherwise keeps, and the worker's resident size would creep up image after image."""
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL("libc.so.6")
        except OSError:  # not glibc: nothing to trim
            _libc = False
    if _libc:
        _libc.malloc_trim(0)


def _recognise_and_release(image: Image.Image, threads: int) -> list[Box]:
    try:
        return _recognise(image, threads)
    finally:
        _release_memory()


def read(image: Image.Image, timeout_s: float, threads: int = 2) -> Reading:
    """The lines of text in ``image`` in reading order. Raises ``OcrTimeout``."""
    started = time.monotonic()
    future = _runner.submit(_recognise_and_release, image, threads)
    try:
        boxes = future.result(timeout=timeout_s)
    except FutureTimeout:
        # Not started yet (an earlier late run holds the runner): it never will be.
        future.cancel()
        raise OcrTimeout(f"no result after {timeout_s} s") from None
    lines = reading_order(boxes, min_score=MIN_SCORE)
    return Reading(tuple(lines), int((time.monotonic() - started) * 1000))
