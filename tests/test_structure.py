"""The shape of the package: its short public API, and the rules its modules keep."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import gridgis

from .conftest import REPO

# the short public API (DESIGN.md) and the module each name lives in
PUBLIC = {
    "open_project": "gridgis.core.project",
    "save_project": "gridgis.core.project",
    "read_layer": "gridgis.core.io",
    "prepare": "gridgis.analysis.engine",
    "analyze_sites": "gridgis.analysis.engine",
    "find_corners": "gridgis.analysis.corners",
    "layout_site": "gridgis.analysis.stalls.site",
    "tally": "gridgis.meeting.tally",
}


@pytest.mark.parametrize(("name", "home"), sorted(PUBLIC.items()))
def test_public_name_is_the_object_of_its_module(name, home):
    assert getattr(gridgis, name) is getattr(importlib.import_module(home), name)


def test_public_api_is_listed_and_nothing_else_is_lazy():
    assert set(gridgis.__all__) == {"__version__", *PUBLIC}
    assert set(PUBLIC) <= set(dir(gridgis))
    with pytest.raises(AttributeError, match="no attribute 'analyse_sites'"):
        gridgis.analyse_sites  # noqa: B018


def test_import_gridgis_loads_no_gis_library():
    code = (
        "import sys, gridgis\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'geopandas', 'pandas', 'shapely', 'pyproj', 'numpy'} or m.startswith('gridgis.'))\n"
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


# --- the rules the modules keep (DESIGN.md, issue 10) --------------------------------------

SOURCES = ("gridgis", "app")  # the packages whose modules the rules below scan
MAX_LINES = 600

# Offenders in modules other helpers own in issue 10: to be emptied by the lead at merge.
# Each entry is exactly what the check reports, so a fixed offender must leave the list
# (the `*_are_still_offending` test fails on an entry that no longer offends).
KNOWN_OFFENDERS: dict[str, set[str]] = {
    "private_imports": set(),
    "long_modules": set(),
    "fcntl": set(),
    "cycles": set(),
}


def _modules(*roots: str) -> list[Path]:
    return sorted(p for root in roots for p in (REPO / root).rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _imports(path: Path) -> list[tuple[str, str | None]]:
    """Every import in a file, function-level ones included: (module, name or None)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.extend((node.module, alias.name) for alias in node.names)
    return out


def _private_imports() -> set[str]:
    found = set()
    for path in _modules(*SOURCES):
        for module, name in _imports(path):
            if module.split(".")[0] not in SOURCES or name is None:
                continue
            if name.startswith("_") and not name.startswith("__"):
                found.add(f"{_rel(path)}: {module}.{name}")
    return found


def _long_modules() -> set[str]:
    return {
        _rel(p)
        for p in _modules(*SOURCES)
        if len(p.read_text(encoding="utf-8").splitlines()) > MAX_LINES
    }


def _fcntl_users() -> set[str]:
    files = [*_modules(*SOURCES, "tests", "benchmarks"), REPO / "app.py"]
    return {_rel(p) for p in files if any(m.split(".")[0] == "fcntl" for m, _ in _imports(p))}


def _cycles() -> set[str]:
    """Import cycles between modules (function-level imports included), as ``a <-> b``.

    Imports under ``if TYPE_CHECKING:`` do not run, so they make no cycle (``gridgis``
    names its lazy public API that way, and modules import ``gridgis.__version__``).
    """
    graph = grimp.build_graph(*SOURCES, cache_dir=None, exclude_type_checking_imports=True)
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    found = set()
    for a, targets in edges.items():
        for b in targets:
            if a < b and graph.chain_exists(importer=b, imported=a):
                found.add(f"{a} <-> {b}")
    return found


CHECKS = {
    "private_imports": _private_imports,
    "long_modules": _long_modules,
    "fcntl": _fcntl_users,
    "cycles": _cycles,
}


def test_no_private_name_is_imported_from_another_module():
    found = _private_imports() - KNOWN_OFFENDERS["private_imports"]
    assert not found, "make these names public (documented) or move them:\n" + "\n".join(
        sorted(found)
    )


def test_every_module_is_under_600_lines():
    found = _long_modules() - KNOWN_OFFENDERS["long_modules"]
    assert not found, f"split these modules (at most {MAX_LINES} lines): {sorted(found)}"


def test_nothing_imports_fcntl():
    found = _fcntl_users() - KNOWN_OFFENDERS["fcntl"]
    assert not found, f"fcntl is POSIX only (the app must start on Windows): {sorted(found)}"


def test_no_import_cycles_between_modules():
    found = _cycles() - KNOWN_OFFENDERS["cycles"]
    assert not found, "import cycles (function-level imports count):\n" + "\n".join(sorted(found))


def test_nothing_under_gridgis_imports_streamlit():
    found = {
        f"{_rel(p)}: {module}"
        for p in _modules("gridgis")
        for module, _ in _imports(p)
        if module.split(".")[0] in {"streamlit", "streamlit_folium"}
    }
    assert not found, f"the library must not import streamlit: {sorted(found)}"


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_known_offenders_are_still_offending(check):
    # an entry that no longer offends is stale: remove it from KNOWN_OFFENDERS
    stale = KNOWN_OFFENDERS[check] - CHECKS[check]()
    assert not stale, f"fixed, remove from KNOWN_OFFENDERS[{check!r}]: {sorted(stale)}"


def test_the_checks_find_what_they_look_for(tmp_path):
    # the scanners see function-level imports and private names, not only top-level ones
    path = tmp_path / "m.py"
    path.write_text(
        "def f():\n    import fcntl\n    from gridgis.core.io.read import _kind\n",
        encoding="utf-8",
    )
    assert _imports(path) == [("fcntl", None), ("gridgis.core.io.read", "_kind")]
