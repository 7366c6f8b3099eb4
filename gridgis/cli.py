"""The ``gridgis`` command line: a thin face on the library.

Exit status: 0 success, 2 bad input (every problem listed, one a line, naming
file, layer, feature and field), 1 an internal error (one line; ``--debug``
shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import geopandas as gpd

from gridgis import __version__
from gridgis.analysis.engine import prepare
from gridgis.core import io
from gridgis.core.crs import DATUMS, convert_gdf
from gridgis.core.project import SETTINGS_TABLE, open_project, read_project_layer
from gridgis.core.schema import LAYER_NAMES, guess_layer_name
from gridgis.core.validate import errors_only, missing_layers, repair_geometries, validate_layer
from gridgis.errors import GridGISError, Problem, ValidationError
from gridgis.meeting.register import read_register
from gridgis.meeting.tally import MATTERS, tally
from gridgis.report.checks import check_message, worded
from gridgis.report.tally_text import format_tally, tally_dict
from gridgis.report.xlsx import budget_sheets, write_xlsx

__all__ = ["main"]


def _print_problems(problems: Sequence[Problem]) -> None:
    for problem in problems:
        print(str(problem), file=sys.stderr)


def _warning_problems(caught: list[warnings.WarningMessage], source: str) -> list[Problem]:
    return [Problem(str(w.message), source, severity="warning") for w in caught]


def _cmd_info(args: argparse.Namespace) -> int:
    project = open_project(args.project)
    summary = project.summary()
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 0
    print(f"project      {summary['name']}  ({summary['path']})")
    print(f"metric CRS   {summary['metric_crs']}")
    print("layers       " + ", ".join(f"{k}: {v}" for k, v in summary["layers"].items()))
    print(f"households   {summary['households']}")
    if summary["households_derived_buildings"]:
        print(
            f"  derived from units x floors in {summary['households_derived_buildings']} buildings"
        )
    if summary["households_unknown_buildings"]:
        print(f"  unknown in {summary['households_unknown_buildings']} buildings (not counted)")
    if "units" in summary:
        print(f"units        {summary['units']}")
    if summary.get("sites_by_type"):
        print("sites        " + ", ".join(f"{k}: {v}" for k, v in summary["sites_by_type"].items()))
    _print_problems(project.warnings)
    return 0


def _layer_name_for(path: Path, given: str | None) -> str:
    if given:
        if given not in LAYER_NAMES:
            raise GridGISError(
                f"--layer {given!r} is not a gridgis layer; use one of {', '.join(LAYER_NAMES)}"
            )
        return given
    if guessed := guess_layer_name(path.name):
        return guessed
    raise GridGISError(
        f"{path}: cannot tell which layer this file is from its name; pass --layer "
        f"({', '.join(LAYER_NAMES)})"
    )


def _read_and_validate(
    path: Path, layer: str, *, file_layer: str | None, crs: str | None, datum: str
) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    source = str(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = read_project_layer(path, layer, layer=file_layer, crs=crs, datum=datum)
        except GridGISError as exc:
            return None, [Problem(str(exc))]
    problems = _warning_problems(caught, source)
    problems += validate_layer(frame, layer, source=source)
    return frame, problems


def _validate_targets(path: Path, only: str | None) -> list[tuple[Path, str, str | None]]:
    """List (file, gridgis layer, layer inside the file) to check."""
    if path.is_dir():
        files = [
            (f, n)
            for n in LAYER_NAMES
            for f in (path / f"{n}.geojson", path / f"{n}.csv")
            if f.exists() and (f.suffix == ".geojson" or n == "votes")
        ]
        if only:
            files = [(f, n) for f, n in files if n == only]
        if not files and not (path / "settings.toml").exists():  # a draft has only settings
            raise GridGISError(f"{path}: no <layer>.geojson files found ({', '.join(LAYER_NAMES)})")
        return [(f, n, None) for f, n in files]
    if path.suffix.lower() == ".gpkg" and path.exists():
        inside = io.list_layers(path)
        known = [n for n in inside if n in LAYER_NAMES]
        if only:
            return [
                (path, only, only if only in inside else (inside[0] if len(inside) == 1 else only))
            ]
        if known:
            return [(path, n, n) for n in known]
        if len(inside) == 1:
            return [(path, _layer_name_for(path, None), inside[0])]
        raise GridGISError(
            f"{path}: no gridgis layers inside (found {', '.join(inside)}); pass --layer"
        )
    return [(path, _layer_name_for(path, only), None)]


def _cmd_validate(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not path.exists():
        raise GridGISError(f"{path}: no such file or folder")
    problems: list[Problem] = []
    frames: dict[str, gpd.GeoDataFrame] = {}
    for file, layer, file_layer in _validate_targets(path, args.layer):
        frame, found = _read_and_validate(
            file, layer, file_layer=file_layer, crs=args.crs, datum=args.datum
        )
        problems += found
        if frame is not None:
            frames[layer] = frame
    gpkg_project = path.suffix.lower() == ".gpkg" and SETTINGS_TABLE in io.list_layers(path)
    if not args.layer and (path.is_dir() or gpkg_project):  # a project: a draft is not valid
        problems += missing_layers(frames, source=str(path))
    errors = errors_only(problems)
    _print_problems(problems)
    if args.repair and frames:
        if len(frames) != 1:
            raise GridGISError("--repair works on one layer at a time: pass --layer")
        (frame,) = frames.values()
        repaired, rows = repair_geometries(frame)
        io.write_geojson(repaired, args.repair)
        print(
            f"repaired {len(rows)} geometries with make_valid (rows "
            f"{', '.join(str(r + 1) for r in rows) or 'none'}); wrote {args.repair}"
        )
    if errors:
        print(f"{path}: {len(errors)} error(s); not valid", file=sys.stderr)
        return 2
    print(f"{path}: valid ({len(problems)} warning(s))")
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    project = open_project(args.project)
    sites = None
    if args.sites:
        sites = read_project_layer(args.sites, "sites", crs=args.crs, datum=args.datum)
    result = prepare(project).analyze(sites)
    s = result.sites
    print(f"{'site':<10} {'type':<17} {'area m2':>8} {'capacity':>14} {'cost CNY':>11} "
          f"{'served hh':>9} {'adjacent hh':>11}  failed / not checked")  # fmt: skip
    for row in s.itertuples():
        notes = [
            f"{c['rule']}: {check_message(c, args.lang)}"
            for c in row.checks
            if c["status"] != "pass"
        ]
        print(
            f"{row.site_id!s:<10} {row.site_type!s:<17} {row.area_m2:>8.1f} "
            f"{row.capacity:>6d} {row.capacity_unit:<7} {row.cost_cny:>11,.2f} "
            f"{row.households_served:>9d} {row.households_adjacent:>11d}  "
            f"{'; '.join(notes) or '-'}"
        )
    totals = result.totals()
    print(
        f"plan: {totals['sites']} sites, {totals['cost_cny']:,.2f} CNY, {totals['bikes']} bikes, "
        f"{totals['charging_ports']} charging ports, {totals['checks_failed']} failed checks, "
        f"{totals['checks_not_checked']} not checked"
    )
    if args.output:
        io.write_geojson(worded(result, args.lang).features(), args.output)
        print(f"wrote {args.output}")
    if args.xlsx:
        write_xlsx(budget_sheets(result), args.xlsx)
        print(f"wrote {args.xlsx}")
    return 0


def _cmd_convert(args: argparse.Namespace) -> int:
    frame = io.read_layer(args.input, layer=args.layer, crs=args.crs, datum=args.src)
    out = convert_gdf(frame, src="wgs84", dst=args.dst) if args.dst != "wgs84" else frame
    target = Path(args.output)
    if target.suffix.lower() == ".gpkg":
        io.write_gpkg({args.layer or Path(args.input).stem: out}, target)
    elif target.suffix.lower() in (".geojson", ".json"):
        io.write_geojson(out, target)
    else:
        raise GridGISError(f"output {str(target)!r}: write .geojson or .gpkg")
    print(f"wrote {len(out)} features to {target} ({args.src} -> {args.dst})")
    return 0


def _cmd_import_dxf(args: argparse.Namespace) -> int:
    from gridgis.core.imports.dxf import import_dxf, parse_control, read_mapping

    mapping = read_mapping(args.mapping) if args.mapping else None
    control = [parse_control(c) for c in args.control or ()]
    result = import_dxf(args.file, args.output, crs=args.crs, control=control, mapping=mapping)
    _print_problems(result.project.warnings)
    for line in result.lines():
        print(line)
    print(f"wrote {result.path}")
    return 0


def _cmd_tally(args: argparse.Namespace) -> int:
    project = open_project(args.project)
    if args.votes:
        path = Path(args.votes)
        if not path.is_file():
            raise GridGISError(f"--votes {args.votes!r}: no such file")
        votes, source = read_project_layer(path, "votes"), str(path)
    elif "votes" in project.layers:  # the register as the store keeps it (votes.csv / table)
        votes, source = read_register(project), f"{project.path}: votes"
    else:
        raise GridGISError(f"{args.project}: the project has no votes layer; pass --votes FILE")
    result = tally(votes, site_id=args.site, matter=args.matter, source=source)
    sites = project.layers.get("sites")
    name = None
    if sites is not None and "site_id" in sites:
        match = sites[sites["site_id"].astype(str).str.strip() == result.site_id]
        if len(match):
            labels = [str(match[c].iloc[0]) for c in ("name", "name_en") if c in match]
            name = " / ".join(dict.fromkeys(x for x in labels if x.strip() and x != "nan"))
        else:
            print(f"warning: site {result.site_id!r} is not in the project's sites layer",
                  file=sys.stderr)  # fmt: skip
    if args.json:
        print(json.dumps(tally_dict(result) | {"site_name": name}, ensure_ascii=False, indent=2))
    else:
        print(format_tally(result, site_name=name or None))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from gridgis.report.sheets.render import export_sheet  # matplotlib loads only for this verb

    project = open_project(args.project)
    target = export_sheet(project, args.output, fmt=args.format, lang=args.lang)
    print(f"wrote {target}")
    return 0


def _cmd_corners(args: argparse.Namespace) -> int:
    from gridgis.analysis.corners import compare_spaces, find_corners

    project = open_project(args.project)
    found = find_corners(project)
    kinds = found["kind"].value_counts()
    print(f"{len(found)} candidate spaces, best first (corner {kinds.get('corner', 0)}, "
          f"edge {kinds.get('edge', 0)}, open {kinds.get('open', 0)})")  # fmt: skip
    print(f"{'id':<6} {'kind':<7} {'area m2':>8} {'width m':>7} {'bldg m':>6} {'hh':>5}  "
          f"{'suggested':<17} {'bikes':>5}  survey")  # fmt: skip
    for row in found.head(args.top).itertuples():
        print(
            f"{row.candidate_id:<6} {row.kind:<7} {row.area_m2:>8.1f} {row.min_width_m:>7.2f} "
            f"{row.nearest_building_m:>6.1f} {row.households_within_reach:>5.0f}  "
            f"{row.suggested_site_type or '-':<17} {row.bikes:>5d}  "
            f"{', '.join(row.matches_space) or '-'}"
        )
    for row in compare_spaces(project, found).itertuples():
        where = ", ".join(row.candidate_ids) or "no candidate"
        rest = f"; rest: {row.reason}" if row.reason else ""
        print(f"survey {row.space_id} ({row.kind}): {row.status}, {row.found_share:.0%} in {where}"
              f"{rest}")  # fmt: skip
    if args.output:
        io.write_geojson(found, args.output)
        print(f"wrote {len(found)} candidates to {args.output}")
    return 0


def _cmd_layout(args: argparse.Namespace) -> int:
    from gridgis.analysis.stalls.site import layout_site

    project = open_project(args.project)
    stalls = layout_site(project, args.site, aisle_m=args.aisle)
    lay = stalls.attrs["layout"]
    print(
        f"{args.site}: {lay['count']} stalls in {lay['blocks']} blocks, rows at "
        f"{lay['orientation_deg']:.1f} deg, aisles {lay['aisle_m']:g} m; "
        f"{lay['charging_ports']} charging ports on {lay['circuits']} circuits"
    )
    if args.output:
        io.write_geojson(stalls, args.output)
        print(f"wrote {len(stalls)} stalls to {args.output}")
    return 0


def _cmd_import_osm(args: argparse.Namespace) -> int:
    from gridgis.core.imports.osm import import_osm, parse_bbox

    bbox = parse_bbox(args.bbox) if args.bbox else None
    made = import_osm(args.file, args.output, bbox=bbox)
    for p in made.projects:
        print(f"{p.path}: {p.buildings} buildings, {p.households} households "
              f"({p.households_estimated} estimated in {p.buildings_estimated} buildings), "
              f"{p.paths} paths, {p.fire_lanes} fire lanes")  # fmt: skip
    for label, reason in made.skipped:
        print(f"skipped {label}: {reason}", file=sys.stderr)
    if not made.projects:
        raise GridGISError(f"{args.file}: no project made ({len(made.skipped)} areas skipped)")
    print(
        f"made {len(made.projects)} projects in {args.output} ({len(made.skipped)} areas skipped)"
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridgis",
        description="GIS planning for renovating old residential compounds (老旧小区改造).",
    )
    parser.add_argument("--version", action="version", version=f"gridgis {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True)

    info = sub.add_parser("info", help="layer counts and households of a project")
    info.add_argument("project", help="a .gpkg file or a folder of <layer>.geojson")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=_cmd_info)

    val = sub.add_parser("validate", help="check a layer file or a project; exit 2 on errors")
    val.add_argument("path", help="a layer file, a .gpkg, or a project folder")
    val.add_argument("--layer", choices=LAYER_NAMES, help="which gridgis layer the file holds")
    val.add_argument("--crs", help="CRS of a file that has none, e.g. EPSG:4544")
    val.add_argument(
        "--from",
        dest="datum",
        choices=DATUMS,
        default="wgs84",
        help="datum of the coordinates (gcj02: Gaode; bd09: Baidu)",
    )
    val.add_argument(
        "--repair",
        metavar="OUT.geojson",
        help="write a copy with invalid geometries repaired by make_valid",
    )
    val.set_defaults(func=_cmd_validate)

    ana = sub.add_parser("analyze", help="area, capacity, cost, households and checks per site")
    ana.add_argument("project", help="a .gpkg file or a folder of <layer>.geojson")
    ana.add_argument("--sites", help="a sites file to analyse instead of the project's sites")
    ana.add_argument("-o", "--output", metavar="OUT.geojson", help="write the site plan (RFC 7946)")
    ana.add_argument("--xlsx", metavar="OUT.xlsx", help="write the budget workbook")
    ana.add_argument("--crs", help="CRS of a sites file that has none, e.g. EPSG:4544")
    ana.add_argument("--from", dest="datum", choices=DATUMS, default="wgs84",
                     help="datum of the sites file (gcj02: Gaode; bd09: Baidu)")  # fmt: skip
    ana.add_argument("--lang", choices=("zh", "en"), default="en",
                     help="language of the check messages (default en)")  # fmt: skip
    ana.set_defaults(func=_cmd_analyze)

    conv = sub.add_parser("convert", help="convert a layer between formats and datums")
    conv.add_argument("input")
    conv.add_argument("output", help=".geojson (RFC 7946) or .gpkg")
    conv.add_argument("--from", dest="src", choices=DATUMS, default="wgs84")
    conv.add_argument("--to", dest="dst", choices=DATUMS, default="wgs84")
    conv.add_argument("--layer", help="layer inside a GeoPackage / output layer name")
    conv.add_argument("--crs", help="CRS of a file that has none, e.g. EPSG:4544")
    conv.set_defaults(func=_cmd_convert)

    dxf = sub.add_parser("import-dxf", help="import a CAD site plan (DXF) as a project folder")
    dxf.add_argument("file", help="the .dxf file")
    dxf.add_argument("-o", "--output", required=True, metavar="PROJECT",
                     help="a new project folder (or .gpkg)")  # fmt: skip
    dxf.add_argument("--crs", help="the drawing's CRS, e.g. EPSG:4544 (CGCS2000 GK CM 105E)")
    dxf.add_argument("--control", action="append", metavar="X,Y,LON,LAT",
                     help="drawing x, y and WGS84 lon, lat of a point; two or more")  # fmt: skip
    dxf.add_argument(
        "--mapping", metavar="MAP.toml", help='CAD layer names: [layers] "A" = "buildings"'
    )
    dxf.set_defaults(func=_cmd_import_dxf)

    exp = sub.add_parser("export", help="map sheets: A3 PDF/PNG, chat PNG, offline HTML map")
    exp.add_argument("project", help="a .gpkg file or a folder of <layer>.geojson")
    exp.add_argument("-o", "--output", required=True, metavar="OUT", help="file to write")
    exp.add_argument(
        "--format",
        choices=("pdf", "png", "share", "html"),  # gridgis.report.sheets.render.FORMATS
        help="pdf/png: the A3 sheet; share: a 1080 px wide PNG for chat groups; html: one "
        "self-contained map that opens offline (default: from OUT's suffix)",
    )
    exp.add_argument("--lang", choices=("zh", "en"), default="zh", help="language (default zh)")
    exp.set_defaults(func=_cmd_export)

    tal = sub.add_parser("tally", help="tally owners' votes on a site (Civil Code art. 278)")
    tal.add_argument("project", help="a .gpkg file or a folder of <layer>.geojson")
    tal.add_argument(
        "--votes",
        metavar="FILE",
        help="the votes register (CSV or any layer file); default: the project's",
    )
    tal.add_argument("--site", required=True, help="the site_id voted on")
    tal.add_argument(
        "--matter",
        choices=tuple(MATTERS),
        default="change_of_use",
        help="what is decided (default change_of_use: a shed, garden or room on common land, "
        "art. 278 item 8)",
    )
    tal.add_argument("--json", action="store_true", help="print JSON")
    tal.set_defaults(func=_cmd_tally)

    cor = sub.add_parser("corners", help="find and rank leftover spaces (golden corners)")
    cor.add_argument("project", help="a .gpkg file or a folder of <layer>.geojson")
    cor.add_argument("-o", "--output", metavar="OUT.geojson", help="write every candidate")
    cor.add_argument("--top", type=int, default=20, help="rows to print (default 20)")
    cor.set_defaults(func=_cmd_corners)

    lay = sub.add_parser("layout", help="lay out e-bike stalls in a shed site")
    lay.add_argument("project", help="a .gpkg file or a folder of <layer>.geojson")
    lay.add_argument("--site", required=True, help="the site_id of a parking_shed site")
    lay.add_argument("--aisle", type=float, metavar="M", help="aisle width (default: settings)")
    lay.add_argument("-o", "--output", metavar="OUT.geojson", help="write the stalls")
    lay.set_defaults(func=_cmd_layout)

    osm = sub.add_parser("import-osm", help="one project per residential area of an OSM file")
    osm.add_argument("file", help="an OpenStreetMap extract, .osm or .osm.pbf")
    osm.add_argument("-o", "--output", required=True, metavar="OUTDIR",
                     help="folder to write the projects in")  # fmt: skip
    osm.add_argument("--bbox", metavar="W,S,E,N", help="only areas in this box (WGS84 degrees)")
    osm.set_defaults(func=_cmd_import_osm)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ValidationError as exc:
        _print_problems(exc.problems)
        print(f"gridgis {args.command}: {len(exc.problems)} error(s)", file=sys.stderr)
        return 2
    except GridGISError as exc:
        print(f"gridgis {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the one place a bug becomes a one-line message
        if args.debug:
            raise
        print(
            f"gridgis {args.command}: internal error: {type(exc).__name__}: {exc} "
            "(rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
