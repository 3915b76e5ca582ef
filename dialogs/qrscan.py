"""Reading QR codes from a photo (the face of a citizen ID card), with bounded work.

Decoding is CPU work: the runtime calls :func:`read_qr` in a worker thread, never on the event loop.
Photos come from strangers, so the work is bounded before any pixel is decoded:

* the file size (:data:`MAX_BYTES`) and the pixel count read from the image header
  (:data:`MAX_PIXELS`) are checked before decompression (a decompression bomb is a small file
  that declares a huge canvas);
* a JPEG is decoded at a reduced scale straight from its DCT data when it is much larger than the
  working size; other images are downscaled after loading;
* at most five passes (as found, contrast stretched, larger, sharpened, another binarizer), each on an
  image of at most :data:`WORK_SIDE` pixels on its longest side (plus one pass at a larger size for a
  small card in a large photo).

The decoder is zxing-cpp (a wheel with no system dependency; it finds QR codes at any rotation and
under perspective). Nothing here logs the decoded text.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 50-megapixel photo is the largest phone camera's; bombs declare far more
WORK_SIDE = 1600
LARGE_SIDE = 3200
MAX_CODES = 4


@dataclass(frozen=True)
class Scan:
    """What a photo held: ``status`` is ``ok`` (``texts`` has the QR texts found, possibly none),
    ``not_image`` (not a picture we can open) or ``too_large``."""

    status: str
    texts: tuple[str, ...] = ()


def read_qr(data: bytes) -> Scan:
    """The QR codes' texts in an image file (JPEG, PNG, WebP, GIF…). Never raises: a photo that cannot be
    read is ``not_image``."""
    try:
        return _read(data)
    except Exception:
        return Scan("not_image")


def _read(data: bytes) -> Scan:
    if not data or len(data) > MAX_BYTES:
        return Scan("too_large" if data else "not_image")
    from PIL import Image, ImageFilter, ImageOps
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w <= 0 or h <= 0:
                return Scan("not_image")
            if w * h > MAX_PIXELS:
                return Scan("too_large")
            if img.format == "JPEG" and max(w, h) > 2 * LARGE_SIDE:
                img.draft("L", (w * LARGE_SIDE // max(w, h), h * LARGE_SIDE // max(w, h)))
            img.seek(0)
            gray = img.convert("L")
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        return Scan("too_large")
    except (OSError, ValueError, SyntaxError, EOFError):
        return Scan("not_image")
    big = _fit(gray, LARGE_SIDE)
    work = _fit(big, WORK_SIDE)
    texts = _decode(work)
    if not texts:  # low light, glare: stretch the contrast
        texts = _decode(ImageOps.autocontrast(work, cutoff=1))
    if not texts and big.size != work.size:  # a small card in a large photo: look at more pixels
        texts = _decode(big)
    if not texts:  # a shaken or out-of-focus photo: sharpen the module edges
        texts = _decode(work.filter(ImageFilter.UnsharpMask(radius=2, percent=200, threshold=0)))
    if not texts:
        texts = _decode(work, histogram=True)
    return Scan("ok", tuple(texts[:MAX_CODES]))


def _fit(img, side: int):
    w, h = img.size
    if max(w, h) <= side:
        return img
    scale = side / max(w, h)
    return img.resize((max(1, round(w * scale)), max(1, round(h * scale))), reducing_gap=2.0)


def _decode(img, histogram: bool = False) -> list[str]:
    import zxingcpp
    kwargs: dict[str, Any] = {"binarizer": zxingcpp.Binarizer.GlobalHistogram} if histogram else {}
    qr: Any = zxingcpp.BarcodeFormat.QRCode  # (a single format; the stubs want the flag set type)
    found = zxingcpp.read_barcodes(img, formats=qr, try_rotate=True, try_downscale=True, try_invert=False,
                                   **kwargs)
    return [b.text for b in found if b.valid and b.text]


def scan_message(msg):
    """``msg`` (a dialogs.messages.Incoming) with every file's QR codes read into ``IncomingFile.scan``."""
    from dataclasses import replace
    files = tuple(replace(f, scan=read_qr(f.data)) for f in msg.files[:3])
    single = replace(msg.file, scan=read_qr(msg.file.data)) if msg.file is not None else None
    return replace(msg, file=single, files=files + msg.files[3:])
