"""An uploaded photo or scan made safe to store and show: PNG or JPEG, upright, not too large.

`prepare_image` checks an upload with Pillow before decoding it: PNG or JPEG only (a
phone's multi-picture JPEG too), at most `MAX_BYTES` and `MAX_PIXELS` (a decompression
bomb, a few kilobytes claiming billions of pixels, is refused from its header, Pillow's
own bomb check included); then turns it upright by its EXIF orientation, scales it down
to `DISPLAY_PX` on its longest side (a large JPEG is decoded at 1/2, 1/4 or 1/8 scale
first) and re-encodes it, which also drops its metadata (a phone photo's GPS position).

Examples
--------
>>> import io
>>> from PIL import Image
>>> buf = io.BytesIO()
>>> Image.new("RGB", (8000, 2000), "white").save(buf, "JPEG")
>>> ready = prepare_image(buf.getvalue(), name="scan.jpg")
>>> ready.suffix, ready.width, ready.height, ready.scale_x
('.jpg', 4096, 1024, 0.512)
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from gridgis.errors import ImageError

__all__ = ["DISPLAY_PX", "MAX_BYTES", "MAX_PIXELS", "PreparedImage", "prepare_image"]

MAX_BYTES = 50 * 1024 * 1024
"""The largest upload accepted (bytes): a 600 dpi A1 JPEG scan is about 30 MB."""
MAX_PIXELS = 80_000_000
"""The most pixels an upload may have (a 300 dpi A1 scan is 70 million), below Pillow's own
bomb limit; the image is decoded only after this check."""
DISPLAY_PX = 4096
"""Longest side of the stored image (pixels): about 7 cm a pixel over a 300 m compound."""
_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "MPO": ".jpg"}  # MPO: a phone's multi-picture JPEG
_SWAPS_AXES = {5, 6, 7, 8}  # EXIF orientations that turn the picture a quarter
_T = Image.Transpose
_TURNS = {2: _T.FLIP_LEFT_RIGHT, 3: _T.ROTATE_180, 4: _T.FLIP_TOP_BOTTOM, 5: _T.TRANSPOSE,
          6: _T.ROTATE_270, 7: _T.TRANSVERSE, 8: _T.ROTATE_90}  # fmt: skip  # EXIF orientation


@dataclass(frozen=True)
class PreparedImage:
    """An upload made ready to store: upright, at most `DISPLAY_PX`, re-encoded.

    ``scale_x, scale_y``: stored pixels per upload pixel (1.0 when not scaled down),
    the upload taken upright (after its EXIF orientation).
    """

    data: bytes
    suffix: str
    width: int
    height: int
    scale_x: float = 1.0
    scale_y: float = 1.0


def _open(data: bytes, name: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=["PNG", "JPEG"])  # (JPEG reads MPO)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        msg = f"image {name!r} is too large to open safely (a decompression bomb?): {exc}"
        raise ImageError(msg) from exc
    except UnidentifiedImageError as exc:
        msg = f"image {name!r} is not a PNG or JPEG image (it starts {data[:8]!r})"
        raise ImageError(msg) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageError(f"image {name!r} is not a PNG or JPEG image: {exc}") from exc


def _upright_mode(img: Image.Image) -> Image.Image:
    """Modes a browser shows and the format stores: L, LA, RGB or RGBA."""
    if img.mode in ("L", "LA", "RGB", "RGBA"):
        return img
    if img.mode == "P":
        return img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode.startswith("I;16"):
        img = img.convert("I")
    if img.mode in ("I", "F"):  # 16-bit greys: to 0..255
        return img.point(lambda v: v / 257).convert("L")
    if img.mode == "1":
        return img.convert("L")
    return img.convert("RGBA" if "A" in img.getbands() else "RGB")


def prepare_image(
    data: bytes,
    *,
    name: str = "upload",
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
    display_px: int = DISPLAY_PX,
) -> PreparedImage:
    """Check an uploaded PNG or JPEG and make the image to store.

    Parameters
    ----------
    data
        The uploaded file's bytes.
    name
        The upload's file name, for messages.
    max_bytes, max_pixels
        Larger uploads are refused (before the image is decoded).
    display_px
        Longest side of the stored image; larger images are scaled down.

    Raises
    ------
    ImageError
        Not a PNG or JPEG, corrupt or truncated, or larger than the limits.
    """
    if len(data) > max_bytes:
        msg = (f"image {name!r} is {len(data) / 1e6:.1f} MB, more than the {max_bytes / 1e6:.0f}"
               " MB allowed: scan at a lower resolution or save it as JPEG")  # fmt: skip
        raise ImageError(msg)
    img = _open(data, name)
    fmt = str(img.format)
    width, height = img.size
    if width * height > max_pixels:
        msg = (f"image {name!r} is {width} x {height} pixels, more than the "
               f"{max_pixels / 1e6:.0f} million allowed: scan at a lower resolution")  # fmt: skip
        raise ImageError(msg)
    k = min(1.0, display_px / max(width, height))
    target = (max(1, round(width * k)), max(1, round(height * k)))
    try:
        orientation = int(img.getexif().get(0x0112, 1))  # (a PNG's decodes the image)
        box = None
        if k < 1 and fmt != "PNG":  # decode the JPEG at 1/2, 1/4 or 1/8 scale
            drafted = img.draft(None, target)
            box = None if drafted is None else drafted[1]
        img.load()
        img = _upright_mode(img)
        if k < 1:  # `box`: the part of the drafted image that is the picture
            img = img.resize(target, Image.Resampling.LANCZOS, box=box)
        if orientation in _TURNS:
            img = img.transpose(_TURNS[orientation])
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt pixel data
        raise ImageError(f"image {name!r} cannot be decoded: {exc}") from exc
    upright = (height, width) if orientation in _SWAPS_AXES else (width, height)
    suffix = ".png" if fmt == "PNG" else ".jpg"
    out = io.BytesIO()
    if suffix == ".png":
        img.save(out, "PNG", optimize=False, compress_level=6)
    else:
        img.convert("L" if img.mode in ("L", "LA") else "RGB").save(out, "JPEG", quality=88)
    w, h = img.size
    return PreparedImage(out.getvalue(), suffix, w, h, w / upright[0], h / upright[1])
