"""The plan image (a scanned site plan to trace over): upload checks, storage, revisions."""

from __future__ import annotations

import io
import json
import shutil
import struct
import zlib

import numpy as np
import pyproj
import pytest
from PIL import Image

from gridgis.core.georef import fit_transform
from gridgis.core.image_upload import MAX_BYTES, prepare_image
from gridgis.core.plan_image import RECORD_FILE, PlanImage, PlanImageStore, fit_into
from gridgis.errors import ConflictError, ImageError, ProjectError

from .conftest import DATA

BOUNDS = (104.0690, 30.6690, 104.0710, 30.6705)  # about 190 x 170 m
METRIC = "EPSG:4544"


@pytest.fixture
def project(tmp_path):
    return shutil.copytree(DATA / "dongsi180", tmp_path / "p")


def _encode(img: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


def _png(width: int = 300, height: int = 200, colour: int = 255) -> bytes:
    return _encode(Image.new("L", (width, height), colour))


def _png_header(width: int, height: int) -> bytes:
    """A tiny PNG that claims `width` x `height` pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _metres(a, b) -> float:
    geod = pyproj.Geod(ellps="WGS84")
    a, b = np.asarray(a, float).reshape(-1, 2), np.asarray(b, float).reshape(-1, 2)
    return float(np.max(geod.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2]))


def test_upload_load_update_round_trip(project):
    store = PlanImageStore(project)
    assert store.load() is None and store.revision() == 0
    plan = store.upload(_png(), name="总平面图.png", expected_rev=0, bounds=BOUNDS)
    assert (plan.rev, plan.width, plan.height, plan.name) == (1, 300, 200, "总平面图.png")
    assert plan.media_type == "image/png" and plan.path is not None and plan.path.is_file()
    assert store.load() == plan
    # the image is fitted inside the bounds, centred, keeping its 3:2 shape
    corners = plan.corners()
    assert BOUNDS[0] - 1e-7 <= corners[:, 0].min() and corners[:, 0].max() <= BOUNDS[2] + 1e-7
    assert BOUNDS[1] - 1e-7 <= corners[:, 1].min() and corners[:, 1].max() <= BOUNDS[3] + 1e-7
    assert corners[0, 0] == pytest.approx(corners[3, 0], abs=1e-9)  # north up on the map
    assert corners[0, 1] == pytest.approx(corners[1, 1], abs=1e-9)

    pixels = [(10, 10), (290, 20), (150, 190)]
    truth = [(104.0691, 30.6703), (104.0709, 30.6702), (104.0700, 30.6691)]
    store.update(expected_rev=1, opacity=0.35, image_points=pixels, map_points=truth)
    fitted = store.fit(expected_rev=2, crs=METRIC)
    assert fitted.rev == 3 and fitted.opacity == 0.35
    assert fitted.placement == fit_transform(pixels, truth, crs=METRIC)
    again = PlanImageStore(project).load()
    assert again == fitted and again.image_points == tuple(
        map(tuple, map(map, [float] * 3, pixels))
    )
    record = json.loads((project / RECORD_FILE).read_text())
    assert record["rev"] == 3 and record["file"] == fitted.file and record["opacity"] == 0.35
    assert PlanImage.from_dict(record) == fitted


def test_a_new_upload_replaces_the_old_image_file(project):
    store = PlanImageStore(project)
    first = store.upload(_png(colour=0), name="a.png", expected_rev=0, bounds=BOUNDS)
    second = store.upload(_png(colour=200), name="b.png", expected_rev=1, bounds=BOUNDS)
    assert first.file != second.file and second.rev == 2
    assert sorted(p.name for p in (project / "plan_image").iterdir()) == [second.file.split("/")[1]]
    assert store.remove(expected_rev=2) == 3
    assert store.load() is None and not (project / "plan_image").exists()
    assert store.revision() == 3  # a removal is a revision too


def test_stale_revisions_conflict(project):
    mine, theirs = PlanImageStore(project), PlanImageStore(project)
    mine.upload(_png(), name="a.png", expected_rev=0, bounds=BOUNDS)
    theirs.update(expected_rev=1, opacity=0.9)
    with pytest.raises(ConflictError, match=r"changed by another session \(revision 2, this one"):
        mine.update(expected_rev=1, opacity=0.1)
    assert mine.load().opacity == 0.9
    with pytest.raises(ConflictError, match="revision 2"):
        mine.upload(_png(), name="b.png", expected_rev=0, bounds=BOUNDS)
    theirs.remove(expected_rev=2)
    with pytest.raises(ConflictError, match="revision 3"):  # removed, then a stale write
        mine.upload(_png(), name="c.png", expected_rev=2, bounds=BOUNDS)
    with pytest.raises(ProjectError, match="no plan image to change"):
        mine.update(expected_rev=3, opacity=0.5)


def test_a_geopackage_project_has_no_plan_image(tmp_path):
    gpkg = shutil.copy(DATA / "shaxi_f.gpkg", tmp_path / "s.gpkg")
    store = PlanImageStore(gpkg)
    assert store.load() is None
    with pytest.raises(ProjectError, match="not a folder project: a plan image needs one"):
        store.upload(_png(), name="a.png", expected_rev=0, bounds=BOUNDS)


def test_bad_uploads_are_refused_with_their_name():
    with pytest.raises(ImageError, match=r"'x.png' is not a PNG or JPEG image"):
        prepare_image(b"hello, not an image", name="x.png")
    gif = _encode(Image.new("P", (20, 20)), "GIF")
    with pytest.raises(ImageError, match=r"'plan.gif' is not a PNG or JPEG"):
        prepare_image(gif, name="plan.gif")
    truncated = _png(400, 400)[:-300]
    with pytest.raises(ImageError, match=r"'cut.png' cannot be decoded"):
        prepare_image(truncated, name="cut.png")
    with pytest.raises(ImageError, match=r"'big.png' is 0.0 MB, more than the 0 MB allowed"):
        prepare_image(_png(), name="big.png", max_bytes=100)
    huge = b"\xff\xd8" + bytes(MAX_BYTES)
    with pytest.raises(ImageError, match=r"is 52.4 MB, more than the 52 MB allowed"):
        prepare_image(huge, name="huge.jpg")


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ((20_000, 20_000), "too large to open safely \\(a decompression bomb\\?\\)"),  # Pillow errs
        ((9_500, 9_500), "too large to open safely"),  # Pillow warns: an error here too
        ((9_000, 9_000), "9000 x 9000 pixels, more than the 80 million allowed"),  # our limit
    ],
)
def test_decompression_bombs_are_refused_from_their_header(size, message):
    bomb = _png_header(*size)
    assert len(bomb) < 200
    with pytest.raises(ImageError, match=message):
        prepare_image(bomb, name="bomb.png")


def test_exif_orientation_is_applied():
    raw = Image.new("RGB", (40, 20), "white")
    raw.paste((255, 0, 0), (0, 0, 10, 10))  # red at the stored top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise
    ready = prepare_image(_encode(raw, "JPEG", exif=exif, quality=95), name="photo.jpg")
    assert (ready.width, ready.height, ready.suffix) == (20, 40, ".jpg")
    shown = Image.open(io.BytesIO(ready.data)).convert("RGB")
    assert shown.getpixel((15, 4))[0] > 200 > shown.getpixel((15, 4))[1]  # now top-right
    assert shown.getpixel((4, 4)) > (200, 200, 200)
    assert not Image.open(io.BytesIO(ready.data)).getexif()  # metadata (GPS...) dropped


def _dark_centre(data: bytes) -> tuple[float, float]:
    pixels = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    rows, cols = np.nonzero(pixels < 128)
    return float(cols.mean()) + 0.5, float(rows.mean()) + 0.5  # pixel centres


@pytest.mark.parametrize(("fmt", "size"), [("PNG", (6000, 3000)), ("JPEG", (9000, 3003))])
def test_downscaling_keeps_the_placement_within_half_a_metre(project, fmt, size):
    width, height = size
    big = Image.new("L", size, 255)
    dot = (int(width * 0.75), int(height * 0.25))
    big.paste(0, (dot[0] - 15, dot[1] - 15, dot[0] + 15, dot[1] + 15))
    # the scan placed by its corners (a skewed, turned 600 m-wide plan: 10 cm a pixel)
    corners_px = [(0, 0), (width, 0), (0, height)]
    corners_ll = [(104.0650, 30.6730), (104.0712, 30.6715), (104.0660, 30.6705)]
    placed = fit_transform(corners_px, corners_ll, crs=METRIC)
    store = PlanImageStore(project)
    plan = store.upload(_encode(big, fmt), name=f"scan.{fmt.lower()}", expected_rev=0,
                        placement=placed)  # fmt: skip
    assert max(plan.width, plan.height) == 4096
    want = placed.to_map([(0, 0), (width, 0), (width, height), (0, height)])
    assert _metres(plan.corners(), want) < 0.5
    stored = plan.path.read_bytes()
    seen = plan.placement.to_map([_dark_centre(stored)])
    assert _metres(seen, placed.to_map([dot])) < 0.5


def test_fit_into_keeps_the_shape_and_centre():
    tall = fit_into(100, 400, BOUNDS, crs=METRIC)
    corners = tall.corners(100, 400)
    assert corners[:, 1].max() == pytest.approx(BOUNDS[3], abs=1e-7)  # height fills
    assert corners[:, 0].min() > BOUNDS[0] + 1e-4  # width does not
    centre = tall.to_map([(50, 200)])[0]
    assert centre == pytest.approx(((BOUNDS[0] + BOUNDS[2]) / 2, (BOUNDS[1] + BOUNDS[3]) / 2))
