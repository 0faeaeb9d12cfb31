"""``geoplan layers``: load a city and write its metric layers to one GeoPackage."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj
import typer
from rich.table import Table

from geoplan._atomic import write_gpkg_atomic
from geoplan._errors import InputFileError, OutputError
from geoplan._outputs_set import check_output_dir
from geoplan._progress import progress_steps
from geoplan.city import City, load_city
from geoplan.cli.console import console, is_quiet, run_cli_errors, state
from geoplan.io.boundary import BoundaryLike
from geoplan.names import layer_label
from geoplan.rules import taxonomy as tx

#: Chinese labels of the layers in the GeoPackage (shown in the summary)


def _safe_name(name: str) -> str:
    """A file-name-safe version of a city name (keeps Chinese characters)."""
    s = re.sub(r'[\\/:*?"<>|\s]+', "_", name.strip()).strip("._")
    return s or "city"


def _scalar_column(s: pd.Series) -> bool:
    return not s.map(lambda v: isinstance(v, list | dict | set | tuple)).any()


def _promote_to_multi(g: gpd.GeoSeries) -> gpd.GeoSeries:
    """Polygons beside MultiPolygons (lines beside MultiLines) → multi, so GIS see one type each.

    Also in a layer mixing points with areas (facilities: points and school grounds).
    """
    from shapely import multilinestrings, multipolygons

    types = set(g.geom_type.dropna())
    vals = list(g.values)
    changed = False
    for single, multi, make in (
        ("Polygon", "MultiPolygon", multipolygons),
        ("LineString", "MultiLineString", multilinestrings),
    ):
        if single in types and multi in types:
            vals = [make([v]) if v is not None and v.geom_type == single else v for v in vals]
            changed = True
    return gpd.GeoSeries(vals, index=g.index, crs=g.crs) if changed else g


def gpkg_layers(city: City) -> dict[str, gpd.GeoDataFrame]:
    """The city's layers cleaned for a GeoPackage that GeoPandas and QGIS read.

    Every layer is in the city's metric CRS; list/dict columns (OSM ``tags``) are dropped; text
    columns are plain ``str`` (missing → ``""``); mixed single/multi geometries become multi.

    Parameters
    ----------
    city
        A loaded city.

    Returns
    -------
    dict of str to GeoDataFrame
        Layer name → layer.
    """
    out: dict[str, gpd.GeoDataFrame] = {}
    for name, gdf in city.layers().items():
        df = gdf.to_crs(city.crs) if gdf.crs != city.crs else gdf.copy()
        geom_col = df.geometry.name
        for col in list(df.columns):
            if col == geom_col:
                continue
            s = df[col]
            if col == "tags" or not _scalar_column(s):
                df = df.drop(columns=col)
            elif not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
                df[col] = s.map(lambda v: "" if v is None or v != v else str(v)).astype(object)
        df = df.set_geometry(_promote_to_multi(df.geometry))
        out[name] = gpd.GeoDataFrame(df, geometry=geom_col, crs=city.crs)
    return out


def write_gpkg(path: Path, layers: Mapping[str, gpd.GeoDataFrame]) -> Path:
    """Write layers to one GeoPackage atomically (never a half-written file at ``path``).

    An existing GeoPackage that holds layers geoplan does not write (a planner's own layers) is
    never replaced: the write is refused with a hint, and the file stays as it was.

    Parameters
    ----------
    path
        The ``.gpkg`` file.
    layers
        Layer name → layer.

    Returns
    -------
    Path
        ``path``.
    """
    foreign = foreign_layers(path, layers)
    if foreign:
        raise OutputError(
            f"{path}: holds layers geoplan did not write ({', '.join(foreign)}); re-running would "
            "delete them — write to another --out folder, or move those layers to their own file"
        )
    return write_gpkg_atomic(path, layers)


def foreign_layers(path: Path, layers: Mapping[str, gpd.GeoDataFrame]) -> list[str]:
    """Layers of an existing GeoPackage at ``path`` that are not among ``layers``.

    Parameters
    ----------
    path
        A GeoPackage that may exist.
    layers
        The layers geoplan writes.

    Returns
    -------
    list of str
        Names of the other layers.
    """
    if not path.is_file():
        return []
    try:
        have = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:  # pyogrio raises DataSourceError for a file that is not a GPKG
        raise OutputError(
            f"{path}: exists and is not a GeoPackage geoplan can read ({exc}); move it away"
        ) from exc
    ours = {k.lower() for k in layers}
    return sorted(n for n in have if n.lower() not in ours)


def _summary_tables(
    city: City, gpkg: Path, layers: Mapping[str, gpd.GeoDataFrame], seconds: Mapping[str, float]
) -> list[Table]:
    t_layers = Table(title=f"{city.name}: layers 图层 → {gpkg}", title_justify="left")
    t_layers.add_column("layer")
    t_layers.add_column("图层")
    t_layers.add_column("features", justify="right")
    for name, gdf in layers.items():
        t_layers.add_row(name, layer_label(name, "zh"), f"{len(gdf):,}")

    t_cat = Table(title="facilities by category 设施分类", title_justify="left")
    t_cat.add_column("category")
    t_cat.add_column("类别")
    t_cat.add_column("English")
    t_cat.add_column("count", justify="right")
    counts = city.facilities["category"].value_counts() if len(city.facilities) else pd.Series()
    for key, cat in tx.categories().items():
        n = int(counts.get(key, 0))
        t_cat.add_row(key, cat.label_zh, cat.label_en, str(n), style=None if n else "dim")

    rep = city.report
    net = rep.network
    t_net = Table(title="walk network 步行网络, CRS and timing", title_justify="left")
    t_net.add_column("item")
    t_net.add_column("value", justify="right")
    crs = pyproj.CRS(city.crs)
    t_net.add_row("nodes 节点", f"{net.get('nodes', 0):,}")
    t_net.add_row("edges 路段", f"{net.get('edges', 0):,}")
    t_net.add_row("length 长度 (km)", f"{net.get('length_km', 0.0):,.1f}")
    t_net.add_row("components 连通分量 (islands kept)", f"{net.get('components', 0):,}")
    t_net.add_row(
        "largest component share 最大连通分量占比",
        f"{100 * net.get('largest_component_share', 0.0):.1f}%",
    )
    t_net.add_row(
        "private ways 私有道路",
        "included" if city.network.meta.get("include_private") else "excluded",
    )
    t_net.add_row("CRS 坐标系", f"{crs.to_string()} {crs.name}")
    t_net.add_row("study area 面积 (km²)", f"{city.area_km2:,.2f}")
    t_net.add_row("dangling node refs dropped 缺失节点引用", f"{rep.dangling_refs:,}")
    t_net.add_row("invalid polygons repaired 修复多边形", f"{rep.repaired_polygons:,}")
    for step, s in seconds.items():
        t_net.add_row(f"seconds: {step}", f"{s:.2f}")
    return [t_layers, t_cat, t_net]


def _parse_crs(crs: str | None) -> str | int | None:
    if crs is None:
        return None
    c = crs.strip()
    return int(c) if c.isdigit() else c


def layers(  # numpydoc ignore=PR01
    *,
    out: Annotated[
        Path,
        typer.Option(
            "--out", metavar="DIR", help="Output directory; writes DIR/<city>_layers.gpkg."
        ),
    ],
    osm: Annotated[
        str | None,
        typer.Option(
            "--osm",
            metavar="FILE",
            help="OSM extract: .osm.pbf / .osm / .osm.bz2 / .osm.gz (WGS84); "
            "`demo` = the embedded Helsinki extract.",
        ),
    ] = None,
    boundary: Annotated[
        Path | None,
        typer.Option(
            "--boundary",
            metavar="FILE",
            help="Study area 研究范围: GeoPackage / GeoJSON / Shapefile with a CRS. "
            "Default: the extent of the data.",
        ),
    ] = None,
    crs: Annotated[
        str | None,
        typer.Option(
            "--crs",
            metavar="EPSG",
            help="Metric CRS of every layer, e.g. 4547 (CGCS2000 3-degree Gauss-Krüger CM 114E, "
            "Zhengzhou). Default: the UTM zone of the study area.",
        ),
    ] = None,
    include_private: Annotated[
        bool,
        typer.Option(
            "--include-private",
            help="Walk through ways tagged access=private/no (gated compounds 小区, which "
            "residents do walk through). Default: excluded, as OSMnx does.",
        ),
    ] = False,
    district: Annotated[
        str | None,
        typer.Option(
            "--district",
            metavar="NAME",
            help="Study area = a district, offline (郑州市中原区 or adcode 410102; pip install "
            "'geoplan\\[cn]'); without --osm and with --download: fetched from Overpass.",
        ),
    ] = None,
    place: Annotated[
        str | None,
        typer.Option(
            "--place",
            metavar="NAME",
            help='Place name to fetch from Overpass, e.g. "郑州市中原区" (needs --download).',
        ),
    ] = None,
    download: Annotated[
        bool,
        typer.Option(
            "--download",
            help="Allow the online download for --place (cached in ~/.cache/geoplan/overpass).",
        ),
    ] = False,
    name: Annotated[
        str | None,
        typer.Option("--name", help="City name for the output file (default: from the input)."),
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option("--cache-dir", metavar="DIR", help="Download cache (with --download)."),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No table or progress bar; print only the file path."),
    ] = False,
) -> None:
    r"""Load a city from OpenStreetMap; write its metric layers to one GeoPackage.

    Writes DIR/<city>_layers.gpkg, all layers in one metric CRS:
    boundary 研究范围, roads 道路 (grade 快速路/主干路/次干路/支路),
    facilities 公共服务设施 (life-circle categories 生活圈设施), parks 公园绿地,
    bus_stops 公交站点, residential 居住用地, buildings 住宅建筑,
    network_nodes / network_edges (walking network 步行网络).
    Prints counts per layer and category, network size and seconds per step.

    Examples
    --------
      geoplan layers --osm demo --out layers/

      geoplan layers --osm chengdu.osm.pbf --boundary area.geojson --out layers/

      geoplan layers --osm zhengzhou.osm.pbf --crs 4547 --include-private \\
        --out layers/

      geoplan layers --place "郑州市中原区" --download --out layers/

      geoplan layers --osm henan.osm.pbf --district 410102 --out layers/
    """
    if quiet:
        state["quiet"] = True
    with run_cli_errors():
        if district is not None:
            from geoplan.city.study import Study

            study = Study(osm=osm or "demo", boundary=boundary, district=district)
            if osm is None:
                if place is not None:
                    raise InputFileError("give --district NAME or --place NAME, not both")
                place = district  # the Overpass area of that name, with --download
            else:
                boundary = study.study_area()  # type: ignore[assignment]
                name = name or district
        _layers(
            osm=osm,
            out=out,
            boundary=boundary,
            crs=crs,
            include_private=include_private,
            place=place,
            download=download,
            name=name,
            cache_dir=cache_dir,
        )


def _layers(
    *,
    osm: str | None,
    out: Path,
    boundary: Path | BoundaryLike | None,
    crs: str | None,
    include_private: bool,
    place: str | None,
    download: bool,
    name: str | None,
    cache_dir: Path | None,
) -> None:
    if (osm is None) == (place is None):
        raise InputFileError(
            "give exactly one of --osm FILE (a local extract, or `demo`) "
            "and --place NAME --download"
        )
    check_output_dir(out)
    bnd: BoundaryLike | None = boundary
    if place is not None:
        if not download:
            raise InputFileError(
                f"--place {place!r} needs the internet: add --download to fetch it from Overpass "
                "(cached), or pass a local extract with --osm"
            )
        from geoplan.io.download import download_osm, place_polygon

        t0 = time.perf_counter()
        src: str | Path = download_osm(place, cache_dir=cache_dir)
        if boundary is None:
            bnd = place_polygon(place, cache_dir=cache_dir)
        name = name or place
        dl_s = round(time.perf_counter() - t0, 3)
    else:
        assert osm is not None
        src = osm
        dl_s = None

    progress = False if is_quiet() else None
    city = load_city(
        src,
        boundary=bnd,
        crs=_parse_crs(crs),
        include_private=include_private,
        name=name,
        progress=progress,
    )
    path = out / f"{_safe_name(city.name)}_layers.gpkg"
    layers_out = gpkg_layers(city)
    if foreign_layers(path, layers_out):
        write_gpkg(path, layers_out)  # raises: the planner's own layers would be lost
    seconds: dict[str, float] = {}
    if dl_s is not None:
        seconds["download"] = dl_s
    seconds.update(city.report.seconds)
    with progress_steps(
        ["write GeoPackage"], enabled=False if is_quiet() else None, title="output"
    ) as steps:
        t0 = time.perf_counter()
        write_gpkg(path, layers_out)
        seconds["write_gpkg"] = round(time.perf_counter() - t0, 3)
        steps.advance()

    con = console()
    for table in _summary_tables(city, path, layers_out, seconds):
        con.print(table)
    for note in city.report.notes:
        con.print(f"note: {note}")
    con.print("Data © OpenStreetMap contributors (ODbL)")
    if is_quiet():
        typer.echo(str(path))
