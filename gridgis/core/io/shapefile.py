"""Shapefiles in zips and the text encoding of their DBF tables (used by `gridgis.core.io`).

A zipped shapefile is grouped by member name (repairing GBK names from
Chinese Windows) and its parts extracted; the DBF text encoding comes from an
explicit override, the ``.cpg`` file, or a sniff of the DBF bytes (UTF-8,
else GB18030).
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import os
import re
import sys
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from types import FrameType

from gridgis.errors import ReadError

__all__ = [
    "checked_encoding",
    "choose",
    "decodes",
    "extract_shapefile",
    "shapefile_encoding",
    "warn_caller",
    "zip_shapefiles",
]

log = logging.getLogger("gridgis.core.io")  # log records keep the public module's name

_SHP_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
_PICK = "pass layer='<name>' (CLI: --layer) to pick one"
# frames of the files of gridgis.core.io are skipped by `warn_caller`, so a warning points
# at the user's code
_INTERNAL_DIR = os.path.dirname(os.path.abspath(__file__))


def warn_caller(message: str) -> None:
    """Warn, pointing at the first caller outside `gridgis.core.io`."""
    level = 1
    frame: FrameType | None = sys._getframe(0)
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == _INTERNAL_DIR:
        level, frame = level + 1, frame.f_back
    warnings.warn(message, stacklevel=level)


def choose(names: list[str], layer: str | None, label: str, what: str, default: list[str]) -> str:
    """Pick `layer` from `names`, else the only name in `default`; else fail listing them."""
    if layer is not None:
        if layer in names:
            return layer
        raise ReadError(f"{label}: no {what} {layer!r}; the file holds {names!r}; {_PICK}")
    if len(default) == 1:
        return default[0]
    raise ReadError(f"{label}: the file holds {len(names)} {what}s {names!r}; {_PICK}")


def _zip_member_name(info: zipfile.ZipInfo) -> str:
    """Member name, repairing GBK names zipfile read as cp437 (zips from Chinese Windows)."""
    name = info.filename
    if info.flag_bits & 0x800 or name.isascii():
        return name
    for enc in ("utf-8", "gb18030"):
        with contextlib.suppress(UnicodeDecodeError):
            return name.encode("cp437").decode(enc)
    return name


def zip_shapefiles(
    path: Path, label: str
) -> tuple[zipfile.ZipFile, dict[str, list[zipfile.ZipInfo]]]:
    """Open a zip and group its members by shapefile: ``{stem: [members]}``."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ReadError(f"{label}: not a valid zip file ({exc}); zip the shapefile again") from exc
    members = [
        (info, _zip_member_name(info))
        for info in zf.infolist()
        if not info.is_dir() and not info.filename.startswith("__MACOSX/")
    ]
    keys = {
        PurePosixPath(n).with_suffix("").as_posix().lower(): PurePosixPath(n).stem
        for _, n in members
        if n.lower().endswith(".shp")
    }
    if not keys:
        zf.close()
        raise ReadError(
            f"{label}: the zip holds no .shp file (it holds {[n for _, n in members]!r}); "
            "zip the .shp together with its .shx, .dbf, .prj and .cpg"
        )
    groups: dict[str, list[zipfile.ZipInfo]] = {stem: [] for stem in keys.values()}
    for info, name in members:
        pure = PurePosixPath(name)
        key = pure.with_suffix("").as_posix().lower()
        if key in keys and pure.suffix.lower() in _SHP_PARTS:
            info.filename = name  # the repaired name (zipfile checks orig_filename)
            groups[keys[key]].append(info)
    return zf, groups


def extract_shapefile(path: Path, label: str, layer: str | None, into: Path) -> Path:
    zf, groups = zip_shapefiles(path, label)
    with zf:
        chosen = choose(list(groups), layer, label, "shapefile", list(groups))
        for info in groups[chosen]:
            try:
                data = zf.read(info)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as exc:
                raise ReadError(f"{label}: cannot unpack {info.filename!r}: {exc}") from exc
            (into / f"{chosen}{PurePosixPath(info.filename).suffix.lower()}").write_bytes(data)
    return into / f"{chosen}.shp"


def checked_encoding(encoding: str, label: str) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise ReadError(
            f"{label}: encoding={encoding!r} is not a known text encoding; "
            "use e.g. 'UTF-8' or 'GBK'"
        ) from exc
    return encoding


def _codec_from_cpg(text: str) -> str | None:
    """Map ``.cpg`` text (``UTF-8``, ``GBK``, ``936``, ``ANSI 1252``, ``88591``) to a codec."""
    key = text.strip().upper()
    match = re.fullmatch(r"(?:ANSI\s*|CP\s*|WINDOWS-)?(\d+)", key)
    if match:
        num = match.group(1)
        named = {"65001": "UTF-8", "936": "GBK", "54936": "GB18030", "950": "BIG5"}
        key = named.get(num) or (f"ISO-8859-{num[4:]}" if num.startswith("8859") else f"CP{num}")
    try:
        codecs.lookup(key)
    except LookupError:
        return None
    return key


def _dbf_text(data: bytes) -> Iterator[tuple[bytes, bool]]:
    """Yield ``(raw text, fills its field)`` for each field name and character value of a DBF."""
    n_records = int.from_bytes(data[4:8], "little")
    header_len = int.from_bytes(data[8:10], "little")
    record_len = int.from_bytes(data[10:12], "little")
    fields: list[tuple[int, int]] = []
    offset, pos = 1, 32  # byte 0 of a record is the deletion flag
    while pos + 32 <= min(header_len, len(data)) and data[pos] != 0x0D:
        desc = data[pos : pos + 32]
        yield desc[:11].split(b"\0", 1)[0], False
        is_text = desc[11:12] == b"C"
        width = desc[16] + (desc[17] << 8 if is_text else 0)  # long C fields use byte 17
        if is_text:
            fields.append((offset, width))
        offset, pos = offset + width, pos + 32
    view = memoryview(data)
    for start in range(header_len, header_len + n_records * record_len, record_len):
        if start + record_len > len(data):
            break
        for off, width in fields:
            text = bytes(view[start + off : start + off + width]).rstrip(b" \0")
            yield text, len(text) == width


def decodes(chunks: list[tuple[bytes, bool]], encoding: str) -> bool:
    for raw, full in chunks:
        try:
            raw.decode(encoding)
        except UnicodeDecodeError as exc:
            if not (full and exc.end == len(raw)):  # forgive a value cut mid-character
                return False
    return True


def shapefile_encoding(shp: Path, label: str, override: str | None) -> str | None:
    """DBF encoding: `override`, else the ``.cpg``, else UTF-8 if it decodes, else GB18030."""
    if override is not None:
        return checked_encoding(override, label)
    siblings = {p.suffix.lower(): p for p in shp.parent.iterdir() if p.stem == shp.stem}
    if ".cpg" in siblings:
        text = siblings[".cpg"].read_bytes().decode("ascii", errors="replace")
        codec = _codec_from_cpg(text)
        if codec is not None:
            log.info("%s: text encoding %s (from .cpg)", label, codec)
            return codec
        log.warning("%s: .cpg names an unknown encoding %r; guessing from the data", label, text)
    if ".dbf" not in siblings:
        return None
    chunks = list(_dbf_text(siblings[".dbf"].read_bytes()))
    for codec in ("UTF-8", "GB18030"):
        if decodes(chunks, codec):
            log.info("%s: no usable .cpg; the DBF text decodes as %s: using it", label, codec)
            return codec
    warn_caller(
        f"{label}: the DBF text is neither UTF-8 nor GBK/GB18030 and there is no usable .cpg; "
        "text may be garbled: pass encoding='...' (e.g. 'CP1252') or add a .cpg file"
    )
    return None
