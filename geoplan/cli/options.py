"""Options shared by the commands that load and check a city (check, report, suggest).

One declaration per option, so ``--built-up`` or ``--population`` reads and behaves the same in
every command; a command adds its own defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # pragma: no cover - types only
    from geoplan.city.study import Study

OsmOpt = Annotated[
    str,
    typer.Option(
        "--osm",
        metavar="FILE",
        help="OSM extract (.osm.pbf/.osm/.osm.bz2); `demo` = embedded Helsinki extract.",
    ),
]

BoundaryOpt = Annotated[
    Path | None,
    typer.Option("--boundary", metavar="FILE", help="Study area 研究范围 (vector file)."),
]

DistrictOpt = Annotated[
    str | None,
    typer.Option(
        "--district",
        metavar="NAME",
        help="Study area = a district, offline (郑州市中原区 or adcode 410102; needs "
        "pip install 'geoplan\\[cn]').",
    ),
]

CrsOpt = Annotated[
    str | None, typer.Option("--crs", metavar="EPSG", help="Metric CRS (default: UTM).")
]

PopulationOpt = Annotated[
    Path | None,
    typer.Option(
        "--population",
        metavar="FILE",
        help="Population: points/cells (CSV lon/lat or vector), 街道/社区 census polygons, "
        "or a WorldPop/GHSL GeoTIFF → coverage by residents.",
    ),
]

PopulationColumnOpt = Annotated[str, typer.Option("--population-column", help="Residents column.")]

BuiltUpOpt = Annotated[
    str,
    typer.Option(
        "--built-up",
        metavar="FILE|osm|study-area",
        help="建成区 / 中心城区 polygon: the area of 路网密度, 绿地率, 道路面积率 and bus "
        "coverage of area; osm (default): derived from OSM land use and street density; "
        "study-area: the whole study area.",
    ),
]

UnitsOpt = Annotated[
    Path | None,
    typer.Option(
        "--units",
        metavar="FILE",
        help="街道 / 社区 polygons: a per-unit table (CSV, XLSX) and GeoPackage layer.",
    ),
]

UnitNameOpt = Annotated[
    str | None, typer.Option("--unit-name", metavar="COLUMN", help="Name column of --units.")
]

UnitsGridOpt = Annotated[
    float | None,
    typer.Option("--units-grid", metavar="M", help="Per-unit table over square cells of M m."),
]

NameOpt = Annotated[
    str | None,
    typer.Option(
        "--name",
        metavar="NAME",
        help="Name of the city or district for titles and file names, e.g. 郑州市中原区 "
        "(default: the OSM file name).",
    ),
]

AreasOpt = Annotated[
    Path | None,
    typer.Option(
        "--areas",
        metavar="FILE",
        help="Named parts of the study area (老城区, 振中街道 …: polygons with a name column) for "
        "targets a sheet sets for one of them; without it such targets are 无数据.",
    ),
]

FacilitiesOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--facilities",
        metavar="FILE",
        help="AMap (高德, GCJ-02) or Baidu (百度, BD-09) POI export (CSV/XLSX/JSON/GeoJSON); "
        "repeatable. Per category it replaces the OSM facilities where it holds as many or "
        "more inside the study area, else it is merged with them (--facilities-mode).",
    ),
]

FacilitiesModeOpt = Annotated[
    str,
    typer.Option(
        "--facilities-mode",
        help="auto (default: per category, replace OSM where the export is the fuller source, "
        "else merge), replace (always) or merge.",
    ),
]

CompoundsOpt = Annotated[
    str,
    typer.Option(
        "--compounds",
        help="gates: homes in a gated compound 小区 leave by its entrances 出入口 (walled parcels "
        "of OSM, or --compounds-file); edges: every home walks to its nearest street.",
    ),
]

CompoundsFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--compounds-file",
        metavar="FILE",
        help="小区 outlines (polygons) and their 出入口 (points) in one vector file, e.g. an "
        "AMap/Baidu AOI export.",
    ),
]

CompoundsCoordsOpt = Annotated[
    str,
    typer.Option(
        "--compounds-coords", help="Coordinates of --compounds-file: wgs84, gcj02 (AMap), bd09."
    ),
]

ExactAreasOpt = Annotated[
    bool | None,
    typer.Option(
        "--exact-areas/--cell-areas",
        help="Buffer shares 缓冲区覆盖率 by overlaying the union of the buffers (exact), or by "
        "counting land cells (within 0.1 pp, much faster for a large city; home flags "
        "identical). Default: exact unless the city has 80,000+ facilities, stops and parks.",
        show_default=False,
    ),
]

IncludePrivateOpt = Annotated[
    bool,
    typer.Option("--include-private", help="Walk through gated compounds (access=private)."),
]

ScopeOpt = Annotated[
    str,
    typer.Option(
        "--scope",
        metavar="city|town",
        help="The study area is a city (default) or a town 镇区: a sheet's 镇区 targets are scored "
        "only with town, its city targets only with city.",
    ),
]

LangOpt = Annotated[str, typer.Option("--lang", help="Labels: zh (中文) or en.")]

QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]


def study_from_options(
    *,
    osm: str,
    boundary: Path | None = None,
    district: str | None = None,
    crs: str | None = None,
    include_private: bool = False,
    population: Path | None = None,
    population_column: str = "population",
    population_kind: str = "auto",
    facilities: list[Path] | None = None,
    facilities_mode: str = "auto",
    built_up: str = "osm",
    landcover: Path | None = None,
    units: Path | None = None,
    unit_name: str | None = None,
    units_grid: float | None = None,
    scope: str = "city",
    areas: Path | None = None,
    name: str | None = None,
    compounds: str = "gates",
    compounds_file: Path | None = None,
    compounds_coords: str = "wgs84",
    exact_areas: bool | None = None,
) -> Study:
    """The :class:`~geoplan.city.Study` a command's options describe (validated once there).

    Every command that loads and checks a city (check, report, suggest, map) builds its Study
    here; the option names are the Study's field names.

    Parameters
    ----------
    osm
        The command's ``--osm`` option.
    boundary
        The command's ``--boundary`` option.
    district
        The command's ``--district`` option.
    crs
        The command's ``--crs`` option.
    include_private
        The command's ``--include-private`` option.
    population
        The command's ``--population`` option.
    population_column
        The command's ``--population-column`` option.
    population_kind
        The command's ``--population-kind`` option.
    facilities
        The command's ``--facilities`` option.
    facilities_mode
        The command's ``--facilities-mode`` option.
    built_up
        The command's ``--built-up`` option.
    landcover
        The command's ``--landcover`` option.
    units
        The command's ``--units`` option.
    unit_name
        The command's ``--unit-name`` option.
    units_grid
        The command's ``--units-grid`` option.
    scope
        The command's ``--scope`` option.
    areas
        The command's ``--areas`` option.
    name
        The command's ``--name`` option.
    compounds
        The command's ``--compounds`` option.
    compounds_file
        The command's ``--compounds-file`` option.
    compounds_coords
        The command's ``--compounds-coords`` option.
    exact_areas
        The command's ``--exact-areas`` option.

    Returns
    -------
    Study
        The study (validated).
    """
    from geoplan.city.study import Study

    return Study(
        osm=osm,
        boundary=boundary,
        district=district,
        crs=crs,
        include_private=include_private,
        population=population,
        population_column=population_column,
        population_kind=population_kind,  # type: ignore[arg-type]
        facilities=tuple(facilities or ()),
        facilities_mode=facilities_mode,  # type: ignore[arg-type]
        built_up=built_up,
        landcover=landcover,
        units=units,
        unit_name=unit_name,
        units_grid=units_grid,
        scope=scope,  # type: ignore[arg-type]
        areas=areas,
        name=name,
        compounds=compounds,  # type: ignore[arg-type]
        compounds_file=compounds_file,
        compounds_coords=compounds_coords,  # type: ignore[arg-type]
        exact_areas=exact_areas,
    )
