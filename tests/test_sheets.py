import datetime as dt
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib import font_manager
from PIL import Image
from shapely import box

from gridgis.analysis.engine import analyze_sites
from gridgis.cli import main
from gridgis.core.project import Project, open_project
from gridgis.errors import GridGISError
from gridgis.report.sheets.offline import standalone_html
from gridgis.report.sheets.proposals import letter
from gridgis.report.sheets.render import cjk_font, map_sheet, proposals, share_png
from gridgis.report.sheets.style import is_cff

from .conftest import DATA, _frame

CHROMIUM = "/usr/bin/chromium"
A3 = 420 / 297
DAY = dt.date(2025, 6, 1)


def _decoded(page: str) -> str:
    """The page with JSON's \\uXXXX escapes turned back into text."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g.group(1), 16)), page)


def _png(data: bytes) -> Image.Image:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(data))


def _ink(image: Image.Image) -> float:
    """Share of pixels that are not (near) white."""
    pixels = np.asarray(image.convert("L"))
    return float((pixels < 240).mean())


@pytest.fixture(scope="module")
def dongsi() -> Project:
    return open_project(DATA / "dongsi180")


@pytest.fixture(scope="module")
def dongsi_pdf(dongsi) -> bytes:
    return map_sheet(dongsi, fmt="pdf", date=DAY)


@pytest.fixture(scope="module")
def dongsi_html(dongsi) -> str:
    return standalone_html(dongsi)


@pytest.fixture
def busy(tiny_layers) -> Project:
    """Five sites of every status, one proposal half outside the compound."""
    layers = dict(tiny_layers)
    rows = [
        ("S1", "parking_shed", "车棚", "built"),
        ("S2", "vegetable_garden", "菜园", "proposed"),
        ("S3", "activity_room", "议事厅", "rejected"),
        ("S4", "parking_shed", "二号车棚", "approved"),
        ("S5", "activity_room", "角落·活动室（²≥）", None),
    ]
    layers["sites"] = _frame(
        [dict(zip(("site_id", "site_type", "name", "status"), r, strict=True)) for r in rows],
        [box(60, 40, 70, 46), box(55, 2, 65, 8), box(80, 5, 90, 15), box(92, 45, 110, 55),
         box(70, 12, 80, 20)],
    )  # fmt: skip
    layers["spaces"] = _frame(
        [{"space_id": "SP1", "kind": "golden_corner"}, {"space_id": "SP2", "kind": "neglected"}],
        [box(80, 40, 95, 55), box(0, 0, 5, 60)],
    )
    return Project(layers=layers)


# --- proposals and fonts ---------------------------------------------------------------


def test_letters():
    assert [letter(i) for i in (0, 1, 25, 26, 27, 51, 52)] == [
        "A", "B", "Z", "AA", "AB", "AZ", "BA",
    ]  # fmt: skip


def test_proposals_are_proposed_or_approved_in_site_order(busy):
    props = proposals(analyze_sites(busy))
    # built S1 and rejected S3 are left out; S5 has no status and counts as proposed
    assert list(props["site_id"]) == ["S2", "S4", "S5"]
    assert list(props["letter"]) == ["A", "B", "C"]
    assert props.columns[0] == "letter"


def test_sample_has_one_proposal(dongsi):
    props = proposals(analyze_sites(dongsi))
    assert list(props["site_id"]) == ["SITE3"] and list(props["letter"]) == ["A"]


def test_cjk_font_is_found_and_cff_detected():
    family, fonttype = cjk_font()
    assert "CJK" in family or "Hei" in family or "Fallback" in family or "Ming" in family
    entry = next(f for f in font_manager.fontManager.ttflist if f.name == family)
    assert fonttype == (3 if is_cff(entry.fname, getattr(entry, "index", 0)) else 42)
    dejavu = font_manager.findfont("DejaVu Sans")
    assert not is_cff(dejavu)  # TrueType outlines


# --- the A3 sheet ------------------------------------------------------------------------


def test_pdf_embeds_a_cjk_font_and_keeps_the_text(dongsi_pdf):
    pypdf = pytest.importorskip("pypdf", reason="pypdf is not installed (test extra)")
    assert dongsi_pdf[:5] == b"%PDF-"
    reader = pypdf.PdfReader(io.BytesIO(dongsi_pdf))
    (page,) = reader.pages
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert width / height == pytest.approx(A3, rel=1e-3)
    assert width == pytest.approx(420 / 25.4 * 72, rel=1e-3)  # A3, in points
    fonts = {}
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        fonts[str(font["/BaseFont"])] = font
    cjk = {name: f for name, f in fonts.items() if re.search(r"CJK|Hei|Fallback|Ming", name)}
    assert cjk, f"no CJK font embedded: {sorted(fonts)}"
    for font in cjk.values():
        if font["/Subtype"] == "/Type3":  # glyph outlines as drawing procedures
            assert len(font["/CharProcs"]) > 0
        else:  # Type 0 with an embedded TrueType program
            descendant = font["/DescendantFonts"][0].get_object()
            assert "/FontFile2" in descendant["/FontDescriptor"].get_object()
        assert "/ToUnicode" in font  # the text stays searchable
    text = page.extract_text()
    # (labels with a white halo are drawn as outlines: not in the text layer)
    for expected in ("东四街180号院", "改造方案", "小区菜园", "制图日期 2025-06-01", "图例"):
        assert expected in text, expected


def test_pdf_renders_with_pdftoppm(dongsi_pdf, tmp_path):
    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftoppm is missing: apt-get install poppler-utils")
        pytest.skip("pdftoppm is missing (apt-get install poppler-utils)")
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(dongsi_pdf)
    proc = subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-singlefile", str(pdf), str(tmp_path / "sheet")],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    image = Image.open(tmp_path / "sheet.png")
    assert image.width / image.height == pytest.approx(A3, rel=0.01)
    assert _ink(image) > 0.2  # the map, the header, the table
    rgb = np.asarray(image.convert("RGB")).reshape(-1, 3).astype(int)
    green = (abs(rgb - [0x2E, 0x9E, 0x44]).sum(axis=1) < 60).sum()
    assert green > 0  # the proposed vegetable garden's letter and edge


def test_png_sheet_is_a3(dongsi):
    image = _png(map_sheet(dongsi, fmt="png", dpi=60, lang="en"))
    assert image.width == round(420 / 25.4 * 60)
    assert image.width / image.height == pytest.approx(A3, rel=0.01)
    assert _ink(image) > 0.2


def test_a4_and_english(dongsi):
    pypdf = pytest.importorskip("pypdf", reason="pypdf is not installed (test extra)")
    data = map_sheet(dongsi, fmt="pdf", lang="en", size="a4", date=DAY)
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    assert float(page.mediabox.width) == pytest.approx(297 / 25.4 * 72, rel=1e-3)
    text = page.extract_text()
    for expected in ("Renovation proposals", "Dongsi", "Vegetable garden", "Legend", "Funding"):
        assert expected in text, expected


def test_sheet_of_busy_and_minimal_projects(busy, tiny_layers):
    # every kind of status, a name with punctuation and symbols: a missing glyph (tofu)
    # would warn, and warnings are errors here
    assert map_sheet(busy, fmt="pdf")[:5] == b"%PDF-"
    minimal = Project(layers={k: tiny_layers[k] for k in ("compound", "buildings")})
    pypdf = pytest.importorskip("pypdf", reason="pypdf is not installed (test extra)")
    text = pypdf.PdfReader(io.BytesIO(map_sheet(minimal, fmt="pdf"))).pages[0].extract_text()
    assert "暂无拟建或已批准的方案" in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fmt": "svg"}, r"fmt must be 'pdf' or 'png', got 'svg'"),
        ({"size": "a0"}, r"size must be one of \('a3', 'a4'\), got 'a0'"),
        ({"dpi": 5}, r"dpi must be a number from 30 to 600, got 5"),
        ({"lang": "fr"}, r"lang must be one of \('zh', 'en'\), got 'fr'"),
    ],
)
def test_bad_arguments(tiny_layers, kwargs, message):
    project = Project(layers=dict(tiny_layers))
    with pytest.raises(GridGISError, match=message):
        map_sheet(project, **kwargs)


# --- the chat PNG ------------------------------------------------------------------------


def test_share_png_size(dongsi, busy):
    image = _png(share_png(dongsi, date=DAY))
    assert image.width == 1080 and 1080 <= image.height <= 1920
    assert _ink(image) > 0.2
    tall = _png(share_png(busy, lang="en"))
    assert tall.width == 1080 and 1080 <= tall.height <= 1920


# --- the offline HTML map ----------------------------------------------------------------


def test_html_is_self_contained(dongsi, dongsi_html):
    page = dongsi_html
    assert not re.search(r"<script\b[^>]*\bsrc=", page)  # every script inline
    assert not re.search(r"<link\b[^>]*\bhref=", page)  # every stylesheet inline
    assert not re.search(r"""url\(\s*['"]?https?:""", page)
    assert "L.map(" in page and ".leaflet-container" in page  # Leaflet and its CSS are in
    assert "jQuery" in page
    text = _decoded(page)
    assert "东四街180号院" in text
    assert "<title>东四街180号院 · 改造方案 / Renovation proposals</title>" in text
    assert ">A</span>" in text  # the letter badge and the panel row
    assert "小区菜园" in text and "改造方案一览" in text
    assert len(page.encode()) < 1_000_000


def test_html_escapes_names_and_letters_many(busy):
    busy.layers["sites"].loc[1, "name"] = "<img src=x onerror=alert(1)>"
    busy.layers["sites"].loc[4, "status"] = "proposed"  # mapview cannot style a missing status
    text = _decoded(standalone_html(busy, lang="en"))
    assert "<img src=x" not in text
    for badge in "ABC":
        assert f">{badge}</span>" in text


def test_html_never_runs_names_as_templates(busy):
    busy.layers["sites"].loc[1, "name"] = "{{ 7*7 }}棚"  # branca renders folium output twice
    busy.layers["sites"].loc[4, "status"] = "proposed"
    text = _decoded(standalone_html(busy, lang="en"))
    assert "49棚" not in text and "&#123;&#123; 7*7 &#125;&#125;棚" in text


def test_html_needs_the_vendor_scripts(dongsi, tmp_path):
    with pytest.raises(
        GridGISError, match=r"missing from .* \(first: leaflet/dist/leaflet\.js\).*\./dev setup"
    ):
        standalone_html(dongsi, vendor=tmp_path)


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
)
def test_html_renders_offline_in_a_browser(dongsi_html, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    page_file = tmp_path / "map.html"
    page_file.write_text(dongsi_html, encoding="utf-8")
    aborted: list[str] = []
    errors: list[str] = []

    def route(r):
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            aborted.append(r.request.url)
            r.abort()

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update"]  # fmt: skip
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 800})
            context.route("**/*", route)
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_file.as_uri())
            page.locator(".leaflet-container").wait_for(timeout=30_000)
            buildings = page.locator('path.leaflet-interactive[fill="#9aa0a6"]')
            buildings.nth(3).wait_for(timeout=30_000)
            assert buildings.count() == 4  # the sample's four buildings
            sync_api.expect(page.locator(".gridgis-badge")).to_have_text("A")
            sync_api.expect(page.locator(".gridgis-proposals")).to_contain_text("小区菜园")
            sync_api.expect(page.locator(".gridgis-legend")).to_contain_text("图例")
        finally:
            browser.close()
    assert aborted == [], f"the offline map made network requests: {aborted}"
    assert errors == []


# --- the command line --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "name", "magic"),
    [("pdf", "sheet.pdf", b"%PDF-"), ("png", "sheet.png", b"\x89PNG"),
     ("share", "chat.png", b"\x89PNG"), ("html", "map.html", b"<!DOCTYPE html>")],
)  # fmt: skip
def test_cli_export(tmp_path, capsys, fmt, name, magic):
    out = tmp_path / name
    assert main(["export", str(DATA / "dongsi180"), "--format", fmt, "-o", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    assert out.read_bytes().startswith(magic)
    assert not list(tmp_path.glob(".*.tmp"))  # written beside, then moved into place


def test_cli_export_format_from_suffix_and_english(tmp_path):
    out = tmp_path / "map.html"
    assert main(["export", str(DATA / "dongsi180"), "-o", str(out), "--lang", "en"]) == 0
    assert "Vegetable garden" in _decoded(out.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["{missing}", "-o", "{tmp}/x.pdf"], r"export: error: project path .* does not exist"),
        (["{data}", "-o", "{tmp}/x.docx"], r"cannot tell the format of .*x\.docx"),
        (["{data}", "-o", "{tmp}/no/x.pdf"], r"cannot write .*: folder .* does not exist"),
    ],
)  # fmt: skip
def test_cli_export_bad_input_exits_2(tmp_path, capsys, argv, message):
    values = {
        "missing": str(tmp_path / "nope"),
        "tmp": str(tmp_path),
        "data": str(DATA / "dongsi180"),
    }
    code = main(["export", *(a.format(**values) for a in argv)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert re.search(message, err), err
    assert "Traceback" not in err
