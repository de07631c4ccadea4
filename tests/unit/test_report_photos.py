"""A resident's photo is kept as pixels only: no EXIF, no GPS, no comment, upright, small."""

from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image, PngImagePlugin

from handlers.reports.photos import MAX_SIDE, NotAPhoto, clean


def jpeg_with_gps(size=(3000, 1000), orientation=1) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (35.0, 41.0, 22.2), 3: "E", 4: (139.0, 41.0, 30.1)}
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "JPEG", exif=exif.tobytes(), comment=b"home")
    return out.getvalue()


def test_exif_and_gps_are_gone_and_the_photo_is_shrunk():
    kept = clean(jpeg_with_gps())
    image = Image.open(io.BytesIO(kept.data))
    assert image.format == "JPEG" and max(image.size) == MAX_SIDE == kept.width
    assert not image.getexif() and not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert {"exif", "comment", "icc_profile", "xmp"}.isdisjoint(image.info)
    assert b"Exif" not in kept.data and b"PhoneMaker" not in kept.data


def test_the_orientation_the_phone_wrote_is_applied_before_it_is_dropped():
    kept = clean(jpeg_with_gps(size=(400, 200), orientation=6))
    assert (kept.width, kept.height) == (200, 400)


def test_a_png_with_text_chunks_becomes_a_bare_jpeg():
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "35.681236,139.767125")
    out = io.BytesIO()
    Image.new("RGBA", (50, 40), (0, 0, 0, 0)).save(out, "PNG", pnginfo=info)
    kept = clean(out.getvalue())
    assert Image.open(io.BytesIO(kept.data)).format == "JPEG" and b"35.681236" not in kept.data


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7", b"GIF89a" + b"\0" * 20, b"<svg xmlns='http://www.w3.org/2000/svg'/>"])
def test_what_is_no_photo_is_refused(data):
    with pytest.raises(NotAPhoto):
        clean(data)


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    out = io.BytesIO()
    Image.new("1", (12000, 12000)).save(out, "PNG")  # 144 MP of one bit: a few KB on disk
    assert len(out.getvalue()) < 1_000_000
    with pytest.raises(NotAPhoto):
        clean(out.getvalue())
