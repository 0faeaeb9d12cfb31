"""CRS of a planner's layer: parse, resolve, check that the coordinates fit, convert to WGS84.

Files without a CRS, Gauss-Krüger zone hints, GCJ-02 / BD-09 conversion (:mod:`geoplan.io.coords`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from geoplan._errors import CRSError
from geoplan.io import coords

CoordSystem = Literal["wgs84", "gcj02", "bd09"]


WGS84 = CRS.from_epsg(4326)


@dataclass(frozen=True)
class Where:
    """Names the file and layer in one-line error messages."""

    path: Path
    layer: str | None = None
    kind: str | None = None

    def msg(self, problem: str, fix: str) -> str:
        """One line: where (file, layer) + the problem + the fix.

        Parameters
        ----------
        problem
            What is wrong.
        fix
            What to do about it.

        Returns
        -------
        str
        """
        where = str(self.path)
        if self.layer is not None:
            what = f"{self.kind} layer" if self.kind else "layer"
            where += f", {what} '{self.layer}'"
        return " ".join(f"{where}: {problem}; {fix}".split())


TO_WGS84: Mapping[str, Converter] = {
    "gcj02": coords.gcj02_to_wgs84,
    "bd09": coords.bd09_to_wgs84,
}


#: Margin (degrees) around a CRS's EPSG area of use within which coordinates are still accepted.
AREA_OF_USE_MARGIN_DEG = 3.0


_GEOGRAPHIC_FOR_CHINESE_SYSTEMS = (4326, 4490)


_FIX_FILE_CRS = "assign the right CRS in your GIS (QGIS: Layer ▸ Set CRS) and export again"


def parse_crs(crs: str | int | None, where: Where) -> CRS | None:
    """A user's CRS (EPSG code or string) as a :class:`pyproj.CRS`, or a one-line error.

    Parameters
    ----------
    crs
        An EPSG code or any string pyproj accepts, or ``None``.
    where
        The file and layer, for the message.

    Returns
    -------
    pyproj.CRS or None
    """
    if crs is None:
        return None
    if isinstance(crs, str) and crs.strip().lower().replace("-", "") in ("gcj02", "bd09"):
        system = crs.strip().lower().replace("-", "")
        raise CRSError(
            where.msg(
                f"crs={crs!r} is not an EPSG CRS",
                f"pass coord_system='{system}' (CLI: --coord-system {system}) and no crs",
            )
        )
    try:
        return CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(
            where.msg(f"crs={crs!r} is not a known CRS", "pass an EPSG code such as 4547")
        ) from exc


def resolve_crs(
    file_crs: CRS | None, crs_arg: CRS | None, gdf: gpd.GeoDataFrame, fmt: str, where: Where
) -> tuple[CRS, Literal["file", "argument", "assumed"]]:
    """Choose the input CRS: the file's, else ``crs=``, else EPSG:4326 for lon/lat values.

    Parameters
    ----------
    file_crs
        The file's own CRS, if any.
    crs_arg
        The ``crs=`` given, if any.
    gdf
        The features (their bounds are checked).
    fmt
        File format (``csv``, ``geojson`` …).
    where
        The file and layer, for messages.

    Returns
    -------
    crs : pyproj.CRS
    source : {'file', 'argument', 'assumed'}
    """
    if file_crs is None and crs_arg is None:
        bounds = tuple(gdf.total_bounds)
        if looks_lonlat(bounds):
            return WGS84, "assumed"
        if looks_lonlat((bounds[1], bounds[0], bounds[3], bounds[2])):
            raise CRSError(
                where.msg(
                    f"the coordinates {fmt_bounds(bounds)} look like latitude / longitude in "
                    "the wrong order: 经纬度是否颠倒?",
                    "swap the longitude and latitude columns (longitude first, e.g. 113.6 for "
                    "Zhengzhou)",
                )
            )
        raise CRSError(
            where.msg(
                f"has no CRS and its coordinates {fmt_bounds(bounds)} are not lon/lat",
                f"pass crs= (CLI: --crs), e.g. {_suggest_projected(bounds)}",
            )
        )
    if file_crs is None:
        assert crs_arg is not None
        return crs_arg, "argument"
    if crs_arg is None or _same_crs(file_crs, crs_arg):
        return file_crs, "file"
    if (
        fmt == "GeoJSON"
        and file_crs.to_epsg() == 4326
        and not looks_lonlat(tuple(gdf.total_bounds))
    ):
        # GDAL reports EPSG:4326 for every GeoJSON without a "crs" member (RFC 7946).
        return crs_arg, "argument"
    raise CRSError(
        where.msg(
            f"the file declares {crs_label(file_crs)} but crs={crs_label(crs_arg)} was passed",
            "drop crs= to use the file's CRS, or " + _FIX_FILE_CRS,
        )
    )


def check_coordinates_fit(gdf: gpd.GeoDataFrame, crs: CRS, source: str, where: Where) -> None:
    """Refuse coordinates that cannot be in ``crs`` (units or EPSG area of use do not match).

    Parameters
    ----------
    gdf
        The features.
    crs
        The CRS they are said to be in.
    source
        Where that CRS came from (``file``, ``argument``, ``assumed``), for the message.
    where
        The file and layer, for the message.

    Raises
    ------
    CRSError
        The coordinates cannot be in ``crs``.
    """
    bounds = tuple(float(b) for b in gdf.total_bounds)
    fix = "pass the right crs=" if source == "argument" else _FIX_FILE_CRS
    label = crs_label(crs)
    if crs.is_geographic and not looks_lonlat(bounds):
        raise CRSError(
            where.msg(
                f"coordinates {fmt_bounds(bounds)} are not degrees but the CRS is {label}",
                f"{fix}; the values look projected, e.g. {_suggest_projected(bounds)}",
            )
        )
    if not crs.is_geographic and looks_lonlat(bounds):
        raise CRSError(
            where.msg(
                f"coordinates {fmt_bounds(bounds)} look like lon/lat degrees but the CRS is "
                f"{label}",
                f"{fix}: EPSG:4326 (WGS84) or EPSG:4490 (CGCS2000)",
            )
        )
    if crs.is_projected and (hint := _gauss_kruger_hint(crs, bounds)) is not None:
        raise CRSError(where.msg(f"coordinates {fmt_bounds(bounds)} do not fit {label}", hint))
    lonlat = _lonlat_bounds(crs, bounds)
    area = crs.area_of_use
    if area is None or area.west > area.east:
        return
    m = AREA_OF_USE_MARGIN_DEG
    if lonlat is None or not (
        area.west - m <= lonlat[0]
        and lonlat[2] <= area.east + m
        and area.south - m <= lonlat[1]
        and lonlat[3] <= area.north + m
    ):
        placed = (
            "cannot be located"
            if lonlat is None
            else f"fall at {fmt_bounds(lonlat, ('lon', 'lat'))}"
        )
        raise CRSError(
            where.msg(
                f"coordinates {fmt_bounds(bounds)} {placed}, outside the area of use of {label} "
                f"{fmt_bounds(area.bounds, ('lon', 'lat'))}",
                fix,
            )
        )


def _gauss_kruger_hint(crs: CRS, bounds: tuple[float, ...]) -> str | None:
    """Spot CGCS2000 3-degree Gauss-Krüger zone-prefix mix-ups (EPSG:4513–4533 vs 4534–4554)."""
    epsg = crs.to_epsg()
    if epsg is None or not 4513 <= epsg <= 4554:
        return None
    minx, maxx = bounds[0], bounds[2]
    prefix = int(minx // 1_000_000)
    if minx >= 1_000_000 and prefix == int(maxx // 1_000_000) and 25 <= prefix <= 45:
        wanted = 4513 + prefix - 25
        if wanted != epsg:
            return f"eastings carry zone prefix {prefix}: use EPSG:{wanted} instead"
    elif 4513 <= epsg <= 4533 and maxx < 1_000_000:
        zone = epsg - 4513 + 25
        return f"eastings have no zone prefix: use EPSG:{4534 + zone - 25} (CM {3 * zone}E)"
    return None


def _suggest_projected(bounds: Sequence[float]) -> str:
    prefix = int(bounds[0] // 1_000_000) if math.isfinite(bounds[0]) else 0
    if 25 <= prefix <= 45 and bounds[2] < (prefix + 1) * 1_000_000:
        return f"crs='EPSG:{4513 + prefix - 25}' (CGCS2000 3-degree GK zone {prefix})"
    return "crs='EPSG:4547' (CGCS2000 3-degree Gauss-Kruger CM 114E)"


def _lonlat_bounds(crs: CRS, bounds: tuple[float, ...]) -> tuple[float, ...] | None:
    if crs.is_geographic:
        return bounds
    try:
        to_wgs84 = Transformer.from_crs(crs, WGS84, always_xy=True)
        minx, miny, maxx, maxy = bounds
        out = to_wgs84.transform_bounds(minx, miny, maxx, maxy, densify_pts=21)
    except pyproj.exceptions.ProjError:
        return None
    return tuple(out) if all(math.isfinite(v) for v in out) else None


def _same_crs(a: CRS, b: CRS) -> bool:
    if a.equals(b, ignore_axis_order=True):
        return True
    epsg_a, epsg_b = a.to_epsg(min_confidence=70), b.to_epsg(min_confidence=70)
    return epsg_a is not None and epsg_a == epsg_b


def crs_label(crs: CRS) -> str:
    """Short label of a CRS for messages (``EPSG:4547``).

    Parameters
    ----------
    crs
        A CRS.

    Returns
    -------
    str
    """
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg is not None else crs.name


def looks_lonlat(bounds: Sequence[float]) -> bool:
    """Whether bounds look like longitude / latitude degrees.

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)``.

    Returns
    -------
    bool
    """
    minx, miny, maxx, maxy = bounds
    return bool(
        all(math.isfinite(v) for v in bounds)
        and minx >= -180.0
        and maxx <= 180.0
        and miny >= -90.0
        and maxy <= 90.0
    )


def fmt_bounds(bounds: Sequence[float], axes: tuple[str, str] = ("x", "y")) -> str:
    """Bounds as text for messages (``x 1.0–2.0, y 3.0–4.0``).

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)``.
    axes
        Names of the two axes.

    Returns
    -------
    str
    """
    minx, miny, maxx, maxy = (_fmt_number(v) for v in bounds)
    return f"({axes[0]} {minx}…{maxx}, {axes[1]} {miny}…{maxy})"


def _fmt_number(value: float) -> str:
    """Metres to the metre, degrees to about 1 cm."""
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.7g}"


Converter = Callable[[NDArray[np.float64], NDArray[np.float64]], tuple[NDArray[np.float64], ...]]


def to_wgs84(
    gdf: gpd.GeoDataFrame, crs: CRS, coord_system: CoordSystem, where: Where
) -> gpd.GeoDataFrame:
    """Return a new frame in EPSG:4326, undoing a GCJ-02 / BD-09 offset vertex by vertex.

    Parameters
    ----------
    gdf
        Features in ``crs``.
    crs
        Their CRS.
    coord_system
        ``wgs84``, ``gcj02`` or ``bd09`` for longitude / latitude input.
    where
        The file and layer, for messages.

    Returns
    -------
    GeoDataFrame
        A new frame in EPSG:4326.
    """
    located = gdf.set_crs(crs, allow_override=True)
    if coord_system == "wgs84":
        return located.to_crs(WGS84)
    if crs.to_epsg() not in _GEOGRAPHIC_FOR_CHINESE_SYSTEMS:
        raise CRSError(
            where.msg(
                f"coord_system='{coord_system}' needs lon/lat input but the CRS is "
                f"{crs_label(crs)}",
                "export AMap/Baidu coordinates as longitude/latitude (EPSG:4326)",
            )
        )
    convert = TO_WGS84[coord_system]

    def vertices(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        out = xy.copy()
        lon, lat = convert(xy[:, 0], xy[:, 1])
        out[:, 0], out[:, 1] = lon, lat
        return out

    moved = shapely.transform(located.geometry.to_numpy(), vertices, include_z=None)
    return located.set_geometry(gpd.GeoSeries(moved, index=gdf.index, crs=WGS84))
