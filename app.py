"""gridgis app: the map of a compound and its key figures (run: ``./dev app``).

Thin on purpose: it reads the sidebar and the URL (``?lang=zh|en``), asks the
library for a project and a map, and draws them.
"""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st
from streamlit_folium import st_folium

from gridgis._errors import GridGISError
from gridgis.mapview import LANGS, project_map
from gridgis.project import Project, open_project

HERE = Path(__file__).resolve().parent
SAMPLES = ("data/dongsi180", "data/shaxi_f.gpkg")
TITLE = "gridgis 老旧小区改造规划 / compound renewal planning"

TEXT = {
    "zh": {
        "lang": "语言 / Language",
        "project": "项目",
        "basemap": "OpenStreetMap 底图（需联网）",
        "summary": "概况",
        "households": "住户",
        "buildings": "楼栋",
        "microgrids": "微网格",
        "sites": "改造场地",
        "hh": "{n} 户",
        "bld": "{n} 栋",
        "grid": "{n} 个",
        "site": "{n} 处",
        "units": "共 {n} 个单元",
        "unknown": "另有 {n} 栋楼户数未知，未计入",
        "warnings": "数据提示（{n} 条）",
        "map_help": "图层可在地图右上角开关；鼠标悬停查看名称、网格长与户数。",
        "error": "无法打开项目",
    },
    "en": {
        "lang": "语言 / Language",
        "project": "Project",
        "basemap": "OpenStreetMap basemap (needs internet)",
        "summary": "Summary",
        "households": "Households",
        "buildings": "Buildings",
        "microgrids": "Micro-grids",
        "sites": "Renovation sites",
        "hh": "{n}",
        "bld": "{n}",
        "grid": "{n}",
        "site": "{n}",
        "units": "{n} units (stairwells) in all",
        "unknown": "{n} buildings with unknown households are not counted",
        "warnings": "Data notes ({n})",
        "map_help": "Toggle layers at the top right of the map; hover for names, "
        "leaders and households.",
        "error": "Cannot open the project",
    },
}
LANG_NAMES = {"zh": "中文", "en": "English"}


@st.cache_resource(show_spinner=False)
def load_project(path: str) -> Project:
    """Open a project once per path; errors are not cached."""
    return open_project(path)


def project_label(path: str) -> str:
    """The compound's name for the picker, or the path if it does not open."""
    try:
        return f"{load_project(str(HERE / path)).name} ({Path(path).name})"
    except GridGISError:
        return path


def plain(text: object) -> str:
    """Escape Markdown so user data (names, messages) shows as typed."""
    escaped = re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", str(text))
    return escaped.replace("\n", "  \n")


def display_name(project: Project, lang: str) -> str:
    """The compound's name, in English (``name_en``) when asked and present."""
    compound = project.layer("compound")
    if lang == "en" and compound is not None and len(compound) and "name_en" in compound:
        english = str(compound["name_en"].iloc[0] or "").strip()
        if english and english != "nan":
            return english
    return project.name


def url_lang() -> str:
    lang = st.query_params.get("lang", "zh")
    return lang if lang in LANGS else "zh"


st.set_page_config(page_title="gridgis", page_icon="🏘️", layout="wide")

if "lang" not in st.session_state:  # a new session starts from the URL
    st.session_state["lang"] = url_lang()
with st.sidebar:
    lang = st.radio(
        TEXT["zh"]["lang"], LANGS, key="lang", format_func=LANG_NAMES.__getitem__, horizontal=True
    )
    st.query_params["lang"] = lang
    t = TEXT[lang]
    sample = st.selectbox(t["project"], SAMPLES, format_func=project_label)
    osm = st.toggle(t["basemap"], value=False)

# a smaller title and less top space than Streamlit's defaults, so the map sits high
st.html(
    "<style>h1 {font-size: 1.9rem !important;} "
    ".block-container {padding-top: 2.2rem !important;}</style>"
)
st.title(TITLE)

try:
    project = load_project(str(HERE / sample))
    summary = project.summary()
    fmap = project_map(project, lang=lang, basemap="osm" if osm else "none")
except GridGISError as exc:
    st.error(f"{t['error']} {plain(sample)}:\n\n{plain(exc)}")
    st.stop()

counts = summary["layers"]
left, right = st.columns([4, 1], gap="medium")
with left:
    st_folium(fmap, key="map", returned_objects=[], height=620, use_container_width=True)
    st.caption(t["map_help"])
with right:
    st.markdown(f"**{plain(display_name(project, lang))}**")
    st.metric(t["households"], t["hh"].format(n=summary["households"]))
    if "units" in summary:
        st.caption(t["units"].format(n=summary["units"]))
    if summary["households_unknown_buildings"]:
        st.caption(t["unknown"].format(n=summary["households_unknown_buildings"]))
    st.metric(t["buildings"], t["bld"].format(n=counts.get("buildings", 0)))
    st.metric(t["microgrids"], t["grid"].format(n=counts.get("microgrids", 0)))
    st.metric(t["sites"], t["site"].format(n=counts.get("sites", 0)))
    compound = project.layer("compound")
    if compound is not None and len(compound) and "note" in compound:
        st.caption(plain(compound["note"].iloc[0]))
    if project.warnings:
        with st.expander(t["warnings"].format(n=len(project.warnings))):
            for problem in project.warnings:
                st.markdown(plain(problem))
