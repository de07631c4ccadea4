"""A resident's photo, made safe to keep: decoded, turned upright, shrunk, re-encoded.

Phones write EXIF into every photo: the camera, the time, and often the GPS position
of the resident's own home when the picture was taken there. None of that is the city's
business, and some of it is personal data. So nothing of the file is kept as sent:
Pillow decodes the pixels (refusing anything that is not a picture, and pictures so
large they could only be an attack), applies the EXIF orientation so the photo stays
the right way up, scales it to at most MAX_SIDE pixels a side, and writes a new JPEG
from the pixels alone — no EXIF, no GPS, no XMP, no ICC profile, no comment.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

MAX_SIDE = 1600              # pixels: plenty to see a pothole, ~200-400 KB as JPEG
MAX_PIXELS = 60_000_000      # a real phone photo has at most ~50 MP; more is a decompression bomb
QUALITY = 85
FORMATS = ("JPEG", "PNG", "WEBP", "MPO")  # what phones send through LINE (MPO: some cameras' JPEG)


class NotAPhoto(ValueError):
    """The bytes are not a picture we take."""


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes   # JPEG without metadata
    width: int
    height: int


def clean(data: bytes) -> CleanPhoto:
    """The picture in `data` as a metadata-free JPEG of at most MAX_SIDE pixels a side."""
    from PIL import Image, ImageOps, UnidentifiedImageError  # here: every start imports the reports service

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as source:
                if source.format not in FORMATS:
                    raise NotAPhoto(f"{source.format or 'unknown'} is not a photo format we take")
                if source.width * source.height > MAX_PIXELS:
                    raise NotAPhoto(f"{source.width}x{source.height} pixels is more than a photo")
                source.load()
                upright = ImageOps.exif_transpose(source)
                pixels = upright.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError,
            SyntaxError, ValueError) as exc:
        if isinstance(exc, NotAPhoto):
            raise
        raise NotAPhoto(f"cannot be read as a picture ({exc.__class__.__name__})") from None
    pixels.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # a new image from the pixels alone: nothing of the source's info travels along
    bare = Image.new("RGB", pixels.size)
    bare.paste(pixels)
    out = io.BytesIO()
    bare.save(out, "JPEG", quality=QUALITY, optimize=True)
    return CleanPhoto(out.getvalue(), bare.width, bare.height)
