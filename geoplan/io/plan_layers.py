"""Read planners' own plan layers (GeoPackage, Shapefile, GeoJSON, CSV) into EPSG:4326.

Planners draw proposed parks, schools, bus stops and residential blocks in their own tools and hand
them in as files. :func:`read_plan_layer` turns one such layer into a GeoDataFrame in EPSG:4326
(WGS84 longitude / latitude, degrees), the CRS every geoplan indicator receives its inputs in, and
reports what it had to do on the way:

* the CRS comes from the file; ``crs=`` is only used when the file has none (CSV, a Shapefile
  without ``.prj``). Files without any CRS whose values are longitude / latitude are taken as
  EPSG:4326. Any EPSG CRS works, including CGCS2000 (EPSG:4490) and its 3-degree Gauss-Krüger
  zones (EPSG:4513–4533 with the zone number prefixed to the easting, EPSG:4534–4554 without);
* coordinates that cannot belong to the CRS (degrees under a Gauss-Krüger CRS, metres under
  EPSG:4326, a missing or extra zone prefix) are refused with a hint, never silently misplaced;
* AMap / Gaode (GCJ-02) and Baidu (BD-09) coordinates, which are not EPSG CRSs, are converted to
  WGS84 vertex by vertex with :mod:`geoplan.io.coords`;
* invalid geometries are repaired with :func:`shapely.make_valid`, empty ones dropped, and features
  that miss the study area are counted and warned about (:class:`LayerWarning`) but kept.

Input files are opened read-only and nothing is written beside them. User mistakes raise
:class:`~geoplan._errors.InputFileError`, :class:`~geoplan._errors.LayerError` or
:class:`~geoplan._errors.CRSError` with a one-line message naming the file, the layer and the fix.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from geoplan._atomic import write_gpkg_atomic
from geoplan._errors import CRSError, InputFileError, LayerError, unknown_message
from geoplan.io.plan_crs import (
    CoordSystem,
    Where,
    check_coordinates_fit,
    crs_label,
    fmt_bounds,
    looks_lonlat,
    parse_crs,
    resolve_crs,
    to_wgs84,
)

#: File extensions read_plan_layer understands, and the format each one means.
SUPPORTED_EXTENSIONS: Mapping[str, str] = {
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".csv": "CSV",
}


#: CSV column names (compared case-insensitively) taken as longitude / latitude.
LON_COLUMN_NAMES: tuple[str, ...] = ("lon", "lng", "long", "longitude", "经度")


LAT_COLUMN_NAMES: tuple[str, ...] = ("lat", "latitude", "纬度")


#: CSV column names taken as easting / northing (or lon / lat) when no lon/lat names are present;
#: POINT_X / POINT_Y are what ArcGIS "Add XY Coordinates" writes.
X_COLUMN_NAMES: tuple[str, ...] = ("x", "point_x", "xcoord")


Y_COLUMN_NAMES: tuple[str, ...] = ("y", "point_y", "ycoord")


_GEOMETRY_FAMILIES = {
    "point": ("Point", "MultiPoint"),
    "multipoint": ("MultiPoint",),
    "linestring": ("LineString", "MultiLineString"),
    "multilinestring": ("MultiLineString",),
    "polygon": ("Polygon", "MultiPolygon"),
    "multipolygon": ("MultiPolygon",),
    "geometrycollection": ("GeometryCollection",),
}


class LayerWarning(UserWarning):
    """A plan layer was read, but something in it deserves the planner's attention."""


class LayerReport(TypedDict):
    """What :func:`read_plan_layer` found and did.

    Keys
    ----
    n_features : features in the returned layer (after empty geometries were dropped)
    n_repaired : invalid geometries repaired with :func:`shapely.make_valid`
    n_empty_dropped : features dropped because their geometry was missing or empty
    n_outside : features that do not intersect the study area (kept; 0 without a study area)
    outside_index : index labels of those features
    crs_in : the input CRS, e.g. ``"EPSG:4547"``
    crs_assumed : True when the file had no CRS, no ``crs=`` was given and EPSG:4326 was assumed
    coord_system : ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` as declared
    """

    n_features: int
    n_repaired: int
    n_empty_dropped: int
    n_outside: int
    outside_index: list[Hashable]
    crs_in: str
    crs_assumed: bool
    coord_system: str


@dataclass(frozen=True)
class PlanLayer:
    """One plan layer read by :func:`read_plan_layer`.

    Attributes
    ----------
    gdf : geopandas.GeoDataFrame
        The features in EPSG:4326 (WGS84 longitude / latitude, degrees), attributes as in the file.
    source : pathlib.Path
        The file the layer was read from.
    layer : str
        The layer name (the file stem for single-layer formats).
    report : LayerReport
        Counts and CRS information, see :class:`LayerReport`.
    kind : str or None
        What the layer represents (``"parks"``, ``"bus_stops"`` …) if the caller said so.
    """

    gdf: gpd.GeoDataFrame
    source: Path
    layer: str
    report: LayerReport = field(repr=False)
    kind: str | None = None


def read_plan_layer(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    crs: str | int | None = None,
    coord_system: CoordSystem = "wgs84",
    kind: str | None = None,
    required_columns: Sequence[str] = (),
    study_area: BaseGeometry | None = None,
    geometry_types: Sequence[str] | None = None,
) -> PlanLayer:
    """Read one planner's layer and return it in EPSG:4326 with a report of what was fixed.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.gpkg``, ``.shp``, ``.geojson`` / ``.json`` or ``.csv`` file. It is opened read-only.
    layer : str, optional
        Layer to read from a multi-layer GeoPackage; required when it holds several spatial layers.
    crs : str or int, optional
        CRS of a file that has none (CSV, Shapefile without ``.prj``): an EPSG code (``4547``) or
        any string pyproj accepts (``"EPSG:4490"``). A file's own CRS always wins; a different
        ``crs=`` is an error. GeoJSON always reports EPSG:4326 (RFC 7946), so for GeoJSON a
        ``crs=`` is honoured when the coordinates are clearly not longitude / latitude.
        Without either, longitude / latitude values are taken as EPSG:4326.
    coord_system : {"wgs84", "gcj02", "bd09"}
        Declared Chinese map coordinate system of longitude / latitude input: ``"gcj02"`` for
        AMap / Gaode and Tencent, ``"bd09"`` for Baidu. These are converted to WGS84 with
        :mod:`geoplan.io.coords`; the input CRS must then be geographic (EPSG:4326 or EPSG:4490).
    kind : str, optional
        What the layer represents; used in messages and kept on the result.
    required_columns : sequence of str
        Attribute columns that must exist (exact names).
    study_area : shapely geometry, optional
        Study area in EPSG:4326. Features not intersecting it are counted in
        ``report["n_outside"]`` and reported with a :class:`LayerWarning`; they are not dropped.
    geometry_types : sequence of str, optional
        Accepted geometry types, e.g. ``("Point",)``. ``"Point"``, ``"LineString"`` and
        ``"Polygon"`` also accept their Multi- forms.

    Returns
    -------
    PlanLayer
        ``gdf`` in EPSG:4326 (a new frame; the input is never modified), ``source``, ``layer`` and
        ``report`` (see :class:`LayerReport`).

    Raises
    ------
    InputFileError
        The file is missing, unreadable or of an unsupported type.
    LayerError
        The layer is missing, ambiguous or empty, lacks required columns or coordinate columns,
        or has the wrong geometry type.
    CRSError
        The CRS is unknown, contradicts the file's CRS, is missing for projected CSV values, or
        does not fit the coordinates.

    Warns
    -----
    LayerWarning
        When features lie outside ``study_area``.

    Examples
    --------
    >>> parks = read_plan_layer(
    ...     "plan.gpkg", layer="parks", geometry_types=["Polygon"]
    ... )  # doctest: +SKIP
    >>> parks.gdf.crs.to_epsg(), parks.report["n_repaired"]  # doctest: +SKIP
    (4326, 0)
    """
    src = _check_path(path)
    if coord_system not in ("wgs84", "gcj02", "bd09"):
        raise LayerError(
            unknown_message(
                "coord_system", str(coord_system), ["wgs84", "gcj02", "bd09"], str(path)
            )
        )
    fmt = SUPPORTED_EXTENSIONS[src.suffix.lower()]
    name = _choose_layer(src, layer, fmt, kind)
    where = Where(src, name, kind)
    crs_arg = parse_crs(crs, where)
    if fmt == "CSV":
        raw, file_crs = _read_csv(src, where), None
    else:
        raw, file_crs = _read_vector(src, name, where)
    if len(raw) == 0:
        raise LayerError(where.msg("has no features", "export the layer with its features"))
    _check_columns(raw, required_columns, where)

    gdf, n_empty = _drop_empty(raw)
    if len(gdf) == 0:
        raise LayerError(
            where.msg(f"all {n_empty} features have empty geometry", "check the export")
        )
    _check_geometry_types(gdf, geometry_types, where)
    crs_in, source = resolve_crs(file_crs, crs_arg, gdf, fmt, where)
    check_coordinates_fit(gdf, crs_in, source, where)
    gdf = to_wgs84(gdf, crs_in, coord_system, where)
    gdf, n_repaired = _repair(gdf)
    gdf, n_collapsed = _drop_empty(gdf)

    outside = _outside(gdf, study_area, where)
    if len(outside) == len(gdf) and len(gdf) and study_area is not None:
        flipped = shapely.transform(gdf.geometry.values, lambda xy: xy[:, ::-1])
        if shapely.intersects(flipped, study_area).any():
            raise CRSError(
                where.msg(
                    "no feature lies in the study area, but every one would with longitude and "
                    "latitude swapped: 经纬度是否颠倒?",
                    "swap the longitude and latitude columns (longitude first)",
                )
            )
    if len(outside):
        warnings.warn(
            LayerWarning(
                where.msg(
                    f"{len(outside)} of {len(gdf)} features do not intersect the study area (kept)",
                    "check the layer's CRS / coord_system, or the study area",
                )
            ),
            stacklevel=2,
        )
    report = LayerReport(
        n_features=len(gdf),
        n_repaired=n_repaired,
        n_empty_dropped=n_empty + n_collapsed,
        n_outside=len(outside),
        outside_index=outside,
        crs_in=crs_label(crs_in),
        crs_assumed=source == "assumed",
        coord_system=coord_system,
    )
    return PlanLayer(gdf=gdf, source=src, layer=name, report=report, kind=kind)


def write_layers_gpkg(path: str | os.PathLike[str], layers: Mapping[str, gpd.GeoDataFrame]) -> Path:
    """Write GeoDataFrames as the layers of one GeoPackage, atomically.

    Thin public name for :func:`geoplan._atomic.write_gpkg_atomic`: the file at ``path`` is
    either the complete new GeoPackage or, after any failure, exactly what was there before.

    Parameters
    ----------
    path : str or os.PathLike
        Output ``.gpkg`` path.
    layers : Mapping[str, geopandas.GeoDataFrame]
        Layer name → data (each with a CRS; geoplan writes EPSG:4326).

    Returns
    -------
    pathlib.Path
        The written path.
    """
    return write_gpkg_atomic(path, layers)


def _check_path(path: str | os.PathLike[str]) -> Path:
    src = Path(path)
    if not src.exists():
        raise InputFileError(
            f"{src}: file not found; check the path (relative paths start at {Path.cwd()})"
        )
    if src.suffix.lower() not in SUPPORTED_EXTENSIONS:
        kinds = ", ".join(f"{ext} ({fmt})" for ext, fmt in SUPPORTED_EXTENSIONS.items())
        raise InputFileError(
            f"{src}: unsupported file type '{src.suffix}'; export the layer as one of {kinds}"
        )
    if not src.is_file():
        raise InputFileError(f"{src}: is not a file; pass the path of the layer file itself")
    return src


def _choose_layer(src: Path, layer: str | None, fmt: str, kind: str | None) -> str:
    where = Where(src, layer, kind)
    if fmt == "CSV":
        names, spatial = [src.stem], [src.stem]
    else:
        try:
            listed = pyogrio.list_layers(src)
        except pyogrio.errors.DataSourceError as exc:
            raise InputFileError(
                where.msg(f"cannot be opened as {fmt} ({_reason(exc)})", f"re-export it as {fmt}")
            ) from exc
        names = [str(n) for n, _ in listed]
        spatial = [str(n) for n, geom_type in listed if geom_type is not None]
    if layer is not None:
        if layer not in names:
            raise LayerError(
                where.msg("no such layer", f"use one of: {', '.join(names) or '(none)'}")
            )
        if layer not in spatial:
            raise LayerError(
                where.msg("is a table without geometry", f"use one of: {', '.join(spatial)}")
            )
        return layer
    if not spatial:
        raise LayerError(where.msg("has no layer with geometry", f"export the layer as {fmt}"))
    if len(spatial) > 1:
        raise LayerError(
            where.msg(
                f"holds {len(spatial)} layers ({', '.join(spatial)})",
                "choose one with layer= (CLI: --layer)",
            )
        )
    return spatial[0]


def _read_vector(src: Path, name: str, where: Where) -> tuple[gpd.GeoDataFrame, CRS | None]:
    try:
        gdf = gpd.read_file(src, layer=name, engine="pyogrio")
    except pyogrio.errors.DataSourceError as exc:
        raise InputFileError(
            where.msg(f"cannot be read ({_reason(exc)})", "re-export the layer")
        ) from exc
    except (
        pyogrio.errors.DataLayerError,
        pyogrio.errors.FieldError,
        pyogrio.errors.FeatureError,
        pyogrio.errors.GeometryError,
        pyogrio.errors.CRSError,
    ) as exc:
        raise LayerError(
            where.msg(f"cannot be read ({_reason(exc)})", "re-export the layer")
        ) from exc
    return gdf, (CRS.from_user_input(gdf.crs) if gdf.crs is not None else None)


def _reason(exc: Exception) -> str:
    """First clause of a GDAL / parser message (GDAL appends generic advice after '; ')."""
    return str(exc).split("; ")[0].strip().rstrip(".")


def _read_csv(src: Path, where: Where) -> gpd.GeoDataFrame:
    frame = _read_csv_text(src, where)
    x_col, y_col = _coordinate_columns(frame.columns, where)
    x = _numeric_column(frame, x_col, where)
    y = _numeric_column(frame, y_col, where)
    ok = np.isfinite(x) & np.isfinite(y)
    points = shapely.points(np.where(ok, x, 0.0), np.where(ok, y, 0.0))
    points[~ok] = None
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(points, index=frame.index))


def _read_csv_text(src: Path, where: Where) -> pd.DataFrame:
    # utf-8-sig covers UTF-8 with or without BOM; Excel in China saves CSV as GBK (gb18030 ⊃ GBK).
    last: UnicodeDecodeError | None = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(src, encoding=encoding)
        except UnicodeDecodeError as exc:
            last = exc
        except pd.errors.EmptyDataError as exc:
            raise LayerError(where.msg("has no features", "export the table with rows")) from exc
        except pd.errors.ParserError as exc:
            raise InputFileError(
                where.msg(
                    f"is not a readable CSV ({_reason(exc)})", "save it as comma-separated text"
                )
            ) from exc
    raise InputFileError(where.msg(f"has unknown text encoding ({last})", "save the CSV as UTF-8"))


def _coordinate_columns(columns: pd.Index, where: Where) -> tuple[str, str]:
    by_name: dict[str, str] = {}
    for col in columns:
        by_name.setdefault(str(col).strip().lower(), str(col))
    for x_names, y_names in (
        (LON_COLUMN_NAMES, LAT_COLUMN_NAMES),
        (X_COLUMN_NAMES, Y_COLUMN_NAMES),
    ):
        x_col = next((by_name[n] for n in x_names if n in by_name), None)
        y_col = next((by_name[n] for n in y_names if n in by_name), None)
        if x_col is not None and y_col is not None:
            return x_col, y_col
    accepted = (
        "/".join(LON_COLUMN_NAMES + X_COLUMN_NAMES)
        + " and "
        + "/".join(LAT_COLUMN_NAMES + Y_COLUMN_NAMES)
    )
    found = ", ".join(map(str, columns))
    raise LayerError(
        where.msg(
            f"no coordinate columns among ({found})",
            f"name them {accepted} (case-insensitive)",
        )
    )


def _numeric_column(frame: pd.DataFrame, col: str, where: Where) -> NDArray[np.float64]:
    values = pd.to_numeric(frame[col], errors="coerce")
    bad = values.isna() & frame[col].notna() & (frame[col].astype(str).str.strip() != "")
    if bad.any():
        rows = ", ".join(str(i + 2) for i in np.flatnonzero(bad.to_numpy())[:5])
        raise LayerError(
            where.msg(
                f"column '{col}' has non-numeric values (CSV lines {rows})",
                "write coordinates as decimal numbers",
            )
        )
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _check_columns(gdf: gpd.GeoDataFrame, required: Sequence[str], where: Where) -> None:
    missing = [c for c in required if c not in gdf.columns]
    if missing:
        available = [str(c) for c in gdf.columns if c != gdf.geometry.name]
        raise LayerError(
            where.msg(
                f"missing required column(s) {', '.join(map(repr, missing))} "
                f"(available: {', '.join(available) or 'none'})",
                "add or rename them in the attribute table",
            )
        )


def _drop_empty(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    n = int(empty.sum())
    return (gdf.loc[~empty].copy() if n else gdf), n


def _check_geometry_types(
    gdf: gpd.GeoDataFrame, geometry_types: Sequence[str] | None, where: Where
) -> None:
    if geometry_types is None:
        return
    accepted: set[str] = set()
    for name in geometry_types:
        family = _GEOMETRY_FAMILIES.get(name.replace(" ", "").lower())
        if family is None:
            raise ValueError(f"unknown geometry type {name!r}; use one of Point, LineString, …")
        accepted.update(family)
    found = gdf.geometry.geom_type.value_counts()
    wrong = {str(t): int(n) for t, n in found.items() if t not in accepted}
    if wrong:
        got = ", ".join(f"{n} {t}" for t, n in wrong.items())
        need = " or ".join(geometry_types)
        raise LayerError(
            where.msg(
                f"has {got} features where {need} is required",
                f"export the layer with {need} geometry (or pass the intended layer)",
            )
        )


def _repair(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    geoms = gdf.geometry.to_numpy()
    invalid = ~shapely.is_valid(geoms)
    n = int(invalid.sum())
    if n == 0:
        return gdf, 0
    fixed = geoms.copy()
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))  # Polygon, MultiPolygon
    fixed[invalid] = shapely.make_valid(geoms[invalid])
    for i in np.flatnonzero(invalid & polygonal):
        fixed[i] = _polygonal_part(fixed[i])
    out = gdf.set_geometry(gpd.GeoSeries(fixed, index=gdf.index, crs=gdf.crs))
    return out, n


def _polygonal_part(geom: BaseGeometry) -> BaseGeometry:
    """Keep the areas of a repaired polygon (make_valid can add collapsed lines or points)."""
    if shapely.get_type_id(geom) in (3, 6):
        return geom
    parts = shapely.get_parts(shapely.get_parts(geom))
    polys = [p for p in parts if shapely.get_type_id(p) == 3]
    if not polys:
        return shapely.Polygon()
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _outside(
    gdf: gpd.GeoDataFrame, study_area: BaseGeometry | None, where: Where
) -> list[Hashable]:
    if study_area is None:
        return []
    if not looks_lonlat(study_area.bounds):
        raise CRSError(
            where.msg(
                f"the study area has bounds {fmt_bounds(study_area.bounds)}, not lon/lat",
                "pass the study area in EPSG:4326 (longitude / latitude degrees)",
            )
        )
    hits = gdf.geometry.intersects(study_area)
    return [idx for idx, hit in zip(gdf.index, hits, strict=True) if not hit]
